package proof

import (
	"encoding/json"

	"workly.ai/consent"
)

// kantaraReceipt is a receipt as a Kantara Initiative Consent Receipt v1.1
// (all its MUST fields), with this module's own record under "x-consent" so
// that nothing is lost: the event, every grant, the exact policy text's hash,
// the signals, and the server's place in the chain and signature.
type kantaraReceipt struct {
	Version          string              `json:"version"`
	Jurisdiction     string              `json:"jurisdiction"`
	ConsentTimestamp int64               `json:"consentTimestamp"`
	CollectionMethod string              `json:"collectionMethod"`
	ConsentReceiptID string              `json:"consentReceiptID"`
	PublicKey        string              `json:"publicKey,omitempty"`
	Language         string              `json:"language"`
	PIIPrincipalID   string              `json:"piiPrincipalId"`
	PIIControllers   []kantaraController `json:"piiControllers"`
	PolicyURL        string              `json:"policyUrl"`
	Services         []kantaraService    `json:"services"`
	Sensitive        bool                `json:"sensitive"`
	SPICat           []string            `json:"spiCat"`
	Extension        kantaraExtension    `json:"x-consent"`
}

type kantaraController struct {
	PIIController    string `json:"piiController"`
	Contact          string `json:"contact"`
	Address          string `json:"address"`
	Email            string `json:"email"`
	Phone            string `json:"phone"`
	PIIControllerURL string `json:"piiControllerUrl"`
}

type kantaraService struct {
	Service  string           `json:"service"`
	Purposes []kantaraPurpose `json:"purposes"`
}

type kantaraPurpose struct {
	Purpose              string   `json:"purpose"`
	PurposeCategory      []string `json:"purposeCategory"`
	ConsentType          string   `json:"consentType"`
	PIICategory          []string `json:"piiCategory"`
	PrimaryPurpose       bool     `json:"primaryPurpose"`
	Termination          string   `json:"termination"`
	ThirdPartyDisclosure bool     `json:"thirdPartyDisclosure"`
}

type kantaraExtension struct {
	Receipt json.RawMessage `json:"receipt"` // the receipt's wire form, byte for byte
	Ack     consent.Ack     `json:"ack"`
}

// kantara converts r: each granted category is a purpose with explicit
// consent, its declared cookies and storage as the PII categories; so is a
// permission allowed or granted.
func kantara(site *consent.Site, r consent.Receipt, body []byte, a consent.Ack, pub string) kantaraReceipt {
	c := site.Controller
	k := kantaraReceipt{
		Version: "KI-CR-v1.1.0", Jurisdiction: "CN", ConsentTimestamp: r.Time.Unix(), CollectionMethod: r.Method,
		ConsentReceiptID: r.ID, PublicKey: pub, Language: string(r.Locale), PIIPrincipalID: r.Subject,
		PIIControllers: []kantaraController{{PIIController: c.Name, Contact: c.Email, Address: c.Address, Email: c.Email, Phone: c.Phone, PIIControllerURL: c.URL}},
		PolicyURL:      consent.PolicyURL(r.Policy),
		Services:       []kantaraService{{Service: site.Name.In(r.Locale), Purposes: []kantaraPurpose{}}},
		SPICat:         []string{},
		Extension:      kantaraExtension{Receipt: json.RawMessage(body), Ack: a},
	}
	for _, id := range r.Granted {
		cat, ok := site.Category(id)
		if !ok {
			continue
		}
		p := kantaraPurpose{Purpose: cat.Purpose.In(r.Locale), PurposeCategory: []string{id}, ConsentType: "EXPLICIT",
			PIICategory: []string{}, Termination: "withdrawal in the preferences centre, or when the consent cookie expires"}
		for _, it := range append(append([]consent.Item(nil), cat.Cookies...), cat.Storage...) {
			p.PIICategory = append(p.PIICategory, it.Name)
			if it.Provider != "" && it.Provider != site.Name.ZhCN && it.Provider != site.Name.En {
				p.ThirdPartyDisclosure = true
			}
		}
		k.Services[0].Purposes = append(k.Services[0].Purposes, p)
	}
	// A permission the person allowed (in the pre-prompt) or the browser
	// granted is a purpose of its own. Location is sensitive personal
	// information under PIPL article 28 (行踪轨迹).
	if perm, ok := site.Permission(r.Permission); ok && (r.Answer == consent.AnswerAllowed || r.Answer == consent.AnswerGranted) {
		k.Services[0].Purposes = append(k.Services[0].Purposes, kantaraPurpose{Purpose: perm.Purpose.In(r.Locale),
			PurposeCategory: []string{"permission:" + perm.Kind}, ConsentType: "EXPLICIT", PIICategory: []string{perm.Kind},
			Termination: "switching it off in the privacy settings, or in the browser's site settings"})
		if perm.Kind == "geolocation" {
			k.Sensitive, k.SPICat = true, append(k.SPICat, "location")
		}
	}
	// A separate consent granted (单独同意) is a purpose of its own, withdrawn
	// in the privacy settings.
	if r.Separate != "" && r.Answer == consent.AnswerGranted {
		k.Services[0].Purposes = append(k.Services[0].Purposes, kantaraPurpose{Purpose: "separate:" + r.Separate,
			PurposeCategory: []string{"separate:" + r.Separate}, ConsentType: "EXPLICIT", PIICategory: []string{r.Separate},
			Termination: "withdrawing it in the privacy settings"})
	}
	return k
}

package proof

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"

	"workly.ai/consent"
)

// An ISO/IEC TS 27560:2023 consent record in the W3C Data Privacy
// Vocabulary (DPV) profile: JSON-LD, one record per receipt, following the
// DPV community group's guide to implementing 27560 with DPV (record →
// dpv:ConsentRecord, PII principal → dpv:hasDataSubject, status →
// dpv:hasConsentStatus, notice → dpv:hasNotice, purposes → dpv:hasPurpose,
// controller → dpv:hasDataController, jurisdiction → dpv:hasJurisdiction,
// the indication → dpv:isIndicatedBy, dpv:isIndicatedAtTime and
// dpv:hasIndicationMethod, timestamps as dct:created).
//
// What DPV does not say, and PIPL asks for, is in this project's own
// namespace, LocalNamespace (prefix "pipl"):
//
//	pipl:separateConsent            true: this consent was asked for separately, at the moment of use
//	                                (单独同意, PIPL articles 14, 23, 25, 26, 29, 39); set on permission receipts
//	pipl:sensitivePersonalInformation the kinds of sensitive personal information (敏感个人信息, article 28)
//	                                the consent covers, e.g. "location" (行踪轨迹)
//	pipl:crossBorderTransfer        true when the consent covers a transfer outside China (articles 38–39);
//	                                reserved: emitted once site.json declares it for a category
//	pipl:refusedPurpose             the optional purposes the person did not grant in this event
//	pipl:event                      the receipt's event (banner_shown, consent_given, …)
//	pipl:textSHA256                 the SHA-256 of the policy's exact text (on the notice)
//	pipl:chain                      the server's place for the receipt in its chain: pipl:seq, pipl:hash, pipl:signature
//	pipl:receipt                    the receipt's wire form, byte for byte (a JSON literal), so nothing is lost
//	pipl:PIPL                       the Personal Information Protection Law of the PRC, as applicable law
//
// Ids are tag: URIs (RFC 4151) minted from the site's domain and the first
// policy version's effective date, as the archive's feed does: the notice's id
// is the feed entry's id of its version.
const LocalNamespace = "https://workly.ai/ns/pipl-consent#"

// dpvContext is every record's @context: JSON-LD 1.1, the prefixes, and
// pipl:receipt as a JSON literal.
var dpvContext = map[string]any{
	"@version":                 1.1,
	"dpv":                      "https://w3id.org/dpv#",
	"dct":                      "http://purl.org/dc/terms/",
	"xsd":                      "http://www.w3.org/2001/XMLSchema#",
	"loc":                      "https://w3id.org/dpv/loc#",
	"pipl":                     LocalNamespace,
	"dct:created":              map[string]string{"@type": "xsd:dateTime"},
	"dpv:isIndicatedAtTime":    map[string]string{"@type": "xsd:dateTime"},
	"pipl:receipt":             map[string]string{"@type": "@json"},
	"pipl:separateConsent":     map[string]string{"@type": "xsd:boolean"},
	"pipl:crossBorderTransfer": map[string]string{"@type": "xsd:boolean"},
	"pipl:seq":                 map[string]string{"@type": "xsd:integer"},
}

type ref struct {
	ID string `json:"@id"`
}

type dpvNode struct {
	ID          string `json:"@id"`
	Type        string `json:"@type"`
	Identifier  string `json:"dct:identifier,omitempty"`
	Title       string `json:"dct:title,omitempty"`
	Description string `json:"dct:description,omitempty"`
	Language    string `json:"dct:language,omitempty"`
	Source      string `json:"dct:source,omitempty"`
	TextSHA256  string `json:"pipl:textSHA256,omitempty"`
}

type dpvChain struct {
	Seq       int64  `json:"pipl:seq"`
	Hash      string `json:"pipl:hash"`
	Signature string `json:"pipl:signature"`
}

// dpvRecord is one consent record.
type dpvRecord struct {
	Context        map[string]any  `json:"@context"`
	ID             string          `json:"@id"`
	Type           string          `json:"@type"`
	Identifier     string          `json:"dct:identifier"`
	Created        string          `json:"dct:created"`
	DataSubject    dpvNode         `json:"dpv:hasDataSubject"`
	Controller     dpvNode         `json:"dpv:hasDataController"`
	Jurisdiction   ref             `json:"dpv:hasJurisdiction"`
	ApplicableLaw  ref             `json:"dpv:hasApplicableLaw"`
	Status         ref             `json:"dpv:hasConsentStatus"`
	ConsentType    *ref            `json:"dpv:hasConsentType,omitempty"`
	Notice         dpvNode         `json:"dpv:hasNotice"`
	Purposes       []dpvNode       `json:"dpv:hasPurpose"`
	Refused        []ref           `json:"pipl:refusedPurpose,omitempty"`
	IndicatedBy    ref             `json:"dpv:isIndicatedBy"`
	IndicatedAt    string          `json:"dpv:isIndicatedAtTime"`
	Method         dpvNode         `json:"dpv:hasIndicationMethod"`
	Event          string          `json:"pipl:event"`
	Separate       bool            `json:"pipl:separateConsent,omitempty"`
	Sensitive      []string        `json:"pipl:sensitivePersonalInformation,omitempty"`
	Chain          dpvChain        `json:"pipl:chain"`
	Receipt        json.RawMessage `json:"pipl:receipt"`
	GlobalPrivacy  bool            `json:"pipl:globalPrivacyControl"`
	PublicKeyInHex string          `json:"pipl:publicKey,omitempty"`
}

// tagger mints the records' tag: URIs.
type tagger struct{ authority, date string }

func newTagger(site *consent.Site, m *consent.Manifest) tagger {
	t := tagger{authority: strings.TrimPrefix(site.Cookie.Domain, "."), date: "2020-01-01"}
	if t.authority == "" {
		if u, err := url.Parse(site.Controller.URL); err == nil && u.Hostname() != "" {
			t.authority = u.Hostname()
		} else {
			t.authority = "localhost"
		}
	}
	if m != nil && len(m.Versions) > 0 {
		t.date = m.Versions[0].Effective.Format(time.DateOnly)
	}
	return t
}

func (t tagger) tag(rest string) string { return "tag:" + t.authority + "," + t.date + ":" + rest }

// consentStatus maps a receipt to a DPV consent status and consent type.
// The first banner is a request; a notice displayed is a request to consent
// under the new text; an acknowledgement is consent given again, explicitly;
// continued use (a minor change) is consent given, implied; a permission
// allowed or granted is given, refused or denied is refused, switched off is
// withdrawn and reset (asking again) is requested; a separate consent
// granted is given, refused is refused, withdrawn is withdrawn. Otherwise the event
// decides, and a receipt that changes nothing (identifier reset) has the
// status of what it records as granted.
func consentStatus(r consent.Receipt) (status string, typ string) {
	explicit := "dpv:ExplicitlyExpressedConsent"
	if r.Event == consent.EventPermissionAnswered {
		switch r.Answer {
		case consent.AnswerAllowed, consent.AnswerGranted:
			return "dpv:ConsentGiven", explicit
		case consent.AnswerOff:
			return "dpv:ConsentWithdrawn", explicit
		case consent.AnswerReset:
			return "dpv:ConsentRequested", ""
		}
		return "dpv:ConsentRefused", explicit
	}
	if r.Event == consent.EventSeparateAnswered {
		switch r.Answer {
		case consent.AnswerGranted:
			return "dpv:ConsentGiven", explicit
		case consent.AnswerWithdrawn:
			return "dpv:ConsentWithdrawn", explicit
		}
		return "dpv:ConsentRefused", explicit
	}
	switch r.Event {
	case consent.EventBannerShown, consent.EventNoticeDisplayed:
		return "dpv:ConsentRequested", ""
	case consent.EventConsentRefused:
		return "dpv:ConsentRefused", explicit
	case consent.EventWithdrawn:
		return "dpv:ConsentWithdrawn", explicit
	case consent.EventContinuedUse:
		return "dpv:ConsentGiven", "dpv:ImpliedConsent"
	case consent.EventConsentGiven, consent.EventAcknowledged:
		return "dpv:ConsentGiven", explicit
	}
	if len(r.Granted) > 0 {
		return "dpv:ConsentGiven", explicit
	}
	return "dpv:ConsentRefused", explicit
}

// iso27560 converts r to a consent record: each granted category is a
// purpose, each optional category not granted a pipl:refusedPurpose; a
// permission allowed or granted is a purpose of its own, asked for
// separately, and location is sensitive (PIPL article 28).
func iso27560(site *consent.Site, m *consent.Manifest, r consent.Receipt, body []byte, a consent.Ack, pub string) dpvRecord {
	t := newTagger(site, m)
	c := site.Controller
	status, typ := consentStatus(r)
	subject := t.tag("subject/" + r.Subject)
	rec := dpvRecord{
		Context: dpvContext, ID: t.tag("receipt/" + r.ID), Type: "dpv:ConsentRecord", Identifier: r.ID,
		Created:      r.Time.UTC().Format(time.RFC3339Nano),
		DataSubject:  dpvNode{ID: subject, Type: "dpv:DataSubject", Identifier: r.Subject},
		Controller:   dpvNode{ID: controllerID(c, t), Type: "dpv:DataController", Title: c.Name, Source: c.URL},
		Jurisdiction: ref{"loc:CN"}, ApplicableLaw: ref{"pipl:PIPL"}, Status: ref{status},
		Notice: dpvNode{ID: t.tag("policies/" + r.Policy), Type: "dpv:PrivacyNotice", Identifier: r.Policy,
			Language: string(r.Locale), Source: consent.PolicyURL(r.Policy), TextSHA256: r.PolicySHA256},
		Purposes:    []dpvNode{},
		IndicatedBy: ref{subject}, IndicatedAt: r.Time.UTC().Format(time.RFC3339Nano),
		Method: dpvNode{ID: LocalNamespace + "method-" + r.Method, Type: "dpv:IndicationMethod", Identifier: r.Method},
		Event:  string(r.Event), GlobalPrivacy: r.GPC,
		Chain:   dpvChain{Seq: a.Seq, Hash: a.Hash, Signature: a.Sig},
		Receipt: json.RawMessage(body), PublicKeyInHex: pub,
	}
	if typ != "" {
		rec.ConsentType = &ref{typ}
	}
	for _, id := range r.Granted {
		if cat, ok := site.Category(id); ok {
			rec.Purposes = append(rec.Purposes, dpvNode{ID: t.tag("purpose/" + id), Type: "dpv:Purpose", Identifier: id,
				Title: cat.Title.In(r.Locale), Description: cat.Purpose.In(r.Locale)})
		}
	}
	if r.Event != consent.EventPermissionAnswered && r.Event != consent.EventSeparateAnswered {
		for _, id := range site.Optional() {
			if !containsString(r.Granted, id) {
				rec.Refused = append(rec.Refused, ref{t.tag("purpose/" + id)})
			}
		}
	}
	if r.Separate != "" {
		// A separate consent (单独同意) is a purpose of its own; the notice
		// it was given under is its statement, by the SHA-256 of the text
		// shown.
		rec.Separate = true
		node := dpvNode{ID: t.tag("purpose/separate-" + r.Separate), Type: "dpv:Purpose", Identifier: "separate:" + r.Separate,
			TextSHA256: r.StatementSHA256}
		if r.Answer == consent.AnswerGranted {
			rec.Purposes = append(rec.Purposes, node)
		} else {
			rec.Refused = append(rec.Refused, ref{node.ID})
		}
	}
	if perm, ok := site.Permission(r.Permission); ok {
		rec.Separate = true
		if r.Answer == consent.AnswerAllowed || r.Answer == consent.AnswerGranted {
			rec.Purposes = append(rec.Purposes, dpvNode{ID: t.tag("purpose/permission-" + perm.Kind), Type: "dpv:Purpose",
				Identifier: "permission:" + perm.Kind, Title: perm.Title.In(r.Locale), Description: perm.Purpose.In(r.Locale)})
			if perm.Kind == "geolocation" {
				rec.Sensitive = []string{"location"}
			}
		}
	}
	return rec
}

func controllerID(c consent.Controller, t tagger) string {
	if u, err := url.Parse(c.URL); err == nil && u.IsAbs() {
		return c.URL
	}
	return t.tag("controller")
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

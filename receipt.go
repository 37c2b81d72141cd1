package consent

import (
	"strconv"
	"time"
)

// Event is what a receipt records. The values are written into receipts:
// append only.
type Event string

// The events.
const (
	EventBannerShown        Event = "banner_shown"
	EventConsentGiven       Event = "consent_given"
	EventConsentRefused     Event = "consent_refused"
	EventWithdrawn          Event = "withdrawn"
	EventNoticeDisplayed    Event = "notice_displayed"
	EventAcknowledged       Event = "acknowledged"
	EventContinuedUse       Event = "continued_use"
	EventIdentifierReset    Event = "identifier_reset"
	EventPermissionAnswered Event = "permission_answered"
)

// Receipt is the proof of one event: who (pseudonymously), what they were
// shown, what they chose, when and how.
//
// This is its first slice; the wire codec, chaining and signatures build on it.
type Receipt struct {
	// ID is the record id: 128 random bits, base64url (see ValidConsentID). It
	// is the idempotency key: a receipt is stored once however often it is sent.
	ID string `json:"id"`
	// Subject is the pseudonymous consent id from the consent cookie. A receipt
	// holds no name, e-mail or IP address.
	Subject string `json:"subject"`
	Event   Event  `json:"event"`
	// Policy and PolicySHA256 identify the exact policy text shown; Locale the
	// language it was shown in.
	Policy       string `json:"policy"`
	PolicySHA256 string `json:"policySha256"`
	Locale       Locale `json:"locale"`
	// Granted lists the optional categories granted after the event.
	Granted []string `json:"granted"`
	// Time is when the event happened, by the browser's clock.
	Time time.Time `json:"time"`
	// Method is how the choice was collected: "banner", "preferences",
	// "notice", "api".
	Method string `json:"method"`
	// GPC records whether the browser sent Global Privacy Control.
	GPC bool `json:"gpc"`
	// Permission and Answer are set on permission_answered receipts only:
	// which permission (PermissionKinds) and the answer (PermissionAnswers).
	Permission string `json:"permission,omitempty"`
	Answer     string `json:"answer,omitempty"`
	// Prev is the SHA-256 (hex) of the same subject's previous receipt in its
	// wire form (AppendReceiptJSON): a chain per person. Empty for the first.
	Prev string `json:"prev"`
}

// Events lists every event a receipt can record.
var Events = []Event{EventBannerShown, EventConsentGiven, EventConsentRefused, EventWithdrawn, EventNoticeDisplayed,
	EventAcknowledged, EventContinuedUse, EventIdentifierReset, EventPermissionAnswered}

// Methods lists how a choice can be collected.
// "page" is a control on the site's own page outside the module's views
// (a footer link, the archive's status line). Append only.
// "prompt" is the module's permission pre-prompt, "browser" the browser's own
// permission prompt or settings.
var Methods = []string{"banner", "preferences", "notice", "api", "placeholder", "prompt", "page", "browser"}

// Validate checks r's values against the site and its policies at time now:
// ids well-formed, a known event and method, a published policy version with
// the hash of its exact text, a supported locale, granted categories the site
// has (optional ones, each once), and a time neither before 2020 nor more
// than a day ahead of now. Errors wrap ErrInvalid.
func (r Receipt) Validate(site *Site, m *Manifest, now time.Time) error {
	bad := func(msg string) error { return receiptError("receipt " + r.ID + ": " + msg) }
	switch {
	case !ValidConsentID(r.ID):
		return receiptError("receipt: malformed id")
	case !ValidConsentID(r.Subject):
		return bad("malformed subject")
	case !containsEvent(r.Event):
		return bad("unknown event " + strconv.Quote(string(r.Event)))
	case !containsString(Methods, r.Method):
		return bad("unknown method " + strconv.Quote(r.Method))
	case r.Locale != ZhCN && r.Locale != En:
		return bad("unsupported locale " + strconv.Quote(string(r.Locale)))
	case r.Time.Unix() < minCookieTime || r.Time.After(now.Add(24*time.Hour)):
		return bad("time out of range")
	case r.Prev != "" && !validSHA256(r.Prev):
		return bad("prev is not a SHA-256")
	case (r.Event == EventPermissionAnswered) != (r.Permission != ""):
		return bad("a permission is named on permission_answered receipts, and only there")
	case r.Permission != "" && !containsString(PermissionKinds, r.Permission):
		return bad("unknown permission " + strconv.Quote(r.Permission))
	case r.Permission != "" && !containsString(PermissionAnswers, r.Answer), r.Permission == "" && r.Answer != "":
		return bad("unknown answer " + strconv.Quote(r.Answer))
	}
	v, err := m.Lookup(r.Policy)
	if err != nil {
		return bad("unknown policy version " + strconv.Quote(r.Policy))
	}
	if r.PolicySHA256 != v.SHA256 {
		return bad("policy hash does not match version " + r.Policy)
	}
	optional := site.Optional()
	for i, g := range r.Granted {
		if !containsString(optional, g) {
			return bad("unknown or required category " + strconv.Quote(g))
		}
		if containsString(r.Granted[:i], g) {
			return bad("category " + strconv.Quote(g) + " granted twice")
		}
	}
	return nil
}

func containsEvent(e Event) bool {
	for _, known := range Events {
		if e == known {
			return true
		}
	}
	return false
}

package consent

import "time"

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
}

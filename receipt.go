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
	EventSeparateAnswered   Event = "separate_answered"
)

// Receipt is the proof of one event: who (pseudonymously), what they were
// shown, what they chose, when and how.
//
// Its wire form is AppendReceiptJSON's; the browser signs it (Key, Sig) and the
// server chains and signs it (Ack).
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
	// DNT records that the browser sent Do Not Track where the site honours
	// it (Site.HonorDNT): a signal that refused by default, as GPC does.
	DNT bool `json:"dnt,omitempty"`
	// Permission and Answer are set on permission_answered receipts only:
	// which permission (PermissionKinds) and the answer (PermissionAnswers).
	Permission string `json:"permission,omitempty"`
	Answer     string `json:"answer,omitempty"`
	// Separate and StatementSHA256 are set on separate_answered receipts
	// only: the separate-consent item (单独同意, the registry's id), whose
	// answer is Answer (SeparateAnswers), and the SHA-256 (hex) of the exact
	// statement text shown (Registry.Statement).
	Separate        string `json:"separate,omitempty"`
	StatementSHA256 string `json:"statementSha256,omitempty"`
	// Prev is the SHA-256 (hex) of the same subject's previous receipt in its
	// wire form (AppendReceiptJSON): a chain per person. Empty for the first.
	Prev string `json:"prev"`
	// Key is the public key of the browser that made the receipt: an ECDSA
	// P-256 point, uncompressed (65 bytes), base64url without padding. The
	// browser made the key with WebCrypto, non-extractable, and keeps it in
	// IndexedDB, one per origin. Empty on an unsigned receipt (a browser
	// without WebCrypto).
	Key string `json:"key,omitempty"`
	// Sig is that key's ECDSA P-256 SHA-256 signature (r‖s, 64 bytes,
	// base64url without padding) of the receipt's wire form without "sig"
	// (see ReceiptSignedJSON). Set exactly when Key is.
	Sig string `json:"sig,omitempty"`
}

// Events lists every event a receipt can record.
var Events = []Event{EventBannerShown, EventConsentGiven, EventConsentRefused, EventWithdrawn, EventNoticeDisplayed,
	EventAcknowledged, EventContinuedUse, EventIdentifierReset, EventPermissionAnswered, EventSeparateAnswered}

// The answers a separate_answered receipt records: granted or refused in the
// module's dialog (Esc refuses), withdrawn in the privacy settings. Append
// only.
const AnswerWithdrawn = "withdrawn"

// SeparateAnswers lists every answer to a separate consent.
var SeparateAnswers = []string{AnswerGranted, AnswerRefused, AnswerWithdrawn}

// Methods lists how a choice can be collected.
// "page" is a control on the site's own page outside the module's views
// (a footer link, the archive's status line). Append only.
// "prompt" is the module's permission pre-prompt or separate-consent dialog, "browser" the browser's own
// permission prompt or settings.
var Methods = []string{"banner", "preferences", "notice", "api", "placeholder", "prompt", "page", "browser"}

// Validate checks r's values against the site and its policies at time now,
// the server's clock: ids well-formed, a known event and method, a published
// policy version, in effect at now, with the hash of its exact text, a
// supported locale, granted categories the site has (optional ones, each
// once), and a key and signature of the right shape, both or neither. It does
// not check the signature itself (that needs crypto: the server does it).
//
// The receipt's Time is the browser's claim and is never refused: a browser
// clock off by days (or set to 2019) still records the choice, and the
// difference from the server's receive time shows the skew. Errors wrap
// ErrInvalid.
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
	case r.Prev != "" && !validSHA256(r.Prev):
		return bad("prev is not a SHA-256")
	case (r.Event == EventPermissionAnswered) != (r.Permission != ""):
		return bad("a permission is named on permission_answered receipts, and only there")
	case r.Permission != "" && !containsString(PermissionKinds, r.Permission):
		return bad("unknown permission " + strconv.Quote(r.Permission))
	case r.Permission != "" && !containsString(PermissionAnswers, r.Answer), r.Permission == "" && r.Separate == "" && r.Answer != "":
		return bad("unknown answer " + strconv.Quote(r.Answer))
	case (r.Event == EventSeparateAnswered) != (r.Separate != ""), r.Separate != "" && r.Permission != "":
		return bad("a separate-consent item is named on separate_answered receipts, and only there")
	case r.Separate != "" && !ValidCategoryID(r.Separate):
		return bad("malformed separate-consent item " + strconv.Quote(r.Separate))
	case r.Separate != "" && !containsString(SeparateAnswers, r.Answer):
		return bad("unknown answer " + strconv.Quote(r.Answer) + " to a separate consent")
	case (r.Separate != "") != (r.StatementSHA256 != ""), r.StatementSHA256 != "" && !validSHA256(r.StatementSHA256):
		return bad("a separate_answered receipt carries the SHA-256 of the statement shown, and only it")
	case (r.Key == "") != (r.Sig == ""):
		return bad("a key and a signature go together")
	case r.Key != "" && !validBase64URL(r.Key, ReceiptKeyLen):
		return bad("key is not a P-256 public key (65 bytes, base64url)")
	case r.Sig != "" && !validBase64URL(r.Sig, ReceiptSigLen):
		return bad("sig is not a P-256 signature (64 bytes, base64url)")
	}
	v, err := m.Lookup(r.Policy)
	if err != nil {
		return bad("unknown policy version " + strconv.Quote(r.Policy))
	}
	if r.PolicySHA256 != v.SHA256 {
		return bad("policy hash does not match version " + r.Policy)
	}
	if now.Before(v.Effective) {
		return bad("policy version " + r.Policy + " is not in effect yet by the server's clock")
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

// The lengths, in base64url characters without padding, of Receipt.Key (65
// bytes) and Receipt.Sig (64 bytes).
const (
	ReceiptKeyLen = 87
	ReceiptSigLen = 86
)

// validBase64URL reports whether s is n characters of the unpadded base64url
// alphabet. (The server's decoder checks the rest, e.g. stray bits in the
// last character, as it parses the key.)
func validBase64URL(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func containsEvent(e Event) bool {
	for _, known := range Events {
		if e == known {
			return true
		}
	}
	return false
}

type receiptError string

func (e receiptError) Error() string { return string(e) }
func (e receiptError) Unwrap() error { return ErrInvalid }

package consent

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func testReceipt() Receipt {
	return Receipt{
		ID: "Q9cF0lXn3bJt8m2Y5aQ1rA", Subject: "q83vEjRWeJq83vEjRWeJqw", Event: EventConsentGiven,
		Policy: "2025-01-01", PolicySHA256: hash, Locale: ZhCN, Granted: []string{"analytics", "marketing"},
		Time: time.UnixMilli(1767225600123).UTC(), Method: "banner", GPC: true, Prev: strings.Repeat("c", 64),
	}
}

// The golden file pins the wire format.
func TestReceiptWireGolden(t *testing.T) {
	r2 := testReceipt()
	r2.ID, r2.Event, r2.Granted, r2.GPC, r2.Locale, r2.Method = "Zz9-_aaaaaaaaaaaaaaaaa", EventWithdrawn, []string{}, false, En, "preferences"
	r2.Prev = "5b3a1e0f9c2d4b6a8e7f1029384756abcdef0123456789abcdef0123456789ab"
	r3 := testReceipt()
	r3.ID, r3.Event, r3.Method, r3.Permission, r3.Answer = "Pp9-_aaaaaaaaaaaaaaaaa", EventPermissionAnswered, "prompt", "camera", AnswerAllowed
	r4 := testReceipt()
	r4.ID, r4.Key, r4.Sig = "Ss9-_aaaaaaaaaaaaaaaaa", testKey, testSig
	golden(t, "receipts/batch.json", string(EncodeReceipts([]Receipt{testReceipt(), r2, r3, r4}))+"\n")
	// Separate consent: granted in the dialog, withdrawn in the settings.
	s1 := testReceipt()
	s1.ID, s1.Event, s1.Method, s1.Separate, s1.Answer, s1.StatementSHA256 = "Sp9-_aaaaaaaaaaaaaaaaa", EventSeparateAnswered, "prompt", "location", AnswerGranted, strings.Repeat("5", 64)
	s2 := s1
	s2.ID, s2.Method, s2.Answer, s2.Locale = "Sw9-_aaaaaaaaaaaaaaaaa", "preferences", AnswerWithdrawn, En
	golden(t, "receipts/separate.json", string(EncodeReceipts([]Receipt{s1, s2}))+"\n")
}

// A key and a signature of the right shape (the golden file pins the form;
// server/wire checks real signatures).
var (
	testKey = "B" + strings.Repeat("KxN9", 21) + "Qw"
	testSig = strings.Repeat("s1G_", 21) + "Zg"
)

// The browser adds its key, signs, then adds the signature: the text signed
// is the wire form without "sig", and the result is the wire form.
func TestReceiptSignedJSON(t *testing.T) {
	r := testReceipt()
	linked := string(AppendReceiptJSON(nil, r))
	r.Key = testKey
	signed := ReceiptSignedJSON(linked, testKey)
	if want := string(AppendReceiptJSON(nil, r)); signed != want {
		t.Errorf("signed text:\n got %s\nwant %s", signed, want)
	}
	r.Sig = testSig
	if got, want := ReceiptWithSigJSON(signed, testSig), string(AppendReceiptJSON(nil, r)); got != want {
		t.Errorf("wire form:\n got %s\nwant %s", got, want)
	}
}

func TestLinkReceiptJSON(t *testing.T) {
	r := testReceipt()
	r.Prev = ""
	unlinked := string(AppendReceiptJSON(nil, r))
	r.Prev = strings.Repeat("d", 64)
	want := string(AppendReceiptJSON(nil, r))
	if got := LinkReceiptJSON(unlinked, r.Prev); got != want {
		t.Errorf("linked:\n got %s\nwant %s", got, want)
	}
	if got := LinkReceiptJSON(want, strings.Repeat("e", 64)); got != want {
		t.Errorf("linking a linked receipt changed it: %s", got)
	}
	if got := LinkReceiptJSON(unlinked, ""); got != unlinked {
		t.Errorf("linking to nothing changed it: %s", got)
	}
}

func TestReceiptValidate(t *testing.T) {
	site, m := testSite(), testManifest()
	now := time.UnixMilli(1767225600123).Add(time.Hour)
	if err := testReceipt().Validate(site, m, now); err != nil {
		t.Fatalf("valid receipt: %v", err)
	}
	// The browser's clock is its claim, never a reason to refuse: days
	// ahead, years behind.
	for _, at := range []time.Time{now.Add(48 * time.Hour), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC), time.UnixMilli(0)} {
		r := testReceipt()
		r.Time = at
		if err := r.Validate(site, m, now); err != nil {
			t.Errorf("a receipt dated %v: %v", at, err)
		}
	}
	// A version not yet in effect by the server's clock is refused,
	// whatever the browser's clock says.
	if err := testReceipt().Validate(site, m, day("2025-01-01").Add(-time.Second)); err == nil || !errors.Is(err, ErrInvalid) ||
		!strings.Contains(err.Error(), "not in effect yet") {
		t.Errorf("a receipt for a version not yet in effect: %v", err)
	}
	signed := testReceipt()
	signed.Key, signed.Sig = testKey, testSig
	if err := signed.Validate(site, m, now); err != nil {
		t.Fatalf("signed receipt: %v", err)
	}
	perm := testReceipt()
	perm.Event, perm.Method, perm.Permission, perm.Answer = EventPermissionAnswered, "prompt", "microphone", AnswerRefused
	if err := perm.Validate(site, m, now); err != nil {
		t.Fatalf("valid permission receipt: %v", err)
	}
	for _, ans := range SeparateAnswers {
		sep := testReceipt()
		sep.Event, sep.Method, sep.Separate, sep.Answer, sep.StatementSHA256 = EventSeparateAnswered, "prompt", "location", ans, hash
		if err := sep.Validate(site, m, now); err != nil {
			t.Fatalf("valid separate-consent receipt (%s): %v", ans, err)
		}
	}
	for name, mutate := range map[string]func(*Receipt){
		"bad id":                 func(r *Receipt) { r.ID = "1" },
		"bad subject":            func(r *Receipt) { r.Subject = "someone@example.com" },
		"unknown event":          func(r *Receipt) { r.Event = "clicked" },
		"unknown method":         func(r *Receipt) { r.Method = "telepathy" },
		"unknown locale":         func(r *Receipt) { r.Locale = "fr" },
		"unknown policy":         func(r *Receipt) { r.Policy = "1999-01-01" },
		"wrong policy hash":      func(r *Receipt) { r.PolicySHA256 = strings.Repeat("1", 64) },
		"unknown category":       func(r *Receipt) { r.Granted = []string{"telemetry"} },
		"required category":      func(r *Receipt) { r.Granted = []string{"necessary"} },
		"duplicate grant":        func(r *Receipt) { r.Granted = []string{"analytics", "analytics"} },
		"key without signature":  func(r *Receipt) { r.Key = testKey },
		"signature without key":  func(r *Receipt) { r.Sig = testSig },
		"short key":              func(r *Receipt) { r.Key, r.Sig = testKey[1:], testSig },
		"key not base64url":      func(r *Receipt) { r.Key, r.Sig = "+"+testKey[1:], testSig },
		"short signature":        func(r *Receipt) { r.Key, r.Sig = testKey, testSig[1:] },
		"prev not a hash":        func(r *Receipt) { r.Prev = "previous" },
		"permission on a choice": func(r *Receipt) { r.Permission, r.Answer = "camera", AnswerAllowed },
		"answer alone":           func(r *Receipt) { r.Answer = AnswerAllowed },
		"permission without one": func(r *Receipt) { r.Event = EventPermissionAnswered },
		"unknown permission": func(r *Receipt) {
			r.Event, r.Permission, r.Answer = EventPermissionAnswered, "telepathy", AnswerAllowed
		},
		"unknown answer": func(r *Receipt) { r.Event, r.Permission, r.Answer = EventPermissionAnswered, "camera", "maybe" },
		"separate on a choice": func(r *Receipt) {
			r.Separate, r.Answer, r.StatementSHA256 = "location", AnswerGranted, hash
		},
		"separate without one": func(r *Receipt) { r.Event = EventSeparateAnswered },
		"separate, malformed item": func(r *Receipt) {
			r.Event, r.Separate, r.Answer, r.StatementSHA256 = EventSeparateAnswered, "Location!", AnswerGranted, hash
		},
		"separate, permission answer": func(r *Receipt) {
			r.Event, r.Separate, r.Answer, r.StatementSHA256 = EventSeparateAnswered, "location", AnswerAllowed, hash
		},
		"separate, no statement hash": func(r *Receipt) {
			r.Event, r.Separate, r.Answer = EventSeparateAnswered, "location", AnswerGranted
		},
		"separate, statement not a hash": func(r *Receipt) {
			r.Event, r.Separate, r.Answer, r.StatementSHA256 = EventSeparateAnswered, "location", AnswerGranted, "sha"
		},
		"statement hash alone": func(r *Receipt) { r.StatementSHA256 = hash },
		"separate and permission": func(r *Receipt) {
			r.Event, r.Separate, r.Permission, r.Answer, r.StatementSHA256 = EventSeparateAnswered, "location", "camera", AnswerGranted, hash
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := testReceipt()
			mutate(&r)
			if err := r.Validate(site, m, now); err == nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want an ErrInvalid", err)
			}
		})
	}
}

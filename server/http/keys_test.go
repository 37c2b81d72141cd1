package http

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
)

// browserKey is a browser's receipt key, as WebCrypto makes it.
type browserKey struct{ *ecdsa.PrivateKey }

func newBrowserKey(t testing.TB) browserKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return browserKey{k}
}

// sign signs r as the module does (wire.Sign).
func (k browserKey) sign(t testing.TB, r consent.Receipt) consent.Receipt {
	r, err := wire.Sign(k.PrivateKey, r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testReceiptFor(id, subject string) consent.Receipt {
	return consent.Receipt{ID: id, Subject: subject, Event: consent.EventConsentGiven,
		Policy: "2025-06-01", PolicySHA256: testPolicy, Locale: consent.ZhCN, Granted: []string{"analytics"},
		Time: testNow.Add(-time.Minute), Method: "banner"}
}

func batch(rs ...consent.Receipt) string { return string(consent.EncodeReceipts(rs)) }

// A consent is bound to the browser key of its first signed receipt: a
// forger who knows the consent id (curl, another browser, a page script
// without the key) cannot write receipts for it, whether unsigned, signed
// with their own key, or the person's receipt edited after signing. The web
// client's origin enrols its own key with the enrolment cookie the first
// receipt set, and so does a browser that lost its key; nobody enrols a key
// without that cookie.
func TestReceiptsBoundToTheBrowser(t *testing.T) {
	const www, app = "https://www.workly.ai", "https://app.workly.ai"
	h, store := ingestServer(t, Ingest{Origins: []string{www, app}})
	subject := "q83vEjRWeJq83vEjRWeJqw"
	person, other := newBrowserKey(t), newBrowserKey(t)

	w := post(h, batch(person.sign(t, testReceiptFor(id1, subject))), "Origin", www)
	if w.Code != 200 {
		t.Fatalf("the person's first receipt: %d %s", w.Code, w.Body.String())
	}
	cookie := w.Header().Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "consent_key="+subject+".") || !strings.Contains(cookie, "HttpOnly") ||
		!strings.Contains(cookie, "SameSite=Strict") || !strings.Contains(cookie, "Path=/v1/receipts") || !strings.Contains(cookie, "Domain=consent.test") {
		t.Fatalf("the enrolment cookie: %q", cookie)
	}
	enrol := strings.SplitN(cookie, ";", 2)[0]
	if w := post(h, batch(person.sign(t, testReceiptFor("CCCCCCCCCCCCCCCCCCCCCC", subject))), "Origin", www); w.Code != 200 || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("the person's next receipt: %d %s %q", w.Code, w.Body.String(), w.Header().Get("Set-Cookie"))
	}

	edited := person.sign(t, testReceiptFor("DDDDDDDDDDDDDDDDDDDDDD", subject))
	edited.Event = consent.EventWithdrawn
	forged := map[string]struct {
		body   string
		header []string
		want   string
	}{
		"unsigned, with curl":                  {batch(testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject)), nil, "an unsigned receipt for it is refused"},
		"unsigned, from the site":              {batch(testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject)), []string{"Origin", www, "Cookie", enrol}, "unsigned receipt"},
		"another key, with curl":               {batch(other.sign(t, testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject))), nil, "bound to another browser's key"},
		"another key, claiming the web client": {batch(other.sign(t, testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject))), []string{"Origin", app}, "enrolment cookie"},
		"another key, a forged cookie": {batch(other.sign(t, testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject))),
			[]string{"Origin", app, "Cookie", "consent_key=" + subject + ".AAAAAAAAAAAAAAAAAAAAAA"}, "does not match"},
		"edited after signing": {batch(edited), []string{"Origin", www}, "signature does not match"},
		"one bad receipt among good ones": {batch(person.sign(t, testReceiptFor("EEEEEEEEEEEEEEEEEEEEEE", subject)), testReceiptFor("FFFFFFFFFFFFFFFFFFFFFF", subject)),
			[]string{"Origin", www}, "unsigned"},
	}
	for name, tc := range forged {
		t.Run(name, func(t *testing.T) {
			w := post(h, tc.body, tc.header...)
			if w.Code != 403 || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s, want 403 with %q", w.Code, w.Body.String(), tc.want)
			}
		})
	}
	if n, _ := store.Count(t.Context()); n != 2 {
		t.Fatalf("stored %d receipts, want only the person's 2", n)
	}

	// The person's web client: its own key, enrolled with the cookie, once.
	client := newBrowserKey(t)
	if w := post(h, batch(client.sign(t, testReceiptFor("GGGGGGGGGGGGGGGGGGGGGG", subject))), "Origin", app, "Cookie", enrol); w.Code != 200 {
		t.Fatalf("the web client's first receipt: %d %s", w.Code, w.Body.String())
	}
	if w := post(h, batch(client.sign(t, testReceiptFor("HHHHHHHHHHHHHHHHHHHHHH", subject))), "Origin", app); w.Code != 200 {
		t.Fatalf("the web client's next receipt, cookie or not: %d %s", w.Code, w.Body.String())
	}
	if w := post(h, batch(other.sign(t, testReceiptFor("IIIIIIIIIIIIIIIIIIIIII", subject))), "Origin", app); w.Code != 403 {
		t.Fatalf("a second key for the web client's origin without the cookie: %d %s", w.Code, w.Body.String())
	}
	// The site's storage was cleared (Safari deletes script-written storage
	// after 7 days without a visit; the server's cookies stay): the browser's
	// new key enrols with the cookie, and its receipts are stored.
	renewed := newBrowserKey(t)
	if w := post(h, batch(renewed.sign(t, testReceiptFor("KKKKKKKKKKKKKKKKKKKKKK", subject))), "Origin", www, "Cookie", enrol); w.Code != 200 {
		t.Fatalf("a new key for the site's origin with the cookie: %d %s", w.Code, w.Body.String())
	}
	keys, err := store.Keys(t.Context(), subject)
	if err != nil || len(keys) != 3 || keys[0].Origin != www || keys[1].Origin != app || keys[2].Origin != www {
		t.Fatalf("bound keys %+v, %v", keys, err)
	}

	// A new consent, unsigned (a browser without WebCrypto), is accepted as
	// such; its first signed receipt binds it.
	fresh := "Zz9-_aaaaaaaaaaaaaaaaa"
	if w := post(h, batch(testReceiptFor("JJJJJJJJJJJJJJJJJJJJJJ", fresh))); w.Code != 200 || w.Header().Get("Set-Cookie") != "" {
		t.Fatalf("an unsigned receipt for a new consent: %d %s", w.Code, w.Body.String())
	}
}

// The browser's clock is what it claimed, never a reason to refuse: a clock
// two days ahead or in 2019 still records the choice.
func TestReceiptsAnyClock(t *testing.T) {
	h, store := ingestServer(t, Ingest{})
	for i, at := range []time.Time{testNow.Add(48 * time.Hour), time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)} {
		r := testReceiptFor([]string{id1, id2}[i], "q83vEjRWeJq83vEjRWeJqw")
		r.Time = at
		if w := post(h, batch(r)); w.Code != 200 {
			t.Errorf("a receipt dated %v: %d %s", at, w.Code, w.Body.String())
		}
	}
	if n, _ := store.Count(t.Context()); n != 2 {
		t.Fatalf("stored %d", n)
	}
}

// The server stores exactly the bytes that were sent, and only in their
// canonical form: a lenient decoder would read these as valid receipts and
// then sign its own re-encoding, not what the browser holds.
func TestReceiptsCanonicalOnly(t *testing.T) {
	h, store := ingestServer(t, Ingest{})
	good := receiptBody(id1)
	for name, body := range map[string]string{
		"a needless escape":         strings.Replace(good, `"banner"`, `"ban\u006eer"`, 1),
		"whitespace":                strings.Replace(good, `"gpc":false`, `"gpc": false`, 1),
		"a lone surrogate":          strings.Replace(good, `"prev":""`, `"prev":"\ud800"`, 1),
		"a surrogate that swallows": strings.Replace(good, `"banner"`, `"banner\ud83d\u0022"`, 1),
		"fields out of order":       strings.Replace(good, `"locale":"zh-CN","granted":["analytics"]`, `"granted":["analytics"],"locale":"zh-CN"`, 1),
		"space around the batch":    " " + good,
	} {
		t.Run(name, func(t *testing.T) {
			if w := post(h, body); w.Code != 400 || !strings.Contains(w.Body.String(), "canonical") && !strings.Contains(w.Body.String(), "receipts") {
				t.Fatalf("%d %s, want 400 naming the canonical form", w.Code, w.Body.String())
			}
		})
	}
	if n, _ := store.Count(t.Context()); n != 0 {
		t.Fatalf("stored %d non-canonical receipts", n)
	}
	w := post(h, good)
	var stored []byte
	store.Entries(t.Context(), 1, func(body []byte, _ consent.Ack) error { stored = body; return nil })
	if w.Code != 200 || "{\"receipts\":["+string(stored)+"]}" != good {
		t.Fatalf("stored %s for %s", stored, good)
	}
}

// countingKeys counts the store's key look-ups.
type countingKeys struct {
	consent.ReceiptStore
	lookups atomic.Int64
}

func (c *countingKeys) Keys(ctx context.Context, subject string) ([]consent.KeyBinding, error) {
	c.lookups.Add(1)
	return c.ReceiptStore.Keys(ctx, subject)
}

// A subject's binding to a key, once seen, is not read from the store again
// for each receipt (bindings are never changed or removed); and what is
// remembered of one subject lets no other subject's receipts in.
func TestReceiptKeysRemembered(t *testing.T) {
	_, db := ingestServer(t, Ingest{})
	store := &countingKeys{ReceiptStore: db}
	h := ingestServerWith(t, Ingest{}, store)
	person, other := newBrowserKey(t), newBrowserKey(t)
	const alice, bob = "q83vEjRWeJq83vEjRWeJqw", "AAAAAAAAAAAAAAAAAAAAAg"
	if w := post(h, batch(person.sign(t, testReceiptFor(id1, alice)))); w.Code != 200 {
		t.Fatalf("alice's first receipt: %d %s", w.Code, w.Body.String())
	}
	if w := post(h, batch(other.sign(t, testReceiptFor("BBBBBBBBBBBBBBBBBBBBBg", bob)))); w.Code != 200 {
		t.Fatalf("bob's first receipt: %d %s", w.Code, w.Body.String())
	}
	before := store.lookups.Load()
	for _, id := range []string{"CCCCCCCCCCCCCCCCCCCCCA", "CCCCCCCCCCCCCCCCCCCCCQ", "CCCCCCCCCCCCCCCCCCCCCg"} {
		if w := post(h, batch(person.sign(t, testReceiptFor(id, alice)))); w.Code != 200 {
			t.Fatalf("alice's next receipt: %d %s", w.Code, w.Body.String())
		}
	}
	if n := store.lookups.Load() - before; n != 0 {
		t.Errorf("alice's known key was looked up %d times for 3 receipts, want 0", n)
	}
	// Alice's key is remembered, for alice: bob's consent is bound to his.
	if w := post(h, batch(person.sign(t, testReceiptFor("DDDDDDDDDDDDDDDDDDDDDA", bob)))); w.Code != 403 {
		t.Fatalf("bob's receipt signed with alice's key: %d %s, want 403", w.Code, w.Body.String())
	}
	if w := post(h, batch(testReceiptFor("DDDDDDDDDDDDDDDDDDDDDQ", alice))); w.Code != 403 {
		t.Fatalf("an unsigned receipt for alice: %d %s, want 403", w.Code, w.Body.String())
	}
}

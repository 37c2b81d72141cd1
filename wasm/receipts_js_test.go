//go:build js && wasm

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// receiptModule is a test module with an empty outbox and history.
func receiptModule(t *testing.T) *module {
	t.Helper()
	m := testModule(t)
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01", SHA256: strings.Repeat("a", 64)}}
	withKey(t, m)
	for _, k := range []string{outboxKey, historyKey} {
		call("localStorage", "removeItem", k)
		t.Cleanup(func() { call("localStorage", "removeItem", k) })
	}
	return m
}

// outboxNow is the stored outbox.
func outboxNow(m *module) outbox {
	var b outbox
	m.updateOutbox(func(o *outbox) bool { b = *o; return false })
	return b
}

// decodeWire reads a stored wire form with the browser's JSON.parse (the
// module links no JSON decoder), checking that it is exactly what the
// domain's encoder writes for what it holds.
func decodeWire(t *testing.T, wire string) consent.Receipt {
	t.Helper()
	v, err := call("JSON", "parse", wire)
	if err != nil {
		t.Fatalf("stored receipt %s: %v", wire, err)
	}
	var r jsReader
	rec := consent.Receipt{ID: r.str(v, "id"), Subject: r.str(v, "subject"), Event: consent.Event(r.str(v, "event")),
		Policy: r.str(v, "policy"), PolicySHA256: r.str(v, "policySha256"), Locale: consent.Locale(r.str(v, "locale")),
		Granted: []string{}, Time: time.UnixMilli(int64(r.int(v, "time"))).UTC(), Method: r.str(v, "method"), GPC: r.bool(v, "gpc"),
		Permission: r.str(v, "permission"), Answer: r.str(v, "answer"), Prev: r.str(v, "prev"), Key: r.str(v, "key"), Sig: r.str(v, "sig")}
	for _, g := range r.list(v, "granted") {
		s, _ := g.String()
		rec.Granted = append(rec.Granted, s)
	}
	if got := string(consent.AppendReceiptJSON(nil, rec)); r.err != nil || got != wire {
		t.Fatalf("stored receipt %s reads back as %s (%v)", wire, got, r.err)
	}
	return rec
}

// verifySig checks r's signature as the server does.
func verifySig(t *testing.T, r consent.Receipt) {
	t.Helper()
	raw, err1 := base64.RawURLEncoding.DecodeString(r.Key)
	sig, err2 := base64.RawURLEncoding.DecodeString(r.Sig)
	if err1 != nil || err2 != nil || len(sig) != 64 {
		t.Fatalf("receipt %s: key %q, sig %q", r.ID, r.Key, r.Sig)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := r
	unsigned.Sig = ""
	sum := sha256.Sum256(consent.AppendReceiptJSON(nil, unsigned))
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Errorf("receipt %s: the signature does not check", r.ID)
	}
}

// Receipts wait in localStorage, each linked to the same person's previous
// one by the SHA-256 of its wire form; a receipt made in a callback (no
// waiting) is linked at once when its predecessor's hash is known.
func TestReceiptsChainPerPerson(t *testing.T) {
	m := receiptModule(t)
	at := time.UnixMilli(1767225600123)
	m.emit(consent.EventBannerShown, consent.State{}, "banner", at)
	first := m.firstID() // the first choice takes the banner's subject
	s := consent.State{ID: first, Policy: "2022-01-01", Granted: []string{"analytics"}}
	m.emit(consent.EventConsentGiven, s, "banner", at)
	if b := outboxNow(m); len(b.open) != 2 || b.open[0].subject != first || b.subject != "" {
		t.Fatalf("outbox after two events: %+v", b)
	}
	m.link(true)
	m.emit(consent.EventContinuedUse, s, "notice", at)
	m.link(false) // as on pagehide: it needs a signature (a promise), so it waits
	if b := outboxNow(m); len(b.open) != 1 || len(b.linked) != 2 {
		t.Fatalf("linking without waiting: %d open, %d linked; want the new receipt still open", len(b.open), len(b.linked))
	}
	other := consent.State{ID: newID(), Policy: "2022-01-01"}
	m.emit(consent.EventConsentRefused, other, "api", at)
	m.link(true)

	b := outboxNow(m)
	if len(b.open) != 0 || len(b.linked) != 4 {
		t.Fatalf("after linking: %d open, %d linked", len(b.open), len(b.linked))
	}
	prevOf := map[string]string{}
	for i, e := range b.linked {
		r := decodeWire(t, e.wire)
		if r.ID != e.id || r.Subject != e.subject {
			t.Errorf("entry %d: id/subject %s/%s, wire says %s/%s", i, e.id, e.subject, r.ID, r.Subject)
		}
		if r.Prev != prevOf[r.Subject] {
			t.Errorf("receipt %d (%s) has prev %q, want %q", i, r.Event, r.Prev, prevOf[r.Subject])
		}
		sum := sha256.Sum256([]byte(e.wire))
		prevOf[r.Subject] = hex.EncodeToString(sum[:])
		if err := r.Validate(m.cfg.site, m.cfg.policies, time.Now()); err != nil {
			t.Errorf("receipt %d: %v", i, err)
		}
		if r.Key != m.out.key.public {
			t.Errorf("receipt %d names key %q, want this origin's %q", i, r.Key, m.out.key.public)
		}
		verifySig(t, r)
	}
	if b.last.ack != prevOf[other.ID] {
		t.Errorf("the newest receipt's hash is %q, want %q ready for the next", b.last.ack, prevOf[other.ID])
	}

	// Another page of the site (a new module) finds them all.
	if got := outboxNow(receiptModuleKeeping(t)); len(got.linked) != 4 {
		t.Fatalf("a reload finds %d receipts", len(got.linked))
	}
}

// receiptModuleKeeping is a test module that keeps what is stored.
func receiptModuleKeeping(t *testing.T) *module {
	m := testModule(t)
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01", SHA256: strings.Repeat("a", 64)}}
	withKey(t, m)
	return m
}

// withKey gives m this origin's receipt key, as the sender does first.
func withKey(t *testing.T, m *module) {
	t.Helper()
	k, err := loadReceiptKey()
	if err != nil || k.public == "" {
		t.Fatalf("the receipt key: %+v, %v", k, err)
	}
	m.out.key, m.out.keyDone = k, true
}

// Acknowledged receipts move to the history with their acks; history()
// lists them, then those still waiting (ack null); damaged lines are skipped.
func TestReceiptsHistory(t *testing.T) {
	m := receiptModule(t)
	s := consent.State{ID: newID(), Policy: "2022-01-01", Granted: []string{"analytics"}}
	m.emit(consent.EventConsentGiven, s, "banner", time.Now())
	m.emit(consent.EventWithdrawn, consent.State{ID: s.ID, Policy: "2022-01-01"}, "preferences", time.Now())
	m.link(true)
	b := outboxNow(m)
	ack, _ := call("JSON", "parse", `{"received":1,"stored":1,"acks":[{"id":"`+b.linked[0].id+`","seq":7,"hash":"`+strings.Repeat("b", 64)+`","sig":"c2ln"}]}`)
	if n := m.file(ack); n != 1 {
		t.Fatalf("filed %d receipts, want 1", n)
	}
	if n := m.file(ack); n != 0 {
		t.Fatalf("filing the same ack again moved %d", n)
	}
	if b := outboxNow(m); len(b.linked) != 1 || b.linked[0].event() != "withdrawn" {
		t.Fatalf("after the ack the outbox holds %+v", b.linked)
	}
	store(historyKey, storedText(historyKey)+"garbage line\nacked x y z {\"id\"\nacked x y {} {broken}\n")
	h, err := m.history()
	if err != nil {
		t.Fatal(err)
	}
	var r jsReader
	list := r.list(h, "")
	if len(list) != 2 {
		t.Fatalf("history has %d entries: %s", len(list), m.historyJSON())
	}
	if r.str(list[0], "event") != "consent_given" || r.int(r.get(list[0], "ack"), "seq") != 7 || r.str(list[0], "wire") != b.linked[0].wire {
		t.Errorf("first entry: %s", m.historyJSON())
	}
	if a := r.get(list[1], "ack"); !a.IsNull() || r.str(list[1], "event") != "withdrawn" {
		t.Errorf("second entry should wait with ack null: %s", m.historyJSON())
	}
}

func (e entry) event() string {
	_, after, _ := strings.Cut(e.wire, `"event":"`)
	ev, _, _ := strings.Cut(after, `"`)
	return ev
}

// The outbox and the history are bounded: beyond maxOutbox waiting receipts
// the oldest go, and the history keeps the latest maxHistory.
func TestReceiptsBounded(t *testing.T) {
	m := receiptModule(t)
	s := consent.State{ID: newID(), Policy: "2022-01-01"}
	var first string
	for i := 0; i < maxOutbox+3; i++ {
		m.emit(consent.EventConsentRefused, s, "api", time.Now())
		if i == 3 {
			first = outboxNow(m).open[3].id // the oldest to stay
		}
	}
	b := outboxNow(m)
	if n := len(b.open) + len(b.linked); n != maxOutbox || b.open[0].id != first {
		t.Fatalf("outbox holds %d receipts starting with %s, want %d starting with %s", n, b.open[0].id, maxOutbox, first)
	}

	var hist []byte
	for i := 0; i < maxHistory; i++ {
		hist = appendLine(hist, lineAcked, entry{id: "old" + strconv.Itoa(i), subject: s.ID, wire: "{}", ack: "{}"})
	}
	store(historyKey, string(hist))
	m.link(true)
	b = outboxNow(m)
	ack, _ := call("JSON", "parse", `{"acks":[{"id":"`+b.linked[0].id+`","seq":1,"hash":"h","sig":"s"}]}`)
	if n := m.file(ack); n != 1 {
		t.Fatalf("filed %d", n)
	}
	text := storedText(historyKey)
	if n := strings.Count(text, "\n"); n != maxHistory || strings.HasPrefix(text, "acked old0 ") || !strings.Contains(text, b.linked[0].id) {
		t.Fatalf("history of %d lines (want %d: the oldest gone, the new one in)", n, maxHistory)
	}
}

// Retries back off exponentially up to maxRetry, with jitter of ±50%.
func TestRetryDelay(t *testing.T) {
	for n, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 5: 16 * time.Second, 9: 256 * time.Second, 10: maxRetry, 40: maxRetry} {
		seen := map[time.Duration]bool{}
		for i := 0; i < 20; i++ {
			d := retryDelay(n)
			if d < base/2 || d >= base*3/2 {
				t.Fatalf("retryDelay(%d) = %v, want within [%v, %v)", n, d, base/2, base*3/2)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("retryDelay(%d) has no jitter", n)
		}
	}
}

// The receipt key is made once per origin, kept in IndexedDB, and cannot be
// read out: not its private half, by this module or any script.
func TestReceiptKeyNotExtractable(t *testing.T) {
	first, err := loadReceiptKey()
	if err != nil {
		t.Fatal(err)
	}
	again, err := loadReceiptKey()
	if err != nil || again.public != first.public || len(first.public) != consent.ReceiptKeyLen {
		t.Fatalf("the key changed between loads: %q, then %q (%v)", first.public, again.public, err)
	}
	var r jsReader
	if r.bool(first.private, "extractable") || r.str(r.get(first.private, "algorithm"), "namedCurve") != "P-256" {
		t.Fatalf("the private key: extractable %v, curve %q", r.bool(first.private, "extractable"), r.str(r.get(first.private, "algorithm"), "namedCurve"))
	}
	subtle := r.get(r.get(safejs.Global(), "crypto"), "subtle")
	for _, format := range []string{"pkcs8", "jwk"} {
		p, err := subtle.Call("exportKey", format, first.private)
		if err == nil {
			_, err = await(p)
		}
		if err == nil {
			t.Errorf("exportKey(%q) gave the private key", format)
		}
	}
}

// fakeFetch makes window.fetch answer every post with status and a JSON
// error, until the test ends: a fault injected where the server would be.
func fakeFetch(t *testing.T, status *int) {
	t.Helper()
	real, _ := global("fetch")
	f, err := callback("fake fetch", func(safejs.Value, []safejs.Value) any {
		resp, _ := newJS("Response", `{"error":"receipt x: unknown policy version \"2030-01-01\""}`,
			map[string]any{"status": *status, "headers": map[string]any{"Content-Type": "application/json"}})
		p, _ := call("Promise", "resolve", resp)
		return p
	})
	if err != nil {
		t.Fatal(err)
	}
	safejs.Global().Set("fetch", f)
	t.Cleanup(func() { safejs.Global().Set("fetch", real); f.Release() })
}

// A receipt the server refuses as invalid (422) or forbidden (403) may be
// refused through the server's fault (older than the site, a slow clock): it
// stays in the outbox and is tried again. Only a malformed one (400), or one
// whose id is stored with other content (409), is dropped for good.
func TestRefusedReceiptKeptUnlessMalformed(t *testing.T) {
	m := receiptModule(t)
	m.out.url = "/v1/receipts"
	status := 422
	fakeFetch(t, &status)
	s := consent.State{ID: newID(), Policy: "2022-01-01"}
	m.emit(consent.EventConsentRefused, s, "api", time.Now())
	m.emit(consent.EventWithdrawn, s, "api", time.Now())
	m.link(true)
	for _, status = range []int{422, 403} {
		ids, body := m.batch()
		if err := m.post(ids, body); err == nil || !strings.Contains(err.Error(), "unknown policy version") {
			t.Errorf("HTTP %d: post = %v, want an error to retry on", status, err)
		}
		if n := len(outboxNow(m).linked); n != 2 {
			t.Fatalf("after HTTP %d the outbox holds %d receipts, want both kept", status, n)
		}
	}
	// 409: each id is stored already with other content; sending it again
	// cannot help, so the batch is split and each dropped, as for 400.
	m.emit(consent.EventWithdrawn, s, "api", time.Now())
	m.link(true)
	for _, status = range []int{409, 400} {
		ids, body := m.batch()
		if err := m.post(ids, body); err != nil {
			t.Errorf("HTTP %d: post = %v, want the receipts dropped", status, err)
		}
		if n := len(outboxNow(m).linked); n != 0 {
			t.Fatalf("after HTTP %d the outbox holds %d receipts, want none", status, n)
		}
		m.emit(consent.EventWithdrawn, s, "api", time.Now())
		m.link(true)
	}
}

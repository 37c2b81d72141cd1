//go:build js && wasm

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
)

// receiptModule is a test module with an empty outbox and history.
func receiptModule(t *testing.T) *module {
	t.Helper()
	m := testModule(t)
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01", SHA256: strings.Repeat("a", 64)}}
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

func decodeWire(t *testing.T, wire string) consent.Receipt {
	t.Helper()
	rs, err := consent.DecodeReceipts([]byte(`{"receipts":[` + wire + `]}`))
	if err != nil || len(rs) != 1 {
		t.Fatalf("stored receipt %s: %v", wire, err)
	}
	return rs[0]
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
	m.link(false) // as on pagehide: the last hash is known, so this links at once
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
		if err := r.Validate(&m.cfg.site, &m.cfg.policies, time.Now()); err != nil {
			t.Errorf("receipt %d: %v", i, err)
		}
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
	return m
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

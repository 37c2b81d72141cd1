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
	"sync"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// receiptModule is a test module with an empty outbox and history, open, in
// a database of the test's own (other tests' modules keep sending in the
// background, as other tabs would).
func receiptModule(t *testing.T) *module {
	t.Helper()
	clearLocalOutbox()
	t.Cleanup(clearLocalOutbox)
	deleteOutboxDB(t)
	t.Cleanup(func() { deleteOutboxDB(t) })
	return receiptModuleKeeping(t)
}

// testDB is the test's outbox database.
func testDB(t *testing.T) string { return outboxDB + "." + t.Name() }

// clearLocalOutbox removes what an older module, or a page that hid, kept
// in localStorage.
func clearLocalOutbox() {
	var r jsReader
	ls, _ := global("localStorage")
	for i := r.int(ls, "length") - 1; i >= 0; i-- {
		k, _ := ls.Call("key", i)
		if name, _ := k.String(); strings.HasPrefix(name, outboxKey) || name == historyKey {
			ls.Call("removeItem", name)
		}
	}
}

// deleteOutboxDB deletes the test's outbox database; the modules that have
// it open close it (and would open it again).
func deleteOutboxDB(t *testing.T) {
	t.Helper()
	req, err := call("indexedDB", "deleteDatabase", testDB(t))
	if err == nil {
		_, err = idbResult(req)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// stored is the stored outbox and history.
type stored struct {
	outbox
	history []entry
}

// outboxNow is the stored outbox and history.
func outboxNow(t *testing.T, m *module) stored {
	t.Helper()
	var s stored
	if err := m.updateOutbox(func(b *outbox, h *[]entry) bool { s = stored{*b, *h}; return false }); err != nil {
		t.Fatal(err)
	}
	return s
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

// Receipts wait in IndexedDB, each linked to the same person's previous
// one by the SHA-256 of its wire form, and signed.
func TestReceiptsChainPerPerson(t *testing.T) {
	m := receiptModule(t)
	at := time.UnixMilli(1767225600123)
	m.emit(consent.EventBannerShown, consent.State{}, "banner", at)
	first := m.firstID() // the first choice takes the banner's subject
	s := consent.State{ID: first, Policy: "2022-01-01", Granted: []string{"analytics"}}
	m.emit(consent.EventConsentGiven, s, "banner", at)
	if b := outboxNow(t, m); len(b.open) != 2 || b.open[0].subject != first || b.subject != "" {
		t.Fatalf("outbox after two events: %+v", b)
	}
	if err := m.link(); err != nil {
		t.Fatal(err)
	}
	m.emit(consent.EventContinuedUse, s, "notice", at)
	other := consent.State{ID: newID(), Policy: "2022-01-01"}
	m.emit(consent.EventConsentRefused, other, "api", at)
	if err := m.link(); err != nil {
		t.Fatal(err)
	}

	b := outboxNow(t, m)
	if len(b.open) != 0 || len(b.linked) != 4 {
		t.Fatalf("after linking: %d open, %d linked", len(b.open), len(b.linked))
	}
	prevOf := map[string]string{}
	for i, r := range b.linked {
		e := r
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
	if got := outboxNow(t, receiptModuleKeeping(t)); len(got.linked) != 4 {
		t.Fatalf("a reload finds %d receipts", len(got.linked))
	}
}

// historyOf is m's history().
func historyOf(t *testing.T, m *module) []consent.Receipt {
	t.Helper()
	v, err := m.history()
	if err != nil {
		t.Fatal(err)
	}
	var out []consent.Receipt
	var r jsReader
	for _, e := range r.list(v, "") {
		out = append(out, consent.Receipt{ID: r.str(e, "id"), Subject: r.str(e, "subject"), Event: consent.Event(r.str(e, "event")), Prev: r.str(e, "prev")})
	}
	return out
}

// receiptModuleKeeping is a test module (another tab of the site) that
// keeps what is stored, with the outbox open.
func receiptModuleKeeping(t *testing.T) *module {
	t.Helper()
	m := testModule(t)
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01", SHA256: strings.Repeat("a", 64)}}
	withKey(t, m)
	m.out.db = testDB(t)
	m.openOutbox()
	if m.out.idb == nil {
		t.Fatal("the outbox is not in IndexedDB")
	}
	return m
}

// withKey gives m this origin's receipt key, as the sender does first.
func withKey(t *testing.T, m *module) {
	t.Helper()
	k, err := loadReceiptKey()
	if err != nil || k.public == "" {
		t.Fatalf("the receipt key: %+v, %v", k, err)
	}
	m.out.key = k
}

// Acknowledged receipts move to the history with their acks; history()
// lists them, then those still waiting (ack null); damaged ones are skipped.
func TestReceiptsHistory(t *testing.T) {
	m := receiptModule(t)
	s := consent.State{ID: newID(), Policy: "2022-01-01", Granted: []string{"analytics"}}
	m.emit(consent.EventConsentGiven, s, "banner", time.Now())
	m.emit(consent.EventWithdrawn, consent.State{ID: s.ID, Policy: "2022-01-01"}, "preferences", time.Now())
	if err := m.link(); err != nil {
		t.Fatal(err)
	}
	b := outboxNow(t, m)
	ack, _ := call("JSON", "parse", `{"received":1,"stored":1,"acks":[{"id":"`+b.linked[0].id+`","seq":7,"hash":"`+strings.Repeat("b", 64)+`","sig":"c2ln"}]}`)
	if n := m.file(ack); n != 1 {
		t.Fatalf("filed %d receipts, want 1", n)
	}
	if n := m.file(ack); n != 0 {
		t.Fatalf("filing the same ack again moved %d", n)
	}
	if b := outboxNow(t, m); len(b.linked) != 1 || b.linked[0].event() != "withdrawn" || len(b.history) != 1 {
		t.Fatalf("after the ack the outbox holds %+v", b.linked)
	}
	m.updateOutbox(func(_ *outbox, h *[]entry) bool {
		*h = append(*h, entry{id: "x", subject: "y", ack: "z", wire: `{"id"`}, entry{id: "x", subject: "y", ack: "{}", wire: "{broken}"})
		return true
	})
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
	m.out.key = receiptKey{} // unsigned: 500 signatures would only cost time
	s := consent.State{ID: newID(), Policy: "2022-01-01"}
	for i := 0; i < maxOutbox+3; i++ {
		m.emit(consent.EventConsentRefused, s, "api", time.Now())
	}
	first := outboxNow(t, m).open[3].id // the oldest to stay
	if err := m.link(); err != nil {
		t.Fatal(err)
	}
	b := outboxNow(t, m)
	if n := len(b.open) + len(b.linked); n != maxOutbox || b.linked[0].id != first {
		t.Fatalf("outbox holds %d receipts starting with %s, want %d starting with %s", n, b.linked[0].id, maxOutbox, first)
	}

	m.updateOutbox(func(_ *outbox, h *[]entry) bool {
		for i := 0; i < maxHistory; i++ {
			*h = append(*h, entry{id: "old" + strconv.Itoa(i), subject: s.ID, wire: "{}", ack: "{}"})
		}
		return true
	})
	ack, _ := call("JSON", "parse", `{"acks":[{"id":"`+b.linked[0].id+`","seq":1,"hash":"h","sig":"s"}]}`)
	if n := m.file(ack); n != 1 {
		t.Fatalf("filed %d", n)
	}
	h := outboxNow(t, m).history
	if n := len(h); n != maxHistory || h[0].id != "old1" || h[n-1].id != b.linked[0].id {
		t.Fatalf("history of %d entries from %s to %s (want %d: the oldest gone, the new one in)", n, h[0].id, h[n-1].id, maxHistory)
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
	m.link()
	for _, status = range []int{422, 403} {
		es, _ := m.batch()
		if err := m.post(es); err == nil || !strings.Contains(err.Error(), "unknown policy version") {
			t.Errorf("HTTP %d: post = %v, want an error to retry on", status, err)
		}
		if n := len(outboxNow(t, m).linked); n != 2 {
			t.Fatalf("after HTTP %d the outbox holds %d receipts, want both kept", status, n)
		}
	}
	// 409: each id is stored already with other content; sending it again
	// cannot help, so the batch is split and each dropped, as for 400.
	m.emit(consent.EventWithdrawn, s, "api", time.Now())
	m.link()
	for _, status = range []int{409, 400} {
		es, _ := m.batch()
		if err := m.post(es); err != nil {
			t.Errorf("HTTP %d: post = %v, want the receipts dropped", status, err)
		}
		if n := len(outboxNow(t, m).linked); n != 0 {
			t.Fatalf("after HTTP %d the outbox holds %d receipts, want none", status, n)
		}
		m.emit(consent.EventWithdrawn, s, "api", time.Now())
		m.link()
	}
}

// fakeServer makes fetch answer every post as consentd does: each receipt
// acknowledged. posted counts the posts of each receipt id.
func fakeServer(t *testing.T) (posted map[string]int) {
	t.Helper()
	posted = map[string]int{}
	seq := 0
	real, _ := global("fetch")
	f, err := callback("fake server", func(_ safejs.Value, args []safejs.Value) any {
		var r jsReader
		body, _ := call("JSON", "parse", r.str(args[1], "body"))
		acks := []byte(`{"acks":[`)
		for i, rec := range r.list(body, "receipts") {
			id := r.str(rec, "id")
			posted[id]++
			seq++
			if i > 0 {
				acks = append(acks, ',')
			}
			acks = append(acks, `{"id":"`+id+`","seq":`+strconv.Itoa(seq)+`,"hash":"h","sig":"s"}`...)
		}
		resp, _ := newJS("Response", string(append(acks, "]}"...)), map[string]any{"status": 200})
		p, _ := call("Promise", "resolve", resp)
		return p
	})
	if err != nil {
		t.Fatal(err)
	}
	safejs.Global().Set("fetch", f)
	t.Cleanup(func() { safejs.Global().Set("fetch", real); f.Release() })
	return posted
}

// checkOneChain checks that the wire forms make one chain: one first (no
// prev), every other linked to one of them, none linked to twice.
func checkOneChain(t *testing.T, wires []string) {
	t.Helper()
	hashes := map[string]bool{}
	for _, w := range wires {
		sum := sha256.Sum256([]byte(w))
		hashes[hex.EncodeToString(sum[:])] = true
	}
	firsts, gaps, forks := 0, 0, 0
	next := map[string]int{}
	for _, w := range wires {
		p := decodeWire(t, w).Prev
		switch {
		case p == "":
			firsts++
		case !hashes[p]:
			gaps++
		}
		if next[p]++; next[p] == 2 {
			forks++
		}
	}
	if firsts != 1 || gaps != 0 || forks != 0 {
		t.Errorf("%d receipts: %d starts, %d gaps, %d forks; want one chain", len(wires), firsts, gaps, forks)
	}
}

// Two tabs (two modules, each with its own connection to the database)
// make receipts for the same person at once while both send: every receipt
// reaches the history once, in one unbroken chain; under the Web Lock each
// is posted once. Without the lock (a browser lacking it) the chain still
// holds: linking is a compare-and-swap.
func TestOutboxTwoTabs(t *testing.T) {
	for _, withLock := range []bool{true, false} {
		t.Run(map[bool]string{true: "lock", false: "no lock"}[withLock], func(t *testing.T) {
			a := receiptModule(t)
			b := receiptModuleKeeping(t)
			posted := fakeServer(t)
			s := consent.State{ID: newID(), Policy: "2022-01-01"}
			const each = 40
			var emitters, senders sync.WaitGroup
			stop := make(chan struct{})
			for _, m := range []*module{a, b} {
				m.out.url, m.out.wake = "/v1/receipts", make(chan struct{}, 1)
				round := func() {
					if withLock {
						locked(lockName, func() { m.round() })
					} else {
						m.round()
					}
				}
				emitters.Add(1)
				go func() {
					defer emitters.Done()
					for i := range each {
						m.emit(consent.EventConsentRefused, s, "api", time.Now())
						if i%4 == 0 {
							p, _ := call("Promise", "resolve")
							await(p) // let the other tab run
						}
					}
				}()
				senders.Add(1)
				go func() {
					defer senders.Done()
					for {
						select {
						case <-m.out.wake:
							round()
						case <-stop:
							return
						}
					}
				}()
				defer round()
			}
			emitters.Wait()
			close(stop)
			senders.Wait()
			a.round()
			b.round()

			got := outboxNow(t, a)
			if len(got.open)+len(got.linked) != 0 || len(got.history) != 2*each {
				t.Fatalf("%d open, %d linked, %d in the history; want all %d in the history", len(got.open), len(got.linked), len(got.history), 2*each)
			}
			var wires []string
			seen := map[string]bool{}
			for _, r := range got.history {
				if seen[r.id] {
					t.Errorf("receipt %s twice in the history", r.id)
				}
				seen[r.id] = true
				wires = append(wires, r.wire)
				if withLock && posted[r.id] != 1 {
					t.Errorf("receipt %s posted %d times", r.id, posted[r.id])
				}
			}
			checkOneChain(t, wires)
		})
	}
}

// A person upgrading from the module that kept its outbox in localStorage
// keeps every receipt: the outbox, the history and what pages spilled as
// they hid move to IndexedDB, each receipt once, and the chain goes on from
// the newest linked receipt.
func TestOutboxMigratesLocalStorage(t *testing.T) {
	m := receiptModule(t)
	subject := newID()
	mk := func(ev consent.Event, prev string) entry {
		e := entryOf(consent.Receipt{ID: newID(), Subject: subject, Event: ev, Policy: "2022-01-01",
			PolicySHA256: strings.Repeat("a", 64), Locale: consent.En, Granted: []string{}, Time: time.Now(), Method: "api"})
		e.wire = consent.LinkReceiptJSON(e.wire, prev)
		return e
	}
	acked := mk(consent.EventConsentGiven, "")
	acked.ack = `{"id":"` + acked.id + `","seq":1,"hash":"h","sig":"s"}`
	sum := sha256.Sum256([]byte(acked.wire))
	linked := mk(consent.EventWithdrawn, hex.EncodeToString(sum[:]))
	last := linked
	sum = sha256.Sum256([]byte(linked.wire))
	last.ack = hex.EncodeToString(sum[:])
	open, spilled := mk(consent.EventConsentRefused, ""), mk(consent.EventConsentRefused, "")
	outbox := appendLine(appendLine(appendLine(appendLine(nil, lineSubject, entry{id: "pre"}), lineLast, last), lineLinked, linked), lineOpen, open)
	// What the executor reads from localStorage and hands the worker.
	put := func() {
		m.out.spilled = []string{string(outbox), string(appendLine(nil, lineAcked, acked)),
			string(appendLine(appendLine(nil, lineOpen, open), lineOpen, spilled))}
	}
	put()
	m.openOutbox()
	put() // an older module's tab writes it all again
	m.openOutbox()
	b := outboxNow(t, m)
	if len(b.history) != 1 || b.history[0] != acked || len(b.linked) != 1 || b.linked[0] != linked ||
		len(b.open) != 2 || b.last != last || b.subject != "pre" {
		t.Fatalf("after migrating: %+v", b)
	}
	m.out.key = receiptKey{}
	if err := m.link(); err != nil {
		t.Fatal(err)
	}
	b = outboxNow(t, m)
	var wires []string
	for _, r := range append(b.history, b.linked...) {
		wires = append(wires, r.wire)
	}
	checkOneChain(t, wires)
}

// Without IndexedDB (blocked, some private modes) the outbox is kept in the
// page's memory, with one console warning, and receipts are still sent.
func TestOutboxInMemoryWithoutIndexedDB(t *testing.T) {
	clearLocalOutbox()
	t.Cleanup(clearLocalOutbox)
	desc, _ := call("Object", "getOwnPropertyDescriptor", safejs.Global(), "indexedDB")
	call("Object", "defineProperty", safejs.Global(), "indexedDB", map[string]any{"value": safejs.Undefined(), "configurable": true})
	t.Cleanup(func() { call("Object", "defineProperty", safejs.Global(), "indexedDB", desc) })
	var warnings []string
	was := logTo
	logTo = func(level, msg string) {
		if level == "warn" {
			warnings = append(warnings, msg)
		}
	}
	t.Cleanup(func() { logTo = was })

	m := testModule(t)
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01", SHA256: strings.Repeat("a", 64)}}
	m.out.url = "/v1/receipts"
	m.openOutbox()
	if m.out.idb != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "kept in this page only") {
		t.Fatalf("in IndexedDB %v, warnings %q", m.out.idb != nil, warnings)
	}
	fakeServer(t)
	s := consent.State{ID: newID(), Policy: "2022-01-01"}
	m.emit(consent.EventConsentGiven, s, "api", time.Now())
	if err := m.round(); err != nil {
		t.Fatal(err)
	}
	m.emit(consent.EventWithdrawn, s, "api", time.Now())
	if h := historyOf(t, m); len(h) != 2 {
		t.Fatalf("history %+v", h)
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %q", warnings)
	}
}

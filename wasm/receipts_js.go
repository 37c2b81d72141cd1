//go:build js && wasm

package main

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// Every event becomes a receipt. A receipt waits in the outbox, in
// IndexedDB (see outbox_js.go: it survives reloads, closed tabs, offline
// periods and server outages, and any number of tabs share it safely), until
// the server acknowledges it; then it moves, with the server's signed Ack,
// to the person's history, in the same database, which the preferences
// centre downloads and consent.history() returns.
//
// Each receipt carries the SHA-256 of the same person's previous one (Prev)
// and is signed by this browser's receipt key: an ECDSA P-256 key WebCrypto
// made non-extractable, kept in IndexedDB (consent.keys), one per origin,
// which the server binds the consent to (see the README's threat model).
// Hashes and signatures come from WebCrypto, as promises, so a receipt is
// linked and signed after it is made: made and stored at once (never
// waiting, safe in a JS callback), then linked and signed by the sender
// goroutine of whichever tab holds the outbox's Web Lock. (Go's
// crypto/sha256 and crypto/ecdsa would cost every visitor ~40 KB and more.)
// A browser without WebCrypto or IndexedDB sends its receipts unlinked and
// unsigned, with one console warning: the server accepts those only for a
// consent no key is bound to. Receipt ids are the server's idempotency keys,
// so a receipt sent twice (by a beacon and again by a retry) is stored once.

const (
	outboxKey    = "consent.outbox"   // localStorage: an older module's outbox, and receipts spilled as a page hid (outboxKey + ".…")
	historyKey   = "consent.receipts" // localStorage: an older module's history
	receiptsPath = "/v1/receipts"
	cookiePath   = "/v1/cookie"
	maxOutbox    = 500 // receipts waiting; beyond it the oldest are dropped, with a console error
	maxHistory   = 200 // acknowledged receipts kept for the person
	maxBatch     = 50  // receipts per post: ~25 KB, under the 64 KiB limit of keepalive and beacons
	maxRetry     = 5 * time.Minute
)

// entry is a receipt in its wire form (consent.AppendReceiptJSON). ack is
// the server's acknowledgement, as JSON ({"seq":…,"hash":…,"sig":…}), once
// the receipt is in the history.
type entry struct{ id, subject, wire, ack string }

// Stored receipts are lines of text, not JSON: the module then needs no
// JSON encoder (encoding/json costs every visitor hundreds of KB) and no
// object building, which costs more code than these few lines of parsing. A
// wire form is JSON on one line: its strings escape control characters.
// Lines are "KIND ID SUBJECT ACK WIRE", "-" for empty fields; anything else
// is skipped. An older module kept its whole outbox in one localStorage
// string of such lines: "subject" (the pre-choice subject in ID), "last"
// (the newest linked receipt, its hash in ACK), "open" and "linked"
// receipts; and its history, "acked" lines, in another.

const (
	lineSubject = "subject"
	lineLast    = "last"
	lineOpen    = "open"
	lineLinked  = "linked"
	lineAcked   = "acked"
)

func appendLine(b []byte, kind string, e entry) []byte {
	for _, f := range []string{kind, e.id, e.subject, e.ack} {
		if f == "" {
			f = "-"
		}
		b = append(append(b, f...), ' ')
	}
	return append(append(b, e.wire...), '\n')
}

// parseLines calls fn with each well-formed line's kind and entry.
func parseLines(text string, fn func(kind string, e entry)) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.SplitN(line, " ", 5)
		if len(f) != 5 {
			continue
		}
		for i := range f {
			if f[i] == "-" {
				f[i] = ""
			}
		}
		fn(f[0], entry{f[1], f[2], f[4], f[3]})
	}
}

// receipts is the module's delivery state.
type receipts struct {
	// mu guards the fields below it; never held while waiting.
	mu sync.Mutex
	// idb is the outbox's database once open; nil: box and hist, in this
	// page's memory, are the outbox and the history (no IndexedDB). db
	// names the database (outboxDB when "": tests name others).
	idb  *idbOutbox
	db   string
	box  outbox
	hist []entry
	// ready says that pending has been stored once and subject read from
	// the store: from then on a receipt is stored as it is made. opened is
	// closed once the sender has opened the outbox (nil: no sender).
	ready  bool
	opened chan struct{}
	// subject is the pre-choice subject (outbox.subject) as this page knows
	// it; taken says the core set it before the store was read (it wins).
	subject string
	taken   bool
	// pending are receipts not stored yet (made before the store was open,
	// or whose write failed), oldest first; writing those whose write has
	// started and not ended yet.
	pending []entry
	writing []entry
	// beacon is the body of the next batch, kept ready for the pagehide
	// beacon (which cannot wait for IndexedDB); "" when nothing waits.
	beacon string
	// behind says the page has not yet set a consent cookie the next post's
	// answer is to vouch for (the server vouches for the cookie the post
	// carries): posts wait until the executor says it has (applied), or
	// for behindWait at most, since behindAt (Unix ms).
	behind   bool
	behindAt int64
	// spilled is what the page's localStorage held of the outbox (see
	// startReceipts), until stored.
	spilled []string

	url string // the receipts endpoint, on the loader's origin
	// cookieURL is POST /v1/cookie on the loader's origin (the executor
	// posts it: see core.RefreshCookie).
	cookieURL string
	wake      chan struct{}
	wakeFn    safejs.Func // calls send: the sender's timer
	noHash    bool        // no WebCrypto (an insecure context): receipts go unlinked
	// key is this origin's receipt key once loaded (without one, receipts
	// go unsigned).
	key receiptKey
}

// receiptKey is the browser's receipt signing key: the private CryptoKey
// (non-extractable) and the public key as receipts carry it (Receipt.Key).
type receiptKey struct {
	private safejs.Value
	public  string
}

// module is the host's delivery state: the receipts' outbox, history and
// sender.
type module struct {
	cfg *config
	now func() time.Time
	out receipts
}

// startReceipts sets up delivery: the endpoints (on the loader's origin,
// base), the sender, and a send when the network returns. spilled is what
// the page's localStorage holds of an older module's outbox and history and
// of receipts pages spilled as they hid (the executor reads it: a worker
// has no localStorage), stored once the outbox opens.
func (m *module) startReceipts(base string, spilled []string) error {
	var r jsReader
	u, err := newJS("URL", receiptsPath, base)
	if err != nil {
		return err
	}
	m.out.url = r.str(u, "href")
	m.out.wake, m.out.opened = make(chan struct{}, 1), make(chan struct{})
	if u, err = newJS("URL", cookiePath, base); err != nil {
		return err
	}
	m.out.cookieURL = r.str(u, "href")
	if m.out.wakeFn, err = callback("send", func(safejs.Value, []safejs.Value) any { m.send(); return nil }); err != nil {
		return err
	}
	if _, err := safejs.Global().Call("addEventListener", "online", m.out.wakeFn); err != nil {
		return err
	}
	m.out.spilled = spilled
	go m.deliver()
	m.send()
	return nil
}

// emitReceipt puts receipt e, made by the core, in the outbox. pending is
// the consent id the outbox keeps for receipts made before a first choice
// ("" once a choice took it). It never waits.
func (m *module) emitReceipt(e entry, pending string) {
	m.out.mu.Lock()
	var lines []byte
	if pending != m.out.subject {
		m.out.subject = pending
		m.out.taken = !m.out.ready
		lines = appendLine(lines, lineSubject, entry{id: pending})
	}
	if !m.out.ready {
		m.out.pending = append(m.out.pending, e)
		m.out.mu.Unlock()
		m.send()
		return
	}
	lines = appendLine(lines, lineOpen, e)
	m.out.writing = append(m.out.writing, e)
	m.out.mu.Unlock()
	m.addLines(string(lines), func(err error) {
		m.out.mu.Lock()
		m.out.writing = without(m.out.writing, func(w entry) bool { return w.id == e.id })
		if err != nil {
			m.out.pending = append(m.out.pending, e)
		}
		m.out.mu.Unlock()
		if err != nil {
			consoleWarn("consent: a receipt waits in this page until it can be stored: " + err.Error())
		}
	})
	m.send()
}

// pendingSubject is the consent id the outbox keeps for receipts made
// before a first choice, "" for none. It waits for the outbox to open.
func (m *module) pendingSubject() string {
	<-m.out.opened
	m.out.mu.Lock()
	defer m.out.mu.Unlock()
	return m.out.subject
}

// addLines adds lines (receipts made, the pre-choice subject) to the
// outbox without reading it. It never waits; done, if not nil, gets the
// outcome.
func (m *module) addLines(lines string, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	if m.out.idb != nil {
		m.out.idb.addLines(lines, done)
		return
	}
	m.out.box.fold(lines, &m.out.hist)
	done(nil)
}

// updateOutbox reads the stored outbox and history, lets fn change them
// and, if fn reports a change, stores them, in one transaction (see
// outbox_js.go). fn must not wait. It waits: call it from a goroutine.
func (m *module) updateOutbox(fn func(b *outbox, hist *[]entry) bool) error {
	if m.out.idb != nil {
		return m.out.idb.update(fn)
	}
	fn(&m.out.box, &m.out.hist)
	return nil
}

// send wakes the sender. It never waits.
func (m *module) send() {
	select {
	case m.out.wake <- struct{}{}:
	default:
	}
}

// openOutbox opens the store (IndexedDB, else this page's memory, with a
// console warning), moves into it what localStorage holds (migrate) and
// stores the receipts made meanwhile (flush). It waits: the sender's first
// step.
func (m *module) openOutbox() {
	s := &idbOutbox{name: m.out.db, db: safejs.Undefined()}
	if s.name == "" {
		s.name = outboxDB
	}
	if err := s.open(); err != nil {
		consoleWarn("consent: the receipt outbox is kept in this page only: " + err.Error())
	} else {
		m.out.idb = s
	}
	if err := m.flush(m.out.spilled); err != nil {
		consoleError("consent: keep receipts: " + err.Error())
		return
	}
	if len(m.out.spilled) > 0 {
		// Stored: the page may forget them (web/executor.js).
		post(effect("spilled").Close())
	}
	m.out.spilled = nil
}

// flush stores the pending receipts and what texts hold (see migrate); the
// first flush reads the stored pre-choice subject (unless a choice took one
// already) and makes the module ready.
func (m *module) flush(texts []string) error {
	var took []entry
	err := m.updateOutbox(func(b *outbox, hist *[]entry) bool {
		migrate(b, hist, texts)
		m.out.mu.Lock()
		defer m.out.mu.Unlock()
		if !m.out.ready {
			if m.out.taken {
				b.subject = m.out.subject
			}
			m.out.subject = b.subject
		}
		took, m.out.pending = m.out.pending, nil
		b.open = append(b.open, took...)
		m.out.subject, m.out.ready = b.subject, true
		return true
	})
	if err != nil {
		m.out.mu.Lock()
		m.out.pending = append(took, m.out.pending...)
		m.out.mu.Unlock()
	}
	return err
}

// deliver is the sender: it opens the outbox, then links waiting receipts
// and posts them in batches, backing off exponentially, with jitter, while
// posts fail. Linking and posting hold the outbox's Web Lock: one tab at a
// time does them, for every tab's receipts.
func (m *module) deliver() {
	m.openOutbox()
	close(m.out.opened)
	key, err := loadReceiptKey()
	if err != nil {
		consoleWarn("consent: receipts go unsigned: " + err.Error())
	}
	m.out.key = key
	for fails := 0; ; {
		var err error
		locked(lockName, func() { err = m.round() })
		if err == nil {
			fails = 0
			<-m.out.wake
			continue
		}
		fails++
		wait := retryDelay(fails)
		consoleWarn("consent: receipts not delivered yet (" + err.Error() +
			"); retrying in " + strconv.Itoa(int(wait/time.Second)) + " s")
		// A JS timer, not time.After: its channel of time.Time would link
		// Go's time formatting into the module (~10 KB brotli).
		safejs.Global().Call("setTimeout", m.out.wakeFn, wait.Milliseconds())
		<-m.out.wake // the timer, a new receipt or the network coming back
	}
}

// round stores what is pending, links what waits and posts it, batch after
// batch, until nothing waits or a step fails.
func (m *module) round() error {
	m.out.mu.Lock()
	pending := len(m.out.pending) > 0
	m.out.mu.Unlock()
	if pending {
		if err := m.flush(nil); err != nil {
			return err
		}
	}
	for {
		if err := m.link(); err != nil {
			return err
		}
		es, err := m.batch()
		if err != nil || len(es) == 0 {
			return err
		}
		m.out.mu.Lock()
		behind := m.out.behind && time.Now().UnixMilli()-m.out.behindAt < behindWait.Milliseconds()
		m.out.mu.Unlock()
		if behind {
			return nil // woken by applied, or by the timer pageBehind set
		}
		if err := m.post(es); err != nil {
			return err
		}
	}
}

// behindWait is how long posts wait for the page to set a new consent
// cookie before they go without it.
const behindWait = 3 * time.Second

// pageBehind holds posts until the page has set the consent cookie the
// effects just posted carry (see receipts.behind).
func (m *module) pageBehind() {
	m.out.mu.Lock()
	m.out.behind, m.out.behindAt = true, time.Now().UnixMilli()
	m.out.mu.Unlock()
	safejs.Global().Call("setTimeout", m.out.wakeFn, behindWait.Milliseconds())
}

// pageApplied is the executor having set it: posts go.
func (m *module) pageApplied() {
	m.out.mu.Lock()
	m.out.behind = false
	m.out.mu.Unlock()
	m.send()
}

// retryDelay is the wait after the nth failed post in a row: 1 s doubling up
// to maxRetry, times a random factor in [0.5, 1.5) so that many browsers
// coming back after an outage do not all post at once.
func retryDelay(n int) time.Duration {
	d := maxRetry
	if n < 10 {
		d = min(time.Second<<(n-1), maxRetry)
	}
	f := 0.5
	if v, err := call("Math", "random"); err == nil {
		r, _ := v.Float()
		f += r
	}
	return time.Duration(float64(d) * f)
}

// link links the open receipts to their predecessors and signs them, in
// order, and computes the newest one's hash for the next. Hashing and
// signing await WebCrypto, outside any transaction, so the result is stored
// only if nothing changed meanwhile (another tab linking without the Web
// Lock): else it starts again from what is stored. It waits.
func (m *module) link() error {
	for {
		var todo []entry
		var last entry
		err := m.updateOutbox(func(b *outbox, _ *[]entry) bool {
			n := len(b.linked) + len(b.open) - maxOutbox
			if n > 0 {
				consoleError("consent: the receipt outbox is full; dropping its " + strconv.Itoa(n) + " oldest")
				drop := min(n, len(b.linked))
				b.linked, b.open = b.linked[drop:], b.open[n-drop:]
			}
			todo, last = append([]entry(nil), b.open...), b.last
			return n > 0
		})
		if err != nil {
			return err
		}
		if len(todo) == 0 && (last.wire == "" || last.ack != "" || m.out.noHash) {
			return nil
		}
		was := last.wire
		for i, e := range todo {
			prev := ""
			if e.subject == last.subject && last.wire != "" && !m.out.noHash {
				prev = m.hashOf(&last)
			}
			e.wire = consent.LinkReceiptJSON(e.wire, prev)
			if k := m.out.key.public; k != "" {
				text := consent.ReceiptSignedJSON(e.wire, k)
				if sig, err := m.out.key.sign(text); err != nil {
					consoleWarn("consent: receipts go unsigned: " + err.Error())
					m.out.key = receiptKey{}
				} else {
					e.wire = consent.ReceiptWithSigJSON(text, sig)
				}
			}
			todo[i], last = e, e
		}
		m.hashOf(&last) // ready for the next receipt
		swapped := false
		err = m.updateOutbox(func(b *outbox, _ *[]entry) bool {
			if b.last.wire != was || len(b.open) < len(todo) {
				return false
			}
			for i, e := range todo {
				if b.open[i].id != e.id {
					return false
				}
			}
			b.open, b.linked, b.last, swapped = b.open[len(todo):], append(b.linked, todo...), last, true
			return true
		})
		if err != nil || swapped {
			return err
		}
	}
}

// hashOf returns e's SHA-256 (in e.ack), computing it if unknown. Without
// WebCrypto it returns "": receipts go unlinked from then on.
func (m *module) hashOf(e *entry) string {
	if e.ack != "" || m.out.noHash {
		return e.ack
	}
	h, err := sha256Hex(e.wire)
	if err != nil {
		consoleWarn("consent: receipts go unlinked: " + err.Error())
		m.out.noHash = true
		return ""
	}
	e.ack = h
	return h
}

// batch returns up to maxBatch linked receipts, oldest first, and keeps
// their batch body for the beacon.
func (m *module) batch() (es []entry, err error) {
	err = m.updateOutbox(func(o *outbox, _ *[]entry) bool {
		es = append(es, o.linked[:min(len(o.linked), maxBatch)]...)
		return false
	})
	body := ""
	if len(es) > 0 {
		body = batchBody(es)
	}
	m.out.mu.Lock()
	changed := body != m.out.beacon
	m.out.beacon = body
	m.out.mu.Unlock()
	if changed {
		// The executor holds it for the beacon as the page hides, which
		// cannot wait for the worker.
		post(effect("beacon").Str("url", m.out.url).Str("body", body).Close())
	}
	return es, err
}

// batchBody is the body posting es: {"receipts":[…]}.
func batchBody(es []entry) string {
	b := []byte(`{"receipts":[`)
	for i, e := range es {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.wire...)
	}
	return string(append(b, "]}"...))
}

// post sends the receipts es (a batch) and files the server's
// acknowledgements. A batch the server refuses (400, 403, 413, 422) is sent
// again a receipt at a time, so that one bad receipt (edited in storage, say)
// cannot hold back the others. A receipt refused on its own as malformed
// (400) or too large (413) is dropped, with a console error: sending it again
// cannot help. One refused as invalid (422) or forbidden (403) stays and is
// tried again with back-off, because that may be the server's fault: a
// server older than the site does not know its newest policy version, a
// server whose clock is slow holds it not yet in effect, a server not yet
// configured for this origin refuses it. A receipt is never dropped for its
// clock. Any other failure (network, 404, 429, 5xx) is returned too: retry
// later.
func (m *module) post(es []entry) error {
	var r jsReader
	p, err := safejs.Global().Call("fetch", m.out.url, map[string]any{
		// With credentials: the server's enrolment cookie (HttpOnly) lets the
		// site's other origins enrol their keys for the same consent.
		"method": "POST", "body": batchBody(es), "keepalive": true, "credentials": "include",
		"headers": map[string]any{"Content-Type": "text/plain;charset=UTF-8"},
	})
	if err != nil {
		return err
	}
	resp, err := await(p)
	if err != nil {
		return err
	}
	var answer safejs.Value
	if p, err := resp.Call("json"); err == nil {
		answer, _ = await(p) // undefined unless the body is JSON
	}
	switch status := r.int(resp, "status"); status {
	case 200:
		if m.file(answer) == 0 {
			// Never post the same batch in a tight loop.
			return errors.New("the answer acknowledged none of them")
		}
		return nil
	case 400, 403, 409, 413, 422: // refused: malformed, forbidden, in conflict, too large or invalid
		if len(es) > 1 {
			var held error
			for _, e := range es {
				if err := m.post([]entry{e}); err != nil && held == nil {
					held = err
				}
			}
			return held
		}
		msg := r.str(answer, "error")
		if status == 403 || status == 422 {
			// Perhaps the server's fault (older than the site: an unknown
			// policy version; its clock: a version not yet in effect; not yet
			// configured for this origin): kept, and tried again.
			return errors.New("the server refused receipt " + es[0].id + ": " + msg)
		}
		// Malformed, too large, or its id stored with other content (409):
		// sending it again cannot help.
		consoleError("consent: the server refused receipt " + es[0].id + " (HTTP " + strconv.Itoa(status) + ": " + msg + "); dropped")
		return m.drop(es[0].id)
	default:
		return errors.New("HTTP " + strconv.Itoa(status))
	}
}

// drop removes the linked receipt id from the outbox.
func (m *module) drop(id string) error {
	return m.updateOutbox(func(b *outbox, _ *[]entry) bool {
		b.linked = without(b.linked, func(e entry) bool { return e.id == id })
		return true
	})
}

// file moves the receipts the server acknowledged (answer.acks) from the
// outbox to the history, each with its Ack, and returns how many it moved.
// Beyond maxHistory the oldest go.
func (m *module) file(answer safejs.Value) int {
	var r jsReader
	acks := map[string]string{}
	for _, a := range r.list(answer, "acks") {
		if text, err := call("JSON", "stringify", a); err == nil {
			acks[r.str(a, "id")], _ = text.String()
		}
	}
	moved := 0
	err := m.updateOutbox(func(b *outbox, hist *[]entry) bool {
		n := len(*hist)
		b.linked = without(b.linked, func(e entry) bool {
			e.ack = acks[e.id]
			if e.ack != "" {
				*hist = append(*hist, e)
			}
			return e.ack != ""
		})
		moved = len(*hist) - n
		*hist = (*hist)[max(0, len(*hist)-maxHistory):]
		return moved > 0
	})
	if err != nil {
		consoleError("consent: keep receipts: " + err.Error())
		return 0
	}
	return moved
}

// without returns es without the entries drop returns true for.
func without(es []entry, drop func(entry) bool) []entry {
	var out []entry
	for _, e := range es {
		if !drop(e) {
			out = append(out, e)
		}
	}
	return out
}

// migrate folds texts (localOutbox) into the outbox b and the history, each
// receipt once: a person upgrading from the module that kept them in
// localStorage keeps every receipt waiting.
func migrate(b *outbox, hist *[]entry, texts []string) {
	if len(texts) == 0 {
		return
	}
	have := map[string]bool{}
	for _, es := range [][]entry{*hist, b.linked, b.open} {
		for _, e := range es {
			have[e.id] = true
		}
	}
	var in outbox
	var inHist []entry
	for _, t := range texts {
		in.fold(t, &inHist)
	}
	if b.subject == "" {
		b.subject = in.subject
	}
	if b.last.wire == "" {
		b.last = in.last
	}
	// An id seen twice is kept where it got furthest: acked, linked, open.
	*hist = append(*hist, withoutIDs(inHist, have)...)
	b.linked = append(b.linked, withoutIDs(in.linked, have)...)
	b.open = append(b.open, withoutIDs(in.open, have)...)
}

// withoutIDs returns es without those whose id is in have, and adds theirs.
func withoutIDs(es []entry, have map[string]bool) []entry {
	var out []entry
	for _, e := range es {
		if !have[e.id] {
			have[e.id] = true
			out = append(out, e)
		}
	}
	return out
}

// storedText is localStorage[key], "" when missing or unavailable.
func storedText(key string) string {
	v, err := call("localStorage", "getItem", key)
	if err != nil || v.Type() != safejs.TypeString {
		return ""
	}
	s, _ := v.String()
	return s
}

func store(key, text string) error {
	_, err := call("localStorage", "setItem", key, text)
	return err
}

// historyJSON is the JSON array consent.history() resolves to: the person's
// receipts on this browser, oldest first, each with the server's
// acknowledgement (ack: {id, seq, hash, sig}) or, while it waits in the
// outbox, ack null; wire is the exact text the server hashed and signed. It
// waits on the store: call it from a goroutine.
func (m *module) historyJSON() string {
	if m.out.opened != nil {
		<-m.out.opened // what earlier pages stored too
	}
	var all []entry
	m.out.mu.Lock()
	ready := m.out.ready
	m.out.mu.Unlock()
	if ready {
		err := m.updateOutbox(func(b *outbox, hist *[]entry) bool {
			all = append(append(append(all, *hist...), b.linked...), b.open...)
			return false
		})
		if err != nil {
			consoleError("consent: read receipts: " + err.Error())
		}
	}
	m.out.mu.Lock()
	all = append(all, m.out.writing...)
	all = append(all, m.out.pending...)
	m.out.mu.Unlock()
	seen := map[string]bool{}
	out := []byte{'['}
	for _, e := range all {
		if seen[e.id] {
			continue // its write ended meanwhile
		}
		seen[e.id] = true
		if e.ack == "" {
			e.ack = "null"
		}
		if _, err := call("JSON", "parse", "["+e.wire+","+e.ack+"]"); err != nil || !strings.HasSuffix(e.wire, "}") {
			continue // damaged in storage
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		w, _ := call("JSON", "stringify", e.wire)
		quoted, _ := w.String()
		out = append(append(append(append(append(out, e.wire[:len(e.wire)-1]...), `,"wire":`...), quoted...), `,"ack":`...), e.ack...)
		out = append(out, '}')
	}
	return string(append(out, ']'))
}

// sha256Hex is the SHA-256 of s's UTF-8 bytes, in hex, from WebCrypto. It
// waits on a promise: never call it from a callback.
func sha256Hex(s string) (string, error) {
	b, err := subtle("digest", "SHA-256", safejs.Undefined(), s)
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out), err
}

// subtle is crypto.subtle[method](alg, key (unless undefined), text's UTF-8
// bytes), the bytes its promise resolves to. It waits: never call it from a
// callback.
func subtle(method string, alg any, key safejs.Value, text string) ([]byte, error) {
	var r jsReader
	s := r.get(r.get(safejs.Global(), "crypto"), "subtle")
	if r.err != nil || s.Type() != safejs.TypeObject {
		return nil, errors.New("no crypto.subtle (it needs a secure context: https)")
	}
	arr, err := newJS("Uint8Array", len(text))
	if err != nil {
		return nil, err
	}
	if _, err := safejs.CopyBytesToJS(arr, []byte(text)); err != nil {
		return nil, err
	}
	args := []any{alg, key, arr}
	if key.IsUndefined() {
		args = []any{alg, arr}
	}
	p, err := s.Call(method, args...)
	if err != nil {
		return nil, err
	}
	buf, err := await(p)
	if err != nil {
		return nil, errors.New(method + ": " + err.Error())
	}
	return jsBytes(buf)
}

// The receipt key's IndexedDB database, its object store and the key's
// record: {private: CryptoKey, public: base64url}.
const (
	keysDB     = "consent.keys"
	keysStore  = "keys"
	keysRecord = "receipt"
)

// loadReceiptKey returns this origin's receipt key from IndexedDB, making it
// the first time: ECDSA P-256, non-extractable (no script can read the
// private key out, this module's included; the browser only signs with it).
// Two tabs making one at once keep the first stored. It waits on promises:
// never call it from a callback.
func loadReceiptKey() (receiptKey, error) {
	var r jsReader
	subtle := r.get(r.get(safejs.Global(), "crypto"), "subtle")
	if r.err != nil || subtle.Type() != safejs.TypeObject {
		return receiptKey{}, errors.New("no crypto.subtle (WebCrypto needs a secure context: https)")
	}
	db, err := openDB(keysDB, func(db safejs.Value) { db.Call("createObjectStore", keysStore) })
	if err != nil {
		return receiptKey{}, err
	}
	defer db.Call("close")
	read := func() (receiptKey, error) {
		rec, err := idbDo(db, "readonly", "get", keysRecord)
		if err != nil || rec.Type() != safejs.TypeObject {
			return receiptKey{}, err
		}
		var r jsReader
		k := receiptKey{private: r.get(rec, "private"), public: r.str(rec, "public")}
		return k, r.err
	}
	if k, err := read(); err != nil || k.public != "" {
		return k, err
	}
	p, err := subtle.Call("generateKey", map[string]any{"name": "ECDSA", "namedCurve": "P-256"}, false, []any{"sign", "verify"})
	if err != nil {
		return receiptKey{}, err
	}
	pair, err := await(p)
	if err != nil {
		return receiptKey{}, errors.New("generate a receipt key: " + err.Error())
	}
	if p, err = subtle.Call("exportKey", "raw", r.get(pair, "publicKey")); err != nil {
		return receiptKey{}, err
	}
	raw, err := await(p)
	if err != nil {
		return receiptKey{}, err
	}
	pub, err := jsBytes(raw)
	if err != nil {
		return receiptKey{}, err
	}
	k := receiptKey{private: r.get(pair, "privateKey"), public: base64URL(pub)}
	if _, err := idbDo(db, "readwrite", "add", map[string]any{"private": k.private, "public": k.public}, keysRecord); err != nil {
		return read() // another tab stored one first
	}
	return k, r.err
}

// idbDo runs keysStore's method(args...) in a transaction of its own on db,
// in mode, and waits for its result.
func idbDo(db safejs.Value, mode, method string, args ...any) (safejs.Value, error) {
	tx, err := db.Call("transaction", keysStore, mode)
	if err != nil {
		return tx, err
	}
	st, err := tx.Call("objectStore", keysStore)
	if err != nil {
		return st, err
	}
	req, err := st.Call(method, args...)
	if err != nil {
		return req, err
	}
	return idbResult(req)
}

// sign is the key's ECDSA P-256 SHA-256 signature of text's UTF-8 bytes, r‖s,
// base64url. It waits on a promise: never call it from a callback.
func (k receiptKey) sign(text string) (string, error) {
	sig, err := subtle("sign", map[string]any{"name": "ECDSA", "hash": "SHA-256"}, k.private, text)
	return base64URL(sig), err
}

// openDB opens the IndexedDB database name, version 1, letting upgrade
// create its object stores the first time. It waits: call it from a
// goroutine.
func openDB(name string, upgrade func(db safejs.Value)) (safejs.Value, error) {
	req, err := call("indexedDB", "open", name, 1)
	if err != nil {
		return req, errors.New("no IndexedDB")
	}
	up, err := callback("upgrade", func(safejs.Value, []safejs.Value) any {
		db, _ := req.Get("result")
		upgrade(db)
		return nil
	})
	if err != nil {
		return req, err
	}
	defer up.Release()
	req.Set("onupgradeneeded", up)
	db, err := idbResult(req)
	if err != nil {
		return db, errors.New("open " + name + ": " + err.Error())
	}
	return db, nil
}

// idbResult waits for an IndexedDB request and returns its result. It must be
// called from a goroutine.
func idbResult(req safejs.Value) (safejs.Value, error) {
	var resolve, reject safejs.Value
	executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		resolve, reject = args[0], args[1]
		return nil
	})
	if err != nil {
		return safejs.Undefined(), err
	}
	defer executor.Release()
	p, err := newJS("Promise", executor)
	if err != nil {
		return safejs.Undefined(), err
	}
	req.Set("onsuccess", resolve)
	req.Set("onerror", reject)
	if _, err := await(p); err != nil {
		var r jsReader
		if msg := r.str(r.get(req, "error"), "message"); msg != "" {
			return safejs.Undefined(), errors.New(msg)
		}
		return safejs.Undefined(), err
	}
	return req.Get("result")
}

// jsBytes copies an ArrayBuffer's bytes into Go.
func jsBytes(buf safejs.Value) ([]byte, error) {
	arr, err := newJS("Uint8Array", buf)
	if err != nil {
		return nil, err
	}
	n, err := arr.Length()
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	_, err = safejs.CopyBytesToGo(b, arr)
	return b, err
}

// history parses historyJSON.
func (m *module) history() (safejs.Value, error) {
	return call("JSON", "parse", m.historyJSON())
}

// downloadText is the history as the JSON file the preferences centre
// downloads: {"server", "check" (how to check it), "receipts": history()}.
func (m *module) downloadText() string {
	list, err := m.history()
	if err != nil {
		return ""
	}
	doc := map[string]any{"server": m.out.url, "receipts": list,
		"check": "ack.hash = SHA-256(hash of chain link ack.seq-1 || SHA-256(wire) || ack.received as 8 bytes big-endian), hashes as raw bytes; ack.sig = Ed25519 signature of \"consent checkpoint v1\\n\" || ack.seq (8 bytes big-endian) || ack.hash's bytes || ack.received (8 bytes). " +
			"The server's public key: GET /v1/key; a link: GET /v1/chain/N. " +
			"sig = this browser's ECDSA P-256 SHA-256 signature (r||s, base64url) of wire without its \"sig\" field, by key (an uncompressed P-256 point, base64url). " +
			"每条记录的 ack.hash 与 ack.sig 可用服务器公钥和前一链节核验；sig 是本浏览器以 key 对记录所作的签名。"}
	text, err := call("JSON", "stringify", doc, nil, 2)
	if err != nil {
		return ""
	}
	return jsString(text)
}

// newJS is new globalThis[ctor](args...).
func newJS(ctor string, args ...any) (safejs.Value, error) {
	c, err := global(ctor)
	if err != nil {
		return safejs.Undefined(), err
	}
	return c.New(args...)
}

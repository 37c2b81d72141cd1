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
// localStorage (it survives reloads, closed tabs, offline periods and server
// outages), until the server acknowledges it; then it moves, with the
// server's signed Ack, to the person's history, also in localStorage, which
// the preferences centre downloads and consent.history() returns.
//
// Each receipt carries the SHA-256 of the same person's previous one (Prev)
// and is signed by this browser's receipt key: an ECDSA P-256 key WebCrypto
// made non-extractable, kept in IndexedDB (consent.keys), one per origin,
// which the server binds the consent to (see the README's threat model).
// Hashes and signatures come from WebCrypto, as promises, so a receipt is
// linked and signed after it is made: made at once (never waiting, safe in a
// JS callback), then linked and signed by the sender goroutine. (Go's
// crypto/sha256 and crypto/ecdsa would cost every visitor ~40 KB and more.)
// A browser without WebCrypto or IndexedDB sends its receipts unlinked and
// unsigned, with one console warning: the server accepts those only for a
// consent no key is bound to. Receipt ids are the server's idempotency keys,
// so a receipt sent twice (by a beacon and again by a retry) is stored once.

const (
	outboxKey    = "consent.outbox"
	historyKey   = "consent.receipts"
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

// outbox is the stored outbox.
type outbox struct {
	// subject is the pseudonymous id of receipts made before a first choice
	// (banner shown); the first choice takes it as the consent id.
	subject string
	// last describes the newest linked receipt: its subject and wire form,
	// and in ack that form's SHA-256 ("" until computed). The same subject's
	// next receipt links to that hash.
	last   entry
	open   []entry // not linked yet: Prev unset
	linked []entry // linked, waiting for the server's acknowledgement
}

// The outbox and the history are stored as lines of text, not JSON: the
// module then needs no JSON encoder (encoding/json costs every visitor
// hundreds of KB) and no object building, which costs more code than these
// few lines of parsing. A wire form is JSON on one line: its strings escape
// control characters. Lines are "KIND ID SUBJECT ACK WIRE", "-" for empty
// fields; anything else is skipped.

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
	mu  sync.Mutex // guards box and every read-modify-write of the stored outbox
	box outbox     // the last outbox read or written: used where storage is unavailable
	url string     // the receipts endpoint, on the loader's origin
	// cookieURL is POST /v1/cookie on the loader's origin (see refreshCookie);
	// ignore is a function that ignores its argument: a failed refresh's.
	cookieURL string
	ignore    safejs.Func
	// beaconBody is the body the executor holds for a beacon.
	beaconBody string
	wake       chan struct{}
	wakeFn     safejs.Func // calls send: the sender's timer
	noHash     bool        // no WebCrypto (an insecure context): receipts go unlinked
	// key is this origin's receipt key once loaded; keyDone says whether
	// loading has ended (without a key: receipts go unsigned). sig is the
	// signature last made, of text: the sender's, for the next receipt to
	// link.
	key     receiptKey
	keyDone bool
	sig     struct{ text, sig string }
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
// base), the sender, and a send when the network returns.
func (m *module) startReceipts(base string) error {
	var r jsReader
	u, err := newJS("URL", receiptsPath, base)
	if err != nil {
		return err
	}
	m.out.url = r.str(u, "href")
	m.out.wake = make(chan struct{}, 1)
	if u, err = newJS("URL", cookiePath, base); err != nil {
		return err
	}
	m.out.cookieURL = r.str(u, "href")
	if m.out.ignore, err = callback("ignore", func(safejs.Value, []safejs.Value) any { return nil }); err != nil {
		return err
	}
	if m.out.wakeFn, err = callback("send", func(safejs.Value, []safejs.Value) any { m.send(); return nil }); err != nil {
		return err
	}
	if _, err := safejs.Global().Call("addEventListener", "online", m.out.wakeFn); err != nil {
		return err
	}
	go m.deliver()
	m.send()
	return nil
}

// emitReceipt puts receipt e, made by the core, in the outbox. pending is
// the consent id the outbox keeps for receipts made before a first choice.
func (m *module) emitReceipt(e entry, pending string) {
	m.updateOutbox(func(b *outbox) bool {
		b.subject = pending
		b.open = append(b.open, e)
		if n := len(b.linked) + len(b.open) - maxOutbox; n > 0 {
			consoleError("consent: the receipt outbox is full; dropping its " + strconv.Itoa(n) + " oldest")
			drop := min(n, len(b.linked))
			b.linked, b.open = b.linked[drop:], b.open[n-drop:]
		}
		return true
	})
	m.send()
}

// pendingSubject is the consent id the outbox keeps for receipts made
// before a first choice, "" for none.
func (m *module) pendingSubject() string {
	id := ""
	m.updateOutbox(func(b *outbox) bool {
		id = b.subject
		return false
	})
	return id
}

// send wakes the sender. It never waits.
func (m *module) send() {
	select {
	case m.out.wake <- struct{}{}:
	default:
	}
}

// deliver is the sender: it links waiting receipts and posts them in
// batches, backing off exponentially, with jitter, while posts fail.
func (m *module) deliver() {
	key, err := loadReceiptKey()
	if err != nil {
		consoleWarn("consent: receipts go unsigned: " + err.Error())
	}
	m.out.mu.Lock()
	m.out.key, m.out.keyDone = key, true
	m.out.mu.Unlock()
	for fails := 0; ; {
		m.link(true)
		m.beacon()
		ids, body := m.batch()
		if len(ids) == 0 {
			<-m.out.wake
			continue
		}
		if err := m.post(ids, body); err != nil {
			fails++
			wait := retryDelay(fails)
			consoleWarn("consent: " + strconv.Itoa(len(ids)) + " receipts not delivered yet (" + err.Error() +
				"); retrying in " + strconv.Itoa(int(wait/time.Second)) + " s")
			// A JS timer, not time.After: its channel of time.Time would link
			// Go's time formatting into the module (~10 KB brotli).
			safejs.Global().Call("setTimeout", m.out.wakeFn, wait.Milliseconds())
			<-m.out.wake // the timer, a new receipt or the network coming back
			continue
		}
		fails = 0
	}
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

// batch returns up to maxBatch linked receipts, oldest first, as a batch
// body ({"receipts":[…]}), and their ids.
func (m *module) batch() (ids []string, body string) {
	b := []byte(`{"receipts":[`)
	m.updateOutbox(func(o *outbox) bool {
		for i, e := range o.linked[:min(len(o.linked), maxBatch)] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e.wire...)
			ids = append(ids, e.id)
		}
		return false
	})
	return ids, string(append(b, "]}"...))
}

// post sends the receipts ids (the batch body) and files the server's
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
func (m *module) post(ids []string, body string) error {
	var r jsReader
	p, err := safejs.Global().Call("fetch", m.out.url, map[string]any{
		// With credentials: the server's enrolment cookie (HttpOnly) lets the
		// site's other origins enrol their keys for the same consent.
		"method": "POST", "body": body, "keepalive": true, "credentials": "include",
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
		if len(ids) > 1 {
			var held error
			for _, id := range ids {
				if err := m.postOne(id); err != nil && held == nil {
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
			return errors.New("the server refused receipt " + ids[0] + ": " + msg)
		}
		// Malformed, too large, or its id stored with other content (409):
		// sending it again cannot help.
		consoleError("consent: the server refused receipt " + ids[0] + " (HTTP " + strconv.Itoa(status) + ": " + msg + "); dropped")
		m.updateOutbox(func(b *outbox) bool {
			b.linked = without(b.linked, func(e entry) bool { return e.id == ids[0] })
			return true
		})
		return nil
	default:
		return errors.New("HTTP " + strconv.Itoa(status))
	}
}

// postOne posts the linked receipt id alone.
func (m *module) postOne(id string) error {
	wire := ""
	m.updateOutbox(func(b *outbox) bool {
		for _, e := range b.linked {
			if e.id == id {
				wire = e.wire
			}
		}
		return false
	})
	if wire == "" {
		return nil // acknowledged meanwhile (another tab)
	}
	return m.post([]string{id}, `{"receipts":[`+wire+"]}")
}

// file moves the receipts the server acknowledged (answer.acks) from the
// outbox to the history, each with its Ack, and returns how many it moved.
func (m *module) file(answer safejs.Value) (n int) {
	var r jsReader
	acks := map[string]string{}
	for _, a := range r.list(answer, "acks") {
		if text, err := call("JSON", "stringify", a); err == nil {
			acks[r.str(a, "id")], _ = text.String()
		}
	}
	m.updateOutbox(func(b *outbox) bool {
		var filed []byte
		b.linked = without(b.linked, func(e entry) bool {
			e.ack = acks[e.id]
			if e.ack != "" {
				filed = appendLine(filed, lineAcked, e)
				n++
			}
			return e.ack != ""
		})
		if filed == nil {
			return false
		}
		// Oldest first; beyond maxHistory the oldest go.
		hist := append([]byte(storedText(historyKey)), filed...)
		for n := strings.Count(string(hist), "\n"); n > maxHistory; n-- {
			_, rest, _ := strings.Cut(string(hist), "\n")
			hist = []byte(rest)
		}
		if err := store(historyKey, string(hist)); err != nil {
			consoleError("consent: keep receipts: " + err.Error())
		}
		return true
	})
	return n
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

// link links open receipts to their predecessors and signs them, in order.
// With wait it computes the hashes and signatures it lacks (WebCrypto
// promises: never in a callback), the newest receipt's hash included, so
// that the next can be linked at once. Without wait it links as far as known
// hashes and signatures allow: as the page hides, a receipt made then waits
// in the outbox for the next page.
func (m *module) link(wait bool) {
	for {
		need, sign := "", ""
		m.updateOutbox(func(b *outbox) bool {
			if !m.out.keyDone {
				return false // sign from the first receipt on, or never
			}
			changed := false
			for len(b.open) > 0 {
				e := b.open[0]
				prev := ""
				if e.subject == b.last.subject && !m.out.noHash {
					if b.last.ack == "" {
						need = b.last.wire
						return changed
					}
					prev = b.last.ack
				}
				e.wire = consent.LinkReceiptJSON(e.wire, prev)
				if k := m.out.key.public; k != "" {
					text := consent.ReceiptSignedJSON(e.wire, k)
					if m.out.sig.text != text {
						sign = text
						return changed
					}
					e.wire = consent.ReceiptWithSigJSON(text, m.out.sig.sig)
				}
				b.open, b.linked = b.open[1:], append(b.linked, e)
				b.last = e
				changed = true
			}
			if b.last.ack == "" && !m.out.noHash {
				need = b.last.wire
			}
			return changed
		})
		if (need == "" && sign == "") || !wait {
			return
		}
		if sign != "" {
			sig, err := m.out.key.sign(sign)
			m.out.mu.Lock()
			if err != nil {
				consoleWarn("consent: receipts go unsigned: " + err.Error())
				m.out.key = receiptKey{}
			}
			m.out.sig.text, m.out.sig.sig = sign, sig
			m.out.mu.Unlock()
			continue
		}
		h, err := sha256Hex(need)
		if err != nil {
			consoleWarn("consent: receipts go unlinked: " + err.Error())
			m.out.noHash = true
			continue
		}
		m.updateOutbox(func(b *outbox) bool {
			if b.last.wire != need {
				return false
			}
			b.last.ack = h
			return true
		})
	}
}

// beacon gives the executor what waits, linked, as the body it sends with
// a beacon if the page hides (sendBeacon exists only on the page, and the
// page cannot wait for the worker then). It never waits.
func (m *module) beacon() {
	ids, body := m.batch()
	if len(ids) == 0 {
		body = ""
	}
	if body == m.out.beaconBody {
		return
	}
	m.out.beaconBody = body
	post([]any{map[string]any{"t": "beacon", "url": m.out.url, "body": body}})
}


// sha256Hex is the SHA-256 of s's UTF-8 bytes, in hex, from WebCrypto. It
// waits on a promise: never call it from a callback.
func sha256Hex(s string) (string, error) {
	var r jsReader
	subtle := r.get(r.get(safejs.Global(), "crypto"), "subtle")
	if r.err != nil || subtle.Type() != safejs.TypeObject {
		return "", errors.New("no crypto.subtle (it needs a secure context: https)")
	}
	arr, err := newJS("Uint8Array", len(s))
	if err != nil {
		return "", err
	}
	if _, err := safejs.CopyBytesToJS(arr, []byte(s)); err != nil {
		return "", err
	}
	p, err := subtle.Call("digest", "SHA-256", arr)
	if err != nil {
		return "", err
	}
	buf, err := await(p)
	if err != nil {
		return "", err
	}
	sum, err := newJS("Uint8Array", buf)
	if err != nil {
		return "", err
	}
	var b [32]byte
	if _, err := safejs.CopyBytesToGo(b[:], sum); err != nil {
		return "", err
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out), nil
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
	idb := r.get(safejs.Global(), "indexedDB")
	if r.err != nil || subtle.Type() != safejs.TypeObject || idb.Type() != safejs.TypeObject {
		return receiptKey{}, errors.New("no crypto.subtle or indexedDB (WebCrypto needs a secure context: https)")
	}
	open, err := idb.Call("open", keysDB, 1)
	if err != nil {
		return receiptKey{}, err
	}
	upgrade, err := callback("keys upgrade", func(safejs.Value, []safejs.Value) any {
		if db, err := open.Get("result"); err == nil {
			db.Call("createObjectStore", keysStore)
		}
		return nil
	})
	if err != nil {
		return receiptKey{}, err
	}
	defer upgrade.Release()
	open.Set("onupgradeneeded", upgrade)
	db, err := idbResult(open)
	if err != nil {
		return receiptKey{}, errors.New("open " + keysDB + ": " + err.Error())
	}
	defer db.Call("close")
	objects := func(mode string) (safejs.Value, error) {
		tx, err := db.Call("transaction", keysStore, mode)
		if err != nil {
			return tx, err
		}
		return tx.Call("objectStore", keysStore)
	}
	read := func() (receiptKey, error) {
		s, err := objects("readonly")
		if err != nil {
			return receiptKey{}, err
		}
		get, err := s.Call("get", keysRecord)
		if err != nil {
			return receiptKey{}, err
		}
		rec, err := idbResult(get)
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
	s, err := objects("readwrite")
	if err != nil {
		return receiptKey{}, err
	}
	add, err := s.Call("add", map[string]any{"private": k.private, "public": k.public}, keysRecord)
	if err != nil {
		return receiptKey{}, err
	}
	if _, err := idbResult(add); err != nil {
		return read() // another tab stored one first
	}
	return k, r.err
}

// sign is the key's ECDSA P-256 SHA-256 signature of text's UTF-8 bytes, r‖s,
// base64url. It waits on a promise: never call it from a callback.
func (k receiptKey) sign(text string) (string, error) {
	arr, err := newJS("Uint8Array", len(text))
	if err != nil {
		return "", err
	}
	if _, err := safejs.CopyBytesToJS(arr, []byte(text)); err != nil {
		return "", err
	}
	var r jsReader
	subtle := r.get(r.get(safejs.Global(), "crypto"), "subtle")
	if r.err != nil {
		return "", r.err
	}
	p, err := subtle.Call("sign", map[string]any{"name": "ECDSA", "hash": "SHA-256"}, k.private, arr)
	if err != nil {
		return "", err
	}
	buf, err := await(p)
	if err != nil {
		return "", errors.New("sign a receipt: " + err.Error())
	}
	sig, err := jsBytes(buf)
	if err != nil {
		return "", err
	}
	return base64URL(sig), nil
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

// updateOutbox reads the stored outbox (the one in memory where storage is
// unavailable), lets fn change it and, if fn reports a change, stores it.
// Reading afresh each time keeps what another tab of the site stored.
func (m *module) updateOutbox(fn func(b *outbox) bool) {
	m.out.mu.Lock()
	defer m.out.mu.Unlock()
	if t := storedText(outboxKey); t != "" {
		b := outbox{}
		parseLines(t, func(kind string, e entry) {
			switch kind {
			case lineSubject:
				b.subject = e.id
			case lineLast:
				b.last = e
			case lineOpen:
				b.open = append(b.open, e)
			case lineLinked:
				b.linked = append(b.linked, e)
			}
		})
		m.out.box = b
	}
	if !fn(&m.out.box) {
		return
	}
	b := m.out.box
	text := appendLine(appendLine(nil, lineSubject, entry{id: b.subject}), lineLast, b.last)
	for _, e := range b.linked {
		text = appendLine(text, lineLinked, e)
	}
	for _, e := range b.open {
		text = appendLine(text, lineOpen, e)
	}
	if err := store(outboxKey, string(text)); err != nil {
		consoleWarn("consent: the receipt outbox is kept in this page only: " + err.Error())
	}
}

// memory holds what would be stored where localStorage is unavailable (in
// the worker).
var memory = map[string]string{}

// storedText is localStorage[key], "" when missing; in memory where
// localStorage is unavailable.
func storedText(key string) string {
	v, err := call("localStorage", "getItem", key)
	if err != nil || v.Type() != safejs.TypeString {
		return memory[key]
	}
	s, _ := v.String()
	return s
}

func store(key, text string) error {
	if ls, err := global("localStorage"); err != nil || ls.Type() != safejs.TypeObject {
		memory[key] = text
		return nil
	}
	_, err := call("localStorage", "setItem", key, text)
	return err
}

// historyJSON is the JSON array consent.history() resolves to: the person's
// receipts on this browser, oldest first, each with the server's
// acknowledgement (ack: {id, seq, hash, sig}) or, while it waits in the
// outbox, ack null; wire is the exact text the server hashed and signed.
func (m *module) historyJSON() string {
	var all []entry
	parseLines(storedText(historyKey), func(kind string, e entry) {
		if kind == lineAcked {
			all = append(all, e)
		}
	})
	m.updateOutbox(func(b *outbox) bool {
		all = append(append(all, b.linked...), b.open...)
		return false
	})
	out := []byte{'['}
	for _, e := range all {
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

//go:build js && wasm

package main

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// Where receipts wait, safe with any number of tabs (and workers) of the
// site: IndexedDB, database consent.receipts, two object stores.
//
//	outbox  "outbox": the outbox as lines (subject, last, open, linked);
//	        "history": the acknowledged receipts, "acked" lines, oldest first
//	open    (autoIncrement) lines added without reading: receipts made
//	        ("open") and the pre-choice subject set or cleared ("subject")
//
// A tab adds what it makes to open (addLines: it never waits, so it is safe
// in a JS callback). Every other change is one readwrite transaction that
// reads the outbox, folds open into it in order and writes the result
// (update): IndexedDB runs two tabs' transactions on the same stores one
// after the other, so none works from a stale copy. Linking awaits
// WebCrypto, which cannot happen inside a transaction (it would commit on
// the first await), so it is a compare-and-swap (see link). Linking and
// sending also run under a Web Lock (lockName): one tab at a time, so no
// signature is made twice and no receipt posted by two tabs at once; the
// chain does not rest on the lock.
//
// Everything here exists in a dedicated worker too (IndexedDB,
// navigator.locks). What only a page has (localStorage: migrate, spill) is
// kept apart, in receipts_js.go's page-only functions.

const (
	outboxDB   = "consent.receipts"
	outboxName = "outbox"
	openName   = "open"
	lockName   = "consent.receipts"
)

// outbox is the stored outbox.
type outbox struct {
	// subject is the pseudonymous id of receipts made before a first choice
	// (banner shown); the first choice takes it as the consent id.
	subject string
	// last is the newest linked receipt, its SHA-256 in ack ("" until
	// computed): the same subject's next receipt links to that hash.
	last   entry
	open   []entry // not linked yet: Prev unset
	linked []entry // linked, waiting for the server's acknowledgement
}

// fold applies text's lines to b in order, and appends acked ones to hist.
func (b *outbox) fold(text string, hist *[]entry) {
	parseLines(text, func(kind string, e entry) {
		switch kind {
		case lineSubject:
			b.subject = e.id
		case lineLast:
			b.last = e
		case lineOpen:
			b.open = append(b.open, e)
		case lineLinked:
			b.linked = append(b.linked, e)
		case lineAcked:
			*hist = append(*hist, e)
		}
	})
}

// text is b as lines.
func (b *outbox) text() []byte {
	text := appendLine(appendLine(nil, lineSubject, entry{id: b.subject}), lineLast, b.last)
	for _, e := range b.linked {
		text = appendLine(text, lineLinked, e)
	}
	for _, e := range b.open {
		text = appendLine(text, lineOpen, e)
	}
	return text
}

func histText(hist []entry) string {
	var text []byte
	for _, e := range hist {
		text = appendLine(text, lineAcked, e)
	}
	return string(text)
}

// idbOutbox is the outbox's database. db is the open connection, undefined
// once closed (another tab deleting or upgrading the database, the person
// clearing the site's data): update opens it again.
type idbOutbox struct {
	name string // outboxDB but in tests
	db   safejs.Value
}

// open opens the database, creating it the first time. It waits.
func (s *idbOutbox) open() error {
	db, err := openDB(s.name, func(db safejs.Value) {
		db.Call("createObjectStore", outboxName)
		db.Call("createObjectStore", openName, map[string]any{"autoIncrement": true})
	})
	if err != nil {
		return err
	}
	closed, err := callback("outbox closed", func(safejs.Value, []safejs.Value) any {
		db.Call("close")
		s.db = safejs.Undefined()
		return nil
	})
	if err != nil {
		return err
	}
	db.Set("onversionchange", closed)
	db.Set("onclose", closed)
	s.db = db
	return nil
}

// settled starts a readwrite transaction on stores and calls done once it
// has committed (nil) or failed.
func (s *idbOutbox) transaction(done func(error), stores ...any) (safejs.Value, error) {
	if s.db.Type() != safejs.TypeObject {
		return safejs.Undefined(), errors.New(s.name + " is closed")
	}
	tx, err := s.db.Call("transaction", stores, "readwrite")
	if err != nil {
		return tx, err
	}
	var end safejs.Func
	end, err = callback("outbox settled", func(_ safejs.Value, args []safejs.Value) any {
		end.Release()
		var r jsReader
		if r.str(args[0], "type") == "complete" {
			done(nil)
		} else {
			done(errors.New("the transaction failed: " + r.str(r.get(tx, "error"), "message")))
		}
		return nil
	})
	if err == nil {
		tx.Set("oncomplete", end)
		tx.Set("onabort", end)
	}
	return tx, err
}

// addLines adds lines to the open store. It never waits; done gets the
// outcome.
func (s *idbOutbox) addLines(lines string, done func(error)) {
	tx, err := s.transaction(done, openName)
	if err == nil {
		var st safejs.Value
		if st, err = tx.Call("objectStore", openName); err == nil {
			if _, err = st.Call("add", lines); err == nil {
				// Commit now, not at the end of the task: the page may be
				// going away (pagehide).
				tx.Call("commit")
				return
			}
		}
		tx.Call("abort")
		return
	}
	done(err)
}

// update reads the outbox and the history, folds the open store in, lets
// fn change them and, if fn reports a change, writes them and empties the
// open store, all in one transaction. fn must not wait. update waits.
func (s *idbOutbox) update(fn func(b *outbox, hist *[]entry) bool) error {
	if s.db.Type() != safejs.TypeObject {
		if err := s.open(); err != nil {
			return err
		}
	}
	result := make(chan error, 1)
	tx, err := s.transaction(func(err error) { result <- err }, outboxName, openName)
	if err != nil {
		return err
	}
	var r jsReader
	ob, _ := tx.Call("objectStore", outboxName)
	op, _ := tx.Call("objectStore", openName)
	box, _ := ob.Call("get", outboxName)
	hist, _ := ob.Call("get", "history")
	open, err := op.Call("getAll")
	if err != nil {
		tx.Call("abort")
		return <-result
	}
	// Requests succeed in order: in the last one's success event all have
	// their results, and the transaction is still active, so the change is
	// written before anything else can touch the stores.
	read, err := callback("outbox read", func(safejs.Value, []safejs.Value) any {
		var b outbox
		var h []entry
		b.fold(r.str(box, "result"), &h)
		old := r.str(hist, "result")
		b.fold(old, &h)
		adds := r.list(open, "result")
		for _, v := range adds {
			t, _ := v.String()
			b.fold(t, &h)
		}
		if !fn(&b, &h) {
			return nil
		}
		ob.Call("put", string(b.text()), outboxName)
		if t := histText(h); t != old {
			ob.Call("put", t, "history")
		}
		if len(adds) > 0 {
			op.Call("clear")
		}
		return nil
	})
	if err != nil {
		tx.Call("abort")
		return <-result
	}
	defer read.Release()
	open.Set("onsuccess", read)
	return <-result
}

// locked runs fn holding the origin's Web Lock name: one tab or worker of
// the site at a time. Without the Web Locks API (an insecure context, an
// opaque origin: a sandboxed frame) fn runs at once. It waits: call it from
// a goroutine.
func locked(name string, fn func()) {
	held, done := make(chan struct{}), make(chan struct{})
	defer close(done)
	got, err := callback("lock", func(safejs.Value, []safejs.Value) any {
		// The lock is held until this promise settles: when fn returns.
		p, _ := promise(func() (any, error) {
			close(held)
			<-done
			return nil, nil
		})
		return p
	})
	if err != nil {
		fn()
		return
	}
	defer got.Release()
	var r jsReader
	g := safejs.Global()
	if r.str(g, "origin") == "null" {
		fn()
		return
	}
	if _, err := r.get(r.get(g, "navigator"), "locks").Call("request", name, got); err != nil || r.err != nil {
		fn()
		return
	}
	<-held
	fn()
}

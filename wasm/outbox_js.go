//go:build js && wasm

package main

import (
	"errors"
	"strings"

	"github.com/hack-pad/safejs"
)

// Where receipts wait, safe with any number of tabs (and workers) of the
// site. The outbox and the history live in IndexedDB, database
// consent.receipts, in four object stores:
//
//	open     receipts made, not linked yet; the key (autoIncrement) is the
//	         order they were stored in, across tabs
//	linked   receipts linked and signed, in chain order, waiting for acks
//	history  acknowledged receipts, each with its Ack, oldest first
//	meta     "subject": the subject of receipts made before a first choice;
//	         "last": the newest linked receipt, its ACK field its SHA-256
//
// Every value is one line (appendLine). A change is one readwrite
// transaction that reads what it changes (update): IndexedDB runs two tabs'
// transactions on the same stores one after the other, so none works from a
// stale copy. A tab adds the receipts it makes to open without reading
// (write: it never waits, so it is safe in a JS callback). Linking awaits
// WebCrypto, which cannot happen inside a transaction (it would commit on
// the first await), so it is a compare-and-swap: read, hash and sign, then
// write in a second transaction only if the newest linked receipt and the
// open ones are still those read. On top of that, linking and sending run
// under a Web Lock (lockName): one tab at a time, so no signature is made
// twice and no receipt is posted by two tabs at once; the chain does not
// rest on the lock.
//
// Everything here exists in a dedicated worker too (IndexedDB,
// navigator.locks). What only a page has (localStorage: migrate, spill) is
// kept apart, in receipts_js.go's page-only functions.

const (
	outboxDB  = "consent.receipts"
	metaStore = "meta"
	lockName  = "consent.receipts"
)

// The object stores of receipts, as indexes of change.add and change.del.
const (
	sOpen = iota
	sLinked
	sHistory
)

var storeNames = [...]string{sOpen: "open", sLinked: "linked", sHistory: "history"}

// The line kind each store keeps its entries under (appendLine).
var storeKinds = [...]string{sOpen: lineOpen, sLinked: lineLinked, sHistory: lineAcked}

// rec is an entry as stored, with its key in its object store.
type rec struct {
	key float64
	e   entry
}

// snapshot is the stored outbox (and, when asked for, the history) as one
// transaction reads it.
type snapshot struct {
	subject               string
	last                  entry // ack: its SHA-256 ("" until computed)
	open, linked, history []rec
}

// change is what a step writes: entries added to (and keys deleted from)
// each store, and the meta records it sets.
type change struct {
	subject *string // "" deletes it
	last    *entry
	add     [3][]entry
	del     [3][]float64
}

func keysOf(rs []rec) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = r.key
	}
	return out
}

// outboxStore keeps the outbox and the history: IndexedDB, or this page's
// memory where IndexedDB is unavailable.
type outboxStore interface {
	// update reads the snapshot (with the history if hist), lets fn compute
	// a change (nil for none; fn must not keep or change the snapshot's
	// slices, and must not wait) and applies it, all in one transaction. It
	// waits: call it from a goroutine.
	update(hist bool, fn func(*snapshot) *change) error
	// write applies c in a transaction of its own. It never waits: safe in
	// a JS callback. done, if not nil, gets the outcome once known.
	write(c *change, done func(error))
}

// memStore is the outbox kept in this page only. The module runs on one
// thread and no method waits, so no lock guards it.
type memStore struct {
	s    snapshot
	next float64
}

func (m *memStore) update(hist bool, fn func(*snapshot) *change) error {
	s := m.s
	if !hist {
		s.history = nil
	}
	m.apply(fn(&s))
	return nil
}

func (m *memStore) write(c *change, done func(error)) {
	m.apply(c)
	if done != nil {
		done(nil)
	}
}

func (m *memStore) apply(c *change) {
	if c == nil {
		return
	}
	lists := [3]*[]rec{&m.s.open, &m.s.linked, &m.s.history}
	for i, l := range lists {
		gone := map[float64]bool{}
		for _, k := range c.del[i] {
			gone[k] = true
		}
		var kept []rec
		for _, r := range *l {
			if !gone[r.key] {
				kept = append(kept, r)
			}
		}
		for _, e := range c.add[i] {
			m.next++
			kept = append(kept, rec{m.next, e})
		}
		*l = kept
	}
	if c.subject != nil {
		m.s.subject = *c.subject
	}
	if c.last != nil {
		m.s.last = *c.last
	}
}

// idbStore is the outbox in IndexedDB. db is the open connection, undefined
// once closed (another tab deleting or upgrading the database, the person
// clearing the site's data): update opens it again.
type idbStore struct {
	name string
	db   safejs.Value
}

// openOutboxDB opens (creating it the first time) the outbox's database,
// named name (outboxDB but in tests). It waits: call it from a goroutine.
func openOutboxDB(name string) (*idbStore, error) {
	s := &idbStore{name: name, db: safejs.Undefined()}
	return s, s.open()
}

func (s *idbStore) open() error {
	idb, err := safejs.Global().Get("indexedDB")
	if err != nil || idb.Type() != safejs.TypeObject {
		return errors.New("no IndexedDB")
	}
	req, err := idb.Call("open", s.name, 1)
	if err != nil {
		return err
	}
	upgrade, err := callback("outbox upgrade", func(safejs.Value, []safejs.Value) any {
		db, err := req.Get("result")
		if err != nil {
			return nil
		}
		for _, name := range storeNames {
			db.Call("createObjectStore", name, map[string]any{"autoIncrement": true})
		}
		db.Call("createObjectStore", metaStore)
		return nil
	})
	if err != nil {
		return err
	}
	defer upgrade.Release()
	req.Set("onupgradeneeded", upgrade)
	db, err := idbResult(req)
	if err != nil {
		return errors.New("open " + s.name + ": " + err.Error())
	}
	// Let another tab delete or upgrade the database: this one opens it
	// again when it next needs it.
	closed, err := callback("outbox closed", func(safejs.Value, []safejs.Value) any {
		db.Call("close")
		if s.db.Equal(db) {
			s.db = safejs.Undefined()
		}
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

// transaction starts a readwrite transaction on the stores named.
func (s *idbStore) transaction(names []any) (safejs.Value, error) {
	if s.db.Type() != safejs.TypeObject {
		return safejs.Undefined(), errors.New(s.name + " is closed")
	}
	return s.db.Call("transaction", names, "readwrite")
}

// settled calls done once tx has committed (nil) or failed, and releases
// its callbacks.
func settled(tx safejs.Value, done func(error)) error {
	var ok, fail safejs.Func
	release := func() { ok.Release(); fail.Release() }
	var err error
	if ok, err = callback("outbox committed", func(safejs.Value, []safejs.Value) any {
		release()
		done(nil)
		return nil
	}); err != nil {
		return err
	}
	if fail, err = callback("outbox failed", func(safejs.Value, []safejs.Value) any {
		release()
		msg := "the transaction was aborted"
		var r jsReader
		if m := r.str(r.get(tx, "error"), "message"); m != "" {
			msg = m
		}
		done(errors.New(msg))
		return nil
	}); err != nil {
		ok.Release()
		return err
	}
	tx.Set("oncomplete", ok)
	tx.Set("onabort", fail)
	return nil
}

func (s *idbStore) update(hist bool, fn func(*snapshot) *change) error {
	if s.db.Type() != safejs.TypeObject {
		if err := s.open(); err != nil {
			return err
		}
	}
	lists := []int{sOpen, sLinked}
	if hist {
		lists = append(lists, sHistory)
	}
	names := []any{metaStore}
	for _, i := range lists {
		names = append(names, storeNames[i])
	}
	tx, err := s.transaction(names)
	if err != nil {
		return err
	}
	result := make(chan error, 1)
	if err := settled(tx, func(err error) { result <- err }); err != nil {
		tx.Call("abort")
		return err
	}
	var r jsReader
	var reqs []safejs.Value
	for _, i := range lists {
		st, err := tx.Call("objectStore", storeNames[i])
		if err != nil {
			tx.Call("abort")
			return <-result
		}
		k, _ := st.Call("getAllKeys")
		v, _ := st.Call("getAll")
		reqs = append(reqs, k, v)
	}
	meta, _ := tx.Call("objectStore", metaStore)
	subject, _ := meta.Call("get", "subject")
	last, err := meta.Call("get", "last")
	if err != nil {
		tx.Call("abort")
		return <-result
	}
	// Requests succeed in order, so in the last one's success event all
	// have their results, and the transaction is still active: fn's change
	// is written before anything else can touch the stores.
	read, err := callback("outbox read", func(safejs.Value, []safejs.Value) any {
		var snap snapshot
		if v, err := subject.Get("result"); err == nil && v.Type() == safejs.TypeString {
			snap.subject, _ = v.String()
		}
		if v, err := last.Get("result"); err == nil && v.Type() == safejs.TypeString {
			t, _ := v.String()
			parseLines(t, func(_ string, e entry) { snap.last = e })
		}
		for j, i := range lists {
			keys, vals := r.list(reqs[2*j], "result"), r.list(reqs[2*j+1], "result")
			var rs []rec
			for n := range min(len(keys), len(vals)) {
				k, _ := keys[n].Float()
				t, _ := vals[n].String()
				parseLines(t, func(kind string, e entry) {
					if kind == storeKinds[i] {
						rs = append(rs, rec{k, e})
					}
				})
			}
			switch i {
			case sOpen:
				snap.open = rs
			case sLinked:
				snap.linked = rs
			case sHistory:
				snap.history = rs
			}
		}
		if err := applyIDB(tx, fn(&snap)); err != nil {
			consoleError("consent: keep receipts: " + err.Error())
			tx.Call("abort")
		}
		return nil
	})
	if err != nil {
		tx.Call("abort")
		return <-result
	}
	defer read.Release()
	last.Set("onsuccess", read)
	return <-result
}

func (s *idbStore) write(c *change, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	names := []any{}
	if c.subject != nil || c.last != nil {
		names = append(names, metaStore)
	}
	for i := range storeNames {
		if len(c.add[i])+len(c.del[i]) > 0 {
			names = append(names, storeNames[i])
		}
	}
	tx, err := s.transaction(names)
	if err == nil {
		err = settled(tx, done)
	}
	if err == nil {
		if err = applyIDB(tx, c); err != nil {
			tx.Call("abort") // settles with done
			return
		}
		// Commit now rather than at the end of the task: the page may be
		// going away (pagehide).
		if f, _ := tx.Get("commit"); f.Type() == safejs.TypeFunction {
			tx.Call("commit")
		}
		return
	}
	done(err)
}

// applyIDB issues c's requests in tx.
func applyIDB(tx safejs.Value, c *change) error {
	if c == nil {
		return nil
	}
	for i, name := range storeNames {
		if len(c.add[i])+len(c.del[i]) == 0 {
			continue
		}
		st, err := tx.Call("objectStore", name)
		if err != nil {
			return err
		}
		for _, k := range c.del[i] {
			if _, err := st.Call("delete", k); err != nil {
				return err
			}
		}
		for _, e := range c.add[i] {
			if _, err := st.Call("add", string(appendLine(nil, storeKinds[i], e))); err != nil {
				return err
			}
		}
	}
	if c.subject == nil && c.last == nil {
		return nil
	}
	meta, err := tx.Call("objectStore", metaStore)
	if err != nil {
		return err
	}
	if c.subject != nil && *c.subject == "" {
		_, err = meta.Call("delete", "subject")
	} else if c.subject != nil {
		_, err = meta.Call("put", *c.subject, "subject")
	}
	if err == nil && c.last != nil {
		_, err = meta.Call("put", string(appendLine(nil, lineLast, *c.last)), "last")
	}
	return err
}

// locked runs fn holding the origin's Web Lock name: one tab or worker of
// the site at a time. Without the Web Locks API (or where it refuses) fn
// runs at once. It waits: call it from a goroutine.
func locked(name string, fn func()) {
	var r jsReader
	locks := r.get(r.get(safejs.Global(), "navigator"), "locks")
	if r.err != nil || locks.Type() != safejs.TypeObject {
		fn()
		return
	}
	// The lock is held until the promise its callback returns settles:
	// release resolves it.
	type grant struct {
		release safejs.Value
		ok      bool
	}
	held := make(chan grant, 1)
	got, err := callback("lock", func(safejs.Value, []safejs.Value) any {
		var release safejs.Value
		executor, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
			release = args[0]
			return nil
		})
		if err != nil {
			held <- grant{}
			return nil
		}
		defer executor.Release()
		p, err := newJS("Promise", executor)
		held <- grant{release, err == nil}
		return p
	})
	if err != nil {
		fn()
		return
	}
	defer got.Release()
	refused, err := callback("lock refused", func(safejs.Value, []safejs.Value) any {
		select {
		case held <- grant{}:
		default:
		}
		return nil
	})
	if err != nil {
		fn()
		return
	}
	defer refused.Release()
	p, err := locks.Call("request", name, got)
	if err != nil {
		fn()
		return
	}
	p.Call("catch", refused)
	g := <-held
	if g.ok {
		defer g.release.Invoke()
	}
	fn()
}

// withoutIDs returns es without those whose id is in have, and adds theirs.
func withoutIDs(es []entry, have map[string]bool) []entry {
	var out []entry
	for _, e := range es {
		if e.id != "" && !have[e.id] && strings.HasSuffix(e.wire, "}") {
			have[e.id] = true
			out = append(out, e)
		}
	}
	return out
}

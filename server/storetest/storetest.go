// Package storetest is the conformance suite of consent.ReceiptStore. Every
// storage backend (server/sqlite, server/postgres) runs it from its own
// tests, so each behaviour the contract promises (idempotency by receipt id,
// order, one global hash chain, signatures, export and verification) is
// checked against every backend, on the real storage.
package storetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/wire"
)

// Backend is a storage backend under test.
type Backend struct {
	// New makes a new, empty place to keep receipts (a file, a database) for
	// one test, removed when the test ends.
	New func(t *testing.T) Place
	// SeveralWriters says that several stores may be open on one place at
	// once (several server processes) and append to one chain.
	SeveralWriters bool
}

// Place is where one test's receipts are kept.
type Place struct {
	// Open opens a store on the place that signs with sign. Each call opens
	// it again: after a Close, a restart; while another is open, another
	// server process. The suite closes what it opens.
	Open func(t *testing.T, sign func(hash string) string) consent.ReceiptStore
	// Tamper replaces old with new in the stored wire form of receipt id,
	// behind the store's back, as someone with write access to the storage
	// could.
	Tamper func(t *testing.T, id, old, new string)
}

var testPub, testKey, _ = ed25519.GenerateKey(nil)

// Receipt returns the i-th test receipt: valid, one second apart, events
// alternating between given and withdrawn.
func Receipt(i int) consent.Receipt {
	ev := consent.EventConsentGiven
	if i%2 == 1 {
		ev = consent.EventWithdrawn
	}
	return consent.Receipt{
		ID: fmt.Sprintf("r%021d", i), Subject: "q83vEjRWeJq83vEjRWeJqw", Event: ev,
		Policy: "2022-01-01", PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{"analytics"},
		Time: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Method: "banner",
	}
}

func receipts(from, to int) []consent.Receipt {
	var rs []consent.Receipt
	for i := from; i <= to; i++ {
		rs = append(rs, Receipt(i))
	}
	return rs
}

// Run runs the suite against b, each case on a new place.
func Run(t *testing.T, b Backend) {
	cases := []struct {
		name string
		run  func(t *testing.T, b Backend)
	}{
		{"AcksInOrder", testAcksInOrder},
		{"Idempotent", testIdempotent},
		{"SameReceiptTwiceInABatch", testTwiceInABatch},
		{"EmptyPut", testEmptyPut},
		{"WireFormKept", testWireFormKept},
		{"ConcurrentPutsOneChain", testConcurrentPuts},
		{"SeveralStoresOneChain", testSeveralStores},
		{"Signatures", testSignatures},
		{"TamperingShows", testTampering},
		{"Export", testExport},
		{"EntriesStopsOnError", testEntriesStops},
		{"PingAndClose", testPingAndClose},
		{"SubjectKeys", testSubjectKeys},
		{"SubjectKeysOneFirstKey", testSubjectKeysRace},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, b) })
	}
}

// open opens a store on p with the suite's key and closes it when the test
// ends.
func open(t *testing.T, p Place) consent.ReceiptStore {
	t.Helper()
	s := p.Open(t, proof.Signer(testKey))
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s consent.ReceiptStore, rs ...consent.Receipt) ([]consent.Ack, int) {
	t.Helper()
	acks, n, err := s.Put(context.Background(), rs)
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if len(acks) != len(rs) {
		t.Fatalf("Put of %d receipts returned %d acks", len(rs), len(acks))
	}
	return acks, n
}

// entry is one stored receipt as Entries gives it.
type entry struct {
	body string
	ack  consent.Ack
}

func entries(t *testing.T, s consent.ReceiptStore, from int64) []entry {
	t.Helper()
	var es []entry
	err := s.Entries(context.Background(), from, func(body []byte, a consent.Ack) error {
		es = append(es, entry{string(body), a})
		return nil
	})
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return es
}

// verify checks the whole chain with the suite's key and returns its length.
func verify(t *testing.T, s consent.ReceiptStore) int64 {
	t.Helper()
	n, err := proof.Verify(context.Background(), s, testPub, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return n
}

// Acknowledgements come back in the order of the batch; the chain numbers
// receipts from 1 in the order stored; Entries reads from any point on, in
// that order, each with the acknowledgement Put gave.
func testAcksInOrder(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	first, n := put(t, s, receipts(1, 3)...)
	second, m := put(t, s, receipts(4, 5)...)
	if n != 3 || m != 2 {
		t.Fatalf("stored %d and %d, want 3 and 2", n, m)
	}
	acks := append(first, second...)
	for i, a := range acks {
		if a.ID != Receipt(i+1).ID || a.Seq != int64(i+1) || a.Hash == "" || a.Sig == "" {
			t.Fatalf("ack %d = %+v, want receipt %s at %d, hashed and signed", i, a, Receipt(i+1).ID, i+1)
		}
	}
	if c, err := s.Count(context.Background()); err != nil || c != 5 {
		t.Fatalf("Count = %d, %v; want 5", c, err)
	}
	all := entries(t, s, 1)
	if len(all) != 5 {
		t.Fatalf("Entries from 1 gave %d, want 5", len(all))
	}
	for i, e := range all {
		if e.ack != acks[i] || e.body != string(consent.AppendReceiptJSON(nil, Receipt(i+1))) {
			t.Fatalf("entry %d = %+v %s; want %+v and the receipt's wire form", i, e.ack, e.body, acks[i])
		}
	}
	if tail := entries(t, s, 4); len(tail) != 2 || tail[0].ack.Seq != 4 || tail[1].ack.Seq != 5 {
		t.Fatalf("Entries from 4 = %+v, want 4 and 5", tail)
	}
	if none := entries(t, s, 6); len(none) != 0 {
		t.Fatalf("Entries from 6 = %+v, want none", none)
	}
}

// A resent receipt is stored once and gets its first acknowledgement again,
// in a batch of its own or mixed with new ones, and after a restart.
func testIdempotent(t *testing.T, b Backend) {
	ctx := context.Background()
	p := b.New(t)
	s := p.Open(t, proof.Signer(testKey))
	acks, n := put(t, s, Receipt(1), Receipt(2))
	if n != 2 || acks[0].Seq != 1 || acks[1].Seq != 2 {
		t.Fatalf("first Put = %+v, %d; want 2 new at 1 and 2", acks, n)
	}
	again, n := put(t, s, Receipt(1), Receipt(2))
	if n != 0 || again[0] != acks[0] || again[1] != acks[1] {
		t.Fatalf("resend = %+v, %d; want the first acks, 0 new", again, n)
	}
	mixed, n := put(t, s, Receipt(2), Receipt(3))
	if n != 1 || mixed[0] != acks[1] || mixed[1].Seq != 3 {
		t.Fatalf("mixed Put = %+v, %d; want the old ack and 1 new at 3", mixed, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart: every receipt is there, a resend still gets its first
	// ack, and the chain goes on where it was.
	s = open(t, p)
	if c, err := s.Count(ctx); err != nil || c != 3 {
		t.Fatalf("Count after reopen = %d, %v; want 3", c, err)
	}
	if again, n := put(t, s, Receipt(1)); n != 0 || again[0] != acks[0] {
		t.Fatalf("resend after reopen = %+v, %d; want %+v", again, n, acks[0])
	}
	if next, n := put(t, s, Receipt(4)); n != 1 || next[0].Seq != 4 {
		t.Fatalf("after reopen: %+v, %d; want 1 new at 4", next, n)
	}
	if n := verify(t, s); n != 4 {
		t.Fatalf("chain of %d, want 4", n)
	}
}

// The same receipt twice in one batch is stored once; both get its ack.
func testTwiceInABatch(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	put(t, s, Receipt(1))
	twice, n := put(t, s, Receipt(5), Receipt(2), Receipt(5))
	if n != 2 || twice[0] != twice[2] || twice[0].Seq != 2 || twice[1].Seq != 3 || twice[0].Sig == "" {
		t.Fatalf("a receipt twice in a batch: %+v, %d; want 2 new, at 2 and 3, the first twice", twice, n)
	}
	if n := verify(t, s); n != 3 {
		t.Fatalf("chain of %d, want 3", n)
	}
}

func testEmptyPut(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	acks, n, err := s.Put(context.Background(), nil)
	if err != nil || n != 0 || len(acks) != 0 {
		t.Fatalf("empty Put = %+v, %d, %v", acks, n, err)
	}
	if c, err := s.Count(context.Background()); err != nil || c != 0 {
		t.Fatalf("Count = %d, %v; want 0", c, err)
	}
}

// What Entries gives back is the receipt's wire form byte for byte, every
// field kept, non-ASCII included.
func testWireFormKept(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	r := Receipt(1)
	r.Locale, r.Method, r.GPC, r.Event = consent.En, "preferences", true, consent.EventAcknowledged
	r.Granted = []string{"analytics", "functional", "marketing"}
	r.Prev = strings.Repeat("b", 64)
	r.Time = time.Date(2026, 11, 1, 8, 30, 15, 123e6, time.UTC)
	put(t, s, r)
	es := entries(t, s, 1)
	want := consent.AppendReceiptJSON(nil, r)
	if len(es) != 1 || es[0].body != string(want) {
		t.Fatalf("stored %+v, want %s", es, want)
	}
	got, err := wire.DecodeReceipt([]byte(es[0].body))
	if err != nil || !got.Time.Equal(r.Time) || got.GPC != r.GPC || got.Prev != r.Prev || len(got.Granted) != 3 {
		t.Fatalf("decoded %+v, %v; want %+v", got, err, r)
	}
}

// Concurrent Puts through one store make one unbroken chain.
func testConcurrentPuts(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, _, err := s.Put(context.Background(), []consent.Receipt{Receipt(w*1000 + i)}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c, err := s.Count(context.Background()); err != nil || c != 200 {
		t.Fatalf("Count = %d, %v; want 200", c, err)
	}
	if n := verify(t, s); n != 200 {
		t.Fatalf("chain of %d links, want 200", n)
	}
}

// Several stores open on one place at once (server processes behind one load
// balancer), each written to concurrently, some receipts sent to more than
// one: each receipt is stored once, every store acknowledges it alike, and
// there is one unbroken chain.
func testSeveralStores(t *testing.T, b Backend) {
	if !b.SeveralWriters {
		t.Skip("this backend is one process's store")
	}
	p := b.New(t)
	stores := []consent.ReceiptStore{open(t, p), open(t, p), open(t, p)}
	const writers, posts = 4, 30
	var mu sync.Mutex
	acked := map[string]consent.Ack{}
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*writers)
	for si, s := range stores {
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(si, w int, s consent.ReceiptStore) {
				defer wg.Done()
				for i := 0; i < posts; i++ {
					// Two receipts of this writer's own, and one every store sends.
					rs := []consent.Receipt{Receipt(100000*(si+1) + 1000*w + 2*i), Receipt(100000*(si+1) + 1000*w + 2*i + 1), Receipt(1000*w + i)}
					acks, _, err := s.Put(context.Background(), rs)
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					for _, a := range acks {
						if prev, ok := acked[a.ID]; ok && prev != a {
							errs <- fmt.Errorf("receipt %s acknowledged as %+v and as %+v", a.ID, prev, a)
						}
						acked[a.ID] = a
					}
					mu.Unlock()
				}
			}(si, w, s)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := len(stores)*writers*posts*2 + writers*posts
	if len(acked) != want {
		t.Fatalf("%d receipts acknowledged, want %d", len(acked), want)
	}
	for _, s := range stores {
		if c, err := s.Count(context.Background()); err != nil || c != int64(want) {
			t.Fatalf("Count = %d, %v; want %d", c, err, want)
		}
	}
	if n := verify(t, stores[0]); n != int64(want) {
		t.Fatalf("chain of %d, want %d", n, want)
	}
	for _, e := range entries(t, stores[1], 1) {
		if acked[e.ack.ID] != e.ack {
			t.Fatalf("stored %+v, acknowledged %+v", e.ack, acked[e.ack.ID])
		}
	}
}

// Each link is signed with the store's key: it verifies with its public key
// and with no other.
func testSignatures(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	put(t, s, receipts(1, 4)...)
	if n := verify(t, s); n != 4 {
		t.Fatalf("chain of %d, want 4", n)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := proof.Verify(context.Background(), s, other, nil); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Fatalf("Verify with another key = %v, want a bad signature", err)
	}
}

// Changing one byte of a stored receipt breaks its link, and verification
// names it.
func testTampering(t *testing.T, b Backend) {
	p := b.New(t)
	s := open(t, p)
	for i := 1; i <= 5; i++ {
		put(t, s, Receipt(i))
	}
	verify(t, s)
	p.Tamper(t, Receipt(3).ID, `"analytics"`, `"analytica"`)
	_, err := proof.Verify(context.Background(), s, testPub, nil)
	if err == nil || !strings.Contains(err.Error(), "record 3") || !strings.Contains(err.Error(), Receipt(3).ID) {
		t.Fatalf("Verify after tampering = %v, want record 3 named", err)
	}
}

// Export writes every receipt in chain order with its acknowledgement, so
// the chain can be checked from the export alone; filters select.
func testExport(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	put(t, s, receipts(1, 6)...)
	var out bytes.Buffer
	n, err := proof.Export(context.Background(), s, &out, "jsonl", proof.Filter{}, proof.Options{}, nil)
	if err != nil || n != 6 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	prev := ""
	sc := bufio.NewScanner(&out)
	var seq int64
	for sc.Scan() {
		var line struct {
			Receipt json.RawMessage `json:"receipt"`
			Ack     consent.Ack     `json:"ack"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		seq++
		if line.Ack.Seq != seq {
			t.Fatalf("line %d has seq %d", seq, line.Ack.Seq)
		}
		if err := proof.VerifyLink(testPub, line.Ack.Seq, prev, line.Receipt, line.Ack.Hash, line.Ack.Sig); err != nil {
			t.Fatalf("the export does not verify: %v", err)
		}
		prev = line.Ack.Hash
	}
	if seq != 6 {
		t.Fatalf("%d lines, want 6", seq)
	}
	out.Reset()
	n, err = proof.Export(context.Background(), s, &out, "csv", proof.Filter{Event: consent.EventWithdrawn}, proof.Options{}, nil)
	if err != nil || n != 3 || strings.Count(out.String(), "\n") != 4 {
		t.Fatalf("csv export of the withdrawals = %d, %v:\n%s", n, err, out.String())
	}
}

// An error from Entries' callback stops it and is returned.
func testEntriesStops(t *testing.T, b Backend) {
	s := open(t, b.New(t))
	put(t, s, receipts(1, 5)...)
	stop := errors.New("stop")
	calls := 0
	err := s.Entries(context.Background(), 1, func([]byte, consent.Ack) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Fatalf("Entries = %v after %d calls; want the callback's error after 2", err, calls)
	}
}

// An open store answers Ping; a closed one stores nothing.
func testPingAndClose(t *testing.T, b Backend) {
	p := b.New(t)
	s := p.Open(t, proof.Signer(testKey))
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := s.Put(context.Background(), []consent.Receipt{Receipt(1)}); err == nil {
		t.Fatal("Put on a closed store succeeded")
	}
	s = open(t, p)
	if c, err := s.Count(context.Background()); err != nil || c != 0 {
		t.Fatalf("Count = %d, %v; the closed store stored something", c, err)
	}
}

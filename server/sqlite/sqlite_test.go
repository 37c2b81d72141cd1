package sqlite

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
)

func receipt(i int) consent.Receipt {
	return consent.Receipt{
		ID:      fmt.Sprintf("r%021d", i),
		Subject: "q83vEjRWeJq83vEjRWeJqw", Event: consent.EventConsentGiven,
		Policy: "2022-01-01", Locale: consent.ZhCN, Granted: []string{"analytics"},
		Time: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Method: "banner",
	}
}

var testPub, testKey, _ = ed25519.GenerateKey(nil)

func TestPutIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path, proof.Signer(testKey))
	if err != nil {
		t.Fatal(err)
	}
	acks, n, err := db.Put(ctx, []consent.Receipt{receipt(1), receipt(2)})
	if err != nil || n != 2 || len(acks) != 2 || acks[0].Seq != 1 || acks[1].Seq != 2 {
		t.Fatalf("first Put = %+v, %d, %v; want 2 new at 1 and 2", acks, n, err)
	}
	// A resend gets the same acknowledgements; a batch mixing old and new.
	again, n, err := db.Put(ctx, []consent.Receipt{receipt(1), receipt(2)})
	if err != nil || n != 0 || again[0] != acks[0] || again[1] != acks[1] {
		t.Fatalf("resend Put = %+v, %d, %v; want the first acks", again, n, err)
	}
	if mixed, n, err := db.Put(ctx, []consent.Receipt{receipt(2), receipt(3)}); err != nil || n != 1 || mixed[1].Seq != 3 {
		t.Fatalf("mixed Put = %+v, %d, %v; want 1 new at 3", mixed, n, err)
	}
	db.Close()

	// Reopening the file finds every receipt and goes on with the chain.
	db, err = Open(path, proof.Signer(testKey))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.Count(ctx); err != nil || c != 3 {
		t.Fatalf("Count after reopen = %d, %v; want 3", c, err)
	}
	if acks, _, err := db.Put(ctx, []consent.Receipt{receipt(4)}); err != nil || acks[0].Seq != 4 {
		t.Fatalf("after reopen: %+v, %v", acks, err)
	}
	// The same receipt twice in one batch is stored once; both get its ack.
	twice, n, err := db.Put(ctx, []consent.Receipt{receipt(5), receipt(5)})
	if err != nil || n != 1 || twice[0] != twice[1] || twice[0].Seq != 5 || twice[0].Sig == "" {
		t.Fatalf("a receipt twice in a batch: %+v, %d, %v", twice, n, err)
	}
	verifyChain(t, db)
}

// verifyChain checks every link of the store's chain.
func verifyChain(t *testing.T, db *DB) int {
	t.Helper()
	prev, n := "", 0
	err := db.Entries(context.Background(), 1, func(body []byte, a consent.Ack) error {
		n++
		if a.Seq != int64(n) {
			t.Fatalf("entry %d has seq %d", n, a.Seq)
		}
		if err := proof.VerifyLink(testPub, a.Seq, prev, body, a.Hash, a.Sig); err != nil {
			return err
		}
		prev = a.Hash
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Changing one byte of a stored receipt breaks its link, and only from there.
func TestTamperingShows(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "consent.db"), proof.Signer(testKey))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := 1; i <= 5; i++ {
		if _, _, err := db.Put(ctx, []consent.Receipt{receipt(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.Exec(`UPDATE receipts SET body = replace(body, '"analytics"', '"analytica"') WHERE id = ?`, receipt(3).ID); err != nil {
		t.Fatal(err)
	}
	prev := ""
	var bad error
	db.Entries(ctx, 1, func(body []byte, a consent.Ack) error {
		if err := proof.VerifyLink(testPub, a.Seq, prev, body, a.Hash, a.Sig); err != nil && bad == nil {
			bad = err
		}
		prev = a.Hash
		return nil
	})
	if bad == nil || !strings.Contains(bad.Error(), "record 3") {
		t.Fatalf("verification = %v, want record 3 named", bad)
	}
}

// Concurrent writers share the file without SQLITE_BUSY errors.
func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "consent.db"), proof.Signer(testKey))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, _, err := db.Put(ctx, []consent.Receipt{receipt(w*1000 + i)}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c, _ := db.Count(ctx); c != 200 {
		t.Fatalf("stored %d of 200", c)
	}
	// Concurrent writers still make one unbroken chain.
	if n := verifyChain(t, db); n != 200 {
		t.Fatalf("chain has %d links, want 200", n)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path, proof.Signer(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, proof.Signer(testKey)); err == nil {
		t.Fatal("Open accepted a schema newer than the server")
	}
}

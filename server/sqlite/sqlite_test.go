package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"workly.ai/consent"
)

func receipt(i int) consent.Receipt {
	return consent.Receipt{
		ID:      fmt.Sprintf("r%021d", i),
		Subject: "q83vEjRWeJq83vEjRWeJqw", Event: consent.EventConsentGiven,
		Policy: "2022-01-01", Locale: consent.ZhCN, Granted: []string{"analytics"},
		Time: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Method: "banner",
	}
}

func TestPutIsIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Put(ctx, []consent.Receipt{receipt(1), receipt(2)})
	if err != nil || n != 2 {
		t.Fatalf("first Put = %d, %v; want 2", n, err)
	}
	// A resend, and a batch mixing old and new.
	if n, err := db.Put(ctx, []consent.Receipt{receipt(1), receipt(2)}); err != nil || n != 0 {
		t.Fatalf("resend Put = %d, %v; want 0", n, err)
	}
	if n, err := db.Put(ctx, []consent.Receipt{receipt(2), receipt(3)}); err != nil || n != 1 {
		t.Fatalf("mixed Put = %d, %v; want 1", n, err)
	}
	db.Close()

	// Reopening the file finds every receipt, and migrating again is a no-op.
	db, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if c, err := db.Count(ctx); err != nil || c != 3 {
		t.Fatalf("Count after reopen = %d, %v; want 3", c, err)
	}
}

// Concurrent writers share the file without SQLITE_BUSY errors.
func TestConcurrentPuts(t *testing.T) {
	ctx := context.Background()
	db, err := Open(filepath.Join(t.TempDir(), "consent.db"))
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
				if _, err := db.Put(ctx, []consent.Receipt{receipt(w*1000 + i)}); err != nil {
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
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil {
		t.Fatal("Open accepted a schema newer than the server")
	}
}

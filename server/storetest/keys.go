package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"workly.ai/consent"
)

// A subject's first key binds with its token; any later key, for a second
// origin or for an origin whose browser lost its key, binds only with that
// token; a key already bound binds once; bindings survive a restart.
func testSubjectKeys(t *testing.T, b Backend) {
	p := b.New(t)
	s := open(t, p)
	ctx := context.Background()
	subject, token := "q83vEjRWeJq83vEjRWeJqw", strings.Repeat("1", 64)
	if ks, err := s.Keys(ctx, subject); err != nil || len(ks) != 0 {
		t.Fatalf("keys of a new subject: %v, %v", ks, err)
	}
	www := consent.KeyBinding{Subject: subject, Origin: "https://www.workly.ai", Key: "K1", Token: token}
	ks, err := s.Bind(ctx, www)
	if err != nil || len(ks) != 1 || ks[0] != www {
		t.Fatalf("first bind: %v, %v", ks, err)
	}
	for name, try := range map[string]consent.KeyBinding{
		"a second origin with another token":   {Subject: subject, Origin: "https://app.workly.ai", Key: "K2", Token: strings.Repeat("2", 64)},
		"a second origin with no token":        {Subject: subject, Origin: "https://app.workly.ai", Key: "K2"},
		"the same origin with no token":        {Subject: subject, Origin: www.Origin, Key: "K1b"},
		"the same key again, for another site": {Subject: subject, Origin: "https://evil.example", Key: "K1", Token: token},
	} {
		if ks, err := s.Bind(ctx, try); err != nil || len(ks) != 1 || ks[0] != www {
			t.Errorf("%s: bound %v, %v; want only the first key", name, ks, err)
		}
	}
	app := consent.KeyBinding{Subject: subject, Origin: "https://app.workly.ai", Key: "K2", Token: token}
	if ks, err := s.Bind(ctx, app); err != nil || len(ks) != 2 || ks[0] != www || ks[1] != app {
		t.Fatalf("second origin with the token: %v, %v", ks, err)
	}
	// The site's browser storage was cleared (Safari's 7-day limit): its new
	// key binds with the token the server's cookie still holds.
	renewed := consent.KeyBinding{Subject: subject, Origin: www.Origin, Key: "K1b", Token: token}
	if ks, err := s.Bind(ctx, renewed); err != nil || len(ks) != 3 || ks[2] != renewed {
		t.Fatalf("a new key for the first origin with the token: %v, %v", ks, err)
	}
	other := consent.KeyBinding{Subject: "Zz9-_aaaaaaaaaaaaaaaaa", Origin: www.Origin, Key: "K1", Token: strings.Repeat("3", 64)}
	if ks, err := s.Bind(ctx, other); err != nil || len(ks) != 1 {
		t.Fatalf("another subject: %v, %v", ks, err)
	}
	s.Close()
	again := open(t, p)
	if ks, err := again.Keys(ctx, subject); err != nil || len(ks) != 3 || ks[0] != www || ks[1] != app || ks[2] != renewed {
		t.Fatalf("after a restart: %v, %v", ks, err)
	}
}

// Many first binds for one subject at once, from several stores where the
// backend allows it: exactly one wins, and every caller sees the winner.
func testSubjectKeysRace(t *testing.T, b Backend) {
	p := b.New(t)
	stores := []consent.ReceiptStore{open(t, p)}
	if b.SeveralWriters {
		stores = append(stores, open(t, p), open(t, p))
	}
	subject := "q83vEjRWeJq83vEjRWeJqw"
	var wg sync.WaitGroup
	seen := make(chan []consent.KeyBinding, 12)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ks, err := stores[i%len(stores)].Bind(context.Background(), consent.KeyBinding{
				Subject: subject, Origin: "https://www.workly.ai", Key: "K" + string(rune('a'+i)), Token: strings.Repeat(string(rune('a'+i)), 64)})
			if err != nil {
				t.Error(err)
			}
			seen <- ks
		}(i)
	}
	wg.Wait()
	close(seen)
	var winner *consent.KeyBinding
	for ks := range seen {
		if len(ks) != 1 {
			t.Fatalf("a caller sees %d keys: %v", len(ks), ks)
		}
		if winner == nil {
			winner = &ks[0]
		} else if ks[0] != *winner {
			t.Fatalf("two first keys: %v and %v", *winner, ks[0])
		}
	}
}

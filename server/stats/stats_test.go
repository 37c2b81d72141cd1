package stats

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/postgres"
	"workly.ai/consent/server/postgres/pgtest"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

var testPolicies = &consent.Manifest{Versions: []consent.Version{
	{ID: "2022-01-01", Effective: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
	{ID: "2024-03-01", Effective: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
}}

const (
	alice = "AAAAAAAAAAAAAAAAAAAAAA"
	bob   = "BBBBBBBBBBBBBBBBBBBBBB"
	carol = "CCCCCCCCCCCCCCCCCCCCCC"
)

// known is the receipts of three people around the 2024-03-01 version,
// in the order stored: Alice chose under 2022-01-01, then acknowledged
// 2024-03-01; Bob arrived after it and refused, with GPC, then granted
// geolocation; Carol was shown the notice and has not acknowledged.
func known() []consent.Receipt {
	at := func(day string, hour int) time.Time {
		t, _ := time.Parse(time.DateOnly, day)
		return t.Add(time.Duration(hour) * time.Hour)
	}
	rs := []consent.Receipt{
		{Subject: alice, Event: consent.EventBannerShown, Policy: "2022-01-01", Time: at("2024-02-28", 9), Granted: []string{}},
		{Subject: alice, Event: consent.EventConsentGiven, Policy: "2022-01-01", Time: at("2024-02-28", 9), Granted: []string{"analytics"}},
		{Subject: alice, Event: consent.EventNoticeDisplayed, Policy: "2024-03-01", Time: at("2024-03-02", 8), Granted: []string{"analytics"}},
		{Subject: bob, Event: consent.EventBannerShown, Policy: "2024-03-01", Time: at("2024-03-02", 10), GPC: true, Granted: []string{}},
		{Subject: alice, Event: consent.EventAcknowledged, Policy: "2024-03-01", Time: at("2024-03-02", 23), Granted: []string{"analytics", "marketing"}},
		{Subject: bob, Event: consent.EventConsentRefused, Policy: "2024-03-01", Time: at("2024-03-02", 10), GPC: true, DNT: true, Granted: []string{}},
		{Subject: bob, Event: consent.EventPermissionAnswered, Policy: "2024-03-01", Time: at("2024-03-03", 1), Granted: []string{},
			Permission: "geolocation", Answer: consent.AnswerGranted},
		{Subject: carol, Event: consent.EventNoticeDisplayed, Policy: "2024-03-01", Time: at("2024-03-03", 2), Granted: []string{}},
	}
	for i := range rs {
		rs[i].ID = fmt.Sprintf("r%021d", i)
		rs[i].PolicySHA256, rs[i].Locale, rs[i].Method = strings.Repeat("a", 64), consent.ZhCN, "banner"
	}
	return rs
}

func put(t *testing.T, store consent.ReceiptStore, rs []consent.Receipt) {
	t.Helper()
	if _, _, err := store.Put(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// stores runs f against a SQLite store and, when CONSENT_TEST_POSTGRES is
// set, a PostgreSQL one.
func stores(t *testing.T, f func(t *testing.T, store consent.ReceiptStore)) {
	_, key, _ := ed25519.GenerateKey(nil)
	t.Run("sqlite", func(t *testing.T) {
		db, err := sqlite.Open(filepath.Join(t.TempDir(), "consent.db"), proof.Signer(key))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Database(t)
		db, err := postgres.Open(context.Background(), dsn, proof.Signer(key))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		f(t, db)
	})
}

func open(t *testing.T, store consent.ReceiptStore) *Stats {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), FileName), store, testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The figures of the known receipts, counted by hand.
func check(t *testing.T, s *Stats) {
	t.Helper()
	ctx := context.Background()
	days, err := s.Days(ctx, "", 30)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(kv ...any) map[consent.Event]int64 {
		m := map[consent.Event]int64{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(consent.Event)] = int64(kv[i+1].(int))
		}
		return m
	}
	want := []Day{
		{Day: "2024-02-28", Events: ev(consent.EventBannerShown, 1, consent.EventConsentGiven, 1), All: 2, Choices: 1,
			Granted: map[string]int64{"analytics": 1}},
		{Day: "2024-03-02", Events: ev(consent.EventNoticeDisplayed, 1, consent.EventBannerShown, 1, consent.EventAcknowledged, 1, consent.EventConsentRefused, 1),
			All: 4, GPC: 2, DNT: 1, Choices: 2, Granted: map[string]int64{"analytics": 1, "marketing": 1}},
		{Day: "2024-03-03", Events: ev(consent.EventPermissionAnswered, 1, consent.EventNoticeDisplayed, 1), All: 2, Granted: map[string]int64{}},
	}
	if !reflect.DeepEqual(days, want) {
		t.Errorf("days:\n got %+v\nwant %+v", days, want)
	}
	if last, _ := s.Days(ctx, "", 1); len(last) != 1 || last[0].Day != "2024-03-03" {
		t.Errorf("the last day: %+v", last)
	}
	v2, _ := s.Days(ctx, "2024-03-01", 30)
	if len(v2) != 2 || v2[0].Day != "2024-03-02" || v2[0].All != 4 || v2[1].All != 2 {
		t.Errorf("days of 2024-03-01: %+v", v2)
	}
	reaches, err := s.Reaches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantReach := []Reach{
		// Bob, who refused under 2024-03-01, accepted its text, which
		// includes every change since 2022-01-01.
		{Version: testPolicies.Versions[0], Seen: 3, Accepted: 2},
		{Version: testPolicies.Versions[1], Displayed: 2, Acks: 1, Seen: 3, Accepted: 2},
	}
	if !reflect.DeepEqual(reaches, wantReach) {
		t.Errorf("reach:\n got %+v\nwant %+v", reaches, wantReach)
	}
	perms, _ := s.Permissions(ctx)
	if want := []PermissionCount{{"geolocation", "granted", 1}}; !reflect.DeepEqual(perms, want) {
		t.Errorf("permissions %+v", perms)
	}
	seqs, _ := s.SubjectReceipts(ctx, alice, 100)
	if want := []int64{1, 2, 3, 5}; !reflect.DeepEqual(seqs, want) {
		t.Errorf("Alice's receipts %v, want %v", seqs, want)
	}
	if pos, _ := s.Position(ctx); pos != 8 {
		t.Errorf("position %d", pos)
	}
}

func TestFiguresOfKnownReceipts(t *testing.T) {
	stores(t, func(t *testing.T, store consent.ReceiptStore) {
		ctx := context.Background()
		s := open(t, store)
		if n, err := s.CatchUp(ctx); n != 0 || err != nil {
			t.Fatalf("empty chain: %d, %v", n, err)
		}
		rs := known()
		// In two parts, in batches of three: every receipt counted once.
		batchSize = 3
		t.Cleanup(func() { batchSize = 5000 })
		put(t, store, rs[:5])
		if n, err := s.CatchUp(ctx); n != 5 || err != nil {
			t.Fatalf("first catch-up: %d, %v", n, err)
		}
		put(t, store, rs[3:]) // 3 and 4 resent: stored once
		if n, err := s.CatchUp(ctx); n != 3 || err != nil {
			t.Fatalf("second catch-up: %d, %v", n, err)
		}
		if n, err := s.CatchUp(ctx); n != 0 || err != nil {
			t.Fatalf("nothing new: %d, %v", n, err)
		}
		check(t, s)
		// Lost: rebuilt from the chain, the same figures.
		if n, err := s.Rebuild(ctx); n != 8 || err != nil {
			t.Fatalf("rebuild: %d, %v", n, err)
		}
		check(t, s)
	})
}

// Figures made from one chain refuse to go on with another.
func TestFiguresOfAnotherChain(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	one, _ := sqlite.Open(filepath.Join(dir, "one.db"), proof.Signer(key))
	defer one.Close()
	put(t, one, known()[:2])
	path := filepath.Join(dir, FileName)
	s, err := Open(path, one, testPolicies)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CatchUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for name, rs := range map[string][]consent.Receipt{"empty": nil, "different": known()[3:7]} {
		other, _ := sqlite.Open(filepath.Join(dir, name+".db"), proof.Signer(key))
		defer other.Close()
		if rs != nil {
			put(t, other, rs)
		}
		s, err := Open(path, other, testPolicies)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CatchUp(context.Background()); !errors.Is(err, ErrOtherChain) {
			t.Errorf("%s store: %v, want ErrOtherChain", name, err)
		}
		s.Close()
	}
}

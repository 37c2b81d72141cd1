// Package discoverytest is the one conformance suite every discovery.Store
// passes: counting, the cap per day, the days kept, persistence.
package discoverytest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"workly.ai/consent/server/discovery"
)

// Opener opens a store on one place (a file, a database), capped at
// maxPerDay distinct names a day and keeping keepDays days. Opening again
// on the same place sees what was recorded there.
type Opener func(t *testing.T, maxPerDay, keepDays int) discovery.Store

// Run runs the suite; newPlace makes a new, empty place for each case.
func Run(t *testing.T, newPlace func(t *testing.T) Opener) {
	t.Run("CountsAndBounds", func(t *testing.T) { countsAndBounds(t, newPlace(t)) })
	t.Run("Empty", func(t *testing.T) {
		d := newPlace(t)(t, 10, 10)
		defer d.Close()
		if cs, err := d.Counts(context.Background()); err != nil || len(cs) != 0 {
			t.Errorf("a new store: %v, %v", cs, err)
		}
	})
}

func countsAndBounds(t *testing.T, open Opener) {
	ctx := context.Background()
	d := open(t, 3, 2)
	day1 := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Minute) // 2026-03-02
	ga := discovery.Name{Kind: discovery.Cookie, Name: "_ga"}
	hm := discovery.Name{Kind: discovery.RequestHost, Name: "hm.baidu.com"}
	key := func(i int) discovery.Name {
		return discovery.Name{Kind: discovery.LocalStorage, Name: fmt.Sprint("k", i)}
	}
	for _, step := range []struct {
		at    time.Time
		names []discovery.Name
	}{
		{day1, []discovery.Name{ga, hm}},
		{day1.Add(30 * time.Second), []discovery.Name{ga}},
		{day2, []discovery.Name{ga, key(1), key(2)}},         // three distinct on day 2: the cap
		{day2, []discovery.Name{key(3), key(4), ga, key(1)}}, // beyond it: k3 and k4 count as others
	} {
		if err := d.Record(ctx, step.at, step.names); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// Opened again: the counts were kept.
	d = open(t, 3, 2)
	defer d.Close()
	counts, err := d.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range counts {
		got = append(got, fmt.Sprintf("%s %s %q %d", c.Day, c.Kind, c.Name, c.Count))
	}
	want := []string{
		`2026-03-02 cookie "_ga" 2`,
		`2026-03-02 localStorage "" 2`,
		`2026-03-02 localStorage "k1" 2`,
		`2026-03-02 localStorage "k2" 1`,
		`2026-03-01 cookie "_ga" 2`,
		`2026-03-01 request-host "hm.baidu.com" 1`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts\n%v\nwant\n%v", got, want)
	}
	if len(counts) == len(want) {
		if c := counts[4]; !c.First.Equal(day1) || !c.Last.Equal(day1.Add(30*time.Second)) {
			t.Errorf("_ga on day 1: first %v, last %v", c.First, c.Last)
		}
	}

	// Only keepDays days are kept: recording on day 3 drops day 1.
	if err := d.Record(ctx, day2.Add(24*time.Hour), []discovery.Name{hm}); err != nil {
		t.Fatal(err)
	}
	counts, err = d.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range counts {
		if c.Day == "2026-03-01" {
			t.Errorf("day 1 kept beyond keepDays: %+v", c)
		}
	}
	if len(counts) != 5 || counts[0].Day != "2026-03-03" {
		t.Errorf("after day 3: %+v", counts)
	}
	if err := d.Record(ctx, day2, []discovery.Name{{Kind: discovery.Cookie, Name: discovery.Other}}); err == nil {
		t.Error("recorded an empty name")
	}
}

package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"workly.ai/consent/server/discovery"
)

func TestDiscoveredCountsAndBounds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "discovered.db")
	d, err := OpenDiscovered(path)
	if err != nil {
		t.Fatal(err)
	}
	d.MaxPerDay, d.KeepDays = 3, 2
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
		{day2, []discovery.Name{key(3), key(4), ga, key(1)}}, // beyond it: k3 and k4 count as other
	} {
		if err := d.Record(ctx, step.at, step.names); err != nil {
			t.Fatal(err)
		}
	}
	d.Close()

	// Reopened from the file: the counts are on disk.
	d, err = OpenDiscoveredReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.MaxPerDay, d.KeepDays = 3, 2
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
	if c := counts[4]; !c.First.Equal(day1) || !c.Last.Equal(day1.Add(30*time.Second)) {
		t.Errorf("_ga on day 1 first %v last %v", c.First, c.Last)
	}

	// Only KeepDays days are kept: recording on day 3 drops day 1.
	if err := d.Record(ctx, day2.Add(24*time.Hour), []discovery.Name{hm}); err != nil {
		t.Fatal(err)
	}
	counts, _ = d.Counts(ctx)
	for _, c := range counts {
		if c.Day == "2026-03-01" {
			t.Errorf("day 1 kept beyond KeepDays: %+v", c)
		}
	}
	if len(counts) != 5 || counts[0].Day != "2026-03-03" {
		t.Errorf("after day 3: %+v", counts)
	}
}

func TestDiscoveredReadOnlyNeedsTheFile(t *testing.T) {
	if _, err := OpenDiscoveredReadOnly(filepath.Join(t.TempDir(), "none.db")); err == nil {
		t.Error("opened counts that do not exist")
	}
}

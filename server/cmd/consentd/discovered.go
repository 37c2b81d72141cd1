package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"text/tabwriter"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/postgres"
	"workly.ai/consent/server/sqlite"
)

// discoveredFile is where the listener's counts are kept with SQLite, apart
// from the receipts.
func discoveredFile(dataDir string) string { return filepath.Join(dataDir, "discovered.db") }

// openDiscovered opens the listener's counts: in the PostgreSQL database at
// dsn when given (shared by every server), else in DATA/discovered.db; for
// reading only, a missing file is fs.ErrNotExist.
func openDiscovered(dsn, dataDir string, readOnly bool) (discovery.Store, error) {
	if dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return postgres.OpenDiscovered(ctx, dsn)
	}
	if readOnly {
		return sqlite.OpenDiscoveredReadOnly(discoveredFile(dataDir))
	}
	return sqlite.OpenDiscovered(discoveredFile(dataDir))
}

// discoveryOn reports whether the built site switches the listener on
// ("discovery": true in site.json).
func discoveryOn(site fs.FS) (bool, error) {
	data, err := fs.ReadFile(site, "v1/site.json")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var s consent.Site
	if err := json.Unmarshal(data, &s); err != nil {
		return false, fmt.Errorf("v1/site.json: %w", err)
	}
	return s.Discovery, nil
}

// discovered prints the listener's counts, newest day first, with when each
// name was first and last seen (over every day kept), and the catalogue's
// service where it recognises the name.
func discovered(args []string, out io.Writer) error {
	fl := flag.NewFlagSet("discovered", flag.ContinueOnError)
	data := fl.String("data", "data", "directory of the server's data (DATA/discovered.db)")
	dsn := fl.String("db", "", "a PostgreSQL URL (postgres://user@host:5432/db): the counts there instead of in DATA/discovered.db")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("discovered: unexpected argument %q", fl.Arg(0))
	}
	d, err := openDiscovered(*dsn, *data, true)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("discovered: no counts in %s (is \"discovery\": true in site.json, and the server running with -data %s?)", *data, *data)
	}
	if err != nil {
		return err
	}
	defer d.Close()
	counts, err := d.Counts(context.Background())
	if err != nil {
		return err
	}
	type span struct{ first, last time.Time }
	seen := map[discovery.Name]span{}
	for _, c := range counts {
		n := discovery.Name{Kind: c.Kind, Name: c.Name}
		s, ok := seen[n]
		if !ok || c.First.Before(s.first) {
			s.first = c.First
		}
		if c.Last.After(s.last) {
			s.last = c.Last
		}
		seen[n] = s
	}
	cat := catalog.Default()
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tKIND\tNAME\tCOUNT\tFIRST SEEN\tLAST SEEN\tSERVICE")
	for _, c := range counts {
		s := seen[discovery.Name{Kind: c.Kind, Name: c.Name}]
		name, service := c.Name, ""
		if name == discovery.Other {
			name = "(others beyond the day's cap)"
		} else if svc, _, ok := cat.Recognise(itemKind(c.Kind), c.Name); ok {
			service = svc.ID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", c.Day, c.Kind, name, c.Count,
			s.first.Format(time.DateTime), s.last.Format(time.DateTime), service)
	}
	if len(counts) == 0 {
		fmt.Fprintln(tw, "(nothing reported)")
	}
	return tw.Flush()
}

// itemKind is the kind of declared item a discovered kind is matched with.
func itemKind(k discovery.Kind) consent.ItemKind {
	switch {
	case k == discovery.Cookie:
		return consent.KindCookie
	case k == discovery.LocalStorage || k == discovery.SessionStorage:
		return consent.KindStorage
	case k == discovery.IndexedDB:
		return consent.KindIndexedDB
	case k == discovery.Cache:
		return consent.KindCache
	}
	return consent.KindHost
}

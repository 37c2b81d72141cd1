package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
	"workly.ai/consent/server/scan"
)

// errFound is the scan's verdict when something is wrong: the report says
// what, and consentd exits 1.
var errFound = errors.New("scan: problems found (see the report)")

// errCannotScan wraps what kept a scan from running at all (no Chromium, no
// declarations, a browser that failed): consentd exits 2, so that a site's
// CI can tell a broken scan from a finding.
type errCannotScan struct{ err error }

func (e errCannotScan) Error() string { return e.err.Error() }
func (e errCannotScan) Unwrap() error { return e.err }

// exitCode is consentd's exit status for err: 2 when a scan could not run,
// else 1.
func exitCode(err error) int {
	if errors.As(err, new(errCannotScan)) {
		return 2
	}
	return 1
}

// scanCmd runs consentd scan [-json FILE] [-pages N] [-site FILE]
// [-host-rules RULES] [-chromium PATH] URL…: Markdown on out (JSON instead
// with -json -), JSON also into FILE with -json FILE, progress on progress. It returns errFound when the
// report finds something wrong, errCannotScan when no report could be made.
func scanCmd(args []string, out, progress io.Writer) error {
	fl := flag.NewFlagSet("scan", flag.ContinueOnError)
	jsonFile := fl.String("json", "", "also write the report as JSON into this file (-: on stdout, instead of Markdown)")
	pages := fl.Int("pages", 10, "pages to visit per site and phase: the URL, then same-site links in the order found")
	siteFile := fl.String("site", "", "the site's configuration (web/site.json) instead of the /v1/site.json the site publishes")
	hostRules := fl.String("host-rules", "", `Chromium's host-resolver-rules, to scan a staging server under its production names ("MAP *.example.com 127.0.0.1")`)
	chromium := fl.String("chromium", "", "the Chromium binary (default: chromium from PATH)")
	if err := fl.Parse(args); err != nil {
		return errCannotScan{err}
	}
	err := scanSites(fl, *jsonFile, *pages, *siteFile, *hostRules, *chromium, out, progress)
	if err != nil && !errors.Is(err, errFound) {
		return errCannotScan{err}
	}
	return err
}

func scanSites(fl *flag.FlagSet, jsonFile string, pages int, siteFile, hostRules, chromium string, out, progress io.Writer) error {
	if fl.NArg() == 0 {
		return errors.New("scan: give at least one URL")
	}
	if pages < 1 {
		return errors.New("scan: -pages must be at least 1")
	}
	cat := catalog.Default()
	var site *consent.Site
	if siteFile != "" {
		s, err := scan.ReadSite(siteFile, cat)
		if err != nil {
			return err
		}
		site = s
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	b, err := scan.NewBrowser(scan.Options{Pages: pages, Chromium: chromium, HostRules: hostRules, Progress: progress}, fl.Args())
	if err != nil {
		return err
	}
	defer b.Close()
	var reports []scan.Report
	var sites []*consent.Site
	for _, u := range fl.Args() {
		s := site
		if s == nil {
			fmt.Fprintf(progress, "scan: %s: reading what the site declares\n", u)
			if s, err = b.FetchSite(ctx, u, cat); err != nil {
				return err
			}
		}
		obs, err := b.Crawl(ctx, u, s.Cookie.Domain)
		if err != nil {
			return err
		}
		reports = append(reports, scan.Analyze(s, cat, obs))
		sites = append(sites, s)
	}
	if jsonFile == "-" {
		if err := scan.WriteJSON(out, reports); err != nil {
			return err
		}
	} else {
		w := bufio.NewWriter(out)
		for i := range reports {
			reports[i].WriteMarkdown(w, sites[i])
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if jsonFile != "" && jsonFile != "-" {
		f, err := os.Create(jsonFile)
		if err != nil {
			return err
		}
		if err := scan.WriteJSON(f, reports); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	for _, r := range reports {
		if !r.OK() {
			return errFound
		}
	}
	return nil
}

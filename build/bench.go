package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The peers the module is compared with, installed with npm at bench time into
// .cache/bench (never committed).
var benchPeers = []string{"vanilla-cookieconsent@3.1.0", "klaro@0.7.22"}

// bench measures the module beside its peers and writes a report. It reports;
// it never fails on a missed budget.
//
//	go run ./build bench [-runs 5] [-seconds 5] [-server | -ingest [-no-postgres]] [-consentd BIN] [-publish]
//	go run ./build bench -console N [-console-dir DIR] [-console-rebuild]
//
// -publish copies the report and chart into testdata/bench, which the README
// shows. -ingest measures only the receipt ingest (SQLite, PostgreSQL).
// -consentd measures a given build of the server (an older one, say).
// -console measures only the privacy team's console over a SQLite store of
// N generated receipts, kept in DIR (default .cache/bench/console) for the
// next run: the figures built from the whole chain, and each page's view.
func bench(root string, args []string) error {
	fl := flag.NewFlagSet("bench", flag.ContinueOnError)
	runs := fl.Int("runs", 5, "cold page loads per page and profile")
	seconds := fl.Int("seconds", 5, "duration of each server load, in seconds")
	publish := fl.Bool("publish", false, "copy the report and chart into testdata/bench")
	serverOnly := fl.Bool("server", false, "measure only the server (static files, receipt ingest), not the pages")
	ingestOnly := fl.Bool("ingest", false, "measure only the receipt ingest (SQLite, then PostgreSQL)")
	pagesOnly := fl.Bool("pages", false, "measure only the pages (time to banner, Lighthouse, long tasks), not the server")
	fl.BoolVar(&benchNoPostgres, "no-postgres", false, "measure ingest on SQLite only")
	fl.StringVar(&benchConsentd, "consentd", "", "measure this consentd binary instead of building this tree's (to compare two builds)")
	consoleN := fl.Int64("console", 0, "measure only the console, over a store of this many receipts")
	consoleDir := fl.String("console-dir", filepath.Join(root, ".cache", "bench", "console"), "where -console keeps its store")
	consoleRebuild := fl.Bool("console-rebuild", false, "with -console, build the figures from the whole chain after filling, not while")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *consoleN > 0 {
		built, err := buildAll(root, io.Discard)
		if err != nil {
			return err
		}
		fmt.Printf("== console over %d receipts (store in %s)\n", *consoleN, *consoleDir)
		c, err := benchConsole(built, *consoleDir, *consoleN, *consoleRebuild)
		if err != nil {
			return err
		}
		fmt.Print(c.markdown())
		return os.WriteFile(filepath.Join(*consoleDir, "report.md"), []byte(c.markdown()), 0o644)
	}
	if (*serverOnly || *ingestOnly || *pagesOnly) && *publish {
		return fmt.Errorf("-publish needs the whole report: drop -server, -ingest and -pages")
	}
	*serverOnly = *serverOnly || *ingestOnly
	if !*ingestOnly { // the browsers' packages
		if err := ensureDebian(); err != nil {
			return err
		}
	}
	built, err := buildAll(root, os.Stdout)
	if err != nil {
		return err
	}
	out := filepath.Join(root, ".cache", "bench")
	var site string
	if *ingestOnly {
		// The built site alone: ingest needs its policies, not the peers.
		dir, err := os.MkdirTemp("", "consent-bench-")
		if err != nil {
			return err
		}
		site = filepath.Join(dir, "site")
		if err := built.write(site); err != nil {
			return err
		}
	} else {
		// One install for all: npm removes what a later --no-save install does not name.
		if err := npmInstall(out, append(append([]string{}, benchPeers...), lighthouseVersion)); err != nil {
			return err
		}
		if site, err = benchSite(root, out, built); err != nil {
			return err
		}
	}
	defer os.RemoveAll(filepath.Dir(site))

	r := &benchReport{When: time.Now(), Runs: *runs}
	for _, f := range built.files {
		switch f.Budget {
		case loaderBudget:
			r.LoaderBrotli = len(f.br)
		case wasmBudget:
			r.WasmBrotli = len(f.br)
		}
	}
	if !*serverOnly {
		fmt.Println("== browser: time to banner, returning visitors, bytes, layout shift")
		if err := benchBrowser(site, *runs, r); err != nil {
			return err
		}
		fmt.Println("== Lighthouse: this module, vanilla-cookieconsent, no consent manager; the demo pages")
		if err := benchLighthouse(root, out, site, r); err != nil {
			return err
		}
	}
	var serverErr error
	if !*pagesOnly {
		fmt.Println("== server: static files beside nginx, receipt store")
		// A failed server part still leaves the report of what was measured.
		serverErr = benchServer(root, site, time.Duration(*seconds)*time.Second, *ingestOnly, r)
		if serverErr != nil {
			r.Notes = append(r.Notes, "The server part stopped: "+serverErr.Error())
		}
	}
	report, chart := r.markdown(), r.svg()
	for _, dir := range publishDirs(root, out, *publish) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(report), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(chart), 0o644); err != nil {
			return err
		}
	}
	fmt.Println(report)
	fmt.Printf("report and chart written to %s\n", out)
	return serverErr
}

func publishDirs(root, out string, publish bool) []string {
	if publish {
		return []string{out, filepath.Join(root, "testdata", "bench")}
	}
	return []string{out}
}

// npmInstall installs packages into prefix unless they are there.
func npmInstall(prefix string, pkgs []string) error {
	var missing []string
	for _, p := range pkgs {
		name := p[:strings.LastIndex(p, "@")]
		if _, err := os.Stat(filepath.Join(prefix, "node_modules", name, "package.json")); err != nil {
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("npm not found: install Node.js and npm (Debian: apt-get install -y nodejs npm)")
	}
	fmt.Printf("== installing %s with npm into %s\n", strings.Join(missing, ", "), prefix)
	// All of them: an install with --no-save removes what it does not name.
	cmd := exec.Command("npm", append([]string{"install", "--prefix", prefix, "--no-audit", "--no-fund", "--no-save"}, pkgs...)...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install %s: %w", strings.Join(missing, " "), err)
	}
	return nil
}

// benchSite writes, into a new temporary directory, everything the bench
// serves: the built site, the bench pages (build/bench) and the peers'
// distributions, each file with the same .br and .gz siblings, so every
// manager is served alike.
func benchSite(root, peers string, built *bundle) (string, error) {
	var b bundle
	for _, f := range built.files {
		b.add(&file{Path: f.Path, Data: f.Data})
	}
	pages := os.DirFS(filepath.Join(root, "build", "bench"))
	if err := addTree(&b, pages, "bench"); err != nil {
		return "", err
	}
	for _, p := range benchPeers {
		name := p[:strings.LastIndex(p, "@")]
		dist := os.DirFS(filepath.Join(peers, "node_modules", name))
		if err := addTree(&b, dist, "peers/"+name, "dist"); err != nil {
			return "", err
		}
	}
	if err := b.compress(); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "consent-bench-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil { // nginx's workers read it too
		return "", err
	}
	site := filepath.Join(dir, "site")
	return site, b.write(site)
}

// addTree adds the files of fsys (under sub, if given) to b below prefix.
func addTree(b *bundle, fsys fs.FS, prefix string, sub ...string) error {
	start := "."
	if len(sub) > 0 {
		start = sub[0]
	}
	return fs.WalkDir(fsys, start, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		b.add(&file{Path: prefix + "/" + p, Data: data})
		return nil
	})
}

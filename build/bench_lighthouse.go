package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"

	consenthttp "workly.ai/consent/server/http"
)

// lighthouseVersion is installed with npm at bench time into .cache/bench.
const lighthouseVersion = "lighthouse@13.5.0"

// lighthouseResult is one Lighthouse run (its default: the mobile profile,
// simulated 4x CPU and slow 4G) on one page.
type lighthouseResult struct {
	Page                                 string
	Performance, Accessibility, Practice float64 // scores 0–1; -1 not measured
	TBT, TTI                             float64 // ms
	Bytes                                float64 // total transfer
}

// lighthousePages are measured for performance beside the peers; the demo
// pages for accessibility and best practices.
var (
	lighthousePerf = []struct{ Name, Path string }{
		{"this module", "/bench/ours.html"},
		{"vanilla-cookieconsent 3.1", "/bench/vcc.html"},
		{"no consent manager", "/bench/none.html"},
	}
	lighthouseDemo = []string{"/", "/app/", "/policies/", "/policies/2022-01-01", "/policies/diff/2022-01-01/2025-06-01"}
)

// benchLighthouse runs Lighthouse once per page against the bench site
// served by the module's own static handler, with Debian's Chromium.
func benchLighthouse(out, site string, r *benchReport) error {
	if err := npmInstall(out, []string{lighthouseVersion}); err != nil {
		return err
	}
	h, err := consenthttp.Static(os.DirFS(site))
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	cli := filepath.Join(out, "node_modules", "lighthouse", "cli", "index.js")
	run := func(name, path string, categories string) error {
		fmt.Printf("   lighthouse %s (%s)\n", path, categories)
		res, err := lighthouse(cli, srv.URL+path, categories)
		if err != nil {
			return fmt.Errorf("lighthouse %s: %w", path, err)
		}
		res.Page = name
		r.Lighthouse = append(r.Lighthouse, res)
		return nil
	}
	for _, p := range lighthousePerf {
		if err := run(p.Name, p.Path, "performance,accessibility,best-practices"); err != nil {
			return err
		}
	}
	for _, p := range lighthouseDemo {
		if err := run("demo "+p, p, "accessibility,best-practices"); err != nil {
			return err
		}
	}
	return nil
}

// lighthouse runs the Lighthouse CLI on url and reads its JSON report.
func lighthouse(cli, url, categories string) (lighthouseResult, error) {
	cmd := exec.Command("node", cli, url, "--output=json", "--output-path=stdout", "--quiet",
		"--only-categories="+categories,
		"--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-quic --no-first-run --disable-sync")
	cmd.Env = append(os.Environ(), "CHROME_PATH=/usr/bin/chromium")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return lighthouseResult{}, fmt.Errorf("%w: %s", err, lastLines(stderr.String(), 5))
	}
	var rep struct {
		Categories map[string]struct {
			Score *float64 `json:"score"`
		} `json:"categories"`
		Audits map[string]struct {
			NumericValue float64 `json:"numericValue"`
		} `json:"audits"`
		RuntimeError *struct{ Code, Message string } `json:"runtimeError"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return lighthouseResult{}, fmt.Errorf("read its report: %w", err)
	}
	if rep.RuntimeError != nil && rep.RuntimeError.Code != "" {
		return lighthouseResult{}, fmt.Errorf("%s: %s", rep.RuntimeError.Code, rep.RuntimeError.Message)
	}
	score := func(c string) float64 {
		if s, ok := rep.Categories[c]; ok && s.Score != nil {
			return *s.Score
		}
		return -1
	}
	return lighthouseResult{
		Performance: score("performance"), Accessibility: score("accessibility"), Practice: score("best-practices"),
		TBT: rep.Audits["total-blocking-time"].NumericValue, TTI: rep.Audits["interactive"].NumericValue,
		Bytes: rep.Audits["total-byte-weight"].NumericValue,
	}, nil
}

func lastLines(s string, n int) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

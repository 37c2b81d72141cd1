package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"

	"workly.ai/consent/build/testsite"
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

// benchLighthouse runs Lighthouse (installed into out with the peers) once
// per page against the bench site served by consentd, with Debian's
// Chromium.
func benchLighthouse(root, out, site string, r *benchReport) error {
	// The bench pages as the browser bench serves them (the module's static
	// handler: no CSP, so each manager runs as it would on a plain site); the
	// demo pages by the real server, receipts included (a module whose posts
	// find no endpoint logs errors, which best practices counts) and under
	// its CSP.
	h, err := consenthttp.Static(os.DirFS(site))
	if err != nil {
		return err
	}
	static := httptest.NewServer(h)
	defer static.Close()
	tmp, err := os.MkdirTemp("", "consent-lighthouse-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "consentd")
	gobuild := exec.Command("go", "build", "-o", bin, "./server/cmd/consentd")
	gobuild.Dir = root
	if b, err := gobuild.CombinedOutput(); err != nil {
		return fmt.Errorf("build consentd: %v\n%s", err, b)
	}
	cmd, base, err := testsite.Start(bin, filepath.Join(tmp, "data"), "127.0.0.1:0", "-assets", site)
	if err != nil {
		return err
	}
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	cli := filepath.Join(out, "node_modules", "lighthouse", "cli", "index.js")
	run := func(name, url string, categories string) error {
		fmt.Printf("   lighthouse %s (%s)\n", url, categories)
		res, err := lighthouse(cli, url, categories)
		if err != nil {
			return fmt.Errorf("lighthouse %s: %w", url, err)
		}
		res.Page = name
		r.Lighthouse = append(r.Lighthouse, res)
		if res.Performance >= 0 {
			fmt.Printf("     performance %.2f, total blocking time %.0f ms, time to interactive %.1f s; ", res.Performance, res.TBT, res.TTI/1000)
		} else {
			fmt.Print("     ")
		}
		fmt.Printf("accessibility %.2f, best practices %.2f\n", res.Accessibility, res.Practice)
		return nil
	}
	for _, p := range lighthousePerf {
		if err := run(p.Name, static.URL+p.Path, "performance,accessibility,best-practices"); err != nil {
			return err
		}
	}
	for _, p := range lighthouseDemo {
		if err := run("demo "+p, base+p, "accessibility,best-practices"); err != nil {
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

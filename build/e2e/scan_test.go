package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workly.ai/consent/build/testsite"
	"workly.ai/consent/server/scan"
)

// startAssetsServer starts another consentd serving the built site in dir
// (-assets) and returns its URL once it listens.
func startAssetsServer(t *testing.T, dir string) string {
	t.Helper()
	cmd, addr, err := testsite.Start(consentd, filepath.Join(t.TempDir(), "data"), "127.0.0.1:0", "-assets", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	return addr
}

// runScan runs the real consentd scan on url, the demo's names mapped to
// the test server as in the other tests, and returns its JSON report and
// exit code.
func runScan(t *testing.T, url string, extra ...string) (scan.Report, int, string) {
	t.Helper()
	args := append([]string{"scan", "-json", "-", "-pages", "3", "-host-rules", "MAP *.workly.ai 127.0.0.1"}, extra...)
	cmd := exec.Command(consentd, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var reports []scan.Report
	if err := json.Unmarshal(stdout.Bytes(), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("report: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	return reports[0], code, stderr.String()
}

func seenIn(r scan.Report, kind scan.Kind, name string) []scan.Phase {
	for _, s := range r.Seen {
		if s.Kind == kind && s.Name == name {
			return s.Phases
		}
	}
	return nil
}

// The demo site declares everything it stores, keeps the optional out
// until it is granted and clears it on refusal: the scan finds nothing
// wrong, and did see the site at work.
func TestScanDemoSiteFindsNothingWrong(t *testing.T) {
	r, code, stderr := runScan(t, siteURL+"/")
	if code != 0 || !r.OK() {
		t.Errorf("exit %d; undeclared %+v; without consent %+v; refused hosts %+v; problems %v\n%s",
			code, r.Undeclared, r.WithoutConsent, r.RefusedHosts, r.Problems, stderr)
	}
	if len(r.Pages) < 2 {
		t.Errorf("followed no same-site link: %v", r.Pages)
	}
	// Proof that it looked: the consent cookie after either choice, the
	// analytics tag's cookie only after accepting.
	if got := seenIn(r, scan.Cookie, "consent"); !slices.Equal(got, []scan.Phase{scan.Rejected, scan.Accepted}) {
		t.Errorf("consent cookie seen %v", got)
	}
	if got := seenIn(r, scan.Cookie, "_ga"); !slices.Equal(got, []scan.Phase{scan.Accepted}) {
		t.Errorf("_ga seen %v, want only after accept all", got)
	}
	// What a page script cannot see is seen too: the module's IndexedDB
	// keys, and the server's HttpOnly enrolment cookie on its own path.
	if got := seenIn(r, scan.IndexedDB, "consent.keys"); len(got) == 0 {
		t.Error("the module's IndexedDB database was not seen")
	}
	enrolment := false
	for _, s := range r.Seen {
		if s.Kind == scan.Cookie && s.Name == "consent_key" {
			enrolment = s.Cookie != nil && s.Cookie.HTTPOnly && s.Cookie.Path == "/v1/receipts"
		}
	}
	if !enrolment {
		t.Error("the HttpOnly consent_key cookie on /v1/receipts was not seen as such")
	}
	if !strings.Contains(stderr, "scan: accepted: page 1: "+siteURL+"/") {
		t.Errorf("no progress on stderr:\n%s", stderr)
	}
}

// A page that sets an undeclared cookie, writes an undeclared localStorage
// key and, before any choice, sets an analytics cookie: the scan reports
// exactly those, and exits 1. The analytics cookie goes on a path the
// module cannot see from the page (it would clear it otherwise, as it
// clears refused categories at start), so it stays after "reject all" too.
func TestScanReportsWhatIsWrong(t *testing.T) {
	site := filepath.Join(t.TempDir(), "site")
	if err := os.CopyFS(site, os.DirFS(filepath.Join(root, "server/assets/dist"))); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(site, "bad"), 0o755)
	for name, text := range map[string]string{
		"bad/index.html": `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>bad</title>` +
			`<script src="/loader.js" defer></script><script src="/bad/bad.js"></script><p>A page that stores too much.</p></html>`,
		"bad/bad.js": `document.cookie = "tracker_id=1; Path=/; Max-Age=86400";
localStorage.setItem("undeclared.key", "1");
if (!/(^|; )consent=/.test(document.cookie)) document.cookie = "_ga=GA1.1.1.1; Path=/bad/deep; Max-Age=86400";
new Image().src = "http://pixel.tracker.test/p.gif"; // blocked by the page's CSP: never sent`,
	} {
		if err := os.WriteFile(filepath.Join(site, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	addr := startAssetsServer(t, site)

	r, code, stderr := runScan(t, strings.Replace(addr, "127.0.0.1", "www.workly.ai", 1)+"/bad/")
	if code != 1 {
		t.Errorf("exit %d, want 1\n%s", code, stderr)
	}
	var undeclared []string
	for _, s := range r.Undeclared {
		undeclared = append(undeclared, string(s.Kind)+":"+s.Name)
	}
	if got, want := strings.Join(undeclared, " "), "cookie:tracker_id localStorage:undeclared.key"; got != want {
		t.Errorf("undeclared: %s, want %s", got, want)
	}
	if len(r.WithoutConsent) != 1 || r.WithoutConsent[0].Name != "_ga" || r.WithoutConsent[0].Category != "analytics" ||
		!slices.Equal(r.WithoutConsent[0].Phases, []scan.Phase{scan.Before, scan.Rejected}) || r.WithoutConsent[0].Cookie.Path != "/bad/deep" {
		t.Errorf("without consent: %+v, want _ga (analytics, /bad/deep) before any choice and after reject all", r.WithoutConsent)
	}
	if len(r.RefusedHosts) != 0 || len(r.Problems) != 0 {
		t.Errorf("refused hosts %+v, problems %v", r.RefusedHosts, r.Problems)
	}
}

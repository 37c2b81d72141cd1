package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// acked sets a consent cookie as if the person had chosen under version,
// granting analytics, and the server had vouched for it.
func (v *visitor) acked(version string) {
	v.t.Helper()
	v.open("/healthz")
	v.consentID = newConsentID()
	// This origin's module wrote nothing since (else the loader would take
	// the older cookie for a replay).
	v.do(chromedp.Evaluate[chromedp.Void](`localStorage.removeItem("consent.written")`))
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=` + vouched(v.t, "1~"+v.consentID+"~"+version+
		"~analytics~1767225600~1767225600") + `; Path=/"`))
}

// A person who acknowledged 2022-01-01 sees the prominent notice listing
// both material changes since, grouped by kind, with the comparison link; Esc
// does not close it; their earlier grants stay in force meanwhile; after
// "I have read and agree" it does not come back.
func TestMaterialNotice(t *testing.T) {
	v := newVisitor(t)
	v.acked("2022-01-01")
	v.open("/")
	notice := chromedp.CSS(`dialog[data-consent-notice="material"]`)
	v.do(chromedp.WaitVisible(notice))
	if !eval[bool](v, `document.querySelector('dialog[data-consent-notice="material"]').matches(":modal")`) {
		t.Error("the material notice is not a modal dialog")
	}
	if n := eval[int](v, `document.querySelectorAll('[data-consent-notice="banner"]').length`); n != 0 {
		t.Error("a person with consent sees the first-visit banner")
	}
	kinds := eval[[]string](v, `[...document.querySelectorAll('dialog [data-consent-kind]')].map(e => e.dataset.consentKind)`)
	if !slices.Equal(kinds, []string{"recipients", "contact", "minor"}) {
		t.Errorf("changes grouped as %v, want recipients, contact, minor", kinds)
	}
	text := eval[string](v, `document.querySelector('dialog[data-consent-notice="material"]').textContent`)
	for _, want := range []string{"荣耀推送", "privacy@workly.ai", "我已阅读并同意"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notice does not mention %s", want)
		}
	}
	if href := eval[string](v, `document.querySelector('dialog a[href^="/policies/diff/"]').getAttribute("href")`); href != "/policies/diff/2022-01-01/2025-06-01" {
		t.Errorf("diff link %q", href)
	}
	v.poll(`window.demoAnalyticsLoaded === true`) // grants stay as they were
	v.screenshot("notice-material")

	v.ready()
	v.do(chromedp.KeyEvent("\x1b"))
	if !eval[bool](v, `document.querySelector('dialog[data-consent-notice="material"]').open`) {
		t.Fatal("Esc closed the material notice")
	}
	v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="acknowledge"]`)))
	v.poll(`document.cookie.includes("~2025-06-01~")`)
	s := v.waitConsentCookie()
	if s.Policy != "2025-06-01" || !slices.Equal(s.Granted, []string{"analytics"}) || s.ID != v.consentID {
		t.Errorf("after acknowledging: %+v", s)
	}
	v.open("/")
	v.ready()
	if n := eval[int](v, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Errorf("the notice came back (%d notices)", n)
	}
	v.noProblems()
}

// Only minor changes since: a light note that does not block, shown once:
// going on to the next page accepts the revision.
func TestMinorNoteShowsOnce(t *testing.T) {
	v := newVisitor(t)
	v.acked("2024-03-01")
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="minor"]`)))
	if eval[bool](v, `!!document.querySelector("dialog[open]")`) {
		t.Error("the minor-change note opened a dialog")
	}
	if n := eval[int](v, `document.querySelectorAll('[data-consent-notice="material"],[data-consent-notice="banner"]').length`); n != 0 {
		t.Error("a minor change shows a prominent notice")
	}
	v.screenshot("notice-minor")
	v.ready()
	v.open("/app/") // going on using the service
	v.ready()
	if n := eval[int](v, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Error("the minor-change note showed a second time")
	}
	if s := v.waitConsentCookie(); s.Policy != "2025-06-01" || !slices.Equal(s.Granted, []string{"analytics"}) {
		t.Errorf("continued use recorded as %+v", s)
	}
	v.noProblems()
}

// The archive with the module: what the person acknowledged and when, the
// versions since marked, and an acknowledgement right there.
func TestArchiveStatus(t *testing.T) {
	v := newVisitor(t)
	v.acked("2022-01-01")
	v.open("/policies/")
	v.ready()
	status := eval[string](v, `document.querySelector("[data-consent-status]").textContent`)
	if !strings.Contains(status, "2026年1月1日") || !strings.Contains(status, "2022-01-01") {
		t.Errorf("status line %q does not say what was acknowledged when", status)
	}
	since := eval[[]string](v, `[...document.querySelectorAll("[data-consent-since]")].map(e => e.dataset.policyVersion)`)
	if !slices.Equal(since, []string{"2025-06-01", "2024-03-01"}) {
		t.Errorf("marked as newer: %v", since)
	}
	// The notice is open too, modal (the status line behind it is inert):
	// acknowledging there updates the status line.
	v.do(chromedp.Click(chromedp.CSS(`dialog[data-consent-notice] [data-consent-action=acknowledge]`)))
	v.poll(`document.cookie.includes("~2025-06-01~")`)
	v.poll(`document.querySelector("[data-consent-status]").textContent.includes("当前版本")`)
	v.noProblems()
}

// The archive needs no JavaScript: the list, a version page, its hash
// permalink and a comparison all read with scripts off.
func TestArchiveWithoutJavaScript(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	manifest := policiesManifest(t)
	for _, page := range []struct{ path, want string }{
		{"/policies/", "2024-03-01 版本"},
		{"/policies/2022-01-01", "如何使用 Cookie 和同类技术"},
		{"/policies/sha256/" + manifest["2024-03-01"], "荣耀推送(com.hihonor.push)"},
		{"/policies/diff/2022-01-01/2024-03-01", "[新增]"},
	} {
		v.open(page.path)
		text := eval[string](v, `document.body.innerText`)
		if !strings.Contains(text, page.want) {
			t.Errorf("%s without JavaScript does not show %q", page.path, page.want)
		}
	}
	v.screenshot("archive")

	// Printable: the print stylesheet drops the site's chrome and the notices.
	if _, err := chromedp.Call(v.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	v.open("/policies/2024-03-01")
	if d := eval[string](v, `getComputedStyle(document.querySelector(".site-header")).display`); d != "none" {
		t.Errorf("printing shows the site header (display %s)", d)
	}
	if d := eval[string](v, `getComputedStyle(document.querySelector(".policy-text")).display`); d == "none" {
		t.Error("printing hides the policy text")
	}
}

// fetchManifest reads GET /v1/policies.
func fetchManifest(t *testing.T) consent.Manifest {
	t.Helper()
	resp, err := http.Get(baseURL + "/v1/policies")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m consent.Manifest
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// currentPolicy returns the newest version in the served manifest.
func currentPolicy(t *testing.T) string {
	m := fetchManifest(t)
	return m.Current().ID
}

// policiesManifest returns each version's SHA-256 from the served manifest.
func policiesManifest(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, v := range fetchManifest(t).Versions {
		out[v.ID] = v.SHA256
	}
	return out
}

// The download is the exact text the manifest's hash is of; odd paths and
// unknown versions or hashes get the 404 page and nothing else.
func TestArchiveDownloadsAndNotFound(t *testing.T) {
	for id, sum := range policiesManifest(t) {
		resp, err := http.Get(baseURL + "/policies/" + id + ".md")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got := sha256.Sum256(body)
		if resp.StatusCode != 200 || hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s.md: status %d, sha256 %x, manifest says %s", id, resp.StatusCode, got, sum)
		}
	}
	for _, path := range []string{"/policies/../x", "/policies/%2e%2e/server", "/policies/1999-01-01",
		"/policies/sha256/" + strings.Repeat("0", 64), "/policies/diff/2024-03-01/2022-01-01", "/policies/diff?from=x&to=../y"} {
		resp, err := http.Get(baseURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 404 || !strings.Contains(string(body), "页面不存在") {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
	// The comparison form, whatever order the versions are chosen in.
	resp, err := http.Get(baseURL + "/policies/diff?from=2025-06-01&to=2022-01-01")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/policies/diff/2022-01-01/2025-06-01" || resp.StatusCode != 200 {
		t.Errorf("the comparison form led to %s (%d)", resp.Request.URL.Path, resp.StatusCode)
	}
}

// Actions run one at a time, in the order they were asked for: the
// acknowledgement of a material change (which closes the notices) ends
// before the preferences centre asked for next opens, so it stays open.
func TestActionsRunInOrder(t *testing.T) {
	v := newVisitor(t)
	v.acked("2022-01-01")
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="material"]`)))
	v.ready()
	eval[chromedp.Void](v, `Promise.all([consent.acknowledge(), consent.openPreferences()]).then(() => true)`)
	if !eval[bool](v, `!!document.querySelector('dialog[data-consent-notice="preferences"][open]')`) {
		t.Error("the preferences centre asked for after acknowledge() is not open")
	}
	if eval[bool](v, `!!document.querySelector('dialog[data-consent-notice="material"]')`) {
		t.Error("the material notice is still there after acknowledge()")
	}
	if got := eval[string](v, `consent.state().policy`); got != "2025-06-01" {
		t.Errorf("policy after acknowledge() = %s", got)
	}
	v.noProblems()
}

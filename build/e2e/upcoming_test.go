package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent/build/testsite"
)

// The upcoming site: the demo's sources with one more version, 2027-01-15
// (a material change), published ahead of its date, built as on the day
// testdata/effective-vectors.json names and served by a second consentd.
var upcoming struct {
	once sync.Once
	url  string
	err  error
}

func upcomingSite(t *testing.T) string {
	t.Helper()
	upcoming.once.Do(func() { upcoming.url, upcoming.err = startUpcoming() })
	if upcoming.err != nil {
		t.Fatal(upcoming.err)
	}
	return upcoming.url
}

func startUpcoming() (string, error) {
	var vectors struct{ Built string }
	data, err := os.ReadFile(filepath.Join(root, "testdata", "effective-vectors.json"))
	if err != nil {
		return "", err
	}
	if err := json.Unmarshal(data, &vectors); err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "consent-upcoming-")
	if err != nil {
		return "", err
	}
	// The test binary's process ends with the package; the directory with it.
	if out, err := exec.Command("cp", "-r", filepath.Join(root, "web"), dir).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy web: %v: %s", err, out)
	}
	prev, err := os.ReadFile(filepath.Join(root, "web", "policies", "2025-06-01.md"))
	if err != nil {
		return "", err
	}
	_, body, _ := strings.Cut(strings.TrimPrefix(string(prev), "---\n"), "\n---\n")
	next := "---\nversion: 2027-01-15\neffective: 2027-01-15\npublished: " + vectors.Built + "\n" +
		"title.zh-CN: 亿洽团队沟通与协作平台隐私政策\ntitle.en: Yiqia Team Communication and Collaboration Platform Privacy Policy\n" +
		"changes:\n  - kind: contact\n    zh-CN: 个人信息保护负责人的联系邮箱改为 dpo@workly.ai。\n" +
		"    en: The personal information protection officer can now be reached at dpo@workly.ai.\n---\n" +
		body + "\n个人信息保护负责人：dpo@workly.ai\n"
	if err := os.WriteFile(filepath.Join(dir, "web", "policies", "2027-01-15.md"), []byte(next), 0o644); err != nil {
		return "", err
	}
	dist := filepath.Join(dir, "dist")
	build := exec.Command("go", "run", "./build", "-src", dir, "-out", dist, "-now", vectors.Built)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the upcoming site: %v\n%s", err, out)
	}
	_, addr, err := testsite.Start(consentd, filepath.Join(dir, "data"), "127.0.0.1:0", "-assets", dist)
	return addr, err
}

// clock sets the page's clock (Date, and so the module's time.Now) to at,
// from the next document on, replacing any clock set before; frozen, it
// stays at at (for vectors a millisecond from a boundary), else it runs.
func (v *visitor) clock(at time.Time, frozen ...bool) {
	v.t.Helper()
	if v.clockID != "" {
		if _, err := chromedp.Call(v.ctx, page.RemoveScriptToEvaluateOnNewDocument, page.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: v.clockID}); err != nil {
			v.t.Fatal(err)
		}
	}
	id, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: fmt.Sprintf(`(() => { const R = Date, off = %d - R.now();
			const now = () => %v ? %d : R.now() + off;
			class D extends R { constructor(...a) { super(...(a.length ? a : [now()])) } static now() { return now() } }
			globalThis.Date = D })()`, at.UnixMilli(), len(frozen) > 0 && frozen[0], at.UnixMilli()),
	})
	if err != nil {
		v.t.Fatal(err)
	}
	v.clockID = id.Identifier
}

// painted is the kind of the notice the page shows, "" for none.
func (v *visitor) painted() string {
	return eval[string](v, `(document.querySelector("[data-consent-root]:not([hidden])") || {dataset: {}}).dataset.consentNotice || ""`)
}

// The loader alone (the module blocked) paints, by the page's clock, the
// notice testdata/effective-vectors.json says for each vector, and its
// state names the consent only when its version is in force.
func TestEffectiveVectors(t *testing.T) {
	site := upcomingSite(t)
	var vectors []struct {
		Name, Acked, Current, Notice string
		Now                          time.Time
	}
	readVectors(t, "effective-vectors.json", &vectors)
	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v := newVisitor(t)
			v.base = site
			v.blockWasm(true)
			v.clock(vec.Now, true)
			if vec.Acked != "" {
				v.acked(vec.Acked)
			}
			v.open("/")
			v.poll(`document.readyState == "complete" && (` + fmt.Sprint(vec.Notice == "") + ` || !!document.querySelector("[data-consent-root]"))`)
			if got := v.painted(); got != vec.Notice {
				t.Errorf("the loader painted %q, want %q", got, vec.Notice)
			}
			if got := eval[bool](v, `consent.granted("analytics")`); got != (vec.Acked != "" && vec.Notice != "banner") {
				t.Errorf("granted(analytics) = %v with consent under %q", got, vec.Acked)
			}
			v.expectModuleBlocked()
		})
	}
}

// An upcoming version announced, then switched to by moving the page's
// clock: before its day a person whose consent is current sees the light
// advance note (no dialog, nothing asked), dismisses it for good, and
// their receipts name the version in force; on the day the module and the
// loader show the usual notice of the new version, and acknowledging it
// makes a receipt naming it.
func TestUpcomingSwitch(t *testing.T) {
	site := upcomingSite(t)
	v := newVisitor(t)
	v.base = site
	v.clock(time.Date(2027, 1, 10, 9, 0, 0, 0, time.UTC))
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"]`)))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="accept-all"]`)))
	v.poll(`consent.state() && consent.state().policy == "2025-06-01"`)
	v.open("/")
	note := chromedp.CSS(`[data-consent-notice="advance"]`)
	v.do(chromedp.WaitVisible(note))
	v.ready()
	text := eval[string](v, `document.querySelector('[data-consent-notice="advance"]').textContent`)
	if !strings.Contains(text, "2027年1月15日") || !strings.Contains(text, "dpo@workly.ai") {
		t.Errorf("the advance note reads %q", text)
	}
	if eval[bool](v, `!!document.querySelector("dialog[open]")`) {
		t.Error("the advance note opened a dialog")
	}
	if n := eval[int](v, `document.querySelectorAll('[data-consent-notice="advance"] [data-consent-action]:not([data-consent-action="dismiss"])').length`); n != 0 {
		t.Errorf("the advance note has %d controls besides dismiss", n)
	}
	v.screenshot("notice-advance")
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="advance"] [data-consent-action="dismiss"]`)))
	v.poll(`!document.querySelector('[data-consent-notice="advance"]')`)
	v.open("/")
	v.ready()
	if got := v.painted(); got != "" {
		t.Errorf("after dismissing, the page shows %q", got)
	}
	if s := eval[map[string]any](v, `consent.state()`); s["current"] != true {
		t.Errorf("before the day the state is %v, want current", s)
	}
	for _, r := range v.history() {
		if r.Policy != "2025-06-01" || r.Event == "notice_displayed" {
			t.Errorf("before the day: receipt %s under %s", r.Event, r.Policy)
		}
	}

	// The day comes: no rebuild, only the clock moves.
	v.clock(time.Date(2027, 1, 15, 0, 0, 1, 0, time.UTC))
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="material"]`)))
	v.ready()
	if s := eval[map[string]any](v, `consent.state()`); s["current"] != false {
		t.Errorf("on the day the state is %v, want not current", s)
	}
	if text := eval[string](v, `document.querySelector('dialog[data-consent-notice="material"]').textContent`); !strings.Contains(text, "dpo@workly.ai") {
		t.Errorf("the material notice reads %q", text)
	}
	v.do(chromedp.Click(chromedp.CSS(`dialog[data-consent-notice="material"] [data-consent-action="acknowledge"]`)))
	v.poll(`consent.state().policy == "2027-01-15"`)
	h := v.history()
	last := h[len(h)-1]
	if last.Policy != "2027-01-15" || last.Event != "acknowledged" {
		t.Errorf("the last receipt is %s under %s, want acknowledged under 2027-01-15", last.Event, last.Policy)
	}
	var displayed bool
	for _, r := range h {
		displayed = displayed || r.Event == "notice_displayed"
	}
	if !displayed {
		t.Errorf("no receipt of the notice displayed on the day: %+v", h)
	}
	v.open("/")
	v.ready()
	if got := v.painted(); got != "" {
		t.Errorf("after acknowledging, the page shows %q", got)
	}
}

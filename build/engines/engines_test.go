// Package engines runs the journey every visitor takes in the engines beside
// Chromium that people use: Firefox (Gecko, Debian's firefox-esr, over
// WebDriver BiDi) and WebKitGTK (the engine of Safari, Debian's
// webkit2gtk-driver, over classic W3C WebDriver under Xvfb). Like build/e2e
// it builds the site with go run ./build, builds and starts the real
// consentd on a free port, and drives a real browser with real clicks. The
// pages are served as http://127.0.0.1:PORT, a secure context in every
// engine (WebCrypto signs and links the receipts); the demo's workly.ai names
// are Chromium host-resolver rules, which these engines do not have.
//
// It needs firefox-esr, webkit2gtk-driver and xvfb (go run ./build test
// installs them).
package engines

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/build/testsite"
)

// The viewport of every engine, as build/e2e's Chromium.
const viewportWidth, viewportHeight = 1280, 800

var (
	root     string // the module root
	baseURL  string // the running server
	consentd string // the server binary
	dataDir  string // the running server's data directory
)

// browser is one engine with a fresh profile, driven from outside as a
// person uses it.
type browser interface {
	name() string
	// open navigates the tab to url and returns once the page has loaded.
	open(url string) error
	// eval evaluates a JavaScript expression in the page, awaits it if it
	// is a promise, and decodes its value (as JSON) into out unless nil.
	eval(expr string, out any) error
	// click clicks the centre of the first element matching css with the
	// mouse, through the driver: trusted events, the element scrolled into
	// view first.
	click(css string) error
	// screenshot returns a PNG of the viewport.
	screenshot() ([]byte, error)
	// problems returns the console errors and uncaught exceptions seen so
	// far.
	problems() []string
	close()
}

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "engines:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	wd, err := os.Getwd()
	if err != nil {
		return 0, err
	}
	root = filepath.Join(wd, "..", "..")
	tmp, err := os.MkdirTemp("", "consent-engines-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	if consentd, err = testsite.Build(root, tmp); err != nil {
		return 0, err
	}
	dataDir = filepath.Join(tmp, "data")
	srv, addr, err := testsite.Start(consentd, dataDir, "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	baseURL = addr
	return m.Run(), nil
}

// engines are the engines of the tier, each started with a fresh profile.
var engines = []struct {
	name  string
	start func() (browser, error)
}{
	{"firefox", func() (browser, error) { return startFirefox(firefoxPrefs(false)) }},
	{"webkit", func() (browser, error) { return startWebKit() }},
}

// firefoxPrefs are the prefs of the tier's Firefox profiles: Chinese first,
// as build/e2e's Chromium, and Firefox's own Global Privacy Control on or off.
func firefoxPrefs(gpc bool) map[string]any {
	return map[string]any{"intl.accept_languages": "zh-CN, zh, en", "privacy.globalprivacycontrol.enabled": gpc}
}

// visitor is one person in one engine; its methods fail the test with the
// engine, the step and the page's problems.
type visitor struct {
	t    *testing.T
	b    browser
	step string
}

func newVisitor(t *testing.T, start func() (browser, error)) *visitor {
	t.Helper()
	b, err := start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return &visitor{t: t, b: b}
}

// fail ends the test with what went wrong, where and in which engine.
func (v *visitor) fail(format string, args ...any) {
	v.t.Helper()
	msg := fmt.Sprintf("%s, step %q: %s", v.b.name(), v.step, fmt.Sprintf(format, args...))
	if p := v.b.problems(); len(p) > 0 {
		msg += "\nthe page's problems:\n  " + strings.Join(p, "\n  ")
	}
	v.t.Fatal(msg)
}

func (v *visitor) open(path string) {
	v.t.Helper()
	if err := v.b.open(baseURL + path); err != nil {
		v.fail("open %s: %v", path, err)
	}
}

// eval evaluates expr and decodes its value.
func eval[T any](v *visitor, expr string) T {
	v.t.Helper()
	var out T
	if err := v.b.eval(expr, &out); err != nil {
		v.fail("evaluate %s: %v", expr, err)
	}
	return out
}

// poll waits, for at most 20 s, until expr is true.
func (v *visitor) poll(expr string) {
	v.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		err := v.b.eval(`!!(`+expr+`)`, &ok)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			v.fail("after 20 s, still not %s (last error: %v)", expr, err)
		}
		time.Sleep(100 * time.Millisecond) // polling the page
	}
}

// ready waits, for at most 20 s, until the module has resolved consent.ready.
func (v *visitor) ready() {
	v.t.Helper()
	v.poll(`window.consent`)
	if !eval[bool](v, `Promise.race([window.consent.ready.then(() => true), new Promise(r => setTimeout(r, 20000, false))])`) {
		v.fail("consent.ready did not resolve within 20 s")
	}
}

// click clicks an element as a person would, once the page has stopped
// moving (a click during the banner's entrance could land elsewhere).
func (v *visitor) click(css string) {
	v.t.Helper()
	v.settle()
	if err := v.b.click(css); err != nil {
		v.fail("click %s: %v", css, err)
	}
}

// visible is a JS expression true when an element matching css is rendered.
func visible(css string) string {
	q, _ := json.Marshal(css)
	return `(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden")(document.querySelector(` + string(q) + `))`
}

// settle waits until every finite animation on the page has finished.
func (v *visitor) settle() {
	v.t.Helper()
	eval[bool](v, `Promise.all(document.getAnimations()
		.filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
		.map(a => a.finished.catch(() => null))).then(() => true)`)
}

// screenshot saves a PNG of the viewport, once every finite animation has
// finished, as .cache/screenshots/NAME-ENGINE.png.
func (v *visitor) screenshot(name string) {
	v.t.Helper()
	v.settle()
	png, err := v.b.screenshot()
	if err != nil {
		v.fail("screenshot: %v", err)
	}
	dir := filepath.Join(root, ".cache", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		v.t.Fatal(err)
	}
	file := filepath.Join(dir, name+"-"+strings.ToLower(v.b.name())+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		v.t.Fatal(err)
	}
}

// noProblems fails the test if the page logged an error or threw.
func (v *visitor) noProblems() {
	v.t.Helper()
	if p := v.b.problems(); len(p) > 0 {
		v.t.Errorf("%s: the page's problems:\n  %s", v.b.name(), strings.Join(p, "\n  "))
	}
}

// record is a receipt as consent.history() lists it.
type record struct {
	ID, Subject, Event, Locale string
	GPC                        bool
	Ack                        *consent.Ack
}

// delivered waits, for at most 30 s, until consent.history() lists n
// receipts or more, every one acknowledged by the server, and returns it.
func (v *visitor) delivered(n int) []record {
	v.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := eval[[]record](v, `window.consent.history()`)
		waiting := 0
		for _, r := range h {
			if r.Ack == nil {
				waiting++
			}
		}
		if len(h) >= n && waiting == 0 {
			return h
		}
		if time.Now().After(deadline) {
			v.fail("after 30 s, %d receipts, %d not acknowledged (want %d or more, all acknowledged)", len(h), waiting, n)
		}
		time.Sleep(200 * time.Millisecond) // polling the page
	}
}

// exported is what consentd export writes (testsite.Exported).
func exported(t *testing.T) (acks map[string]consent.Ack, times map[string]int) {
	t.Helper()
	acks, times, err := testsite.Exported(consentd, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return acks, times
}

// The journey of a first visit, in every engine: the banner, consent.ready,
// a choice by a click on the banner, the gated script, the receipts
// delivered and acknowledged (as the server stored them), and the
// preferences centre from the footer.
func TestJourney(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			start := time.Now()
			v := newVisitor(t, e.start)
			t.Logf("%s started in %s", v.b.name(), time.Since(start).Round(time.Millisecond))

			v.step = "first visit: the banner"
			v.open("/")
			v.poll(visible(`[data-consent-notice="banner"]`))
			v.step = "consent.ready"
			v.ready()
			v.step = "before any choice"
			if !eval[bool](v, `isSecureContext && !!crypto.subtle`) {
				v.fail("http://127.0.0.1 is not a secure context with WebCrypto")
			}
			if eval[bool](v, `navigator.globalPrivacyControl === true`) {
				v.fail("the browser sends Global Privacy Control; this journey is without it")
			}
			if eval[bool](v, visible(`.cm-banner [data-consent-gpc]`)) {
				v.fail("the banner shows the GPC note without the signal")
			}
			if eval[bool](v, `window.demoAnalyticsLoaded === true`) {
				v.fail("the gated analytics ran before any choice")
			}
			v.screenshot("banner")

			v.step = "accept all on the banner"
			v.click(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)
			v.step = "the gated analytics script runs"
			v.poll(`window.demoAnalyticsLoaded === true`)

			v.step = "receipts delivered with acks"
			h := v.delivered(2)
			var got []string
			for _, r := range h {
				got = append(got, r.Event)
			}
			if !slices.Equal(got, []string{"banner_shown", "consent_given"}) {
				v.fail("history %v, want banner_shown then consent_given", got)
			}
			acks, times := exported(t)
			for _, r := range h {
				if times[r.ID] != 1 || acks[r.ID] != *r.Ack {
					t.Errorf("%s: receipt %s (%s): stored %d times, ack %+v in the browser, %+v on the server", v.b.name(), r.ID, r.Event, times[r.ID], *r.Ack, acks[r.ID])
				}
				if r.Locale != "zh-CN" || r.GPC {
					t.Errorf("%s: receipt %s (%s): locale %q, GPC %v; want zh-CN (the page's language), no GPC", v.b.name(), r.ID, r.Event, r.Locale, r.GPC)
				}
			}

			v.step = "the preferences centre from the footer"
			v.poll(`!document.querySelector('[data-consent-notice="banner"]')`)
			v.click(`footer [data-consent-action="open-preferences"]`)
			v.poll(visible(`dialog[data-consent-notice="preferences"]`) + ` && document.querySelector('dialog[data-consent-notice="preferences"]').open`)
			v.screenshot("preferences")
			v.noProblems()
			t.Logf("%s: journey in %s", v.b.name(), time.Since(start).Round(time.Millisecond))
		})
	}
}

// Firefox's own Global Privacy Control (its pref, not a script): a fresh
// profile's banner says the signal is honoured, and analytics stays off.
func TestFirefoxGlobalPrivacyControl(t *testing.T) {
	v := newVisitor(t, func() (browser, error) { return startFirefox(firefoxPrefs(true)) })
	v.step = "first visit with GPC"
	v.open("/")
	if !eval[bool](v, `navigator.globalPrivacyControl === true`) {
		v.fail("navigator.globalPrivacyControl is not true with privacy.globalprivacycontrol.enabled")
	}
	v.step = "the banner's GPC note"
	v.poll(visible(`.cm-banner [data-consent-gpc]`))
	v.ready()
	if eval[bool](v, `window.consent.granted("analytics") || window.demoAnalyticsLoaded === true`) {
		v.fail("analytics on despite GPC")
	}
	v.screenshot("banner-gpc")
	v.step = "the banner_shown receipt records GPC"
	if h := v.delivered(1); !h[0].GPC {
		v.fail("the %s receipt does not record GPC", h[0].Event)
	}
	v.noProblems()
}

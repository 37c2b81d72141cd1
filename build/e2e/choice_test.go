package e2e

import (
	"slices"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// waitConsentCookie polls until the consent cookie exists and decodes it.
func (v *visitor) waitConsentCookie() consent.State {
	v.t.Helper()
	v.poll(`document.cookie.split("; ").some(c => c.startsWith("consent="))`)
	s, err := consent.DecodeCookie(v.cookies()[consent.CookieName])
	if err != nil {
		v.t.Fatalf("the module wrote a consent cookie Go cannot read: %v", err)
	}
	return s
}

// Accepting all grants every optional category, runs the gated analytics
// script at once, and a returning visitor sees no banner while the loader
// runs the script again straight away.
func TestAcceptAll(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	if eval[bool](v, `!!window.demoAnalyticsLoaded`) {
		t.Fatal("the gated analytics script ran before consent")
	}
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	s := v.waitConsentCookie()
	if want := []string{"analytics", "functional", "marketing"}; !slices.Equal(s.Granted, want) {
		t.Errorf("granted %v, want %v", s.Granted, want)
	}
	if s.Policy != currentPolicy(t) || !consent.ValidConsentID(s.ID) {
		t.Errorf("cookie state %+v", s)
	}
	v.poll(`window.demoAnalyticsLoaded === true`)
	v.do(chromedp.WaitNotPresent(chromedp.CSS(`[data-consent-notice="banner"]`)))
	if _, ok := v.cookies()["_ga"]; !ok {
		t.Error("the released analytics script did not set _ga")
	}
	if !eval[bool](v, `window.consent.granted("analytics")`) {
		t.Error(`consent.granted("analytics") is false after accepting all`)
	}

	// Returning: no banner, the script runs before the module is even loaded.
	v.blockWasm(true)
	v.open("/")
	if n := eval[int](v, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Errorf("returning visitor sees %d notices", n)
	}
	v.poll(`window.demoAnalyticsLoaded === true`)
	v.expectModuleBlocked()
}

// Rejecting all grants nothing, runs nothing, and is remembered.
func TestRejectAll(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="reject-all"]`)))
	s := v.waitConsentCookie()
	if len(s.Granted) != 0 {
		t.Errorf("granted %v after reject all", s.Granted)
	}
	v.open("/")
	v.ready()
	if n := eval[int](v, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Errorf("after rejecting, a returning visitor sees %d notices", n)
	}
	if eval[bool](v, `!!window.demoAnalyticsLoaded`) {
		t.Error("the analytics script ran after reject all")
	}
	if _, ok := v.cookies()["_ga"]; ok {
		t.Error("_ga set after reject all")
	}
	v.noProblems()
}

// A click on the banner before the module has loaded waits in the loader's
// memory and counts, at its own time, once the module starts; the loader
// writes nothing meanwhile.
func TestClickBeforeModuleLoads(t *testing.T) {
	v := newVisitor(t)
	// The test itself adds the executor again below, which the page's
	// Trusted Types would refuse a test script.
	if _, err := chromedp.Call(v.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
		t.Fatal(err)
	}
	v.block("*://*:*/assets/executor.*", true)
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"]`)),
		chromedp.Click(chromedp.CSS(`[data-consent-action="reject-all"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(`[data-consent-notice="banner"]`)))
	clicked := eval[float64](v, `Date.now()`)
	if _, ok := v.cookies()[consent.CookieName]; ok {
		t.Fatal("the loader wrote the consent cookie; only the module may")
	}
	if n := eval[int](v, `sessionStorage.length`); n != 0 {
		t.Errorf("the loader stored %d items: a queue in storage could be forged", n)
	}
	// The executor arrives late (a slow network): the loader hands it the
	// queued click.
	v.block("*://*:*/assets/executor.*", false)
	v.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const s = document.createElement("script");
		s.src = [...document.scripts].find(x => x.src.includes("/executor.")).src;
		document.head.append(s);
	})()`))
	v.ready()
	s := v.waitConsentCookie()
	if len(s.Granted) != 0 {
		t.Errorf("queued reject-all applied as %v", s.Granted)
	}
	h := v.history()
	last := h[len(h)-1]
	if last.Event != "consent_refused" || last.Method != "banner" || float64(last.Time) > clicked {
		t.Errorf("the queued click's receipt: %v (clicked by %v)", last, clicked)
	}
}

// The preferences centre grants exactly what is switched on.
func TestPreferencesSave(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
	if !eval[bool](v, `document.querySelector('dialog[data-consent-notice="preferences"]').matches(":modal")`) {
		t.Error("the preferences centre is not modal")
	}
	if !eval[bool](v, `document.querySelector('#cm-cat-necessary').disabled && document.querySelector('#cm-cat-necessary').checked`) {
		t.Error("strictly necessary is not shown as always on")
	}
	v.screenshot("preferences")
	v.do(chromedp.Click(chromedp.CSS(`#cm-cat-analytics`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="save"]`)))
	s := v.waitConsentCookie()
	if !slices.Equal(s.Granted, []string{"analytics"}) {
		t.Errorf("granted %v, want [analytics]", s.Granted)
	}
	v.do(chromedp.WaitNotPresent(chromedp.CSS(`dialog[data-consent-notice]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`[data-consent-notice="banner"]`)))

	// Reopened from the footer, it shows the choice; withdrawing is one switch and save.
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
	if !eval[bool](v, `document.querySelector('#cm-cat-analytics').checked`) {
		t.Error("reopened preferences do not show analytics granted")
	}
	v.do(chromedp.Click(chromedp.CSS(`#cm-cat-analytics`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="save"]`)))
	v.poll(`!document.cookie.includes("~analytics~")`)
	v.noProblems()
}

// A malformed consent cookie means no consent: the banner shows, nothing
// throws, and the module removes the bad cookie.
func TestMalformedCookie(t *testing.T) {
	v := newVisitor(t)
	v.open("/healthz")
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=1~not-a-real-id~2022-01-01~x~1~2; Path=/"`))
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"]`)))
	v.ready()
	if _, ok := v.cookies()[consent.CookieName]; ok {
		t.Error("the malformed consent cookie was not removed")
	}
	v.noProblems()
}

// The JS API can be called before the module has loaded: the call waits for
// it, then runs, and its promise gives the new state.
func TestAPIBeforeModuleLoads(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `if (window === window.top) document.addEventListener("DOMContentLoaded", () => {
			window.__early = !window.consent._apply; // the module has not taken over yet
			window.__p = window.consent.set({analytics: true}).then(s => s.granted.join(","));
		})`,
	}); err != nil {
		t.Fatal(err)
	}
	v.open("/")
	if !eval[bool](v, `window.__early`) {
		t.Fatal("the module had loaded before the page's first script: nothing was tested")
	}
	if got := eval[string](v, `window.__p`); got != "analytics" {
		t.Fatalf("consent.set before load resolved to %q", got)
	}
	if s := v.waitConsentCookie(); !slices.Equal(s.Granted, []string{"analytics"}) {
		t.Errorf("granted %v", s.Granted)
	}
	v.noProblems()
}

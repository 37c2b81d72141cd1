package e2e

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// injected is markup a page could carry from user content (HTML sanitisers
// keep data-* attributes): a "read more" link that claims to accept all, and
// a fake banner around another one.
const injected = `(() => {
	const el = (tag, attrs, text) => { const e = document.createElement(tag);
		for (const k in attrs) e.setAttribute(k, attrs[k]); if (text) e.textContent = text; return e; };
	const p = el("p"); p.append(el("a", {href: "#", id: "evil-link", "data-consent-action": "accept-all"}, "展开全文"));
	const fake = el("div", {"data-consent-notice": "banner", "data-consent-root": ""});
	fake.append(el("button", {id: "evil-button", "data-consent-action": "accept-all"}, "OK"));
	document.body.prepend(p, fake);
})()`

// Page markup cannot choose for the person: after "reject all", clicking an
// injected accept-all control (with or without a fake notice around it)
// grants nothing and makes no receipt, once the module runs and before it
// has loaded; a page control still opens the preferences centre.
func TestInjectedControlsCannotChoose(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="reject-all"]`)))
	v.waitConsentCookie()
	before := len(v.delivered(2))

	v.open("/")
	v.ready()
	v.do(chromedp.Evaluate[chromedp.Void](injected))
	v.do(chromedp.Click(chromedp.CSS(`#evil-link`)))
	v.waitWarning("outside the module's views")
	v.do(chromedp.Click(chromedp.CSS(`#evil-button`)))
	v.waitWarning("outside the module's views")
	// A page control that may act: it opens the preferences, after the two
	// clicks above (actions run in order), so they were handled and refused.
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
	if s := eval[map[string]any](v, `consent.state()`); len(s["granted"].([]any)) != 0 {
		t.Errorf("injected controls granted %v", s["granted"])
	}
	if h := v.history(); len(h) != before {
		t.Errorf("injected controls made receipts: %d, want %d", len(h), before)
	}

	// Before the module loads, the loader queues no injected click.
	w := newVisitor(t)
	w.blockWasm(true)
	w.open("/")
	w.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner`)))
	w.do(chromedp.Evaluate[chromedp.Void](injected))
	w.do(chromedp.Click(chromedp.CSS(`#evil-link`)), chromedp.Click(chromedp.CSS(`#evil-button`)))
	if !eval[bool](w, `!document.querySelector(".cm-banner").hidden`) {
		t.Error("an injected click hid the real banner")
	}
	w.expectModuleBlocked()

	// A script's click on a real control is not the person's: it chooses
	// nothing (only trusted events count).
	x := newVisitor(t)
	x.open("/")
	x.ready()
	x.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('.cm-banner [data-consent-action="accept-all"]').click()`))
	// An API call settles after every event before it: had the click been
	// forwarded, it would have been handled by then.
	eval[any](x, `consent.openPreferences()`)
	if s := eval[any](x, `consent.state()`); s != nil {
		t.Errorf("a scripted click chose: %v", s)
	}

	// A page script that asks for the loader's hand-over before the
	// executor does gets nothing, and the module starts as usual.
	z := newVisitor(t)
	z.beforeLoader(`document.addEventListener("DOMContentLoaded", () => { window.__stolen = window.consent._boot ? window.consent._boot() : "absent"; })`)
	z.open("/")
	z.ready()
	if got := eval[any](z, `window.__stolen`); got != nil {
		t.Errorf("a page script took the loader's hand-over: %v", got)
	}
	z.noProblems()

	// A queue forged in sessionStorage (where the loader once kept clicks)
	// counts for nothing.
	y := newVisitor(t)
	y.beforeLoader(`sessionStorage.setItem("consent.queue", JSON.stringify([{a: "accept-all", t: Date.UTC(2021, 0, 1), n: "banner"}]))`)
	y.open("/")
	y.ready()
	if s := eval[any](y, `consent.state()`); s != nil || !eval[bool](y, `!!document.querySelector(".cm-banner:not([hidden])")`) {
		t.Errorf("a forged queue chose %v, or hid the banner", s)
	}
	v.noProblems()
	w.noProblems()
	x.noProblems()
	y.noProblems()
}

// DOM clobbering cannot switch the module off: with <form id=consent> in the
// page, the banner shows and the API works; a page script that replaces
// window.consent later does not replace the module's API.
func TestClobberedPageKeepsTheModule(t *testing.T) {
	v := newVisitor(t)
	v.beforeLoader(`const f = document.createElement("form"); f.id = "consent";
		for (const n of ["_loader", "state"]) { const i = document.createElement("input"); i.name = n; f.append(i) }
		document.body.append(f)`)
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner`)))
	v.ready()
	eval[chromedp.Void](v, `consent.acceptAll().then(() => true)`)
	if s := v.waitConsentCookie(); !slices.Contains(s.Granted, "analytics") {
		t.Errorf("acceptAll() on a clobbered page: %+v", s)
	}
	v.do(chromedp.Evaluate[chromedp.Void](`try { window.consent = {state: () => "forged"} } catch (e) {}`))
	if got := eval[string](v, `typeof consent.state() == "object" ? "module" : String(consent.state())`); got != "module" {
		t.Errorf("after a page script replaced window.consent, consent.state() is %s", got)
	}
	v.noProblems()
}

// A gated iframe loads only an http(s) URL: one whose data-src is a
// javascript: URL stays empty once its category is granted, released by the
// module (a choice) or by the loader (a returning visitor), with a warning.
func TestGatedIframeOnlyWebURLs(t *testing.T) {
	v := newVisitor(t)
	v.beforeLoader(`const f = document.createElement("iframe"); f.id = "evil-frame";
		f.setAttribute("data-consent", "marketing"); f.setAttribute("data-src", "javascript:parent.framed=1");
		document.body.append(f)`)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="accept-all"]`)))
	v.waitWarning("not an http(s) URL")
	v.poll(`!!document.querySelector("iframe.promo").src`) // the demo's own embed loads
	if got := eval[string](v, `document.getElementById("evil-frame").getAttribute("src") || ""`); got != "" {
		t.Errorf("the module loaded a gated iframe from %q", got)
	}
	v.open("/") // returning: the loader releases
	v.waitWarning("not an http(s) URL")
	if got := eval[string](v, `(document.getElementById("evil-frame").getAttribute("src") || "") + (window.framed ? " ran" : "")`); got != "" {
		t.Errorf("the loader loaded a gated iframe from %q", got)
	}
	v.noProblems()
}

// A consent cookie tossed from a sibling subdomain (a script on
// evil.workly.ai writing Domain=workly.ai) grants nothing on www: the banner
// shows, no gated script or iframe is released, no optional cookie is set,
// state() is null; and POST /v1/cookie does not set it again.
func TestTossedCookieGrantsNothing(t *testing.T) {
	v := newVisitor(t)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	tossed := "1~" + newConsentID() + "~2025-06-01~analytics.functional.marketing~" + now + "~" + now
	v.do(chromedp.Navigate(strings.Replace(siteURL, "//www.", "//evil.", 1) + "/healthz"))
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=` + tossed + `; Path=/; Domain=workly.ai; Max-Age=3600"`))
	v.do(chromedp.Navigate(siteURL + "/"))
	v.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner`)))
	v.waitWarning("no valid proof")
	v.ready()
	if got := eval[string](v, `JSON.stringify([consent.state(), !!window.demoAnalyticsLoaded, document.querySelector("iframe.promo").getAttribute("src")])`); got != `[null,false,null]` {
		t.Errorf("the tossed cookie: state, analytics ran, promo src = %s", got)
	}
	for _, name := range []string{"_ga", "yq_aid"} {
		if _, ok := v.cookies(siteURL + "/")[name]; ok {
			t.Errorf("the tossed cookie set %s", name)
		}
	}
	if sc := postCookie(t, tossed); sc != "" {
		t.Errorf("POST /v1/cookie set the tossed cookie again: %s", sc)
	}
	v.noProblems()
}

// postCookie posts /v1/cookie with the consent cookie value and returns the
// Set-Cookie it answers ("" for none).
func postCookie(t *testing.T, value string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", siteURL+"/v1/cookie", nil)
	req.Header.Set("Cookie", "consent="+value)
	req.Host = strings.TrimPrefix(siteURL, "http://")
	req.URL.Host = strings.TrimPrefix(baseURL, "http://")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.Header.Get("Set-Cookie")
}

// POST /v1/cookie sets again only a cookie the server vouched for, with
// categories and versions the site knows, for at most maxAgeDays from now,
// and Secure only by the server's own scheme (here plain http, whatever
// X-Forwarded-Proto a client sends).
func TestCookieRefreshOnlyVouched(t *testing.T) {
	id := newConsentID()
	now := time.Now().Unix()
	fields := func(cats string, updated int64) string {
		return "1~" + id + "~2025-06-01~" + cats + "~" + strconv.FormatInt(now-60, 10) + "~" + strconv.FormatInt(updated, 10)
	}
	good := vouchedFor(t, fields("analytics", now), 30*24*time.Hour)
	forged := fields("analytics", now) + "~" + strconv.FormatInt(now+86400, 10) + "~" + strings.Repeat("A", 86)
	for name, value := range map[string]string{
		"forged proof":     forged,
		"no proof":         fields("analytics.marketing", now),
		"far future":       fields("analytics", 4000000000),
		"unknown category": vouched(t, fields("analytics.tracking", now)),
	} {
		if sc := postCookie(t, value); sc != "" {
			t.Errorf("%s: Set-Cookie %s", name, sc)
		}
	}
	sc := postCookie(t, good)
	if !strings.HasPrefix(sc, "consent="+good+";") || strings.Contains(sc, "Secure") {
		t.Fatalf("a vouched cookie: Set-Cookie %q", sc)
	}
	_, age, _ := strings.Cut(sc, "Max-Age=")
	age, _, _ = strings.Cut(age, ";")
	if n, _ := strconv.Atoi(age); n <= 0 || n > 31*86400 {
		t.Errorf("Max-Age %s, want at most the proof's 30 days", age)
	}
}

// The module is no script gadget: on a page whose CSP allows scripts by
// nonce with 'strict-dynamic' and enforces Trusted Types, gated scripts
// injected without the nonce (one from an undeclared origin, one inline)
// never run and the evil one is never requested, while the page's own
// nonce'd gated script runs; the policy is not reachable from the page.
func TestGadgetUnderStrictCSP(t *testing.T) {
	v := newVisitor(t)
	v.acked("2025-06-01")
	seen := v.requests()
	const nonce = "e2eN0nce"
	page := `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>gadget</title></head><body>
<p>user content:</p>
<script type="text/plain" data-consent="analytics" src="https://evil.example/x.js"></script>
<script type="text/plain" data-consent="analytics">window.inlineRan = true</script>
<script type="text/plain" data-consent="analytics" nonce="` + nonce + `">window.ownRan = true</script>
<script src="/loader.js" nonce="` + nonce + `" defer></script></body></html>`
	csp := "script-src 'nonce-" + nonce + "' 'strict-dynamic' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'; " +
		"require-trusted-types-for 'script'; trusted-types consent"
	v.serve("/gadget.html", page, csp)
	v.open("/gadget.html")
	v.poll(`window.ownRan === true`)
	v.waitWarning("is not a source of analytics")
	v.ready()
	if got := eval[string](v, `JSON.stringify([!!window.inlineRan, typeof consent._tt, consent._hand ? consent._hand() : null])`); got != `[false,"undefined",null]` {
		t.Errorf("inline ran, consent._tt, _hand() = %s", got)
	}
	for _, r := range seen() {
		if strings.Contains(r.URL, "evil.example") {
			t.Errorf("the evil script was requested: %s", r.URL)
		}
	}
	v.noProblems()
}

// A sibling subdomain that saw the person's vouched cookie cannot restore
// it after a withdrawal: a cookie no newer than the one this origin wrote
// last (and not that one) grants nothing, proof or not; the banner asks.
func TestReplayedOlderCookieGrantsNothing(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`window.demoAnalyticsLoaded === true`)
	// The server vouches for it (the receipts' answer sets the proof).
	v.poll(`(document.cookie.split("; ").find(c => c.startsWith("consent=")) || "").split("~").length == 8`)
	old := v.cookies(siteURL + "/")["consent"]
	v.do(chromedp.Evaluate[chromedp.Void](`consent.set({analytics: false})`))
	v.poll(`!document.cookie.includes("~analytics.")`)
	v.do(chromedp.Navigate(strings.Replace(siteURL, "//www.", "//evil.", 1) + "/healthz"))
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=` + old + `; Path=/; Domain=workly.ai; Max-Age=3600"`))
	if got := v.cookies(siteURL + "/")["consent"]; got != old {
		t.Fatalf("setup: the page sees consent=%s, not the replayed cookie", got)
	}
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	// The replayed grant does not count: the person sees the banner, or,
	// once the server has answered a receipt of theirs still on its way, the
	// choice they last made, which it vouches for again.
	if got := eval[string](v, `JSON.stringify([consent.granted("analytics"), !!window.demoAnalyticsLoaded, !consent.state() == !!document.querySelector(".cm-banner")])`); got != `[false,false,true]` {
		t.Errorf("the replayed cookie: analytics granted, analytics ran, banner exactly when no state = %s, want [false,false,true]\nold %s\nnow %s\nwritten %s", got,
			old, v.cookies(siteURL + "/")["consent"], eval[string](v, `localStorage.getItem("consent.written") || ""`))
	}
	v.noProblems()
}

// Someone else's vouched cookie, tossed by a sibling subdomain into the
// browser of a person who chose on this origin, grants nothing, however new.
func TestTossedVouchedCookieOfAnotherPersonGrantsNothing(t *testing.T) {
	victim := newVisitor(t)
	victim.do(chromedp.Navigate(siteURL + "/"))
	victim.ready()
	victim.do(chromedp.Click(chromedp.CSS(`[data-consent-action="reject-all"]`)))
	victim.poll(`document.cookie.includes("consent=1~")`)
	attacker := newVisitor(t)
	attacker.do(chromedp.Navigate(siteURL + "/"))
	attacker.ready()
	attacker.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	attacker.poll(`(document.cookie.split("; ").find(c => c.startsWith("consent=")) || "").split("~").length == 8`)
	theirs := attacker.cookies(siteURL + "/")["consent"]
	victim.do(chromedp.Navigate(strings.Replace(siteURL, "//www.", "//evil.", 1) + "/healthz"))
	victim.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=` + theirs + `; Path=/; Domain=workly.ai; Max-Age=3600"`))
	victim.do(chromedp.Navigate(siteURL + "/"))
	victim.ready()
	if got := eval[string](victim, `JSON.stringify([consent.state(), !!window.demoAnalyticsLoaded])`); got != `[null,false]` {
		t.Errorf("another person's cookie: state, analytics ran = %s, want [null,false]", got)
	}
	victim.noProblems()
	attacker.noProblems()
}

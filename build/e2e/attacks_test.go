package e2e

import (
	"slices"
	"testing"

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
	x.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
	if s := eval[any](x, `consent.state()`); s != nil {
		t.Errorf("a scripted click chose: %v", s)
	}

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

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// loadSite reads web/site.json.
func loadSite(t *testing.T) *consent.Site {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "web", "site.json"))
	if err != nil {
		t.Fatal(err)
	}
	var site consent.Site
	if err := json.Unmarshal(data, &site); err != nil {
		t.Fatal(err)
	}
	return &site
}

// requests records the requests the page makes from now on; the function it
// returns lists them up to that moment: it has the page request a marker
// URL, and waits until the marker's response or failure (whose event comes
// after those of every request answered before it) has been seen.
func (v *visitor) requests() func() []request {
	v.t.Helper()
	var mu sync.Mutex
	var seen []request
	byID := map[network.RequestID]int{}
	markers := map[network.RequestID]string{}
	marker := make(chan string, 16)
	// Events come in the order the browser sent them.
	if err := chromedp.Listen(v.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.Contains(ev.Request.URL, "?e2e-marker=") {
				markers[ev.RequestID] = ev.Request.URL
			} else {
				byID[ev.RequestID] = len(seen)
				seen = append(seen, request{URL: ev.Request.URL})
			}
		case *network.EventResponseReceived:
			if u, ok := markers[ev.RequestID]; ok {
				marker <- u
			} else if i, ok := byID[ev.RequestID]; ok {
				seen[i].Status = ev.Response.Status
			}
		case *network.EventLoadingFailed: // a marker too, when the server is down
			if u, ok := markers[ev.RequestID]; ok {
				marker <- u
			} else if i, ok := byID[ev.RequestID]; ok {
				seen[i].Failed = true
			}
		}
	}); err != nil {
		v.t.Fatal(err)
	}
	n := 0
	return func() []request {
		v.t.Helper()
		n++
		want := fmt.Sprintf("?e2e-marker=%d", n)
		v.do(chromedp.Evaluate[chromedp.Void](`fetch("/healthz` + want + `").catch(() => null)`))
		for u := range marker {
			if strings.HasSuffix(u, want) {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(seen)
	}
}

// urls lists the requests' URLs.
func urls(rs []request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.URL)
	}
	return out
}

// request is one request a page made, with its response's status (0 while
// none has arrived) or whether it failed without one.
type request struct {
	URL    string
	Status int64
	Failed bool
}

// Nothing optional before consent: on a first visit no gated source is
// requested, and no cookie and no storage key but the module's strictly
// necessary ones exists, even after the module has loaded.
// Every demo page loads without a failed request (a missing favicon is one)
// or a console error: what Lighthouse's best practices count.
func TestDemoPagesLoadCleanly(t *testing.T) {
	for _, path := range []string{"/", "/app/", "/policies/", "/policies/2024-03-01", "/policies/diff/2022-01-01/2025-06-01"} {
		t.Run(path, func(t *testing.T) {
			v := newVisitor(t)
			seen := v.requests()
			v.open(path)
			v.ready()
			for _, r := range seen() {
				if r.Status >= 400 {
					t.Errorf("%s answered %d", r.URL, r.Status)
				}
			}
			v.noProblems()
		})
	}
}

func TestNothingOptionalBeforeConsent(t *testing.T) {
	v := newVisitor(t)
	seen := v.requests()
	v.open("/")
	v.ready()
	for _, r := range seen() {
		u := r.URL
		if strings.Contains(u, "/analytics.") || strings.Contains(u, "/demo/promo") {
			t.Errorf("requested %s before consent", u)
		}
	}
	jar := v.cookies(baseURL + "/")
	for name := range jar {
		t.Errorf("cookie %s set before any choice", name)
	}
	// Only the module's own strictly necessary keys (the receipt of the
	// banner being shown), each declared as such.
	site := loadSite(t)
	necessary, _ := site.Category("necessary")
	for _, key := range eval[[]string](v, `[...Object.keys(localStorage), ...Object.keys(sessionStorage)]`) {
		if !slices.ContainsFunc(necessary.Storage, func(it consent.Item) bool { return it.Name == key }) {
			t.Errorf("storage key %s before any choice, not declared strictly necessary", key)
		}
	}
	v.noProblems()
}

// A refused embed shows a placeholder; its button grants the category and
// the embed loads. Content added after load is gated the same way.
func TestEmbedsAndLateContent(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="reject-all"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-consent-placeholder="marketing"]`)))
	if !eval[bool](v, `document.querySelector("iframe.promo").hidden && !document.querySelector("iframe.promo").src`) {
		t.Error("the refused embed is visible or loading")
	}
	v.screenshot("placeholder")
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-grant="marketing"]`)))
	v.poll(`document.querySelector("iframe.promo").src.endsWith("/demo/promo.html") && !document.querySelector("iframe.promo").hidden`)
	if s := v.waitConsentCookie(); !slices.Equal(s.Granted, []string{"marketing"}) {
		t.Errorf("the placeholder granted %v", s.Granted)
	}
	if n := eval[int](v, `document.querySelectorAll("[data-consent-placeholder]").length`); n != 0 {
		t.Error("the placeholder stayed after loading")
	}

	// Added later, as a single-page app would: a granted category's script
	// runs, a refused category's embed gets a placeholder, an unknown
	// category is ignored. (The page's own analytics script is still refused.)
	// (Copies of the page's own gated script: the page enforces Trusted
	// Types, and the module's policy is nobody else's to use.)
	v.do(chromedp.Evaluate[chromedp.Void](`
		const own = document.querySelector('script[type="text/plain"][data-consent="analytics"]');
		const s = own.cloneNode(); s.dataset.consent = "marketing";
		document.body.append(s);
		const f = document.createElement("iframe");
		f.dataset.consent = "analytics"; f.dataset.src = "/demo/promo.html"; f.className = "late";
		document.body.append(f);
		const u = own.cloneNode(); u.dataset.consent = "telemetry";
		document.body.append(u);`))
	v.poll(`window.demoAnalyticsLoaded === true`)
	v.poll(`!!document.querySelector('[data-consent-placeholder="analytics"]') && document.querySelector("iframe.late").hidden`)
	if !eval[bool](v, `(u => u.type == "text/plain" && u.hasAttribute("data-consent-unknown"))(document.querySelector('script[data-consent="telemetry"]'))`) {
		t.Error("content gated by an unknown category ran, or was not marked unknown")
	}
	v.noProblems()
}

// Withdrawing takes no more steps than granting (PIPL art. 15). From the
// same page, with no notice open, the test tries every route the module's
// controls offer towards each goal, counts the clicks a person makes (the
// page counts trusted click events), and compares the shortest route that
// grants analytics with the shortest that withdraws it.
func TestWithdrawingTakesNoMoreStepsThanGranting(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="reject-all"]`)))
	v.waitConsentCookie()
	v.do(chromedp.Evaluate[chromedp.Void](`window.clicks = 0;
		document.addEventListener("click", e => { if (e.isTrusted) window.clicks++ }, true)`))
	open := `footer [data-consent-action="open-preferences"]`
	routes := [][]string{
		{open, `dialog [data-consent-action="accept-all"]`},
		{open, `dialog [data-consent-action="reject-all"]`},
		{open, `#cm-cat-analytics`, `dialog [data-consent-action="save"]`},
	}
	// shortest returns the fewest clicks of a route that leaves analytics
	// granted == want, starting each try from analytics granted == !want
	// (set through the API, which is not a click).
	shortest := func(want bool) int {
		best := 0
		for _, route := range routes {
			eval[chromedp.Void](v, fmt.Sprintf(`consent.set({analytics: %v}).then(() => true)`, !want))
			v.do(chromedp.Evaluate[chromedp.Void](`window.clicks = 0`))
			for _, sel := range route {
				v.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
			}
			v.do(chromedp.WaitNotPresent(chromedp.CSS(`dialog[data-consent-notice]`)))
			if eval[bool](v, `window.consent.granted("analytics")`) != want {
				continue // this route does not reach the goal
			}
			if n := eval[int](v, `window.clicks`); best == 0 || n < best {
				best = n
			}
		}
		if best == 0 {
			t.Fatalf("no route through the module's controls leaves analytics granted = %v", want)
		}
		return best
	}
	grant, withdraw := shortest(true), shortest(false)
	t.Logf("clicks to grant analytics: %d, to withdraw it: %d", grant, withdraw)
	if withdraw > grant {
		t.Errorf("withdrawing takes %d clicks, granting %d", withdraw, grant)
	}
	v.noProblems()
}

// Global Privacy Control refuses the optional categories by default and the
// banner says so; an explicit choice overrides it, and its receipt records
// the signal.
func TestGlobalPrivacyControl(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => true})`,
	}); err != nil {
		t.Fatal(err)
	}
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner [data-consent-gpc]`)))
	v.ready()
	if eval[bool](v, `window.consent.granted("analytics") || !!window.demoAnalyticsLoaded`) {
		t.Error("analytics on despite GPC")
	}
	v.screenshot("banner-gpc")
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`window.demoAnalyticsLoaded === true`)
	// The receipts record the signal the person's choice overrode.
	for _, r := range v.delivered(2) {
		if !r.GPC {
			t.Errorf("the %s receipt does not record GPC", r.Event)
		}
	}
	v.noProblems()
}

// Google Consent Mode v2: before any tag runs, the default denies every type
// but security_storage; each choice sends an update; a returning visitor's
// update comes from the loader straight away.
func TestConsentMode(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	first := eval[[]any](v, `Array.from(window.dataLayer[0])`)
	if len(first) != 3 || first[0] != "consent" || first[1] != "default" {
		t.Fatalf("dataLayer[0] = %v, want the consent default", first)
	}
	defaults := first[2].(map[string]any)
	for _, typ := range consent.ConsentModeTypes {
		want := "denied"
		if typ == "security_storage" {
			want = "granted"
		}
		if defaults[typ] != want {
			t.Errorf("default %s = %v, want %s", typ, defaults[typ], want)
		}
	}
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`Array.from(window.dataLayer.at(-1))[1] === "update"`)
	update := eval[[]any](v, `Array.from(window.dataLayer.at(-1))`)[2].(map[string]any)
	for _, typ := range consent.ConsentModeTypes {
		if update[typ] != "granted" {
			t.Errorf("after accept all, %s = %v", typ, update[typ])
		}
	}
	v.blockWasm(true)
	v.open("/")
	if got := eval[[]any](v, `Array.from(window.dataLayer[1])`); len(got) != 3 || got[1] != "update" {
		t.Errorf("a returning visitor's update from the loader: %v", got)
	}
	v.expectModuleBlocked()
}

// Anonymous identifiers: made only once their category is granted, 128
// random bits, resettable from the preferences centre, replaced when due,
// deleted on withdrawal.
func TestAnonymousIdentifiers(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	if _, ok := v.cookies()["yq_aid"]; ok {
		t.Fatal("identifier before consent")
	}
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`document.cookie.includes("yq_aid=")`)
	first := v.cookies()["yq_aid"]
	id := consent.Identifier{RotateDays: 90}
	if id.Due(first, time.Now().Unix()) {
		t.Fatalf("a new identifier %q is malformed or already due", first)
	}
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.Click(chromedp.CSS(`[data-consent-reset="yq_aid"]`)))
	v.poll(`!document.cookie.includes("yq_aid=` + first + `")`)
	reset := v.cookies()["yq_aid"]
	if reset == first || id.Due(reset, time.Now().Unix()) {
		t.Errorf("reset gave %q (was %q)", reset, first)
	}
	// An identifier past its rotation is replaced on the next page.
	old := consent.IdentifierValue("q83vEjRWeJq83vEjRWeJqw", time.Now().Add(-91*24*time.Hour).Unix())
	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "yq_aid=` + old + `; Path=/"`))
	v.open("/")
	v.ready()
	// On that page: waited for in the page, since CDP reads cookies from the
	// browser's network service, which a page's write reaches a moment
	// later (read right after ready, it twice still held the old one).
	v.poll(`!document.cookie.includes("yq_aid=` + old + `")`)
	if got := v.cookies()["yq_aid"]; got == old || id.Due(got, time.Now().Unix()) {
		var warned []string
		for len(v.warnings) > 0 {
			warned = append(warned, <-v.warnings)
		}
		t.Errorf("a 91-day-old identifier was not replaced: %q\ncookies %v\nwritten %q\nwarnings %q", got, v.cookies(),
			eval[string](v, `localStorage.getItem("consent.written") || ""`), warned)
	}
	// Withdrawal deletes it.
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.Click(chromedp.CSS(`#cm-cat-analytics`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="save"]`)))
	v.poll(`!document.cookie.includes("yq_aid=")`)
	v.noProblems()
}

// Refusal also deletes IndexedDB databases and Cache Storage caches, and a
// cookie a script re-creates is removed again without a reload.
func TestRefusalClearsDatabasesAndRecreatedCookies(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.waitConsentCookie()
	eval[bool](v, `new Promise(ok => { const r = indexedDB.open("yq-analytics"); r.onsuccess = () => { r.result.close(); ok(true) } })`)
	eval[bool](v, `caches.open("yq-ui-v1").then(() => true)`)
	v.do(chromedp.Click(chromedp.CSS(`footer [data-consent-action="open-preferences"]`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-action="reject-all"]`)))
	v.poll(`indexedDB.databases().then(l => !l.some(d => d.name === "yq-analytics"))`)
	v.poll(`caches.keys().then(k => !k.includes("yq-ui-v1"))`)

	v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "_ga=GA1.1.back; Path=/"`))
	v.poll(`!document.cookie.includes("_ga=")`)
	v.noProblems()
}

// One consent across the official site and the web client on sibling
// subdomains: the consent cookie's configured domain covers both, choices
// and acknowledgements alike.
func TestConsentAcrossSubdomains(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	// Once the server has acknowledged the choice it vouches for the cookie
	// (until then another subdomain would ask again).
	v.poll(`/consent=[^;]*~[\w-]{86}(;|$)/.test(document.cookie)`)
	on := eval[string](v, `window.consent.state().id`)
	v.do(chromedp.Navigate(strings.Replace(siteURL, "www.", "app.", 1) + "/app/"))
	v.ready()
	if n := eval[int](v, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Error("the web client asks again")
	}
	if got := eval[string](v, `window.consent.state().id`); got != on {
		t.Errorf("the web client sees consent %q, the site %q", got, on)
	}
	v.noProblems()

	// A new policy version acknowledged in the web client is acknowledged
	// on the site too.
	w := newVisitor(t)
	w.do(chromedp.Navigate(siteURL + "/healthz"))
	w.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=` + vouched(t, "1~"+newConsentID()+"~2022-01-01~analytics~1767225600~1767225600") + `; Path=/; Domain=workly.ai"`))
	w.do(chromedp.Navigate(strings.Replace(siteURL, "www.", "app.", 1) + "/app/"))
	w.ready()
	w.do(chromedp.Click(chromedp.CSS(`dialog[data-consent-notice="material"] [data-consent-action="acknowledge"]`)))
	w.poll(`window.consent.state().current`)
	// The site believes it once the server has vouched for it.
	w.poll(`/consent=1~[^;]*~2025-06-01~[^;]*~[\w-]{86}(;|$)/.test(document.cookie)`)
	w.do(chromedp.Navigate(siteURL + "/"))
	w.ready()
	if n := eval[int](w, `document.querySelectorAll("[data-consent-notice]").length`); n != 0 {
		t.Error("the site asks again for a version acknowledged in the web client")
	}
	if !eval[bool](w, `window.consent.state().current && window.consent.granted("analytics")`) {
		t.Errorf("on the site: %v", eval[any](w, `window.consent.state()`))
	}
	w.noProblems()
}

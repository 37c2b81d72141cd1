package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent/build/testsite"
	"workly.ai/consent/server/sqlite"
)

// hostsSite is the demo site built with the listener on ("discovery":
// true) and hosts declared: analytics stats.workly.ai and pixel.ads.workly.ai,
// marketing ads.workly.ai (pixel.ads.workly.ai is analytics': the longest
// match wins). Its cookie has no
// Domain, so other *.workly.ai hosts are third parties to it. It is served
// on 127.0.0.1 (a secure context: receipts need WebCrypto).
var hostsSite struct {
	once      sync.Once
	url, data string
	port      string
	err       error
}

func startHostsSite(t testing.TB) (url, data, port string) {
	t.Helper()
	hostsSite.once.Do(func() { hostsSite.url, hostsSite.data, hostsSite.err = buildHostsSite() })
	if hostsSite.err != nil {
		t.Fatal(hostsSite.err)
	}
	return hostsSite.url, hostsSite.data, hostsSite.url[strings.LastIndex(hostsSite.url, ":")+1:]
}

func buildHostsSite() (string, string, error) {
	dir, err := os.MkdirTemp("", "consent-hosts-")
	if err != nil {
		return "", "", err
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(root, "web"), dir).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("copy web: %v: %s", err, out)
	}
	file := filepath.Join(dir, "web", "site.json")
	data, err := os.ReadFile(file)
	if err != nil {
		return "", "", err
	}
	var site map[string]any
	if err := json.Unmarshal(data, &site); err != nil {
		return "", "", err
	}
	site["discovery"] = true
	delete(site["cookie"].(map[string]any), "domain")
	for _, c := range site["categories"].([]any) {
		c := c.(map[string]any)
		switch c["id"] {
		case "necessary":
			c["storage"] = append(c["storage"].([]any), map[string]any{"name": "consent.discovered", "provider": "亿洽",
				"purpose":  map[string]any{"zh-CN": "记住本浏览器今天已报告过未声明的名称", "en": "Remembers that this browser reported undeclared names today"},
				"lifetime": map[string]any{"zh-CN": "直到您清除", "en": "Until you clear it"}})
		case "analytics":
			c["hosts"] = []string{"stats.workly.ai", "pixel.ads.workly.ai"}
		case "marketing":
			c["hosts"] = []string{"ads.workly.ai"}
		}
	}
	if data, err = json.MarshalIndent(site, "", "  "); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", "", err
	}
	dist := filepath.Join(dir, "dist")
	build := exec.Command("go", "run", "./build", "-src", dir, "-out", dist)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build the site with hosts: %v\n%s", err, out)
	}
	dataDir := filepath.Join(dir, "data")
	_, addr, err := testsite.Start(consentd, dataDir, "127.0.0.1:0", "-assets", dist)
	return addr, dataDir, err
}

// hostsCSP is the demo's policy (scripts only from listed origins, no
// inline script, Trusted Types enforced) with the test's hosts allowed to be
// contacted, as a site that declares them would.
const hostsCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' http://*.workly.ai:*; style-src 'self'; " +
	"img-src 'self' data: http://*.workly.ai:*; connect-src 'self' http://*.workly.ai:* ws://*.workly.ai:*; " +
	"frame-src 'self' http://*.workly.ai:*; object-src 'none'; base-uri 'none'; " +
	"require-trusted-types-for 'script'; trusted-types consent"

// openHosts opens path of the hosts site, served as body under hostsCSP.
func (v *visitor) openHosts(path, body string) {
	v.t.Helper()
	url, _, _ := startHostsSite(v.t)
	v.serve(path, body, hostsCSP)
	v.do(chromedp.Navigate(url + path))
}

// After a withdrawal, the page's fetch, XMLHttpRequest, beacon, pixel and
// WebSocket to the refused category's hosts are stopped before the
// network, each host said once in the console, while the granted
// category's (a longer declared host under the refused one's) go through,
// and the module's receipts still arrive.
func TestBlockerStopsRefusedHosts(t *testing.T) {
	_, _, port := startHostsSite(t)
	v := newVisitor(t)
	v.openHosts("/blocker.html", `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>blocker</title>`+
		`<script src="/loader.js" defer></script><p>A page whose SDKs keep sending.</p></html>`)
	v.ready()
	list := v.requests()
	eval[any](v, `consent.acceptAll()`)
	eval[any](v, `consent.set({marketing: false})`)
	ads, stats, pixel := "http://ads.workly.ai:"+port, "http://stats.workly.ai:"+port, "http://pixel.ads.workly.ai:"+port
	got := eval[map[string]any](v, fmt.Sprintf(`(async () => {
		const ads = %q, stats = %q, out = {};
		out.fetchAds = await fetch(ads + "/f", {mode: "no-cors"}).then(() => "sent", e => String(e));
		// Spelt otherwise, the same host: parsed as the browser does.
		out.fetchAdsUpper = await fetch(ads.replace("ads.workly.ai", "ADS.Workly.AI.") + "/u", {mode: "no-cors"}).then(() => "sent", e => String(e));
		out.fetchAdsRelative = await fetch(ads.replace("http:", "") + "/r", {mode: "no-cors"}).then(() => "sent", e => String(e));
		out.fetchStats = await fetch(stats + "/f", {mode: "no-cors"}).then(() => "sent", e => String(e));
		out.beaconAds = navigator.sendBeacon(ads + "/b", "x");
		out.beaconStats = navigator.sendBeacon(stats + "/b", "x");
		new Image().src = ads + "/p.gif";
		new Image().src = stats + "/p.gif";
		new Image().src = %q + "/p.gif";
		document.createElement("img").setAttribute("src", ads + "/q.gif");
		out.xhrAds = await new Promise(ok => { const x = new XMLHttpRequest(); x.open("GET", ads + "/x");
			x.onerror = () => ok("error"); x.onload = () => ok("sent"); x.send(); });
		try { new WebSocket("ws://ads.workly.ai:" + %q + "/w"); out.wsAds = "opened" } catch (e) { out.wsAds = e.name }
		return out })()`, ads, stats, pixel, port))
	// (The server's answers are not for other origins to read: a fetch
	// that went out may still fail. Sent is what the network saw.)
	if got["fetchStats"] == "TypeError: consent: blocked" {
		t.Errorf("the granted category's fetch was blocked")
	}
	want := map[string]any{"fetchAds": "TypeError: consent: blocked", "fetchAdsUpper": "TypeError: consent: blocked",
		"fetchAdsRelative": "TypeError: consent: blocked", "beaconAds": false, "beaconStats": true,
		"xhrAds": "error", "wsAds": "SecurityError"}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %v, want %v", k, got[k], w)
		}
	}
	// The beacon and the pixels go out when the browser gets to them.
	var sent []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		sent = urls(list())
		if slices.Contains(sent, stats+"/f") && slices.Contains(sent, stats+"/b") && slices.Contains(sent, stats+"/p.gif") &&
			slices.Contains(sent, pixel+"/p.gif") || time.Now().After(deadline) {
			break
		}
	}
	for _, u := range []string{stats + "/f", stats + "/b", stats + "/p.gif", pixel + "/p.gif"} {
		if !slices.Contains(sent, u) {
			t.Errorf("the granted category's %s was not sent: %v", u, sent)
		}
	}
	for _, u := range sent {
		if strings.Contains(strings.ToLower(u), "//ads.workly.ai") || strings.HasPrefix(u, "ws://ads.") {
			t.Errorf("a refused category's request went out: %s", u)
		}
	}
	v.waitWarning("blocked requests to ads.workly.ai")
	for len(v.warnings) > 0 {
		if w := <-v.warnings; strings.Contains(w, "blocked requests to ads.workly.ai") {
			t.Errorf("said twice: %s", w)
		}
	}
	// The module's own: every receipt acknowledged (banner, choice, change).
	v.delivered(3)
	// Granting again lifts the block.
	eval[any](v, `consent.set({marketing: true})`)
	if r := eval[string](v, fmt.Sprintf(`fetch(%q, {mode: "no-cors"}).then(() => "sent", e => String(e))`, ads+"/again")); strings.Contains(r, "consent: blocked") {
		t.Errorf("after granting again: %s", r)
	}
	if sent := urls(list()); !slices.Contains(sent, ads+"/again") {
		t.Errorf("after granting again, not sent: %v", sent)
	}
	v.noProblems()
}

// counts is what the hosts site's server counted, "kind:name" → count.
func counts(t *testing.T, data string) map[string]int64 {
	t.Helper()
	d, err := sqlite.OpenDiscoveredReadOnly(filepath.Join(data, "discovered.db"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cs, err := d.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cs {
		out[string(c.Kind)+":"+c.Name] += c.Count
	}
	return out
}

// The listener posts what the page stores and contacts that site.json does
// not declare — names and hosts only — once, and not again that day; on
// the next day it reports again.
func TestListenerReportsOnceADay(t *testing.T) {
	_, data, port := startHostsSite(t)
	v := newVisitor(t)
	// What the site's scripts do, before the module starts.
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `
		if (!sessionStorage.getItem("undeclared.session")) {
			sessionStorage.setItem("undeclared.session", "SECRETVALUE");
			document.cookie = "tracker_id=SECRETVALUE; Path=/";
			document.cookie = "_ga=GA1.1.SECRET; Path=/"; // declared (analytics)
			localStorage.setItem("undeclared.key", "SECRETVALUE");
			indexedDB.open("undeclared-db");
		}`}); err != nil {
		t.Fatal(err)
	}
	body := `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>listener</title>` +
		`<script src="/loader.js" defer></script>` +
		`<script src="http://cdn.workly.ai:` + port + `/sdk.js" async></script>` +
		`<iframe src="http://player.workly.ai:` + port + `/embed"></iframe>` +
		`<img src="http://px.workly.ai:` + port + `/p.gif" alt="">` +
		`<p>A page that stores and sends more than it declares.</p></html>`
	v.openHosts("/listener.html", body)
	v.base, _, _ = startHostsSite(t)
	v.ready()
	eval[any](v, `fetch("http://api.workly.ai:`+port+`/x", {mode: "no-cors"}).catch(() => 0)`)
	eval[any](v, `fetch("http://stats.workly.ai:`+port+`/x", {mode: "no-cors"}).catch(() => 0)`) // analytics: refused
	v.poll(`!!localStorage.getItem("consent.discovered")`)
	want := map[string]int64{"cookie:tracker_id": 1, "localStorage:undeclared.key": 1, "sessionStorage:undeclared.session": 1, "indexedDB:undeclared-db": 1,
		"script-host:cdn.workly.ai": 1, "iframe-host:player.workly.ai": 1, "request-host:px.workly.ai": 1,
		"request-host:api.workly.ai": 1, "blocked-host:stats.workly.ai": 1}
	got := waitCounts(t, data, len(want))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counted %v\nwant %v", got, want)
	}
	for k := range got {
		if strings.Contains(k, "SECRET") {
			t.Errorf("a value reached the server: %s", k)
		}
	}

	// The same day: nothing more, though a report would be due by now.
	v.open("/")
	v.ready()
	eval[any](v, `document.cookie = "later_id=1; Path=/"`)
	v.poll(`performance.now() > 5500`)
	eval[any](v, `document.cookie = "_ga=1; Path=/"`) // a sweep: the core clears it, refused
	v.poll(`!document.cookie.includes("_ga=")`)
	if again := counts(t, data); fmt.Sprint(again) != fmt.Sprint(want) {
		t.Errorf("reported again the same day: %v", again)
	}

	// The next day, by the page's clock: reported again.
	v.clock(time.Now().Add(24 * time.Hour))
	v.open("/")
	v.ready()
	v.poll(`localStorage.getItem("consent.discovered") > "` + time.Now().UTC().Format(time.DateOnly) + `"`)
	waitCounts(t, data, len(want)+1) // later_id now
	v.noProblems()
}

// waitCounts waits until the server has counted n names or more.
func waitCounts(t *testing.T, data string, n int) map[string]int64 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := counts(t, data)
		if len(c) >= n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s the server counted %v, want %d names", c, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The blocker's cost per request on the main thread: XMLHttpRequest's open
// wrapped (the check every wrapped API makes: the URL parsed, its host
// matched against the lists) beside the browser's own, from a fresh
// realm, on the hosts site with nothing granted. go test -run '^$' -bench
// Blocker ./build/e2e; the README quotes it.
func BenchmarkBlockerPerRequest(b *testing.B) {
	url, _, _ := startHostsSite(b)
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url+"/")); err != nil {
		b.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`consent.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
		b.Fatal(err)
	}
	const measure = `(() => {
		const f = document.createElement("iframe");
		document.body.append(f);
		const own = f.contentWindow.XMLHttpRequest.prototype.open, wrapped = XMLHttpRequest.prototype.open;
		if (own === wrapped) throw new Error("open is not wrapped");
		const x = new XMLHttpRequest(), n = 20000;
		const time = (open, u) => { const t = performance.now(); for (let i = 0; i < n; i++) open.call(x, "GET", u); return (performance.now() - t) / n * 1e6; };
		const u = "http://api.workly.ai:8080/collect?v=1", blocked = "http://ads.workly.ai:8080/collect";
		time(own, u); time(wrapped, u);
		return [time(own, u), time(wrapped, u), time(wrapped, blocked)];
	})()`
	var own, wrapped, blocked float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ns, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](measure))
		if err != nil {
			b.Fatal(err)
		}
		own, wrapped, blocked = own+ns[0], wrapped+ns[1], blocked+ns[2]
	}
	n := float64(b.N)
	b.ReportMetric(own/n, "ns/open")
	b.ReportMetric((wrapped-own)/n, "ns-added/request")
	b.ReportMetric(blocked/n, "ns/blocked-open")
}

// Gated content from an origin its category does not declare is refused
// (the console says so) and counted: its host reaches the listener's
// report, as refused-host.
func TestRefusedSourceReported(t *testing.T) {
	_, data, _ := startHostsSite(t)
	v := newVisitor(t)
	body := `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>refused</title>` +
		`<script src="/loader.js" defer></script>` +
		`<script type="text/plain" data-consent="analytics" src="https://cdn.undeclared-sdk.cn/sdk.js"></script>` +
		`<p>A gated script from an origin analytics does not declare.</p></html>`
	v.openHosts("/refused.html", body)
	v.ready()
	v.do(chromedp.Evaluate[chromedp.Void](`consent.acceptAll()`))
	v.waitWarning("is not a source of analytics")
	deadline := time.Now().Add(20 * time.Second)
	for counts(t, data)["refused-host:cdn.undeclared-sdk.cn"] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the refused source was not reported: %v", counts(t, data))
		}
		time.Sleep(200 * time.Millisecond)
	}
	v.noProblems()
}

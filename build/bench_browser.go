package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	consenthttp "workly.ai/consent/server/http"
)

// benchPage is one consent manager on the bench page.
type benchPage struct {
	Name   string
	Path   string
	Banner string // CSS selector of its first-visit banner
	Accept string // CSS selector of its "accept all" control ("": no choice to make)
	// Scripts matches the URLs of the manager's own scripts (a JavaScript
	// regular expression): their time on the main thread is the manager's.
	Scripts string
}

var benchPages = []benchPage{
	{"this module", "/bench/ours.html", `[data-consent-notice="banner"]`, `[data-consent-action="accept-all"]`, `/(loader|executor)[\w.-]*\.js`},
	{"vanilla-cookieconsent 3.1", "/bench/vcc.html", `#cc-main .cm`, `#cc-main .cm [data-role="all"]`, `cookieconsent|vcc-config`},
	{"Klaro 0.7", "/bench/klaro.html", `.klaro .cookie-notice`, `.klaro .cookie-notice .cm-btn-success`, `klaro`},
	// The same page without a consent manager: its "banner" is its content,
	// and its long tasks are the page's own, the baseline of the others'.
	{"no consent manager", "/bench/none.html", `main`, "", ""},
}

// benchProfile is a device: its network and CPU.
type benchProfile struct {
	Name       string
	LatencyMS  float64 // added round trip
	Throughput float64 // download bytes/s, 0 for unthrottled
	CPU        float64 // slowdown factor
}

var benchProfiles = []benchProfile{
	{Name: "desktop", CPU: 1},
	{Name: "mobile", LatencyMS: 150, Throughput: 1.6e6 / 8, CPU: 4},
}

// probe runs in the page before anything else: it records when the banner
// first has a box (performance.now(), from navigation start), the layout
// shift, the long tasks, and, for each long animation frame (over 50 ms),
// how long the manager's own scripts ran in it (their entries' durations,
// forced style and layout included: what the manager caused; the frame's
// own rendering is the page's); and when a gated script ran (granted.js sets
// __grantedAt).
const probe = `(() => {
  const t = window.__bench = { cls: 0, long: [], own: [] }, mine = %[1]q ? new RegExp(%[1]q) : null;
  new PerformanceObserver(l => { for (const e of l.getEntries()) if (!e.hadRecentInput) t.cls += e.value; })
    .observe({ type: "layout-shift", buffered: true });
  new PerformanceObserver(l => { for (const e of l.getEntries()) t.long.push(e.duration); })
    .observe({ type: "longtask", buffered: true });
  new PerformanceObserver(l => {
    for (const e of l.getEntries()) {
      let own = 0;
      for (const s of e.scripts) if (mine && mine.test(s.sourceURL)) own += s.duration;
      t.own.push(own);
    }
  }).observe({ type: "long-animation-frame", buffered: true });
  const check = () => {
    const el = document.querySelector(%[2]q);
    if (el) {
      const r = el.getBoundingClientRect(), s = getComputedStyle(el);
      if (r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none") { t.banner = performance.now(); return; }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`

// bytesBefore sums what the page received up to a moment (ms), the document
// included: the bytes on the critical path when the moment is the banner.
const bytesBefore = `((until) => {
  const nav = performance.getEntriesByType("navigation")[0];
  let n = nav ? nav.transferSize : 0;
  for (const e of performance.getEntriesByType("resource")) if (e.responseEnd <= until) n += e.transferSize;
  return n;
})`

// sample is one page load.
type sample struct {
	Banner, Ready, Granted float64 // ms
	Critical, Total        float64 // bytes
	CLS                    float64
	// Longest main-thread task (ms; long tasks are over 50 ms) while the
	// page loaded, and after the choice (first visits only).
	Longest, LongestChoice float64
	// Own, OwnChoice: the most the manager's own scripts ran in one long
	// animation frame, at the same moments.
	Own, OwnChoice float64
}

// longest reads and resets the longest task the probe saw; own the most
// the manager's scripts took of one long frame.
const (
	longest = `(() => { const l = window.__bench.long; window.__bench.long = []; return Math.max(0, ...l); })()`
	own     = `(() => { const l = window.__bench.own; window.__bench.own = []; return Math.max(0, ...l); })()`
)

// worst reads the longest task and the manager's most in one long frame.
func worst(ctx context.Context, longestTask, ownInFrame *float64) error {
	var err error
	if *longestTask, err = chromedp.Run(ctx, chromedp.Evaluate[float64](longest)); err != nil {
		return err
	}
	*ownInFrame, err = chromedp.Run(ctx, chromedp.Evaluate[float64](own))
	return err
}

func benchBrowser(site string, runs int, r *benchReport) error {
	h, err := consenthttp.Static(os.DirFS(site))
	if err != nil {
		return err
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath("chromium"), chromedp.NoSandbox,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-quic", true),
			chromedp.WindowSize(412, 915))...)
	defer cancel()
	browser, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(browser, chromedp.Navigate("about:blank")); err != nil {
		return fmt.Errorf("start chromium: %w", err)
	}
	for _, prof := range benchProfiles {
		for _, p := range benchPages {
			var first, back []sample
			for i := 0; i < runs; i++ {
				s, err := loadOnce(browser, srv.URL, p, prof, i == 0)
				if err != nil {
					return fmt.Errorf("%s, %s: %w", p.Name, prof.Name, err)
				}
				first = append(first, s[0])
				if p.Accept != "" {
					back = append(back, s[1])
				}
			}
			r.add(prof.Name, p.Name, first, back)
			fmt.Printf("   %-8s %-27s banner %s\n", prof.Name, p.Name, spread(first, func(s sample) float64 { return s.Banner }, "ms"))
		}
	}
	return nil
}

// loadOnce loads p cold in a fresh profile as a first-time visitor, accepts
// all, then loads it again as a returning visitor. It returns both samples.
func loadOnce(browser context.Context, base string, p benchPage, prof benchProfile, screenshot bool) ([2]sample, error) {
	var out [2]sample
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return out, err
	}
	throughput := prof.Throughput
	if throughput == 0 {
		throughput = -1
	}
	steps := []func() error{
		func() error {
			_, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true})
			return err
		},
		func() error {
			_, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{Latency: prof.LatencyMS, DownloadThroughput: throughput, UploadThroughput: throughput}},
			})
			return err
		},
		func() error {
			_, err := chromedp.Call(ctx, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: prof.CPU})
			return err
		},
		func() error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fmt.Sprintf(probe, p.Scripts, p.Banner)})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return out, err
		}
	}
	measure := func(expr string) (float64, error) {
		return chromedp.Run(ctx, chromedp.Poll[float64](expr, chromedp.WithPollingTimeout(90*time.Second)))
	}
	// First visit.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+p.Path)); err != nil {
		return out, err
	}
	banner, err := measure(`window.__bench.banner`)
	if err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(
			`(() => { const e = document.querySelector(%q); return e ? JSON.stringify([e.getBoundingClientRect(), getComputedStyle(e).visibility, getComputedStyle(e).display]) : "absent; scripts: " + [...document.scripts].map(s => s.src + ":" + s.type).join(", ") + "; CookieConsent " + typeof window.CookieConsent })()`, p.Banner)))
		return out, fmt.Errorf("no banner (%s): %w", state, err)
	}
	out[0].Banner = banner
	if out[0].Critical, err = chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf("%s(%f)", bytesBefore, banner))); err != nil {
		return out, err
	}
	if p.Path == benchPages[0].Path {
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.consent.ready.then(() => performance.now())`, chromedp.EvalAwaitPromise))
		if err != nil {
			return out, err
		}
		out[0].Ready = ready
	}
	time.Sleep(time.Second) // let late shifts and requests land
	if out[0].Total, err = chromedp.Run(ctx, chromedp.Evaluate[float64](bytesBefore+"(Infinity)")); err != nil {
		return out, err
	}
	if out[0].CLS, err = chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__bench.cls`)); err != nil {
		return out, err
	}
	if err := worst(ctx, &out[0].Longest, &out[0].Own); err != nil {
		return out, err
	}
	if p.Accept == "" {
		return out, nil
	}
	// Accept all, wait until the choice is stored, then come back.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(p.Accept))); err != nil {
		return out, fmt.Errorf("accept all: %w", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.cookie.length > 0 || localStorage.length > 0`)); err != nil {
		return out, fmt.Errorf("the choice was not stored: %w", err)
	}
	time.Sleep(500 * time.Millisecond) // the rest of the choice's work (clearing, receipts)
	if err := worst(ctx, &out[0].LongestChoice, &out[0].OwnChoice); err != nil {
		return out, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+p.Path)); err != nil {
		return out, err
	}
	if out[1].Granted, err = measure(`window.__grantedAt`); err != nil {
		return out, fmt.Errorf("the granted script did not run: %w", err)
	}
	if p.Path == benchPages[0].Path {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.consent.ready.then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			return out, err
		}
	}
	time.Sleep(time.Second) // the module's start after ready
	if err := worst(ctx, &out[1].Longest, &out[1].Own); err != nil {
		return out, err
	}
	return out, nil
}

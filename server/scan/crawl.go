package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// Options configure a scan.
type Options struct {
	// Pages is how many pages of each site are visited in each phase: the
	// start URL, then same-site links in the order found. Default 10.
	Pages int
	// Chromium is the browser to run; default the first of chromium,
	// chromium-browser and google-chrome found in PATH.
	Chromium string
	// HostRules are Chromium's host-resolver-rules, to scan a staging
	// server under the production names ("MAP *.example.com 127.0.0.1").
	HostRules string
	// Quiet is how long the network must be idle before a page counts as
	// settled (at most PageTimeout after it loaded). Default 500 ms.
	Quiet time.Duration
	// PageTimeout bounds each page's load and settling. Default 30 s.
	PageTimeout time.Duration
	// Progress receives a line per page visited; nil for none.
	Progress io.Writer
}

func (o *Options) defaults() {
	if o.Pages <= 0 {
		o.Pages = 10
	}
	if o.Quiet <= 0 {
		o.Quiet = 500 * time.Millisecond
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = 30 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// ErrNoChromium is returned when no Chromium is found.
var ErrNoChromium = errors.New("chromium not found: install it with apt-get install chromium (or give -chromium PATH)")

// Browser is one headless Chromium that scans share; each phase runs in a
// browser context of its own (a fresh profile).
type Browser struct {
	ctx    context.Context
	cancel func()
	opts   Options
}

// NewBrowser starts Chromium. For http:// start URLs, their origins are
// treated as secure contexts, as they would be over HTTPS in production
// (WebCrypto and Cache Storage need one).
func NewBrowser(opts Options, startURLs []string) (*Browser, error) {
	opts.defaults()
	path := opts.Chromium
	if path == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return nil, ErrNoChromium
		}
	} else if _, err := exec.LookPath(path); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoChromium, err)
	}
	var insecure []string
	for _, u := range startURLs {
		if p, err := url.Parse(u); err == nil && p.Scheme == "http" {
			insecure = append(insecure, p.Scheme+"://"+p.Host)
		}
	}
	flags := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // scans run as root in CI containers
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		// Cross-site iframes in the page's process, so that their requests
		// are seen with the page's.
		chromedp.Flag("disable-site-isolation-trials", true),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,IsolateOrigins,site-per-process"),
		chromedp.WindowSize(1280, 800),
	)
	if opts.HostRules != "" {
		flags = append(flags, chromedp.Flag("host-resolver-rules", opts.HostRules))
	}
	if len(insecure) > 0 {
		flags = append(flags, chromedp.Flag("unsafely-treat-insecure-origin-as-secure", strings.Join(insecure, ",")))
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), flags...)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancelBrowser()
		cancelAlloc()
		return nil, fmt.Errorf("start chromium (%s): %w", path, err)
	}
	return &Browser{ctx: ctx, opts: opts, cancel: func() { cancelBrowser(); cancelAlloc() }}, nil
}

// Close stops the browser.
func (b *Browser) Close() { b.cancel() }

// Crawl visits start and up to Pages-1 same-site pages linked from it, in
// the three phases. cookieDomain (site.json's cookie.domain) widens "same
// site" from the start URL's host to that domain and its subdomains. A
// phase that cannot be completed (no control to click, a page that does
// not load) has its Problem set; the error is for a browser that failed.
func (b *Browser) Crawl(ctx context.Context, start, cookieDomain string) (Site, error) {
	u, err := url.Parse(start)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Site{}, fmt.Errorf("%q is not an http(s) URL", start)
	}
	u.Fragment = ""
	site := Site{URL: u.String()}
	pages := []string{u.String()}
	for _, ph := range Phases {
		v, err := b.visit(ctx, ph, &pages, ph == Before, u.Hostname(), cookieDomain)
		if err != nil {
			return site, err
		}
		site.Visits = append(site.Visits, v)
	}
	return site, nil
}

// visit runs one phase in a fresh browser context over *pages; with
// discover it adds same-site links as it goes, up to Pages.
func (b *Browser) visit(ctx context.Context, ph Phase, pages *[]string, discover bool, startHost, cookieDomain string) (Visit, error) {
	v := Visit{Phase: ph, Pages: []Page{}}
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext())
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := chromedp.Do(tab, chromedp.Navigate("about:blank")); err != nil {
		return v, fmt.Errorf("open a browser context: %w", err)
	}
	net := &netTracker{inflight: map[network.RequestID]time.Time{}}
	net.reset()
	if err := chromedp.Listen(tab, net.event); err != nil {
		return v, err
	}
	for i := 0; i < len(*pages) && i < b.opts.Pages; i++ {
		target := (*pages)[i]
		fmt.Fprintf(b.opts.Progress, "scan: %s: page %d: %s\n", ph, i+1, target)
		net.reset()
		pageCtx, cancelPage := context.WithTimeout(tab, b.opts.PageTimeout)
		err := chromedp.Do(pageCtx, chromedp.Navigate(target))
		if err == nil {
			err = b.settle(pageCtx, net)
		}
		if err == nil && i == 0 && ph != Before {
			err = b.choose(pageCtx, net, ph)
		}
		var p Page
		var links []string
		if err == nil {
			p, links, err = b.collect(pageCtx, target, net)
		}
		cancelPage()
		if ctx.Err() != nil {
			return v, ctx.Err()
		}
		if err != nil {
			v.Problem = fmt.Sprintf("%s: %v", target, err)
			return v, nil
		}
		v.Pages = append(v.Pages, p)
		if discover {
			for _, l := range links {
				lu, err := url.Parse(l)
				if err != nil || (lu.Scheme != "http" && lu.Scheme != "https") || !firstParty(lu.Hostname(), startHost, cookieDomain) {
					continue
				}
				lu.Fragment = ""
				if s := lu.String(); !slices.Contains(*pages, s) && len(*pages) < b.opts.Pages {
					*pages = append(*pages, s)
				}
			}
		}
	}
	return v, nil
}

var actionOf = map[Phase]string{Rejected: "reject-all", Accepted: "accept-all"}

// choose clicks the module's reject-all or accept-all control (the first
// visible one) once it is on the page, waits for the choice to be recorded (window.consent.state()
// no longer null, where the module's API is present), then for the page to
// settle again.
func (b *Browser) choose(ctx context.Context, net *netTracker, ph Phase) error {
	sel := `[data-consent-action="` + actionOf[ph] + `"]`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector('`+sel+`')`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		return fmt.Errorf("no %s on the page to click", sel)
	}
	// From here, the phase's first page records what is requested after
	// the choice; what was requested before it is the Before phase's to
	// report. Cookies and storage are read as they are once settled.
	net.reset()
	// A real (trusted) click on a visible control, as a person makes it:
	// the module ignores clicks that scripts fake.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		return fmt.Errorf("click %s: %w", sel, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!(window.consent && typeof window.consent.state === "function") || window.consent.state() !== null`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		return fmt.Errorf("clicked %s, but no choice was recorded", sel)
	}
	return b.settle(ctx, net)
}

// settle waits until the page's consent module (when present) is ready and
// no request has been in flight for Quiet.
func (b *Browser) settle(ctx context.Context, net *netTracker) error {
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.consent && window.consent.ready ? window.consent.ready.then(() => undefined, () => undefined) : undefined`,
		chromedp.EvalAwaitPromise)); err != nil {
		return fmt.Errorf("wait for the consent module: %w", err)
	}
	tick := time.NewTicker(b.opts.Quiet / 10)
	defer tick.Stop()
	for {
		if idle := net.idleFor(); idle >= b.opts.Quiet {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the network did not go quiet: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// collected is what the page's own script reports.
type collected struct {
	Local   []string `json:"local"`
	Session []string `json:"session"`
	IDB     []string `json:"idb"`
	Caches  []string `json:"caches"`
	Workers []string `json:"workers"`
	Links   []string `json:"links"`
}

const collectJS = `(async () => {
  const out = {local: [], session: [], idb: [], caches: [], workers: [], links: []};
  try { out.local = Object.keys(localStorage); } catch (e) {}
  try { out.session = Object.keys(sessionStorage); } catch (e) {}
  try { if (indexedDB.databases) out.idb = (await indexedDB.databases()).map(d => d.name); } catch (e) {}
  try { if (self.caches) out.caches = await caches.keys(); } catch (e) {}
  try {
    if (navigator.serviceWorker) out.workers = (await navigator.serviceWorker.getRegistrations())
      .map(r => (r.active || r.waiting || r.installing || {}).scriptURL || r.scope);
  } catch (e) {}
  out.links = Array.from(document.querySelectorAll("a[href]"), a => a.href);
  return out;
})()`

// collect records what the page holds: every cookie of the browser context
// (any domain), the page origin's storage keys, databases, caches and
// service workers, and the hosts requested since it began loading.
func (b *Browser) collect(ctx context.Context, pageURL string, net *netTracker) (Page, []string, error) {
	c, err := chromedp.Run(ctx, chromedp.Evaluate[collected](collectJS, chromedp.EvalAwaitPromise))
	if err != nil {
		return Page{}, nil, fmt.Errorf("read the page's storage: %w", err)
	}
	res, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: chromedp.FromContext(ctx).BrowserContextID})
	if err != nil {
		return Page{}, nil, fmt.Errorf("read cookies: %w", err)
	}
	p := Page{URL: pageURL, Time: float64(time.Now().UnixMilli()) / 1000, LocalStorage: c.Local, SessionStorage: c.Session,
		IndexedDB: c.IDB, Caches: c.Caches, ServiceWorkers: c.Workers, Hosts: net.seen()}
	for _, ck := range res.Cookies {
		expires := ck.Expires
		if ck.Session {
			expires = -1
		}
		p.Cookies = append(p.Cookies, CookieSeen{Name: ck.Name, Domain: ck.Domain, Path: ck.Path, Expires: expires,
			Secure: ck.Secure, HTTPOnly: ck.HTTPOnly, SameSite: string(ck.SameSite)})
	}
	return p, c.Links, nil
}

// netTracker follows a tab's requests: which are in flight, when the last
// one started or ended, and every host requested (a request the browser
// blocked before sending it, such as one the page's CSP forbids, does not
// count).
type netTracker struct {
	mu       sync.Mutex
	inflight map[network.RequestID]time.Time // when each request started
	last     time.Time
	hosts    map[string]int // requests per host since reset, less those the browser blocked
	hostOf   map[network.RequestID]string
}

func (n *netTracker) event(ev any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		n.inflight[e.RequestID] = time.Now()
		if e.RedirectResponse == nil { // a redirect's next hop comes with the same id
			if h := hostOf(e.Request.URL); h != "" {
				n.hosts[h]++
				n.hostOf[e.RequestID] = h
			}
		} else if h := hostOf(e.Request.URL); h != "" {
			n.hosts[h]++
		}
	case *network.EventLoadingFinished:
		delete(n.inflight, e.RequestID)
	case *network.EventLoadingFailed:
		delete(n.inflight, e.RequestID)
		// Blocked by the browser (CSP, mixed content, …): it never left.
		if h := n.hostOf[e.RequestID]; e.BlockedReason != "" && h != "" {
			if n.hosts[h]--; n.hosts[h] <= 0 {
				delete(n.hosts, h)
			}
		}
	case *network.EventWebSocketCreated:
		if h := hostOf(e.URL); h != "" {
			n.hosts[h]++
		}
	default:
		return
	}
	n.last = time.Now()
}

// hostOf returns the host of a network URL, "" for data:, blob: and the like.
func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Hostname() != "" &&
		(u.Scheme == "http" || u.Scheme == "https" || u.Scheme == "ws" || u.Scheme == "wss") {
		return strings.ToLower(u.Hostname())
	}
	return ""
}

// reset forgets the hosts seen and counts the network as busy from now.
func (n *netTracker) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.hosts = map[string]int{}
	n.hostOf = map[network.RequestID]string{}
	n.last = time.Now()
}

// longPoll is how long a request may stay in flight before it no longer
// keeps the page from settling (a long poll, a stream).
const longPoll = 5 * time.Second

// idleFor returns how long no request has started or ended (0 while one
// started less than longPoll ago is in flight).
func (n *netTracker) idleFor() time.Duration {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, started := range n.inflight {
		if time.Since(started) < longPoll {
			return 0
		}
	}
	return time.Since(n.last)
}

func (n *netTracker) seen() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]string, 0, len(n.hosts))
	for h := range n.hosts {
		out = append(out, h)
	}
	slices.Sort(out)
	return out
}

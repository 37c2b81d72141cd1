// Package e2e tests the whole module as a visitor meets it: the site built by
// go run ./build, served by the real consentd binary, driven in headless
// Chromium. It needs Debian's chromium (go run ./build test installs it).
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"workly.ai/consent/build/testsite"
	"workly.ai/consent/server/cookiekey"
)

var update = flag.Bool("update", false, "rewrite the screenshots in testdata/screenshots")

var (
	root     string          // the module root
	baseURL  string          // the running server
	siteURL  string          // the same server as http://www.workly.ai:PORT
	browser  context.Context // one Chromium for the whole package
	consentd string          // the server binary
	dataDir  string          // the running server's data directory
)

func TestMain(m *testing.M) {
	flag.Parse()
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
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
	if _, err := exec.LookPath("chromium"); err != nil {
		return 0, fmt.Errorf("chromium not found; install it with: sudo apt-get install -y chromium (go run ./build test does)")
	}
	tmp, err := os.MkdirTemp("", "consent-e2e-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	// Build the site and the server exactly as a user does.
	bin, err := testsite.Build(root, tmp)
	if err != nil {
		return 0, err
	}
	consentd, dataDir = bin, filepath.Join(tmp, "data")
	srv, addr, err := testsite.Start(bin, dataDir, "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}()
	baseURL = addr
	siteURL = strings.Replace(addr, "127.0.0.1", "www.workly.ai", 1)

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath("chromium"),
			chromedp.NoSandbox, // tests run as root in CI
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("lang", "zh-CN"),
			// Names on a real domain with subdomains, all on the test server.
			chromedp.Flag("host-resolver-rules", "MAP *.workly.ai 127.0.0.1"),
			// As if those names were served over HTTPS, as they are in
			// production: WebCrypto (which links receipts) needs a secure
			// context. 127.0.0.1 is one already.
			chromedp.Flag("unsafely-treat-insecure-origin-as-secure",
				siteURL+","+strings.Replace(siteURL, "//www.", "//app.", 1)),
			// A camera and microphone that exist, and a browser prompt
			// that answers yes by itself: the module's pre-prompt is what
			// the tests look at.
			chromedp.Flag("use-fake-device-for-media-stream", true),
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.WindowSize(1280, 800),
			chromedp.UserDataDir(filepath.Join(tmp, "chromium")),
		)...)
	defer cancelAlloc()
	b, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	if err := chromedp.Do(b, chromedp.Navigate("about:blank")); err != nil {
		return 0, fmt.Errorf("start chromium: %w", err)
	}
	browser = b
	return m.Run(), nil
}

// visitor is one person: a fresh browser profile (no cookies, no storage) in
// its own tab, with its console and network recorded.
type visitor struct {
	t        *testing.T
	ctx      context.Context
	problems chan string // console errors and uncaught exceptions
	warnings chan string // console warnings
	// consentID is the consent id acked wrote into the cookie: each
	// visitor's own (a consent belongs to the browser that made it).
	consentID string
	// base is the server open navigates on; "" for baseURL.
	base string
	// clockID is the script that sets the page's clock (clock), if any.
	clockID page.ScriptIdentifier
}

// newConsentID is a fresh consent id, as the module makes one.
func newConsentID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newVisitor(t *testing.T) *visitor {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	return watch(t, ctx)
}

// tab is another tab of the same person: a new target in v's browser
// context (its cookies and storage), with its console and network recorded.
func (v *visitor) tab() *visitor {
	v.t.Helper()
	ctx, cancel := chromedp.NewContext(v.ctx)
	v.t.Cleanup(cancel)
	return watch(v.t, ctx)
}

// watch opens about:blank in the tab of ctx and records its console.
func watch(t *testing.T, ctx context.Context) *visitor {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	v := &visitor{t: t, ctx: ctx, problems: make(chan string, 100), warnings: make(chan string, 100)}
	console := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	go func() {
		for ev, err := range console {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			switch ev.Type {
			case runtime.ConsoleAPICalledTypeError:
				v.report("console.error: " + strings.Join(parts, " "))
			case runtime.ConsoleAPICalledTypeWarning:
				select {
				case v.warnings <- strings.Join(parts, " "):
				default:
				}
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			msg := ev.ExceptionDetails.Text
			if ev.ExceptionDetails.Exception != nil {
				msg += " " + ev.ExceptionDetails.Exception.Description
			}
			v.report("uncaught: " + msg)
		}
	}()
	return v
}

func (v *visitor) report(msg string) {
	select {
	case v.problems <- msg:
	default:
	}
}

// noProblems fails the test if the page logged an error or threw.
func (v *visitor) noProblems() {
	v.t.Helper()
	for {
		select {
		case p := <-v.problems:
			v.t.Errorf("page problem: %s", p)
		default:
			return
		}
	}
}

// waitWarning waits for a console warning containing text.
func (v *visitor) waitWarning(text string) {
	v.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case w := <-v.warnings:
			if strings.Contains(w, text) {
				return
			}
		case <-timeout:
			v.t.Fatalf("no console warning about %q", text)
		}
	}
}

// expectModuleBlocked drops the one console error a blocked module causes.
func (v *visitor) expectModuleBlocked() {
	for {
		select {
		case p := <-v.problems:
			if !strings.Contains(p, "module failed to load") {
				v.t.Errorf("page problem: %s", p)
			}
		default:
			return
		}
	}
}

// do runs actions, failing the test on error.
func (v *visitor) do(actions ...chromedp.Action[chromedp.Void]) {
	v.t.Helper()
	if err := chromedp.Do(v.ctx, actions...); err != nil {
		v.t.Fatal(err)
	}
}

// eval evaluates a JS expression, awaiting a promise, and decodes its value.
func eval[T any](v *visitor, expr string) T {
	v.t.Helper()
	out, err := chromedp.Run(v.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		v.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return out
}

// poll waits until a JS expression is truthy.
func (v *visitor) poll(expr string) {
	v.t.Helper()
	_, err := chromedp.Run(v.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil && strings.Contains(err.Error(), "Cannot find context with specified id") {
		// The page's execution context was replaced under the poll (seen
		// once right after a navigation): poll again in the new one.
		_, err = chromedp.Run(v.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second)))
	}
	if err != nil {
		v.t.Fatalf("waiting for %s: %v", expr, err)
	}
}

// open navigates to path on the server and waits for the load event of
// the new document: what runs next runs in it. (Navigate can return while
// the page it leaves still answers, seen with a navigation to the same URL:
// consent.ready then was the old page's, already resolved.)
func (v *visitor) open(path string) {
	v.t.Helper()
	base := baseURL
	if v.base != "" {
		base = v.base
	}
	before, err := chromedp.Run(v.ctx, chromedp.Evaluate[float64](`performance.timeOrigin`))
	v.do(chromedp.Navigate(base + path))
	if err == nil {
		v.poll(fmt.Sprintf(`performance.timeOrigin > %f && document.readyState == "complete"`, before))
	}
}

// ready waits until the wasm module has loaded and resolved consent.ready.
func (v *visitor) ready() {
	v.t.Helper()
	eval[chromedp.Void](v, `window.consent.ready.then(() => true)`)
}

// blockWasm makes every .wasm request fail, so only the loader runs.
func (v *visitor) blockWasm(block bool) { v.block("*://*:*/*.wasm", block) }

// block blocks requests matching the URL pattern, or stops blocking them.
func (v *visitor) block(pattern string, block bool) {
	v.t.Helper()
	patterns := []*network.BlockPattern{}
	if block {
		patterns = append(patterns, &network.BlockPattern{URLPattern: pattern, Block: true})
	}
	if _, err := chromedp.Call(v.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: patterns}); err != nil {
		v.t.Fatal(err)
	}
}

// cookies returns the browser's cookies sent to the server's URL (baseURL
// unless another is given), by name.
func (v *visitor) cookies(url ...string) map[string]string {
	v.t.Helper()
	if len(url) == 0 {
		url = []string{baseURL + "/"}
	}
	res, err := chromedp.Call(v.ctx, network.GetCookies, network.GetCookiesParams{URLs: url})
	if err != nil {
		v.t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Cookies {
		out[c.Name] = c.Value
	}
	return out
}

// readmeScreenshots are the screenshots of the lists and the console that the
// README shows (look and the console's test save them with screenshot); they
// save the others with saveCached.
var readmeScreenshots = map[string]bool{
	"list-policies-collected-light": true, "list-policies-sharing-dark-phone": true,
	"console-choices-light": true, "console-versions-dark": true, "console-person-light": true,
	"console-choices-dark-phone": true, "console-delivery-light": true,
}

// cacheScreenshot saves a PNG of the viewport under .cache/screenshots only.
func (v *visitor) cacheScreenshot(name string) {
	v.t.Helper()
	v.settle()
	png, err := chromedp.Run(v.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		v.t.Fatal(err)
	}
	v.saveCached(name, png)
}

// saveCached writes png as .cache/screenshots/NAME.png.
func (v *visitor) saveCached(name string, png []byte) {
	v.t.Helper()
	dir := filepath.Join(root, ".cache", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		v.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		v.t.Fatal(err)
	}
}

// screenshot saves a PNG of the viewport under .cache/screenshots, and with
// -update also under testdata/screenshots (the README shows those).
func (v *visitor) screenshot(name string) {
	v.t.Helper()
	v.settle()
	png, err := chromedp.Run(v.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		v.t.Fatal(err)
	}
	dirs := []string{filepath.Join(root, ".cache", "screenshots")}
	if *update {
		dirs = append(dirs, filepath.Join(root, "testdata", "screenshots"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			v.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			v.t.Fatal(err)
		}
	}
}

// vouched returns cookie value v (six fields) with the proof the server
// would give it, by the development cookie key consentd runs with: a
// returning visitor's cookie, as the server vouched for it.
func vouched(t *testing.T, v string) string {
	t.Helper()
	// Valid for 400 days: beyond the clocks the upcoming-version tests set.
	return vouchedFor(t, v, 400*24*time.Hour)
}

// vouchedFor is vouched with a proof valid for d from now.
func vouchedFor(t *testing.T, v string, d time.Duration) string {
	t.Helper()
	k, err := cookiekey.Load(cookiekey.Dev(root))
	if err != nil {
		t.Fatal(err)
	}
	out, err := k.Sign(v + "~" + strconv.FormatInt(time.Now().Add(d).Unix(), 10))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// serve answers the page's requests for path on the server with body as
// HTML under the Content-Security-Policy csp (instead of the server's), from
// now on.
func (v *visitor) serve(path, body, csp string) {
	v.t.Helper()
	if err := chromedp.Listen(v.ctx, func(ev any) {
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			go chromedp.Call(v.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "text/html; charset=utf-8"}, {Name: "Content-Security-Policy", Value: csp}},
				Body:            []byte(body)})
		}
	}); err != nil {
		v.t.Fatal(err)
	}
	if _, err := chromedp.Call(v.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*" + path}}}); err != nil {
		v.t.Fatal(err)
	}
}

package e2e

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// A newcomer's first visit: the pre-rendered banner is visible with its
// text, the page logs no error, the wasm arrives as application/wasm with
// brotli, and consent.ready resolves.
func TestFirstVisit(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"]`)))

	text, err := chromedp.Run(v.ctx, chromedp.Text(chromedp.CSS(`[data-consent-notice="banner"]`)))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"我们重视您的隐私", "全部接受", "全部拒绝", "偏好设置", "必要", "统计分析"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner text lacks %q:\n%s", want, text)
		}
	}
	state := eval[map[string]any](v, `window.consent.ready.then(s => ({ready: true, state: s}))`)
	if state["ready"] != true || state["state"] != nil {
		t.Errorf("consent.ready resolved to %v, want no consent (null)", state)
	}
	if _, ok := v.cookies()[consent.CookieName]; ok {
		t.Error("a consent cookie was set before any choice")
	}

	// The module runs in a dedicated worker, off the main thread.
	targets, err := chromedp.Call(v.ctx, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		t.Fatal(err)
	}
	workers := 0
	for _, ti := range targets.TargetInfos {
		if ti.Type == "worker" && strings.Contains(ti.URL, "/assets/worker.") {
			workers++
		}
	}
	if workers == 0 {
		t.Error("no dedicated worker runs the module")
	}
	// Its wasm arrives as application/wasm (instantiateStreaming needs it),
	// compressed with brotli.
	worker := fetchText(t, regexp.MustCompile(`assets/worker\.[0-9a-f]+\.js`).FindString(fetchText(t, "loader.js", nil)), nil)
	wasmName := regexp.MustCompile(`consent\.[0-9a-f]+\.wasm`).FindString(worker)
	h := http.Header{}
	fetchText(t, "assets/"+wasmName, h)
	if ct := h.Get("Content-Type"); ct != "application/wasm" {
		t.Errorf("wasm served as %q", ct)
	}
	if enc := h.Get("Content-Encoding"); enc != "br" {
		t.Errorf("wasm Content-Encoding %q, want br", enc)
	}
	v.screenshot("banner")
	v.noProblems()
}

// fetchText GETs path from the server as a browser would (brotli
// accepted), copies the response's headers into h if not nil, and returns
// the body as it came (undecoded).
func fetchText(t *testing.T, path string, h http.Header) string {
	t.Helper()
	req, err := http.NewRequest("GET", baseURL+"/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept-Encoding", "br, gzip")
	if h == nil {
		req.Header.Del("Accept-Encoding")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	for k, v := range resp.Header {
		if h != nil {
			h[k] = v
		}
	}
	return string(body)
}

func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// A newcomer's first visit: the pre-rendered banner is visible with its
// text, the page logs no error, the wasm arrives as application/wasm with
// brotli, and consent.ready resolves.
func TestFirstVisit(t *testing.T) {
	v := newVisitor(t)
	responses := chromedp.Events(v.ctx, network.ResponseReceived)
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

	var wasm *network.Response
	for ev, err := range responses {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(ev.Response.URL, ".wasm") {
			wasm = ev.Response
			break
		}
	}
	if wasm.MimeType != "application/wasm" {
		t.Errorf("wasm served as %q", wasm.MimeType)
	}
	if enc := headerValue(wasm.Headers, "Content-Encoding"); enc != "br" {
		t.Errorf("wasm Content-Encoding %q, want br", enc)
	}
	v.screenshot("banner")
	v.noProblems()
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

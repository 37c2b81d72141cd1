package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The two lists can be reached from the home page within four clicks, by
// following links a visitor sees (scripts off, so no link is added by the
// module), and the shortest path is walked again with real clicks.
func TestListsWithinFourClicks(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	targets := map[string]int{"/policies/collected": -1, "/policies/sharing": -1}
	depth := map[string]int{"/": 0}
	queue := []string{"/"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if d, ok := targets[p]; ok && d < 0 {
			targets[p] = depth[p]
		}
		if depth[p] == 4 {
			continue
		}
		v.open(p)
		links := eval[[]string](v, `[...document.querySelectorAll("a[href]")].filter(a => a.origin === location.origin && a.offsetParent !== null).map(a => a.pathname)`)
		for _, l := range links {
			if _, seen := depth[l]; !seen && !strings.HasSuffix(l, ".md") {
				depth[l] = depth[p] + 1
				queue = append(queue, l)
			}
		}
	}
	for p, d := range targets {
		if d < 0 {
			t.Errorf("%s is not reachable from / within four clicks", p)
		}
	}

	// The path a person takes: the footer's link to the archive, then the list.
	v.open("/")
	v.do(chromedp.Click(chromedp.CSS(`.site-footer a[href="/policies/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-consent-lists] a[href="/policies/collected"]`)),
		chromedp.Click(chromedp.CSS(`[data-consent-lists] a[href="/policies/collected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-consent-list="collected"]`)),
		chromedp.Click(chromedp.CSS(`.links a[href$="/sharing"]`)),
		chromedp.WaitVisible(chromedp.CSS(`main[data-consent-list="sharing"]`)))
}

// The lists need no JavaScript, are kept per policy version (HONOR Push
// only from 2024-03-01), come in both locales, and the manifest holds the
// SHA-256 of every rendering as served.
func TestListsPerVersion(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	for _, page := range []struct {
		path   string
		want   []string
		unwant string
	}{
		{"/policies/collected", []string{"已收集个人信息清单", "精准位置（GPS 当前位置）", "手机通讯录", "需单独同意", "15 日内答复"}, ""},
		{"/policies/sharing", []string{"com.heytap.msp", "com.xiaomi.push", "com.vivo.push", "com.igexin.push", "com.hihonor.push", "SDK 本机采集", "境外"}, ""},
		{"/policies/2022-01-01/sharing", []string{"com.igexin.push"}, "com.hihonor.push"},
		{"/policies/2024-03-01/sharing", []string{"本版本清单的变化", "新增第三方：荣耀推送（HONOR Push），荣耀终端有限公司"}, ""},
		{"/en/policies/sharing", []string{"Third parties we share information with", "Collected on your device by the SDK"}, ""},
		{"/en/policies/2025-06-01/collected", []string{"Personal information we collect", "within 15 days"}, ""},
		{"/policies/diff/2022-01-01/2025-06-01", []string{"两个清单的变化", "新增第三方：荣耀推送"}, ""},
		{"/policies/diff/2024-03-01/2025-06-01", []string{"没有变化"}, ""},
	} {
		v.open(page.path)
		text := eval[string](v, `document.body.innerText`)
		for _, w := range page.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s does not show %q", page.path, w)
			}
		}
		if page.unwant != "" && strings.Contains(text, page.unwant) {
			t.Errorf("%s shows %q", page.path, page.unwant)
		}
	}

	resp, err := http.Get(baseURL + "/v1/policies")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Versions []struct {
			ID    string `json:"id"`
			Lists []struct {
				Path, SHA256 string
			} `json:"lists"`
			ListChanges []struct{ Entry, Kind string } `json:"listChanges"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, ver := range m.Versions {
		if len(ver.Lists) != 4 {
			t.Errorf("version %s lists %d renderings, want 4 (two lists, two locales)", ver.ID, len(ver.Lists))
		}
		for _, l := range ver.Lists {
			r, err := http.Get(baseURL + l.Path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(r.Body)
			r.Body.Close()
			sum := sha256.Sum256(body)
			if r.StatusCode != 200 || hex.EncodeToString(sum[:]) != l.SHA256 {
				t.Errorf("%s: status %d, sha256 %x, manifest says %s", l.Path, r.StatusCode, sum, l.SHA256)
			}
			checked++
		}
		if ver.ID == "2024-03-01" && (len(ver.ListChanges) != 1 || ver.ListChanges[0].Entry != "honorpush" || ver.ListChanges[0].Kind != "recipients") {
			t.Errorf("2024-03-01's computed list changes: %+v", ver.ListChanges)
		}
	}
	if checked == 0 {
		t.Fatal("the manifest lists no list page")
	}
}

// Both lists pass axe-core in light and dark, at desktop and phone width;
// screenshots of each go to .cache/screenshots for a person to look at
// (with -update, one desktop and one phone view also to testdata/).
func TestListsAccessibility(t *testing.T) {
	src := axeSource(t)
	for _, scheme := range []string{"light", "dark"} {
		for _, width := range []int64{1280, 390} {
			v := newVisitor(t)
			if _, err := chromedp.Call(v.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			v.emulateScheme(scheme)
			opts := []chromedp.EmulateViewportOption{}
			if width < 500 {
				opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
			}
			v.do(chromedp.EmulateViewport(width, 900, opts...))
			for _, path := range []string{"/policies/collected", "/policies/sharing", "/en/policies/2024-03-01/sharing"} {
				v.open(path)
				v.ready()
				// The banner (on the first page only) is checked elsewhere, and
				// would cover the list.
				if eval[bool](v, `!!document.querySelector(".cm-banner")`) {
					v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="reject-all"]`)),
						chromedp.WaitNotPresent(chromedp.CSS(`.cm-banner`)))
				}
				v.axe(src, scheme+" "+path)
				if over := eval[int](v, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
					t.Errorf("%s at %d px: the page is %d px wider than the screen", path, width, over)
				}
				name := "list-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-") + "-" + scheme
				if width < 500 {
					name += "-phone"
				}
				v.look(name)
			}
			v.noProblems()
		}
	}
}

// look saves a full-page PNG under .cache/screenshots for a person to look
// at; for the views the README shows, the screen's worth (as v.screenshot
// does) also goes to testdata/screenshots with -update.
func (v *visitor) look(name string) {
	v.t.Helper()
	png, err := chromedp.Run(v.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		v.t.Fatal(err)
	}
	v.saveCached(name+"-full", png)
	if readmeScreenshots[name] {
		v.screenshot(name)
	}
}

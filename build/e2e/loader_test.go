package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
)

// The loader reads the consent cookie exactly as the Go codec does: every
// vector of testdata/cookie-vectors.json, stored in the browser's real cookie
// jar, is read by the loader alone (the module is blocked) and compared with
// DecodeCookie of the value the browser actually holds.
func TestLoaderReadsCookieVectors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(root, "testdata", "cookie-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name, Value string
			Valid       bool
		}
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t)
	v.blockWasm(true)
	v.open("/healthz") // same origin, no loader
	type loaderState struct {
		ID      string   `json:"id"`
		Policy  string   `json:"policy"`
		Granted []string `json:"granted"`
		Given   int64    `json:"given"`
		Updated int64    `json:"updated"`
	}
	for _, vec := range file.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			// A valid value as the server vouches for it (the state() of an
			// unvouched cookie is null): its six fields as written, with a
			// fresh proof by the build's key in place of the vector's.
			if _, err := consent.DecodeCookie(vec.Value); err == nil {
				vec.Value = vouched(t, strings.Join(strings.Split(vec.Value, "~")[:6], "~"))
			}
			raw, _ := json.Marshal("consent=" + vec.Value + "; Path=/")
			v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = ` + string(raw)))
			v.open("/")
			stored := eval[string](v, `(document.cookie.split("; ").find(c => c.startsWith("consent=")) || "consent=").slice(8)`)
			if stored != vec.Value {
				t.Logf("the browser stored %q for %q", stored, vec.Value)
			}
			got := eval[*loaderState](v, `window.consent.state()`)
			want, err := consent.DecodeCookie(stored)
			if err == nil && want.Proof == "" {
				err = errors.New("no proof, so the loader believes none of it") // the browser trimmed it
			}
			switch {
			case err != nil && got != nil:
				t.Errorf("loader accepted %q as %+v; Go refuses it: %v", stored, got, err)
			case err == nil && got == nil:
				t.Errorf("loader refused %q; Go reads %+v", stored, want)
			case err == nil:
				if got.ID != want.ID || got.Policy != want.Policy || !slices.Equal(got.Granted, nonNil(want.Granted)) ||
					got.Given != want.Given.Unix() || got.Updated != want.Updated.Unix() {
					t.Errorf("loader read %q as %+v; Go as %+v", stored, got, want)
				}
			}
			if err == nil != vec.Valid && stored == vec.Value {
				t.Errorf("Go disagrees with the vector's validity (%v)", vec.Valid)
			}
			v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = "consent=; Path=/; Max-Age=0"`))
		})
	}
	v.expectModuleBlocked()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readVectors decodes the vectors of testdata/NAME into vectors.
func readVectors(t *testing.T, name string, vectors any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &struct{ Vectors any }{vectors}); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// beforeLoader runs js on every page of v (not in its frames) once the
// document is parsed and before deferred scripts (the loader) run.
func (v *visitor) beforeLoader(js string) {
	v.t.Helper()
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `if (window === window.top) { let ran = false; document.addEventListener("readystatechange", () => {
			if (!ran && document.readyState == "interactive") { ran = true; ` + js + ` } }) }`,
	}); err != nil {
		v.t.Fatal(err)
	}
}

// The loader paints the banner in the locale consent.ChooseLocale picks for
// every vector of testdata/locale-vectors.json, and the module's receipt of
// that banner names the same locale: the language of the text shown.
func TestLocaleVectors(t *testing.T) {
	var vectors []struct {
		Name, Switched, Lang, Want string
		Languages                  []string
	}
	readVectors(t, "locale-vectors.json", &vectors)
	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v := newVisitor(t)
			langs, _ := json.Marshal(vec.Languages)
			lang, _ := json.Marshal(vec.Lang)
			if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: `Object.defineProperty(Navigator.prototype, "languages", {get: () => ` + string(langs) + `});
					Object.defineProperty(Navigator.prototype, "language", {get: () => ` + string(langs) + `[0]})`,
			}); err != nil {
				t.Fatal(err)
			}
			v.beforeLoader(`document.documentElement.lang = ` + string(lang))
			if vec.Switched != "" {
				v.open("/healthz")
				v.do(chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem("consent.locale", "` + vec.Switched + `")`))
			}
			v.open("/")
			v.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner`)))
			if got := eval[string](v, `document.querySelector(".cm-banner").lang`); got != vec.Want {
				t.Errorf("the loader painted the banner in %q, want %q", got, vec.Want)
			}
			v.ready()
			if h := v.history(); len(h) != 1 || h[0].Event != "banner_shown" || h[0].Locale != vec.Want {
				t.Errorf("receipts %+v, want one banner_shown in %q", h, vec.Want)
			}
		})
	}
}

// The loader alone (the module blocked) releases gated content exactly as
// Site.Releases decides, for every vector of testdata/release-vectors.json.
func TestReleaseVectors(t *testing.T) {
	var vectors []struct {
		Name, Cookie, Category string
		Release                bool
	}
	readVectors(t, "release-vectors.json", &vectors)
	v := newVisitor(t)
	v.blockWasm(true)
	// Page markup gated by the category the URL names, there before the
	// loader runs.
	v.beforeLoader(`const c = new URLSearchParams(location.search).get("release");
		if (c) { const s = document.createElement("script"); s.type = "text/plain";
			s.setAttribute("data-consent", c); s.setAttribute("data-vector", ""); document.body.append(s) }`)
	for _, vec := range vectors {
		t.Run(vec.Name, func(t *testing.T) {
			v.open("/healthz")
			c := vec.Cookie
			if _, err := consent.DecodeCookie(c); err == nil {
				c = vouched(t, c)
			}
			cookie, _ := json.Marshal("consent=" + c + "; Path=/")
			if vec.Cookie == "" {
				cookie = []byte(`"consent=; Path=/; Max-Age=0"`)
			}
			v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = ` + string(cookie)))
			v.open("/?release=" + vec.Category)
			gated := `document.querySelector('script[type="text/plain"][data-consent="` + vec.Category + `"][data-vector]')`
			v.poll(`document.readyState == "complete"`)
			if got := eval[bool](v, `!`+gated); got != vec.Release {
				t.Errorf("the loader released %v, want %v", got, vec.Release)
			}
		})
	}
	v.expectModuleBlocked()
}

// The banner's signal note shows exactly when Site.SignalRefuses says the
// browser's signals refuse by default, for every vector of
// testdata/signal-vectors.json the demo site (which honours DNT) covers:
// painted by the loader, and again by the module after a language switch.
func TestSignalVectors(t *testing.T) {
	var vectors []struct {
		Name          string
		HonorDNT, GPC bool
		DNT           *string
		Refuses       bool
	}
	readVectors(t, "signal-vectors.json", &vectors)
	site := loadSite(t)
	for _, vec := range vectors {
		if vec.HonorDNT != site.HonorDNT {
			continue // another site's
		}
		t.Run(vec.Name, func(t *testing.T) {
			v := newVisitor(t)
			dnt, _ := json.Marshal(vec.DNT)
			if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
				Source: fmt.Sprintf(`Object.defineProperty(Navigator.prototype, "globalPrivacyControl", {get: () => %v});
					Object.defineProperty(Navigator.prototype, "doNotTrack", {get: () => %s})`, vec.GPC, dnt),
			}); err != nil {
				t.Fatal(err)
			}
			v.open("/")
			v.do(chromedp.WaitVisible(chromedp.CSS(`.cm-banner`)))
			shown := `!document.querySelector(".cm-banner [data-consent-gpc]").hidden`
			if got := eval[bool](v, shown); got != vec.Refuses {
				t.Errorf("the loader's signal note shown = %v, want %v", got, vec.Refuses)
			}
			v.ready()
			// The banner's receipt records each signal as sent (DNT where honoured).
			wantDNT := vec.DNT != nil && *vec.DNT == "1"
			if h := v.history(); len(h) != 1 || h[0].GPC != vec.GPC || h[0].DNT != wantDNT {
				t.Errorf("receipts %+v, want one recording gpc %v, dnt %v", h, vec.GPC, wantDNT)
			}
			v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-locale]`)))
			v.poll(`document.querySelector(".cm-banner").lang == "en"`)
			if got := eval[bool](v, shown); got != vec.Refuses {
				t.Errorf("after a language switch, the signal note shown = %v, want %v", got, vec.Refuses)
			}
			v.noProblems()
		})
	}
}

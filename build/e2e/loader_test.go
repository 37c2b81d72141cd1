package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

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
			raw, _ := json.Marshal("consent=" + vec.Value + "; Path=/")
			v.do(chromedp.Evaluate[chromedp.Void](`document.cookie = ` + string(raw)))
			v.open("/")
			stored := eval[string](v, `(document.cookie.split("; ").find(c => c.startsWith("consent=")) || "consent=").slice(8)`)
			if stored != vec.Value {
				t.Logf("the browser stored %q for %q", stored, vec.Value)
			}
			got := eval[*loaderState](v, `window.consent.state()`)
			want, err := consent.DecodeCookie(stored)
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

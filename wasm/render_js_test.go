//go:build js && wasm

package main

import (
	"strings"
	"testing"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

func testSite() *consent.Site {
	t := consent.Text{ZhCN: "统计 <分析> & “报告”", En: `Analytics "A&B"`}
	return &consent.Site{Name: t, Cookie: consent.CookieConfig{MaxAgeDays: 30}, Categories: []consent.Category{
		{ID: "necessary", Required: true, Title: t, Purpose: t},
		{ID: "analytics", Title: t, Purpose: consent.Text{ZhCN: "<script>alert(1)</script>", En: "x"},
			Cookies: []consent.Item{{Name: "_ga_*", Provider: "G", Purpose: t, Lifetime: t}}},
	}}
}

// parsedHTML is how the browser itself reads a view's HTML string (the build's
// renderer), for comparison only.
func parsedHTML(t *testing.T, html string) string {
	t.Helper()
	tpl, err := call("document", "createElement", "template")
	if err != nil {
		t.Fatal(err)
	}
	if err := tpl.Set("innerHTML", html); err != nil {
		t.Fatal(err)
	}
	var r jsReader
	out := r.str(r.get(r.get(tpl, "content"), "firstElementChild"), "outerHTML")
	if r.err != nil {
		t.Fatal(r.err)
	}
	return out
}

// One view definition, two renderers: the DOM the module builds at run time
// is the DOM the browser would build from the HTML rendered at build time.
func TestRenderMatchesHTML(t *testing.T) {
	site := testSite()
	policy := consent.Version{ID: "2022-01-01"}
	state := consent.State{ID: "q83vEjRWeJq83vEjRWeJqw", Granted: []string{"analytics"}}
	for _, l := range consent.Locales {
		for name, view := range map[string]consent.Node{
			"banner":      consent.BannerView(site, policy, l),
			"preferences": consent.PreferencesView(site, state, policy, l),
		} {
			el, err := render(view)
			if err != nil {
				t.Fatal(err)
			}
			var r jsReader
			got := r.str(el, "outerHTML")
			if want := parsedHTML(t, view.HTML()); got != want {
				t.Errorf("%s/%s: DOM and HTML renderings differ:\n dom  %s\n html %s", name, l, got, want)
			}
			// Hostile text stays text.
			scripts, _ := el.Call("querySelectorAll", "script")
			if n, _ := scripts.Length(); n != 0 {
				t.Errorf("%s/%s: text became a <script> element", name, l)
			}
			if l == consent.ZhCN && !strings.Contains(r.str(el, "textContent"), "<script>alert(1)</script>") && name == "preferences" {
				t.Errorf("%s: the hostile purpose text is missing from textContent", name)
			}
		}
	}
}

// renderTree builds the same DOM from the compact trees the build writes.
func TestRenderTreeMatchesRender(t *testing.T) {
	view := consent.PreferencesView(testSite(), consent.State{}, consent.Version{ID: "v1"}, consent.En)
	tree, err := safejs.ValueOf(toTree(view))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := global("document")
	fromTree, err := renderTree(doc, tree)
	if err != nil {
		t.Fatal(err)
	}
	direct, err := render(view)
	if err != nil {
		t.Fatal(err)
	}
	var r jsReader
	if a, b := r.str(fromTree, "outerHTML"), r.str(direct, "outerHTML"); a != b {
		t.Errorf("renderTree and render differ:\n%s\n%s", a, b)
	}
	if _, err := renderTree(doc, safejs.Null()); err == nil {
		t.Error("renderTree accepted a malformed tree")
	}
}

// toTree is the build's compact form (build/render.go), as JS values.
func toTree(n consent.Node) any {
	if n.Tag == "" {
		return n.Text
	}
	attrs := []any{}
	for _, a := range n.Attrs {
		attrs = append(attrs, a.Name, a.Value)
	}
	out := []any{n.Tag, attrs}
	for _, k := range n.Kids {
		out = append(out, toTree(k))
	}
	return out
}

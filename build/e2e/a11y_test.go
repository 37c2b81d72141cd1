package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, installed into .cache/npm by go run ./build test.
func axeSource(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(root, ".cache", "npm", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("axe-core is missing (%v); install it with: npm install --prefix .cache/npm axe-core@4.14.1 (go run ./build test does)", err)
	}
	return string(src)
}

type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []string `json:"target"`
	} `json:"nodes"`
}

// axe runs axe-core on the page once its finite animations have ended (a
// notice fading in has not reached its colours yet) and fails on any
// violation.
func (v *visitor) axe(src, what string) {
	v.t.Helper()
	v.settle()
	v.do(chromedp.Evaluate[chromedp.Void](src))
	found := eval[[]axeViolation](v, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(x => ({id: x.id, help: x.help, nodes: x.nodes.map(n => ({target: n.target}))})))`)
	for _, f := range found {
		var targets []string
		for _, n := range f.Nodes {
			targets = append(targets, strings.Join(n.Target, " "))
		}
		v.t.Errorf("%s: axe %s (%s) at %s", what, f.ID, f.Help, strings.Join(targets, "; "))
	}
}

// Zero axe-core violations on every notice and view, in light and dark.
func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			v := newVisitor(t)
			// axe's own code is not written for Trusted Types; the pages are
			// checked for accessibility here, and for Trusted Types elsewhere.
			if _, err := chromedp.Call(v.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			v.emulateScheme(scheme)
			v.open("/")
			v.ready()
			v.axe(src, "banner")
			v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="open-preferences"]`)),
				chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
			v.axe(src, "preferences")
			v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="reject-all"]`)),
				chromedp.WaitVisible(chromedp.CSS(`[data-consent-placeholder]`)))
			v.axe(src, "embed placeholder")
			for _, path := range []string{"/app/", "/policies/", "/policies/2022-01-01", "/policies/diff/2022-01-01/2025-06-01"} {
				v.open(path)
				v.ready()
				v.axe(src, path)
			}
			v.open("/app/?view=settings")
			v.poll(`!!document.querySelector('[data-consent-permissions] li')`)
			v.axe(src, "privacy settings")
			v.do(chromedp.Evaluate[chromedp.Void](`consent.requestPermission("geolocation")`),
				chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="permission"]`)))
			v.axe(src, "permission pre-prompt")
			v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="refuse-permission"]`)))
			v.acked("2022-01-01")
			v.open("/")
			v.do(chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="material"]`)))
			v.ready()
			v.axe(src, "material notice")
			v.acked("2024-03-01")
			v.open("/")
			v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="minor"]`)))
			v.axe(src, "minor note")
		})
	}
}

// settle waits until every finite animation on the page has finished.
func (v *visitor) settle() {
	v.t.Helper()
	eval[chromedp.Void](v, `Promise.all(document.getAnimations()
		.filter(a => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
		.map(a => a.finished.catch(() => null))).then(() => true)`)
}

func (v *visitor) emulateScheme(scheme string) {
	v.t.Helper()
	if _, err := chromedp.Call(v.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		v.t.Fatal(err)
	}
}

// The preferences centre works from the keyboard: it opens on Enter, traps
// focus while open (the page behind is inert), closes on Esc, and focus
// returns to the control that opened it.
func TestPreferencesKeyboard(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	opener := chromedp.CSS(`footer [data-consent-action="open-preferences"]`)
	v.do(chromedp.Focus(opener), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"]`)))
	if !eval[bool](v, `document.querySelector('dialog[data-consent-notice="preferences"]').contains(document.activeElement)`) {
		t.Error("focus did not move into the preferences centre")
	}
	for i := 0; i < 30; i++ {
		v.do(chromedp.KeyEvent("\t"))
		if eval[bool](v, `document.activeElement !== document.body && !document.querySelector("dialog[open]").contains(document.activeElement)`) {
			t.Fatalf("Tab %d left the dialog for %s", i+1, eval[string](v, `document.activeElement.outerHTML.slice(0, 80)`))
		}
	}
	v.do(chromedp.KeyEvent("\x1b"), chromedp.WaitNotPresent(chromedp.CSS(`dialog[data-consent-notice]`)))
	if !eval[bool](v, `document.activeElement === document.querySelector('footer [data-consent-action="open-preferences"]')`) {
		t.Errorf("after Esc, focus is on %s", eval[string](v, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	if _, ok := v.cookies()["consent"]; ok {
		t.Error("closing the preferences with Esc recorded a choice")
	}
	v.noProblems()
}

package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The notices follow <html lang> and switch language on request: before the
// module loads (the loader repaints from its trees) and after (the module
// re-renders the loader's notice, the preferences centre and a blocking
// notice, which stays blocking). The choice lasts for the tab.
func TestLanguageSwitch(t *testing.T) {
	v := newVisitor(t)
	v.blockWasm(true)
	v.open("/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"][lang="zh-CN"]`)),
		chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-locale="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"][lang="en"]`)))
	if text := eval[string](v, `document.querySelector(".cm-banner").textContent`); !strings.Contains(text, "We respect your privacy") {
		t.Errorf("English banner reads %q", text)
	}
	if n := eval[int](v, `document.querySelectorAll("[data-consent-root]").length`); n != 1 {
		t.Errorf("%d notices after switching", n)
	}
	v.expectModuleBlocked()

	v.blockWasm(false)
	v.open("/") // the tab remembers English
	v.do(chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"][lang="en"]`)))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-locale="zh-CN"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-consent-notice="banner"][lang="zh-CN"]`)),
		chromedp.Click(chromedp.CSS(`.cm-banner [data-consent-action="open-preferences"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"][lang="zh-CN"]`)),
		chromedp.Click(chromedp.CSS(`dialog [data-consent-locale="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="preferences"][lang="en"]`)))
	if !eval[bool](v, `document.querySelector('dialog[data-consent-notice="preferences"]').matches(":modal")`) {
		t.Error("the re-rendered preferences centre is not modal")
	}
	v.noProblems()

	// A blocking notice re-rendered by the module stays blocking.
	w := newVisitor(t)
	w.acked("2022-01-01")
	w.open("/")
	w.ready()
	w.do(chromedp.Click(chromedp.CSS(`dialog[data-consent-notice="material"] [data-consent-locale="en"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="material"][lang="en"]`)))
	if !eval[bool](w, `document.querySelector('dialog[data-consent-notice="material"]').matches(":modal")`) {
		t.Error("the English material notice is not modal")
	}
	w.do(chromedp.KeyEvent("\x1b"))
	if !eval[bool](w, `document.querySelector('dialog[data-consent-notice="material"]').open`) {
		t.Error("Esc closed the re-rendered material notice")
	}
	if text := eval[string](w, `document.querySelector("dialog[data-consent-notice]").textContent`); !strings.Contains(text, "HONOR Push") {
		t.Errorf("English notice reads %q", text)
	}
	w.screenshot("notice-material-en")
	w.noProblems()
}

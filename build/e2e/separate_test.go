package e2e

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const separateDialog = `dialog[data-consent-notice="separate"]`

// separateReceipts lists the history's separate-consent receipts as "ITEM
// ANSWER METHOD", each checked to carry the SHA-256 of the statement hash.
func (v *visitor) separateReceipts(hash string) []string {
	v.t.Helper()
	return eval[[]string](v, `consent.history().then(h => h.filter(r => r.event == "separate_answered").map(r =>
		r.separate + " " + r.answer + " " + r.method + (r.statementSha256 == `+jsString(hash)+` ? "" : " hash " + r.statementSha256)))`)
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func (v *visitor) waitSeparateReceipts(hash string, want ...string) {
	v.t.Helper()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = v.separateReceipts(hash); slices.Equal(got, want) {
			return
		}
	}
	v.t.Fatalf("separate-consent receipts %q, want %q", got, want)
}

// status is the web client's status line.
func (v *visitor) status() string {
	return eval[string](v, `document.querySelector('[data-demo="status"]').textContent`)
}

// serverHas waits until consentd's export holds n separate_answered receipts
// of this person with the answers want, in order.
func (v *visitor) serverHas(want ...string) {
	v.t.Helper()
	v.delivered(1)
	subject := eval[string](v, `consent.history().then(h => h.find(r => r.event == "separate_answered").subject)`)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := exec.Command(consentd, "export", "-data", dataDir).Output()
		if err != nil {
			v.t.Fatal(err)
		}
		got = nil
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, `"subject":"`+subject+`"`) && strings.Contains(line, `"event":"separate_answered"`) {
				i := strings.Index(line, `"separate":"`)
				j := strings.Index(line, `"answer":"`)
				if i < 0 || j < 0 || !strings.Contains(line, `"statementSha256":"`) {
					v.t.Fatalf("an exported separate-consent receipt without its item, answer or statement hash: %s", line)
				}
				item, ans := line[i+len(`"separate":"`):], line[j+len(`"answer":"`):]
				got = append(got, item[:strings.IndexByte(item, '"')]+" "+ans[:strings.IndexByte(ans, '"')])
			}
		}
		if slices.Equal(got, want) {
			return
		}
	}
	v.t.Fatalf("the server exported %q, want %q", got, want)
}

// "Send my location" in the web client asks the separate consent for the
// precise location first, in the module's dialog with the statutory fields,
// and only once agreed the browser permission's pre-prompt: one sequence.
// Refusing is recorded and holds for the back-off; Esc refuses; a page's
// own overlay with the same attributes cannot agree; each answer reaches the
// server with the statement's SHA-256.
func TestSeparateConsentFlow(t *testing.T) {
	v := newVisitor(t)
	v.openApp()
	v.setPermission("geolocation", cdpbrowser.PermissionSettingPrompt)
	v.do(chromedp.Click(chromedp.CSS(`[data-demo="location"]`)), chromedp.WaitVisible(chromedp.CSS(separateDialog)))
	hash := eval[string](v, `document.querySelector('`+separateDialog+`').dataset.consentStatement`)
	if len(hash) != 64 {
		t.Fatalf("the dialog's statement hash: %q", hash)
	}
	text := eval[string](v, `document.querySelector('`+separateDialog+`').textContent`)
	for _, want := range []string{"发送您的当前位置", "处理目的", "个人信息的种类", "必要性", "对您的影响", "撤回"} {
		if !strings.Contains(text, want) {
			t.Errorf("the dialog does not say %q: %s", want, text)
		}
	}
	if !eval[bool](v, `(() => { const d = document.querySelector('`+separateDialog+`');
		const a = d.querySelector('[data-consent-action="allow-separate"]'), r = d.querySelector('[data-consent-action="refuse-separate"]');
		return d.matches(":modal") && d.contains(document.activeElement) && !d.querySelector("input") && a.className == r.className &&
			!document.querySelector('dialog[data-consent-notice="permission"]'); })()`) {
		t.Error("the dialog is not modal with focus in it, two equal buttons and nothing preselected, before any permission prompt")
	}
	v.screenshot("separate-dialog")
	v.viewport(390, 844, true)
	v.cacheScreenshot("separate-dialog-phone")
	v.viewport(1280, 800, false)

	// The page's own dialog on top, with the module's attributes: a person's
	// click on it agrees to nothing.
	v.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const d = document.createElement("dialog");
		d.setAttribute("data-consent-notice", "separate");
		d.id = "fake";
		const b = document.createElement("button");
		b.setAttribute("data-consent-action", "allow-separate");
		b.textContent = "同意";
		d.append(b);
		document.body.append(d);
		d.showModal();
	})()`))
	v.do(chromedp.Click(chromedp.CSS(`#fake button`)))
	v.waitWarning("outside the module's views")
	v.do(chromedp.Evaluate[chromedp.Void](`document.getElementById("fake").remove()`))
	if got := v.separateReceipts(hash); len(got) != 0 {
		t.Fatalf("the page's overlay was taken as an answer: %q", got)
	}
	v.do(chromedp.Click(chromedp.CSS(separateDialog + ` [data-consent-action="refuse-separate"]`)))
	v.poll(`document.querySelector('[data-demo="status"]').textContent.includes("refused")`)
	// The dialog goes (after its close event, which brings focus back), and
	// the browser permission is not asked for.
	v.poll(`!document.querySelector('` + separateDialog + `')`)
	if n := eval[int](v, `document.querySelectorAll('dialog[data-consent-notice]').length`); n != 0 {
		t.Errorf("%d dialogs open after refusing: the permission was asked anyway?", n)
	}
	if !eval[bool](v, `document.activeElement.matches('[data-demo="location"]')`) {
		t.Error("focus did not go back to the button that asked")
	}
	v.waitSeparateReceipts(hash, "location refused prompt")
	// Within the back-off: refused at once, no dialog.
	if got := eval[string](v, `consent.requestSeparateConsent("location")`); got != "refused" {
		t.Errorf("within the back-off: %q", got)
	}
	if n := eval[int](v, `document.querySelectorAll('`+separateDialog+`').length`); n != 0 {
		t.Error("asked again within the back-off")
	}
	// Esc refuses.
	v.do(chromedp.Click(chromedp.CSS(`[data-demo="contacts"]`)), chromedp.WaitVisible(chromedp.CSS(separateDialog)))
	contacts := eval[string](v, `document.querySelector('`+separateDialog+`').dataset.consentStatement`)
	v.do(chromedp.KeyEvent(kb.Escape))
	v.poll(`document.querySelector('[data-demo="status"]').textContent.includes("未同步")`)
	v.waitSeparateReceipts(contacts, "location refused prompt hash "+hash, "contacts refused prompt")
	if got := eval[string](v, `consent.requestSeparateConsent("nope").then(a => a, e => e.message)`); !strings.Contains(got, `consent.requestSeparateConsent: unknown item "nope"`) {
		t.Errorf("an unknown item: %q", got)
	}
	v.serverHas("location refused", "contacts refused")
	v.noProblems()
}

// Agreeing goes on to the permission's pre-prompt; an item granted resolves
// at once; the privacy settings list it with the day and withdraw, which is
// recorded and makes the next request ask again.
func TestSeparateConsentWithdrawn(t *testing.T) {
	v := newVisitor(t)
	v.openApp()
	v.setPermission("geolocation", cdpbrowser.PermissionSettingPrompt)
	v.do(chromedp.Click(chromedp.CSS(`[data-demo="location"]`)), chromedp.WaitVisible(chromedp.CSS(separateDialog)))
	hash := eval[string](v, `document.querySelector('`+separateDialog+`').dataset.consentStatement`)
	v.do(chromedp.Click(chromedp.CSS(separateDialog+` [data-consent-action="allow-separate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`dialog[data-consent-notice="permission"][data-consent-permission="geolocation"]`)))
	v.do(chromedp.Click(chromedp.CSS(`dialog[data-consent-notice="permission"] [data-consent-action="refuse-permission"]`)))
	v.poll(`document.querySelector('[data-demo="status"]').textContent == "位置：refused"`)
	v.waitSeparateReceipts(hash, "location granted prompt")
	if got := eval[string](v, `consent.requestSeparateConsent("location")`); got != "granted" {
		t.Errorf("already granted: %q", got)
	}
	v.do(chromedp.Click(chromedp.CSS(`[data-route="settings"]`)))
	row := `[data-consent-permissions] li[data-consent-separate="location"]`
	v.poll(`document.querySelector('` + row + `')?.checkVisibility()`)
	if got := eval[string](v, `document.querySelector('`+row+`').textContent`); !strings.Contains(got, "已同意于 20") {
		t.Errorf("the settings row: %q", got)
	}
	if eval[bool](v, `document.querySelector('[data-consent-permissions] li[data-consent-separate="contacts"]').checkVisibility()`) {
		t.Error("an item never granted is listed")
	}
	v.screenshot("separate-settings")
	v.do(chromedp.Click(chromedp.CSS(row + ` [data-consent-action="withdraw-separate"]`)))
	v.poll(`!document.querySelector('` + row + `').checkVisibility() && document.querySelector('[data-consent-none]').checkVisibility()`)
	v.waitSeparateReceipts(hash, "location granted prompt", "location withdrawn preferences")
	v.poll(`document.querySelector('[data-demo="status"]').textContent.includes("已撤回")`)
	v.do(chromedp.Evaluate[chromedp.Void](`window.__again = consent.requestSeparateConsent("location")`),
		chromedp.WaitVisible(chromedp.CSS(separateDialog)))
	v.do(chromedp.Click(chromedp.CSS(separateDialog + ` [data-consent-action="allow-separate"]`)))
	if got := eval[string](v, `window.__again`); got != "granted" {
		t.Errorf("asked again after withdrawing: %q", got)
	}
	v.serverHas("location granted", "location withdrawn", "location granted")
	v.noProblems()
}

// The dialog and the settings list pass axe-core in light and dark.
func TestSeparateConsentAccessibility(t *testing.T) {
	src := axeSource(t)
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			v := newVisitor(t)
			if _, err := chromedp.Call(v.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			v.emulateScheme(scheme)
			v.openApp()
			v.do(chromedp.Evaluate[chromedp.Void](`window.__p = consent.requestSeparateConsent("location")`),
				chromedp.WaitVisible(chromedp.CSS(separateDialog)))
			v.axe(src, "separate-consent dialog")
			v.cacheScreenshot("separate-dialog-" + scheme)
			v.do(chromedp.Click(chromedp.CSS(separateDialog + ` [data-consent-action="allow-separate"]`)))
			v.poll(`!document.querySelector('` + separateDialog + `')`)
			v.do(chromedp.Click(chromedp.CSS(`[data-route="settings"]`)))
			v.poll(`!!document.querySelector('[data-consent-permissions] li[data-consent-separate="location"]')?.checkVisibility()`)
			v.axe(src, "privacy settings with a separate consent")
		})
	}
}

// Content for a recipient abroad waits for its separate consent (PIPL
// art. 39): "accept all" runs the marketing category's other content but
// not the Google Ads tag, which runs once its separate consent is granted,
// on the next page only once the module has checked the grant against the
// statement shown now (never from the loader alone), and no more once it
// is withdrawn.
func TestCrossBorderContentWaitsForItsSeparateConsent(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)))
	v.poll(`window.demoAnalyticsLoaded === true`)
	v.poll(`!!document.querySelector('iframe.promo[src]')`) // the marketing category's own content
	if eval[bool](v, `!!window.demoAdsLoaded`) {
		t.Fatal("accept all ran the cross-border Ads tag: bundled with the category")
	}
	v.do(chromedp.Evaluate[chromedp.Void](`consent.requestSeparateConsent("google_ads")`),
		chromedp.WaitVisible(chromedp.CSS(separateDialog)))
	if eval[bool](v, `!!window.demoAdsLoaded`) {
		t.Fatal("the Ads tag ran before the answer")
	}
	v.do(chromedp.Click(chromedp.CSS(separateDialog + ` [data-consent-action="allow-separate"]`)))
	v.poll(`window.demoAdsLoaded === true`)

	// The next page: the loader runs the analytics tag at once, the Ads tag
	// only after the module started.
	v.blockWasm(true)
	v.open("/")
	v.poll(`window.demoAnalyticsLoaded === true`)
	if eval[bool](v, `!!window.demoAdsLoaded`) {
		t.Error("the loader alone ran content that needs a separate consent")
	}
	v.blockWasm(false)
	v.open("/")
	v.ready()
	v.poll(`window.demoAdsLoaded === true`)

	// Withdrawn in the privacy settings: the next page does not run it.
	v.open("/app/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-route="settings"]`)))
	row := `[data-consent-permissions] li[data-consent-separate="google_ads"]`
	v.poll(`document.querySelector('` + row + `')?.checkVisibility()`)
	v.do(chromedp.Click(chromedp.CSS(row + ` [data-consent-action="withdraw-separate"]`)))
	v.poll(`!document.querySelector('` + row + `').checkVisibility()`)
	v.open("/")
	v.ready()
	if eval[bool](v, `!!window.demoAdsLoaded`) {
		t.Error("the Ads tag ran after its separate consent was withdrawn")
	}
	v.noProblems()
}

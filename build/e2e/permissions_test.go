package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// permissionReceipts lists the history's permission receipts as
// "KIND ANSWER METHOD".
func (v *visitor) permissionReceipts() []string {
	v.t.Helper()
	return eval[[]string](v, `consent.history().then(h => h.filter(r => r.event == "permission_answered").map(r => r.permission + " " + r.answer + " " + r.method))`)
}

// waitPermissionReceipts waits until the permission receipts are want.
func (v *visitor) waitPermissionReceipts(want ...string) {
	v.t.Helper()
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = v.permissionReceipts(); slices.Equal(got, want) {
			return
		}
	}
	v.t.Fatalf("permission receipts %q, want %q", got, want)
}

// setPermission sets the browser's permission name for the server's origin.
func (v *visitor) setPermission(name string, setting cdpbrowser.PermissionSetting) {
	v.t.Helper()
	if _, err := chromedp.Call(v.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: name}, Setting: setting,
		Origin: baseURL, BrowserContextID: chromedp.FromContext(v.ctx).BrowserContextID}); err != nil {
		v.t.Fatal(err)
	}
}

// openApp opens the web client with consent given, the module loaded, and
// the browser's camera and microphone permissions at "ask" (the fake media
// UI grants them unasked otherwise).
func (v *visitor) openApp() {
	v.t.Helper()
	v.setPermission("camera", cdpbrowser.PermissionSettingPrompt)
	v.setPermission("microphone", cdpbrowser.PermissionSettingPrompt)
	v.open("/app/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	v.waitConsentCookie()
}

const prompt = `dialog[data-consent-notice="permission"]`

// "Start a video call" in the web client: the module's pre-prompt explains
// camera and microphone first, and only "continue" lets the browser ask;
// each answer is a receipt. In the privacy settings (a route of the
// single-page app, rendered after the module loaded) the permissions show as
// on; revoking the camera in the browser is recorded and shown, and the call
// stops; switching the microphone off there is recorded, and using it again
// asks again.
func TestPermissionPrePrompt(t *testing.T) {
	v := newVisitor(t)
	v.openApp()
	v.do(chromedp.Evaluate[chromedp.Void](`(() => {
		window.__gum = 0;
		const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = c => (window.__gum++, gum(c));
	})()`))
	v.do(chromedp.Click(chromedp.CSS(`[data-demo="call"]`)), chromedp.WaitVisible(chromedp.CSS(prompt)))
	if n := eval[int](v, `window.__gum`); n != 0 {
		t.Fatalf("getUserMedia was called %d times before the pre-prompt was answered", n)
	}
	if got := eval[string](v, `navigator.permissions.query({name: "camera"}).then(s => s.state)`); got != "prompt" {
		t.Fatalf("camera permission %q before the pre-prompt was answered", got)
	}
	text := eval[string](v, `document.querySelector('`+prompt+`').textContent`)
	for _, want := range []string{"相机/摄像头", "麦克风", "发起与 # 综合 的视频通话", "我的-设置-隐私"} {
		if !strings.Contains(text, want) {
			t.Errorf("the pre-prompt does not say %q: %s", want, text)
		}
	}
	if !eval[bool](v, `document.querySelector('`+prompt+`').matches(":modal")`) {
		t.Error("the pre-prompt is not a modal dialog")
	}
	v.screenshot("permission-prompt")
	v.do(chromedp.Click(chromedp.CSS(prompt + ` [data-consent-action="allow-permission"]`)))
	v.poll(`document.querySelector('[data-demo="status"]').textContent == "视频通话中"`)
	// The fake UI said yes to the browser's prompt; a person's "allow" also
	// persists as the browser's setting, which the fake UI does not do.
	v.setPermission("camera", cdpbrowser.PermissionSettingGranted)
	v.setPermission("microphone", cdpbrowser.PermissionSettingGranted)
	if got := eval[string](v, `navigator.permissions.query({name: "camera"}).then(s => s.state)`); got != "granted" {
		t.Errorf("camera permission %q after continuing", got)
	}
	v.waitPermissionReceipts("camera allowed prompt", "microphone allowed prompt", "camera granted browser", "microphone granted browser")

	// The privacy settings: a route change, no reload.
	v.do(chromedp.Evaluate[chromedp.Void](`window.__sameDocument = true`))
	v.do(chromedp.Click(chromedp.CSS(`[data-route="settings"]`)))
	v.poll(`document.querySelector('[data-consent-permissions] li[data-consent-permission="camera"]')?.dataset.state == "on"`)
	if !eval[bool](v, `window.__sameDocument && location.search == "?view=settings"`) {
		t.Fatal("the settings route reloaded the page")
	}
	if got := eval[string](v, `document.querySelector('li[data-consent-permission="microphone"]').dataset.state`); got != "on" {
		t.Errorf("microphone shows %q", got)
	}
	v.screenshot("permissions-settings")

	// Revoked in the browser's own settings.
	v.setPermission("camera", cdpbrowser.PermissionSettingDenied)
	v.poll(`document.querySelector('li[data-consent-permission="camera"]').dataset.state == "denied"`)
	v.poll(`document.querySelector('[data-demo="status"]').textContent.includes("已结束")`)
	v.waitPermissionReceipts("camera allowed prompt", "microphone allowed prompt", "camera granted browser", "microphone granted browser",
		"camera denied browser")

	// Switched off in the privacy settings.
	v.do(chromedp.Click(chromedp.CSS(`li[data-consent-permission="microphone"] [data-consent-action="permission-off"]`)))
	v.poll(`document.querySelector('li[data-consent-permission="microphone"]').dataset.state == "off"`)
	v.waitPermissionReceipts("camera allowed prompt", "microphone allowed prompt", "camera granted browser", "microphone granted browser",
		"camera denied browser", "microphone off preferences")
	v.do(chromedp.Evaluate[chromedp.Void](`window.__mic = consent.requestPermission("microphone")`))
	v.do(chromedp.WaitVisible(chromedp.CSS(prompt)))
	v.do(chromedp.Click(chromedp.CSS(prompt + ` [data-consent-action="refuse-permission"]`)))
	if got := eval[string](v, `window.__mic`); got != "refused" {
		t.Errorf("asking for the switched-off microphone resolved %q", got)
	}
	v.noProblems()
}

// Declining the pre-prompt is not followed by the browser's prompt, and the
// module does not ask again within the back-off; calls while a prompt is open
// share its answer; there is never a second prompt.
func TestPermissionRefusalBacksOff(t *testing.T) {
	v := newVisitor(t)
	v.openApp()
	v.do(chromedp.Evaluate[chromedp.Void](`window.__first = consent.requestPermission("notifications")`))
	v.do(chromedp.WaitVisible(chromedp.CSS(prompt)))
	v.do(chromedp.Evaluate[chromedp.Void](`window.__again = Promise.all([...Array(5)].map(() => consent.requestPermission("notifications")))`))
	if got := eval[string](v, `consent.requestPermission("geolocation").then(() => "resolved", e => e.message)`); !strings.Contains(got, "another permission request is open") {
		t.Errorf("another kind while a prompt is open: %q", got)
	}
	if n := eval[int](v, `document.querySelectorAll('`+prompt+`').length`); n != 1 {
		t.Fatalf("%d pre-prompts open", n)
	}
	v.do(chromedp.Click(chromedp.CSS(prompt + ` [data-consent-action="refuse-permission"]`)))
	if got := eval[string](v, `window.__first`); got != "refused" {
		t.Errorf("declining resolved %q", got)
	}
	if got := eval[[]string](v, `window.__again`); !slices.Equal(got, []string{"refused", "refused", "refused", "refused", "refused"}) {
		t.Errorf("calls while the prompt was open resolved %q, want its answer", got)
	}
	if got := eval[string](v, `Notification.permission`); got != "default" {
		t.Errorf("the browser was asked after the person declined: %q", got)
	}
	if got := eval[string](v, `consent.requestPermission("notifications")`); got != "refused" {
		t.Errorf("asking again within the back-off resolved %q", got)
	}
	// A pre-prompt is shown before its promise settles: settled "refused"
	// with none open, the module did not ask.
	if n := eval[int](v, `document.querySelectorAll('`+prompt+`').length`); n != 0 {
		t.Error("the module asked again within the back-off")
	}
	v.waitPermissionReceipts("notifications refused prompt")

	// Esc is "not now".
	v.do(chromedp.Evaluate[chromedp.Void](`window.__geo = consent.requestPermission("geolocation")`))
	v.do(chromedp.WaitVisible(chromedp.CSS(prompt)))
	v.do(chromedp.KeyEvent(kb.Escape))
	if got := eval[string](v, `window.__geo`); got != "refused" {
		t.Errorf("Esc resolved %q", got)
	}
	v.waitPermissionReceipts("notifications refused prompt", "geolocation refused prompt")
	v.noProblems()
}

// Wrong calls reject with a clear error and throw nothing into the page.
func TestPermissionBadCalls(t *testing.T) {
	v := newVisitor(t)
	v.open("/app/")
	v.ready()
	for call, want := range map[string]string{
		`consent.requestPermission("telepathy")`:                  `unknown permission "telepathy"`,
		`consent.requestPermission(42)`:                           "want a permission name",
		`consent.requestPermission()`:                             "want a permission name",
		`consent.requestPermission(["camera", "notifications"])`:  "one at a time",
		`consent.requestPermission("camera", {purpose: 5})`:       "purpose must be a string",
		`consent.requestPermission({toString: () => "camera"})`:   "want a permission name",
		`consent.requestPermission(["camera", "camera", "nope"])`: `unknown permission "nope"`,
	} {
		got := eval[string](v, call+`.then(a => "resolved " + a, e => (e instanceof Error ? "" : "not an Error: ") + e.message)`)
		if !strings.Contains(got, want) || !strings.HasPrefix(got, "consent.requestPermission: ") {
			t.Errorf("%s: %q, want a rejection with an Error saying %q", call, got, want)
		}
	}
	v.noProblems()
}

// requestPermission and history called before the module has loaded wait
// for it and then work.
func TestPermissionBeforeModuleLoads(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `if (window === window.top) document.addEventListener("DOMContentLoaded", () => {
			window.__early = !window.consent._apply;
			window.__h = window.consent.history().then(h => h.map(r => r.event).join(","));
			window.__p = window.consent.requestPermission("geolocation");
		})`,
	}); err != nil {
		t.Fatal(err)
	}
	v.open("/app/")
	if !eval[bool](v, `window.__early`) {
		t.Fatal("the module had loaded before the page's first script: nothing was tested")
	}
	if got := eval[string](v, `window.__h`); got != "banner_shown" && got != "" {
		t.Errorf("history before load resolved to %q", got)
	}
	v.do(chromedp.WaitVisible(chromedp.CSS(prompt)))
	v.do(chromedp.Click(chromedp.CSS(prompt + ` [data-consent-action="refuse-permission"]`)))
	if got := eval[string](v, `window.__p`); got != "refused" {
		t.Errorf("requestPermission before load resolved %q", got)
	}
	v.noProblems()
}

// Where navigator.permissions cannot tell (Firefox cannot for the camera;
// here it is made to fail for notifications), the module goes by the answer
// it recorded: once granted, not asked again, and shown as on.
func TestPermissionWithoutPermissionsAPI(t *testing.T) {
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `(() => {
			const query = navigator.permissions.query.bind(navigator.permissions);
			navigator.permissions.query = d => d && d.name === "notifications" ? Promise.reject(new TypeError("unsupported")) : query(d);
		})()`,
	}); err != nil {
		t.Fatal(err)
	}
	v.setPermission("notifications", cdpbrowser.PermissionSettingGranted) // the browser's own prompt will say yes
	v.openApp()
	v.do(chromedp.Evaluate[chromedp.Void](`window.__n = consent.requestPermission("notifications")`))
	v.do(chromedp.WaitVisible(chromedp.CSS(prompt)))
	v.do(chromedp.Click(chromedp.CSS(prompt + ` [data-consent-action="allow-permission"]`)))
	if got := eval[string](v, `window.__n`); got != "granted" {
		t.Fatalf("first request resolved %q", got)
	}
	v.waitPermissionReceipts("notifications allowed prompt", "notifications granted browser")
	v.open("/app/?view=settings")
	v.ready()
	if got := eval[string](v, `consent.requestPermission("notifications")`); got != "granted" {
		t.Errorf("asking again after a grant resolved %q", got)
	}
	if n := eval[int](v, `document.querySelectorAll('`+prompt+`').length`); n != 0 {
		t.Error("asked again after a grant")
	}
	v.poll(`document.querySelector('li[data-consent-permission="notifications"]')?.dataset.state == "on"`)
	v.noProblems()
}

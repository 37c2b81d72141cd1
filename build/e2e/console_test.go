package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
)

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// seedReceipts posts two weeks of receipts through the server's ingest, as
// browsers would: first visits that accept, refuse or leave, some with GPC;
// returning visitors shown the minor change of the current version, who go
// on using the service; withdrawals and permission answers. It returns one
// person's consent id.
func seedReceipts(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(baseURL + "/v1/policies")
	if err != nil {
		t.Fatal(err)
	}
	var m consent.Manifest
	json.NewDecoder(resp.Body).Decode(&m)
	resp.Body.Close()
	if len(m.Versions) < 2 {
		t.Fatalf("manifest %+v", m)
	}
	current, previous := m.Versions[len(m.Versions)-1], m.Versions[len(m.Versions)-2]
	rng := mrand.New(mrand.NewPCG(17, 2026))
	var rs []consent.Receipt
	var someone string
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -14)
	keys := map[string]*ecdsa.PrivateKey{} // each person's browser signs their receipts, as the module does
	add := func(r consent.Receipt) {
		r.ID, r.Locale = randomID(), consent.ZhCN
		if rng.IntN(4) == 0 {
			r.Locale = consent.En
		}
		if r.Granted == nil {
			r.Granted = []string{}
		}
		r.PolicySHA256 = map[string]string{current.ID: current.SHA256, previous.ID: previous.SHA256}[r.Policy]
		if keys[r.Subject] == nil {
			keys[r.Subject], _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		}
		rs = append(rs, signAsBrowser(t, keys[r.Subject], r))
	}
	for d := 0; d < 14; d++ {
		day := start.AddDate(0, 0, d)
		for i := 0; i < 20+rng.IntN(15); i++ {
			subject := randomID()
			at := day.Add(time.Duration(rng.IntN(86000)) * time.Second)
			gpc := rng.IntN(7) == 0
			if d%4 == 3 && i%3 == 0 {
				// A returning visitor who acknowledged the previous version.
				add(consent.Receipt{Subject: subject, Event: consent.EventNoticeDisplayed, Policy: current.ID, Time: at, Method: "notice", GPC: gpc, Granted: []string{"analytics"}})
				add(consent.Receipt{Subject: subject, Event: consent.EventContinuedUse, Policy: current.ID, Time: at.Add(time.Minute), Method: "notice", GPC: gpc, Granted: []string{"analytics"}})
				continue
			}
			add(consent.Receipt{Subject: subject, Event: consent.EventBannerShown, Policy: current.ID, Time: at, Method: "banner", GPC: gpc})
			switch n := rng.IntN(20); {
			case n < 11 && !gpc:
				var granted []string
				for _, c := range []string{"functional", "analytics", "marketing"} {
					if rng.IntN(10) < map[string]int{"functional": 8, "analytics": 6, "marketing": 3}[c] {
						granted = append(granted, c)
					}
				}
				add(consent.Receipt{Subject: subject, Event: consent.EventConsentGiven, Policy: current.ID, Time: at.Add(8 * time.Second), Method: "banner", Granted: granted})
				if someone == "" && len(granted) > 1 {
					someone = subject
					add(consent.Receipt{Subject: subject, Event: consent.EventPermissionAnswered, Policy: current.ID, Time: at.Add(time.Hour), Method: "prompt",
						Granted: granted, Permission: "geolocation", Answer: consent.AnswerAllowed})
					add(consent.Receipt{Subject: subject, Event: consent.EventWithdrawn, Policy: current.ID, Time: at.Add(26 * time.Hour), Method: "preferences", Granted: []string{"functional"}})
				} else if rng.IntN(12) == 0 {
					add(consent.Receipt{Subject: subject, Event: consent.EventWithdrawn, Policy: current.ID, Time: at.Add(2 * time.Hour), Method: "preferences"})
				}
			case n < 18:
				add(consent.Receipt{Subject: subject, Event: consent.EventConsentRefused, Policy: current.ID, Time: at.Add(5 * time.Second), Method: "banner", GPC: gpc})
			}
			if rng.IntN(6) == 0 {
				kind := []string{"camera", "microphone", "notifications", "geolocation"}[rng.IntN(4)]
				answer := []string{consent.AnswerAllowed, consent.AnswerRefused, consent.AnswerGranted, consent.AnswerDenied}[rng.IntN(4)]
				add(consent.Receipt{Subject: subject, Event: consent.EventPermissionAnswered, Policy: current.ID, Time: at.Add(3 * time.Minute), Method: "prompt",
					Permission: kind, Answer: answer})
			}
		}
	}
	// The receipts come from addresses of their own (the whole of 127/8 is
	// this machine), as from many browsers: the server limits each client,
	// and the other tests post from 127.0.0.1.
	for batch := 0; len(rs) > 0; batch++ {
		n := min(100, len(rs))
		var body bytes.Buffer
		body.WriteString(`{"receipts":[`)
		for i, r := range rs[:n] {
			if i > 0 {
				body.WriteByte(',')
			}
			body.Write(consent.AppendReceiptJSON(nil, r))
		}
		body.WriteString(`]}`)
		from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+batch%8))}
		client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: from}).DialContext}}
		resp, err := client.Post(baseURL+"/v1/receipts", "application/json", &body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("posting receipts: %s", resp.Status)
		}
		rs = rs[n:]
	}
	return someone
}

// signAsBrowser signs r with key as the browser module does (wire.Sign).
func signAsBrowser(t *testing.T, key *ecdsa.PrivateKey, r consent.Receipt) consent.Receipt {
	t.Helper()
	r, err := wire.Sign(key, r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// viewport sets the page's size: a desktop or a phone.
func (v *visitor) viewport(width, height int64, mobile bool) {
	v.t.Helper()
	if _, err := chromedp.Call(v.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: width, Height: height, DeviceScaleFactor: 1, Mobile: mobile}); err != nil {
		v.t.Fatal(err)
	}
}

// The console: closed until a secret is made; then, signed in, every page
// has no axe-core violation in light and dark, works without JavaScript,
// and one person's receipts all verify. Screenshots of each page, desktop
// and phone, light and dark, go to .cache/screenshots (the main ones, with
// -update, to testdata/screenshots).
func TestConsole(t *testing.T) {
	resp, err := http.Get(baseURL + "/admin/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	secret := ""
	if resp.StatusCode == http.StatusNotFound {
		out, err := exec.Command(consentd, "admin-token", "-data", dataDir).Output()
		if err != nil {
			t.Fatalf("consentd admin-token: %v", err)
		}
		secret = strings.TrimSpace(string(out))
	} else {
		t.Fatalf("before a secret is made, /admin/ answers %s, want 404", resp.Status)
	}
	someone := seedReceipts(t)

	// JavaScript off: the console must work without it.
	v := newVisitor(t)
	if _, err := chromedp.Call(v.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	v.open("/admin/")
	v.do(chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	if got := eval[string](v, `location.pathname`); got != "/admin/login" {
		t.Fatalf("signed out, /admin/ went to %s", got)
	}
	v.do(chromedp.SendKeys(chromedp.CSS(`#secret`), "wrong"), chromedp.Submit(chromedp.CSS(`#secret`)),
		chromedp.WaitVisible(chromedp.CSS(`#login-error`)))
	v.signIn(secret)
	if n := eval[int](v, `document.querySelectorAll('table:has(#cap-choices) tbody tr').length`); n < 14 {
		t.Errorf("the choices table has %d days, want at least the 14 posted", n)
	}
	v.open("/admin/person?id=" + someone)
	v.do(chromedp.WaitVisible(chromedp.CSS(`#h-record`)))
	rows := eval[int](v, `document.querySelectorAll('table:has(#cap-record) tbody tr').length`)
	good := eval[int](v, `[...document.querySelectorAll('table:has(#cap-record) tbody tr')].filter(tr => tr.textContent.includes('✓')).length`)
	if rows < 4 || good != rows {
		t.Errorf("%s's record: %d of %d receipts verify", someone, good, rows)
	}
	// Signing out is a form post.
	v.do(chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	v.open("/admin/versions")
	v.do(chromedp.WaitVisible(chromedp.CSS(`#secret`)))

	// axe-core in light and dark, desktop and phone, and a screenshot of each.
	src := axeSource(t)
	pages := []struct{ name, path, wait string }{
		{"choices", "/admin/", "#h-choices"},
		{"versions", "/admin/versions", "#h-notices"},
		{"permissions", "/admin/permissions", "#h-perms"},
		{"delivery", "/admin/delivery", "#h-lag"},
		{"discovered", "/admin/discovered", "h1"},
		{"person", "/admin/person?id=" + someone, "#h-record"},
	}
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			v := newVisitor(t)
			v.open("/admin/login")
			v.signIn(secret)
			// axe's own code is not written for the console's CSP.
			if _, err := chromedp.Call(v.ctx, page.SetBypassCSP, page.SetBypassCSPParams{Enabled: true}); err != nil {
				t.Fatal(err)
			}
			v.emulateScheme(scheme)
			for _, p := range pages {
				for _, phone := range []bool{false, true} {
					name := "console-" + p.name + "-" + scheme
					if phone {
						v.viewport(390, 844, true)
						name += "-phone"
					} else {
						v.viewport(1280, 900, false)
					}
					v.open(p.path)
					v.do(chromedp.WaitVisible(chromedp.CSS(p.wait)))
					v.axe(src, name)
					if readmeScreenshots[name] {
						v.screenshot(name)
					} else {
						v.cacheScreenshot(name)
					}
				}
			}
			v.noProblems()
		})
	}
}

// signIn signs in to the console from its sign-in page.
func (v *visitor) signIn(secret string) {
	v.t.Helper()
	v.do(chromedp.WaitVisible(chromedp.CSS(`#secret`)), chromedp.SendKeys(chromedp.CSS(`#secret`), secret),
		chromedp.Submit(chromedp.CSS(`#secret`)), chromedp.WaitVisible(chromedp.CSS(`#h-choices`)))
}

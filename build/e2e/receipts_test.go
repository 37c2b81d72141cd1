package e2e

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"workly.ai/consent"
	"workly.ai/consent/build/testsite"
)

// record is a receipt as consent.history() lists it.
type record struct {
	ID, Subject, Event, Policy, Method, Prev, Wire, Locale, Key, Sig string
	Granted                                                          []string
	Time                                                             int64
	GPC, DNT                                                         bool
	Ack                                                              *consent.Ack
}

// history is consent.history().
func (v *visitor) history() []record {
	v.t.Helper()
	return eval[[]record](v, `window.consent.history()`)
}

// delivered waits until the server has acknowledged n receipts or more and
// none waits, and returns the history.
func (v *visitor) delivered(n int) []record {
	v.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		h := v.history()
		waiting := 0
		for _, r := range h {
			if r.Ack == nil {
				waiting++
			}
		}
		if len(h) >= n && waiting == 0 {
			return h
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("after 30 s, %d receipts, %d not acknowledged (want %d, all acknowledged)", len(h), waiting, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// events lists the history's events.
func events(h []record) []string {
	var out []string
	for _, r := range h {
		out = append(out, r.Event)
	}
	return out
}

// checkChain checks that each receipt carries the SHA-256 of the same
// person's previous one.
func checkChain(t *testing.T, h []record) {
	t.Helper()
	last := map[string]string{}
	for i, r := range h {
		if r.Prev != last[r.Subject] {
			t.Errorf("receipt %d (%s): prev %q, want %q", i, r.Event, r.Prev, last[r.Subject])
		}
		sum := sha256.Sum256([]byte(r.Wire))
		last[r.Subject] = hex.EncodeToString(sum[:])
	}
}

// exported is what consentd export writes for the store in dir
// (testsite.Exported).
func exported(t *testing.T, dir string) (acks map[string]consent.Ack, times map[string]int) {
	t.Helper()
	acks, times, err := testsite.Exported(consentd, dir)
	if err != nil {
		t.Fatal(err)
	}
	return acks, times
}

// A first visit and a choice become two receipts, banner shown then consent
// given, one person's chain; the server stores each once and the browser
// keeps the server's signed acknowledgement; the person downloads them from
// the preferences centre.
func TestReceiptsDelivered(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	seen := v.requests()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	s := v.waitConsentCookie()
	h := v.delivered(2)
	// The server was asked to set the cookie too (Safari keeps a server's
	// cookie for its whole lifetime, a script's for 7 days).
	if !slices.Contains(urls(seen()), baseURL+"/v1/cookie") {
		t.Error("the module did not ask the server to set the consent cookie")
	}
	if got := v.waitConsentCookie(); got.ID != s.ID || !slices.Equal(got.Granted, s.Granted) {
		t.Errorf("after the server set it, the cookie reads %+v, want %+v", got, s)
	}
	// A returning person's cookie, once a browser session.
	seen = v.requests()
	v.do(chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	v.open("/app/")
	v.ready()
	v.open("/")
	v.ready()
	if n := countOf(urls(seen()), baseURL+"/v1/cookie"); n != 1 {
		t.Errorf("two page views of a new session asked the server %d times to set the cookie, want once", n)
	}
	if got := events(h); !slices.Equal(got, []string{"banner_shown", "consent_given"}) {
		t.Fatalf("events %v", got)
	}
	for _, r := range h {
		if r.Subject != s.ID || r.Method != "banner" || r.Policy != currentPolicy(t) || r.Locale != "zh-CN" {
			t.Errorf("receipt %+v: want subject %s (the consent id), method banner, the current policy, zh-CN", r, s.ID)
		}
	}
	if !slices.Equal(h[1].Granted, []string{"functional", "analytics", "marketing"}) {
		t.Errorf("granted %v", h[1].Granted)
	}
	checkChain(t, h)
	acks, times := exported(t, dataDir)
	for _, r := range h {
		if times[r.ID] != 1 || acks[r.ID] != *r.Ack {
			t.Errorf("receipt %s: stored %d times, ack %+v in the browser, %+v on the server", r.ID, times[r.ID], *r.Ack, acks[r.ID])
		}
	}

	// Download from the preferences centre.
	dir := t.TempDir()
	if _, err := chromedp.Call(v.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(v.ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	v.do(chromedp.Evaluate[chromedp.Void](`consent.openPreferences()`))
	v.do(chromedp.ScrollIntoView(chromedp.CSS(`dialog [data-consent-action="download-history"]`)))
	v.screenshot("preferences-records")
	// Its paragraphs keep the dialog's margins (consent.css's .cm p once
	// overrode them: text touched the border).
	if inset := eval[[]float64](v, `(() => { const d = document.querySelector("dialog.cm-prefs").getBoundingClientRect().left;
		return [...document.querySelectorAll("dialog.cm-prefs > p")].map(p => p.getBoundingClientRect().left - d); })()`); len(inset) < 2 || slices.Min(inset) < 20 {
		t.Errorf("the preferences' paragraphs start %v px inside the dialog, want ≥ 20", inset)
	}
	// A click where a person would click: clear of the sticky actions bar.
	v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="download-history"]`)))
	var file []byte
	for deadline := time.Now().Add(10 * time.Second); file == nil && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		names, _ := filepath.Glob(filepath.Join(dir, "consent-records-*.json"))
		if len(names) == 1 {
			file, _ = os.ReadFile(names[0])
		}
	}
	var doc struct {
		Server, Check string
		Receipts      []record
	}
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatalf("downloaded records %q: %v", file, err)
	}
	downloaded := doc.Receipts
	if len(downloaded) != 2 || downloaded[1].Ack == nil || *downloaded[1].Ack != *h[1].Ack || downloaded[1].Wire != h[1].Wire {
		t.Errorf("downloaded %+v, want the history %+v\nfile %s", downloaded, h, file)
	}
	if doc.Server != baseURL+"/v1/receipts" || !strings.Contains(doc.Check, "/v1/key") {
		t.Errorf("the download says server %q, check %q", doc.Server, doc.Check)
	}

	// What the download says is enough to check a receipt: the key and the
	// link before it, from the server. hash = SHA-256(previous hash ||
	// SHA-256(wire) || received, 8 bytes big-endian); sig signs "consent
	// checkpoint v1\n" || seq || hash || received.
	var key struct{ PublicKey string }
	var link struct{ Hash string }
	getJSON(t, baseURL+"/v1/key", &key)
	getJSON(t, baseURL+"/v1/chain/"+strconv.FormatInt(downloaded[1].Ack.Seq-1, 10), &link)
	pub, _ := hex.DecodeString(key.PublicKey)
	prev, _ := hex.DecodeString(link.Hash)
	ack := downloaded[1].Ack
	leaf := sha256.Sum256([]byte(downloaded[1].Wire))
	sum := sha256.Sum256(binary.BigEndian.AppendUint64(append(prev, leaf[:]...), uint64(ack.Received)))
	signed := append(append([]byte("consent checkpoint v1\n"), binary.BigEndian.AppendUint64(nil, uint64(ack.Seq))...), sum[:]...)
	signed = binary.BigEndian.AppendUint64(signed, uint64(ack.Received))
	sig, _ := base64.StdEncoding.DecodeString(ack.Sig)
	if hex.EncodeToString(sum[:]) != ack.Hash || !ed25519.Verify(pub, signed, sig) {
		t.Error("the downloaded receipt does not check against the server's key and chain")
	}
	// And consentd verify checks the store against the download.
	path := filepath.Join(t.TempDir(), "download.json")
	os.WriteFile(path, file, 0o644)
	if out, err := exec.Command(consentd, "verify", "-data", dataDir, "-pub", testsite.Key(dataDir)+".pub", "-against", path).CombinedOutput(); err != nil ||
		!strings.Contains(string(out), "holds all 2") {
		t.Errorf("consentd verify -against the download: %v\n%s", err, out)
	}
	v.noProblems()
}

// Every kind of moment leaves its receipt: a material notice displayed and
// acknowledged, a category withdrawn in the preferences centre, an
// identifier reset, and continued use after a minor change.
func TestReceiptsForEveryEvent(t *testing.T) {
	v := newVisitor(t)
	v.acked("2022-01-01")
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="acknowledge"]`)))
	v.poll(`document.cookie.includes("~2025-06-01~")`)
	v.do(chromedp.Evaluate[chromedp.Void](`consent.openPreferences()`))
	v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-reset]`)))
	v.do(chromedp.Click(chromedp.CSS(`dialog input[data-consent-category="analytics"]`)))
	v.do(chromedp.Click(chromedp.CSS(`dialog [data-consent-action="save"]`)))
	v.poll(`!document.cookie.includes("~analytics~")`)
	h := v.delivered(4)
	if got := events(h); !slices.Equal(got, []string{"notice_displayed", "acknowledged", "identifier_reset", "withdrawn"}) {
		t.Errorf("events %v", got)
	}
	methods := []string{}
	for _, r := range h {
		methods = append(methods, r.Method)
	}
	if !slices.Equal(methods, []string{"notice", "notice", "preferences", "preferences"}) {
		t.Errorf("methods %v", methods)
	}
	if len(h) == 4 && (len(h[3].Granted) != 0 || !slices.Equal(h[2].Granted, []string{"analytics"})) {
		t.Errorf("granted after the reset %v, after the withdrawal %v", h[2].Granted, h[3].Granted)
	}
	checkChain(t, h)

	w := newVisitor(t)
	w.acked("2024-03-01")
	w.open("/")
	w.ready()
	w.open("/app/") // leaving with the minor-change note shown is continued use
	w.ready()
	if got := events(w.delivered(2)); !slices.Equal(got, []string{"notice_displayed", "continued_use"}) {
		t.Errorf("minor change: events %v", got)
	}
	v.noProblems()
	w.noProblems()
}

// Continued use counts even when the page's worker never hears that the
// page hid (a browser stops a leaving page's worker when it likes): the
// executor keeps the receipt the core prepared, and the next page stores
// and sends it, once.
func TestContinuedUseWithoutTheWorker(t *testing.T) {
	v := newVisitor(t)
	v.acked("2024-03-01")
	v.open("/")
	v.ready()
	// The fault: the worker hears nothing more from this page.
	v.do(chromedp.Evaluate[chromedp.Void](`Worker.prototype.postMessage = function () {}`))
	v.open("/app/")
	v.ready()
	h := v.delivered(2)
	if got := events(h); !slices.Equal(got, []string{"notice_displayed", "continued_use"}) {
		t.Errorf("events %v", got)
	}
	if !strings.Contains(v.cookies()[consent.CookieName], "~2025-06-01~") {
		t.Errorf("the cookie after continued use: %q", v.cookies()[consent.CookieName])
	}
	if left := eval[[]string](v, `Object.keys(localStorage).filter(k => k.startsWith("consent.outbox"))`); len(left) != 0 {
		t.Errorf("localStorage still holds %v once the outbox stored it", left)
	}
	checkChain(t, h)
	v.noProblems()
}

// Receipts made while the server is down wait in the browser, through a
// page change, and arrive exactly once when it is back: sent again by a
// later page, or by the page itself retrying with back-off.
func TestReceiptsSurviveOutage(t *testing.T) {
	data := t.TempDir()
	srv, addr, err := testsite.Start(consentd, data, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}
	defer func() { stop() }()
	restart := func() {
		srv, _, err = testsite.Start(consentd, data, strings.TrimPrefix(addr, "http://"))
		if err != nil {
			t.Fatal(err)
		}
	}

	v := newVisitor(t)
	v.do(chromedp.Navigate(addr + "/"))
	v.ready()
	v.delivered(1) // banner shown
	stop()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	v.waitConsentCookie()
	v.do(chromedp.Evaluate[chromedp.Void](`consent.set({marketing: false})`))
	v.poll(`consent.history().then(h => h.length == 3 && !h[1].ack && !h[2].ack)`)
	v.do(chromedp.Navigate("about:blank")) // the tab leaves; the beacon finds no server

	restart()
	v.do(chromedp.Navigate(addr + "/app/"))
	v.ready()
	v.delivered(3)

	stop()
	for len(v.warnings) > 0 { // the first outage's
		<-v.warnings
	}
	v.do(chromedp.Evaluate[chromedp.Void](`consent.rejectAll()`))
	v.poll(`consent.history().then(h => h.length == 4 && !h[3].ack)`)
	// The worker's post of it fails (the server is down) before it comes
	// back: the module says so in the page's console. (The page's request
	// log does not see a worker's requests.)
	v.waitWarning("receipts not delivered yet")
	restart()
	h := v.delivered(4) // the page's own retry

	if got := events(h); !slices.Equal(got, []string{"banner_shown", "consent_given", "withdrawn", "withdrawn"}) {
		t.Errorf("events %v", got)
	}
	checkChain(t, h)
	acks, times := exported(t, data)
	if len(times) != len(h) {
		t.Errorf("the server stored %d receipts, the browser made %d", len(times), len(h))
	}
	for _, r := range h {
		if times[r.ID] != 1 || acks[r.ID] != *r.Ack {
			t.Errorf("receipt %s (%s): stored %d times, ack %+v in the browser, %+v on the server", r.ID, r.Event, times[r.ID], *r.Ack, acks[r.ID])
		}
	}
	if out, err := exec.Command(consentd, "verify", "-data", data, "-pub", testsite.Key(data)+".pub").CombinedOutput(); err != nil {
		t.Errorf("consentd verify: %v\n%s", err, out)
	}
	v.noProblems()
}

// getJSON decodes the JSON at url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// A receipt the server refuses as malformed (here, one edited out of the
// canonical wire form in an older module's localStorage outbox) does not hold back the others sent with
// it: the batch goes again a receipt at a time, and the refused one is
// dropped, with a console error that names it. One refused as invalid (an
// unknown policy version: perhaps a server older than the site) is kept and
// tried again.
func TestRefusedReceiptDoesNotBlockOthers(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	v.delivered(2)
	v.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const subject = consent.state().id, line = (id, policy, method) => "linked " + id + " " + subject + " - " +
			JSON.stringify({id, subject, event: "consent_given", policy, policySha256: "0".repeat(64),
				locale: "zh-CN", granted: [], time: Date.now(), method: "api", gpc: false, prev: ""}).replace('"api"', method) + "\n";
		localStorage.setItem("consent.outbox",
			line("AAAAAAAAAAAAAAAAAAAAAA", "2025-06-01", '"ap\\u0069"') + line("BBBBBBBBBBBBBBBBBBBBBB", "2030-01-01", '"api"'));
	})()`))
	// The next page moves them into its outbox (as from an older module).
	v.open("/")
	v.ready()
	v.do(chromedp.Evaluate[chromedp.Void](`consent.rejectAll()`))
	v.poll(`consent.history().then(h => h.length == 4 && h[2].event == "withdrawn" && h[2].ack && h[3].id == "BBBBBBBBBBBBBBBBBBBBBB" && !h[3].ack)`)
	h := v.history()
	_, times := exported(t, dataDir)
	if times["AAAAAAAAAAAAAAAAAAAAAA"] != 0 || times["BBBBBBBBBBBBBBBBBBBBBB"] != 0 || times[h[2].ID] != 1 {
		t.Errorf("stored: the malformed receipt %d times, the invalid one %d times, the withdrawal %d times",
			times["AAAAAAAAAAAAAAAAAAAAAA"], times["BBBBBBBBBBBBBBBBBBBBBB"], times[h[2].ID])
	}
	select {
	case p := <-v.problems:
		if !strings.Contains(p, "refused receipt AAAAAAAAAAAAAAAAAAAAAA (HTTP 400") || !strings.Contains(p, "canonical") {
			t.Errorf("console: %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Error("no console error names the dropped receipt")
	}
	v.waitWarning("unknown policy version")
	v.noProblems()
}

// A receipt forged for an existing consent id, by anyone without the
// browser's key (curl; a page script posting with fetch, with or without the
// enrolment cookie), is refused with a clear error and not stored; the
// browser's key cannot be read out by a page script. The web client, on
// another origin with another key, records for the same consent.
func TestForgedReceiptRefused(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	h := v.delivered(2)
	subject := h[1].Subject
	forged := func(id string) string {
		return `{"receipts":[` + string(consent.AppendReceiptJSON(nil, consent.Receipt{ID: id, Subject: subject,
			Event: consent.EventWithdrawn, Policy: h[1].Policy, PolicySHA256: h[0].policySHA256(t), Locale: consent.ZhCN,
			Granted: []string{}, Time: time.Now(), Method: "preferences"})) + `]}`
	}

	// curl: no Origin, no cookie, no key.
	resp, err := http.Post(baseURL+"/v1/receipts", "text/plain", strings.NewReader(forged("CCCCCCCCCCCCCCCCCCCCCC")))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if resp.StatusCode != 403 || !strings.Contains(answer.Error, "bound to the browser that made it") {
		t.Errorf("a forged receipt from curl: %d %q, want 403 saying the consent is bound", resp.StatusCode, answer.Error)
	}
	// A page script on the site: unsigned, with the browser's cookies (the
	// enrolment cookie too, though it cannot read it); or signing with a key
	// of its own, without them (as from a copy of the page elsewhere). With
	// the cookies, a key of its own would enrol as a browser that lost its
	// storage does (see the README's threat model).
	for i, script := range []string{
		`fetch("/v1/receipts", {method: "POST", credentials: "include", body: ` + strconv.Quote(forged("DDDDDDDDDDDDDDDDDDDDDD")) + `})
			.then(r => r.json().then(a => r.status + " " + a.error))`,
		`(async () => {
			const k = await crypto.subtle.generateKey({name: "ECDSA", namedCurve: "P-256"}, false, ["sign"]);
			const raw = new Uint8Array(await crypto.subtle.exportKey("raw", k.publicKey));
			const b64 = b => btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
			const body = ` + strconv.Quote(forged("EEEEEEEEEEEEEEEEEEEEEE")) + `, wire = body.slice(13, -2);
			const signed = wire.slice(0, -1) + ',"key":"' + b64(raw) + '"}';
			const sig = new Uint8Array(await crypto.subtle.sign({name: "ECDSA", hash: "SHA-256"}, k.privateKey, new TextEncoder().encode(signed)));
			const r = await fetch("/v1/receipts", {method: "POST", credentials: "omit",
				body: '{"receipts":[' + signed.slice(0, -1) + ',"sig":"' + b64(sig) + '"}]}'});
			return r.status + " " + (await r.json()).error;
		})()`,
	} {
		if got := eval[string](v, script); !strings.HasPrefix(got, "403 ") {
			t.Errorf("page script %d: %s, want 403", i, got)
		}
	}
	_, times := exported(t, dataDir)
	for _, id := range []string{"CCCCCCCCCCCCCCCCCCCCCC", "DDDDDDDDDDDDDDDDDDDDDD", "EEEEEEEEEEEEEEEEEEEEEE"} {
		if times[id] != 0 {
			t.Errorf("forged receipt %s stored", id)
		}
	}
	// The key is there, and a page script can get the CryptoKey object but
	// not the private key in it.
	got := eval[string](v, `new Promise((ok, fail) => {
		const open = indexedDB.open("consent.keys");
		open.onerror = () => fail(open.error);
		open.onsuccess = () => {
			const get = open.result.transaction("keys").objectStore("keys").get("receipt");
			get.onsuccess = () => {
				const k = get.result.private;
				Promise.allSettled(["pkcs8", "jwk"].map(f => crypto.subtle.exportKey(f, k)))
					.then(rs => ok(k.extractable + " " + rs.map(r => r.status).join(" ") + " " + get.result.public));
			};
		};
	})`)
	if want := "false rejected rejected " + h[1].Key; got != want {
		t.Errorf("the receipt key from a page script: %q, want %q", got, want)
	}

	// The same consent in the web client: its own key, enrolled.
	v.do(chromedp.Navigate(strings.Replace(siteURL, "//www.", "//app.", 1) + "/app/"))
	v.ready()
	v.do(chromedp.Evaluate[chromedp.Void](`consent.set({marketing: false})`))
	app := v.delivered(1)
	if last := app[len(app)-1]; last.Subject != subject || last.Event != "withdrawn" || last.Key == "" || last.Key == h[1].Key {
		t.Errorf("the web client's receipt: %+v; want one for %s with its own key", last, subject)
	}
	v.noProblems()
}

// A browser that lost its storage but kept the server's cookies (Safari
// deletes a site's script-written storage after 7 days without a visit)
// makes a new key, which enrols with the enrolment cookie: the person's
// next choice is stored under the same consent.
func TestReceiptsAfterStorageCleared(t *testing.T) {
	v := newVisitor(t)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	first := v.delivered(2)
	eval[chromedp.Void](v, `new Promise((ok, fail) => { localStorage.clear(); sessionStorage.clear();
		const r = indexedDB.deleteDatabase("consent.keys"); r.onsuccess = () => ok(true); r.onerror = () => fail(r.error) })`)
	v.do(chromedp.Navigate(siteURL + "/"))
	v.ready()
	eval[chromedp.Void](v, `consent.set({marketing: false}).then(() => true)`)
	h := v.delivered(1)
	last := h[len(h)-1]
	if last.Subject != first[1].Subject || last.Event != "withdrawn" || last.Key == "" || last.Key == first[1].Key || last.Ack == nil {
		t.Errorf("after the storage was cleared: %+v; want a withdrawal for %s, stored, with a new key", last, first[1].Subject)
	}
	v.noProblems()
}

// policySHA256 is the policy hash the receipt's wire form names.
func (r record) policySHA256(t *testing.T) string {
	var w struct{ PolicySha256 string }
	if err := json.Unmarshal([]byte(r.Wire), &w); err != nil {
		t.Fatal(err)
	}
	return w.PolicySha256
}

// Two tabs of the same person making choices at once (50 each): every
// receipt is delivered exactly once, with its ack in the history both tabs
// show, and the server holds one unbroken chain for the person: no receipt
// missing, none twice, no fork. Each tab once rewrote the whole outbox from
// its own stale copy, dropping what the other had written.
func TestReceiptsTwoTabs(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	subject := v.waitConsentCookie().ID
	v.delivered(2)
	w := v.tab()
	w.open("/app/")
	w.ready()

	const each = 50
	choices := `Promise.all(Array.from({length: ` + strconv.Itoa(each) + `}, (_, i) => consent.set({marketing: i % 2 == 1}))).then(() => true)`
	done := make(chan error, 2)
	for _, tab := range []*visitor{v, w} {
		go func() {
			_, err := chromedp.Run(tab.ctx, chromedp.Evaluate[bool](choices, chromedp.EvalAwaitPromise))
			done <- err
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	// Nothing waits any more in either tab.
	for _, tab := range []*visitor{v, w} {
		tab.poll(`consent.history().then(h => h.every(r => r.ack))`)
	}
	want := 2 + 2*each

	// The server's copy: the person's receipts, each once, one chain.
	out, err := exec.Command(consentd, "export", "-data", dataDir).Output()
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{} // by id
	byHash := map[string]string{}
	prevs := map[string]string{} // id → prev
	acks := map[string]consent.Ack{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var rec struct {
			Receipt json.RawMessage
			Ack     consent.Ack
		}
		var r struct{ ID, Subject, Prev string }
		if json.Unmarshal([]byte(line), &rec) != nil || json.Unmarshal(rec.Receipt, &r) != nil {
			t.Fatalf("export line %q", line)
		}
		if r.Subject != subject {
			continue
		}
		stored[r.ID]++
		sum := sha256.Sum256(rec.Receipt)
		byHash[hex.EncodeToString(sum[:])] = r.ID
		prevs[r.ID], acks[r.ID] = r.Prev, rec.Ack
	}
	dups, firsts, gaps, forks := 0, 0, 0, 0
	next := map[string]int{} // prev → receipts linking to it
	for id, n := range stored {
		dups += n - 1
		p := prevs[id]
		switch {
		case p == "":
			firsts++
		case byHash[p] == "":
			gaps++ // its predecessor is not stored
		}
		if next[p]++; next[p] == 2 {
			forks++
		}
	}
	if len(stored) != want || dups != 0 || firsts != 1 || gaps != 0 || forks != 0 {
		t.Errorf("the server holds %d of the %d receipts made (%d lost), %d twice; the chain has %d starts, %d gaps, %d forks; want all, once, one chain",
			len(stored), want, want-len(stored), dups, firsts, gaps, forks)
	}
	// Both tabs show every receipt once, with the server's ack.
	for i, tab := range []*visitor{v, w} {
		h := tab.history()
		seen := map[string]bool{}
		for _, r := range h {
			if r.Subject != subject || seen[r.ID] {
				continue
			}
			seen[r.ID] = true
			if r.Ack == nil || acks[r.ID] != *r.Ack {
				t.Errorf("tab %d: receipt %s: ack %+v, the server's %+v", i+1, r.ID, r.Ack, acks[r.ID])
			}
		}
		if len(seen) != want || len(h) != want {
			t.Errorf("tab %d's history lists %d receipts (%d distinct), want %d", i+1, len(h), len(seen), want)
		}
		tab.noProblems()
	}
}

// The server vouches for a choice's cookie in its answer to the choice's
// receipt, for the cookie that post carries; a page whose main thread is
// busy sets the cookie late, so the worker's post waits for the page to
// say it has (else the cookie would stay unvouched, and a sibling
// subdomain, the web client, would not believe it).
func TestChoiceVouchedWhenThePageIsBusy(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-action="accept-all"]`)),
		// The page's main thread busy for a second: the worker's post would
		// go before the executor sets the cookie.
		chromedp.Evaluate[chromedp.Void](`(() => { const t = performance.now(); while (performance.now() - t < 1000); })()`))
	v.poll(`(document.cookie.split("; ").find(c => c.startsWith("consent=")) || "").split("~").length == 8`)
	v.noProblems()
}

package e2e

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
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
)

// record is a receipt as consent.history() lists it.
type record struct {
	ID, Subject, Event, Policy, Method, Prev, Wire, Locale string
	Granted                                                []string
	Time                                                   int64
	GPC                                                    bool
	Ack                                                    *consent.Ack
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

// exported is what consentd export writes for the store in dir: each
// receipt's ack by receipt id, and how many times each id appears.
func exported(t *testing.T, dir string) (acks map[string]consent.Ack, times map[string]int) {
	t.Helper()
	out, err := exec.Command(consentd, "export", "-data", dir).Output()
	if err != nil {
		t.Fatalf("consentd export: %v", err)
	}
	acks, times = map[string]consent.Ack{}, map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var rec struct {
			Receipt struct{ ID string }
			Ack     consent.Ack
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		acks[rec.Receipt.ID] = rec.Ack
		times[rec.Receipt.ID]++
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
		t.Errorf("downloaded %+v, want the history %+v", downloaded, h)
	}
	if doc.Server != baseURL+"/v1/receipts" || !strings.Contains(doc.Check, "/v1/key") {
		t.Errorf("the download says server %q, check %q", doc.Server, doc.Check)
	}

	// What the download says is enough to check a receipt: the key and the
	// link before it, from the server.
	var key struct{ PublicKey string }
	var link struct{ Hash string }
	getJSON(t, baseURL+"/v1/key", &key)
	getJSON(t, baseURL+"/v1/chain/"+strconv.FormatInt(downloaded[1].Ack.Seq-1, 10), &link)
	pub, _ := hex.DecodeString(key.PublicKey)
	prev, _ := hex.DecodeString(link.Hash)
	sum := sha256.Sum256(append(prev, downloaded[1].Wire...))
	sig, _ := base64.StdEncoding.DecodeString(downloaded[1].Ack.Sig)
	if hex.EncodeToString(sum[:]) != downloaded[1].Ack.Hash || !ed25519.Verify(pub, sum[:], sig) {
		t.Error("the downloaded receipt does not check against the server's key and chain")
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

// Receipts made while the server is down wait in the browser, through a
// page change, and arrive exactly once when it is back: sent again by a
// later page, or by the page itself retrying with back-off.
func TestReceiptsSurviveOutage(t *testing.T) {
	data := t.TempDir()
	srv, addr, err := startServer(consentd, data, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := func() {
		srv.Process.Signal(os.Interrupt)
		srv.Wait()
	}
	defer func() { stop() }()
	restart := func() {
		srv, _, err = startServer(consentd, data, strings.TrimPrefix(addr, "http://"))
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
	v.do(chromedp.Evaluate[chromedp.Void](`consent.rejectAll()`))
	v.poll(`consent.history().then(h => h.length == 4 && !h[3].ack)`)
	time.Sleep(2 * time.Second) // a failed post or two
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
	if out, err := exec.Command(consentd, "verify", "-data", data).CombinedOutput(); err != nil {
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

// A receipt the server refuses (here, one edited in storage to name a policy
// version that does not exist) does not hold back the others sent with it:
// the batch goes again a receipt at a time, and the refused one is dropped,
// with a console error that names it.
func TestRefusedReceiptDoesNotBlockOthers(t *testing.T) {
	v := newVisitor(t)
	v.open("/")
	v.ready()
	v.do(chromedp.Click(chromedp.CSS(`[data-consent-notice="banner"] [data-consent-action="accept-all"]`)))
	v.delivered(2)
	v.do(chromedp.Evaluate[chromedp.Void](`(() => {
		const id = "AAAAAAAAAAAAAAAAAAAAAA", subject = consent.state().id;
		const bad = JSON.stringify({id, subject, event: "consent_given", policy: "1999-01-01", policySha256: "0".repeat(64),
			locale: "zh-CN", granted: [], time: Date.now(), method: "api", gpc: false, prev: ""});
		localStorage.setItem("consent.outbox", localStorage.getItem("consent.outbox") + "linked " + id + " " + subject + " - " + bad + "\n");
	})()`))
	v.do(chromedp.Evaluate[chromedp.Void](`consent.rejectAll()`))
	h := v.delivered(3)
	if got := events(h); !slices.Equal(got, []string{"banner_shown", "consent_given", "withdrawn"}) {
		t.Errorf("events %v", got)
	}
	_, times := exported(t, dataDir)
	if times["AAAAAAAAAAAAAAAAAAAAAA"] != 0 || times[h[2].ID] != 1 {
		t.Errorf("stored: the edited receipt %d times, the withdrawal %d times", times["AAAAAAAAAAAAAAAAAAAAAA"], times[h[2].ID])
	}
	select {
	case p := <-v.problems:
		if !strings.Contains(p, "refused receipt AAAAAAAAAAAAAAAAAAAAAA") || !strings.Contains(p, "unknown policy version") {
			t.Errorf("console: %s", p)
		}
	case <-time.After(5 * time.Second):
		t.Error("no console error names the dropped receipt")
	}
	v.noProblems()
}

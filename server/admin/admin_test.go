package admin

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
	"workly.ai/consent/server/stats"
)

const (
	alice = "AAAAAAAAAAAAAAAAAAAAAA"
	bob   = "BBBBBBBBBBBBBBBBBBBBBB"
)

var (
	txt      = consent.Text{ZhCN: "统计", En: "Analytics"}
	site     = &consent.Site{Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt}, {ID: "analytics", Title: txt, Purpose: txt}}}
	policies = &consent.Manifest{Versions: []consent.Version{
		{ID: "2022-01-01", Effective: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "2024-03-01", Effective: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Changes: []consent.Change{{Kind: consent.KindPurposes}}},
	}}
)

// fixture is a console over a SQLite store of known receipts: on
// 2024-03-02 Alice was shown the new version's notice and acknowledged it,
// granting analytics; Bob was shown the banner twice and refused, with GPC.
type fixture struct {
	t       *testing.T
	h       http.Handler
	now     time.Time
	token   string // the file
	dbPath  string
	cookie  string
	csrf    string
	console *Console
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	pub, key, _ := ed25519.GenerateKey(nil)
	f := &fixture{t: t, now: time.Date(2024, 3, 5, 9, 0, 0, 0, time.UTC), token: filepath.Join(dir, TokenFileName), dbPath: filepath.Join(dir, "consent.db")}
	db, err := sqlite.Open(f.dbPath, proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC)
	rs := []consent.Receipt{
		{Subject: alice, Event: consent.EventNoticeDisplayed, Policy: "2024-03-01", Granted: []string{}},
		{Subject: bob, Event: consent.EventBannerShown, Policy: "2024-03-01", GPC: true, Granted: []string{}},
		{Subject: alice, Event: consent.EventAcknowledged, Policy: "2024-03-01", Granted: []string{"analytics"}},
		{Subject: bob, Event: consent.EventBannerShown, Policy: "2024-03-01", GPC: true, Granted: []string{}},
		{Subject: bob, Event: consent.EventConsentRefused, Policy: "2024-03-01", GPC: true, DNT: true, Granted: []string{}},
	}
	for i := range rs {
		rs[i].ID, rs[i].Time = fmt.Sprintf("r%021d", i), at.Add(time.Duration(i)*time.Minute)
		rs[i].PolicySHA256, rs[i].Locale, rs[i].Method = strings.Repeat("a", 64), consent.ZhCN, "banner"
	}
	if _, _, err := db.Put(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	st, err := stats.Open(filepath.Join(dir, stats.FileName), db, policies)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f.console = New(Config{TokenFile: f.token, Stats: st, Store: db, PublicKey: pub, Site: site, Policies: policies,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return f.now }})
	f.h = f.console.Handler()
	return f
}

// do sends a request with the session cookie, if any; header is pairs.
func (f *fixture) do(method, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "http://console.test"+target, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if f.cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: f.cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	if r.Header.Get("X-Test-TLS") != "" {
		r.TLS = &tls.ConnectionState{}
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

const sameSite = "http://console.test"

func (f *fixture) secret() string {
	s, err := CreateToken(f.token)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// login signs in and keeps the session cookie and the CSRF token.
func (f *fixture) login(secret string) *httptest.ResponseRecorder {
	f.t.Helper()
	w := f.do("POST", "/admin/login", url.Values{"secret": {secret}}, "Origin", sameSite)
	for _, c := range w.Result().Cookies() {
		if c.Name == cookieName {
			f.cookie = c.Value
		}
	}
	if w.Code == http.StatusSeeOther {
		page := f.do("GET", "/admin/", nil)
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page.Body.String())
		if m == nil {
			f.t.Fatalf("no CSRF token on the page:\n%s", page.Body)
		}
		f.csrf = m[1]
	}
	return w
}

var protected = []string{"/admin/", "/admin/versions", "/admin/permissions", "/admin/delivery", "/admin/discovered",
	"/admin/person?id=" + alice, "/admin/person/receipts.jsonl?id=" + alice, "/admin/export?format=jsonl"}

// Without a secret made, the console does not exist.
func TestConsoleClosedWithoutSecret(t *testing.T) {
	f := newFixture(t)
	for _, p := range append(protected, "/admin/login") {
		if w := f.do("GET", p, nil); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "2024-03-02") {
			t.Errorf("GET %s: %d", p, w.Code)
		}
	}
	if w := f.do("POST", "/admin/login", url.Values{"secret": {""}}, "Origin", sameSite); w.Code != http.StatusNotFound {
		t.Errorf("sign in: %d", w.Code)
	}
}

// No page and no figure without signing in with the secret.
func TestConsoleNeedsTheSecret(t *testing.T) {
	f := newFixture(t)
	secret := f.secret()
	for _, p := range protected {
		w := f.do("GET", p, nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/login" || strings.Contains(w.Body.String(), "2024") {
			t.Errorf("GET %s without a session: %d %s", p, w.Code, w.Header().Get("Location"))
		}
	}
	f.cookie = "forged"
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("a forged cookie: %d", w.Code)
	}
	f.cookie = ""
	if w := f.login("wrong" + secret); w.Code != http.StatusUnauthorized || f.cookie != "" {
		t.Errorf("a wrong secret: %d, cookie %q", w.Code, f.cookie)
	}
	// The sign-in form posts only from the console's own page.
	for _, origin := range [][]string{{}, {"Origin", "https://evil.test"}, {"Referer", "https://evil.test/admin/login"}, {"Origin", "null"}} {
		if w := f.do("POST", "/admin/login", url.Values{"secret": {secret}}, origin...); w.Code != http.StatusForbidden || len(w.Result().Cookies()) != 0 {
			t.Errorf("sign in from %v: %d", origin, w.Code)
		}
	}
	w := f.login(secret)
	if w.Code != http.StatusSeeOther || f.cookie == "" {
		t.Fatalf("sign in: %d", w.Code)
	}
	c := w.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin/" || c.Secure || !c.Expires.Equal(f.now.Add(8*time.Hour).Truncate(time.Second)) {
		t.Errorf("session cookie %+v", c)
	}
	tlsLogin := f.do("POST", "/admin/login", url.Values{"secret": {secret}}, "Origin", "https://console.test", "X-Test-TLS", "1")
	if cs := tlsLogin.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("over HTTPS the cookie is not Secure: %+v", cs)
	}
	for _, p := range protected {
		if w := f.do("GET", p, nil); w.Code != http.StatusOK {
			t.Errorf("GET %s signed in: %d", p, w.Code)
		}
	}
	// A session is only ever its cookie's: the file keeps just the hash.
	data, _ := os.ReadFile(f.token)
	if strings.Contains(string(data), secret) || len(strings.TrimSpace(string(data))) != 64 {
		t.Errorf("the token file holds %q", data)
	}
}

// Sessions end: when idle too long, at their expiry, on signing out, and
// when a new secret is made.
func TestConsoleSessionsEnd(t *testing.T) {
	f := newFixture(t)
	secret := f.secret()
	start := f.now
	f.login(secret)
	f.now = start.Add(29 * time.Minute)
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusOK {
		t.Fatalf("29 min later: %d", w.Code)
	}
	f.now = f.now.Add(30 * time.Minute)
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("idle 30 min: %d", w.Code)
	}

	f.now = start
	f.login(secret)
	for f.now.Before(start.Add(8*time.Hour - time.Minute)) { // active all day
		f.now = f.now.Add(20 * time.Minute)
		if w := f.do("GET", "/admin/versions", nil); w.Code != http.StatusOK && f.now.Before(start.Add(8*time.Hour)) {
			t.Fatalf("at %s: %d", f.now.Sub(start), w.Code)
		}
	}
	f.now = start.Add(8 * time.Hour)
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("after 8 h: %d", w.Code)
	}

	f.now = start
	f.login(secret)
	f.secret() // a new secret
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("after a new secret: %d", w.Code)
	}
}

// Signing out is a POST that must carry the session's CSRF token and come
// from the console's own page.
func TestConsoleCSRF(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	for name, c := range map[string]struct {
		form   url.Values
		header []string
	}{
		"no token":      {url.Values{}, []string{"Origin", sameSite}},
		"wrong token":   {url.Values{"csrf": {"x" + f.csrf}}, []string{"Origin", sameSite}},
		"other origin":  {url.Values{"csrf": {f.csrf}}, []string{"Origin", "https://evil.test"}},
		"no origin":     {url.Values{"csrf": {f.csrf}}, nil},
		"other referer": {url.Values{"csrf": {f.csrf}}, []string{"Referer", "http://evil.test/admin/"}},
	} {
		if w := f.do("POST", "/admin/logout", c.form, c.header...); w.Code != http.StatusForbidden {
			t.Errorf("%s: %d", name, w.Code)
		}
	}
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusOK {
		t.Fatalf("the refused posts ended the session: %d", w.Code)
	}
	if w := f.do("POST", "/admin/logout", url.Values{"csrf": {f.csrf}}, "Referer", sameSite+"/admin/"); w.Code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", w.Code)
	}
	if w := f.do("GET", "/admin/", nil); w.Code != http.StatusSeeOther {
		t.Errorf("after signing out: %d", w.Code)
	}
}

// Five failed sign-ins from one address, and that address may not try
// again, even with the right secret, until the window has passed; others
// may.
func TestConsoleLoginRateLimit(t *testing.T) {
	f := newFixture(t)
	secret := f.secret()
	for i := 0; i < loginLimit; i++ {
		if w := f.login("wrong"); w.Code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i+1, w.Code)
		}
	}
	w := f.login(secret)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" || f.cookie != "" {
		t.Fatalf("after %d failures: %d, Retry-After %q", loginLimit, w.Code, w.Header().Get("Retry-After"))
	}
	other := f.do("POST", "/admin/login", url.Values{"secret": {secret}}, "Origin", sameSite, "X-Forwarded-For", "ignored")
	if other.Code != http.StatusTooManyRequests {
		t.Errorf("a forwarded-for header got round the limit: %d", other.Code)
	}
	r := httptest.NewRequest("POST", "http://console.test/admin/login", strings.NewReader("secret="+secret))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", sameSite)
	r.RemoteAddr = "198.51.100.7:4000"
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("another address: %d", rec.Code)
	}
	f.now = f.now.Add(loginWindow)
	if w := f.login(secret); w.Code != http.StatusSeeOther {
		t.Errorf("after the window: %d", w.Code)
	}
}

// cells returns the text of a table row whose header cell is head.
func cells(t *testing.T, page, head string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<tr><th scope="row">` + regexp.QuoteMeta(head) + `(?:</a>)?[^<]*(?:<span[^>]*>.*?</span></span>)?</th>(.*?)</tr>`)
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no row %s in:\n%s", head, page)
	}
	var out []string
	for _, c := range regexp.MustCompile(`<td>(.*?)</td>`).FindAllStringSubmatch(m[1], -1) {
		out = append(out, c[1])
	}
	return out
}

// The pages show the figures of the known receipts, exactly, as tables
// beside accessible SVG charts, with no script.
func TestConsoleFigures(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	overview := f.do("GET", "/admin/", nil).Body.String()
	// banners, given, refused, withdrawn, choices, share granting analytics
	if got, want := strings.Join(cells(t, overview, "2024-03-02"), " "), "2 0 1 0 2 50.0%"; got != want {
		t.Errorf("overview row: %s, want %s", got, want)
	}
	versions := f.do("GET", "/admin/versions", nil).Body.String()
	// displayed, acknowledged, continued, seen since, accepted, share
	if got, want := strings.Join(cells(t, versions, `<a href="/policies/2024-03-01">2024-03-01`)[1:], " "), "1 1 0 2 2 100.0%"; got != want {
		t.Errorf("versions row: %s, want %s", got, want)
	}
	perms := f.do("GET", "/admin/permissions", nil).Body.String()
	if got, want := strings.Join(cells(t, perms, "2024-03-02"), " "), "5 3 60.0% 1 20.0%"; got != want {
		t.Errorf("GPC row: %s, want %s", got, want)
	}
	for name, page := range map[string]string{"overview": overview, "versions": versions, "permissions": perms,
		"delivery": f.do("GET", "/admin/delivery", nil).Body.String(), "person": f.do("GET", "/admin/person?id="+alice, nil).Body.String()} {
		if strings.Contains(page, "<script") {
			t.Errorf("%s has a script", name)
		}
		for _, svg := range regexp.MustCompile(`<svg[^>]*>`).FindAllString(page, -1) {
			m := regexp.MustCompile(`role="img" aria-labelledby="(\S+)-t (\S+)-d"`).FindStringSubmatch(svg)
			if m == nil || !strings.Contains(page, `<title id="`+m[1]+`-t">`) || !strings.Contains(page, `<desc id="`+m[1]+`-d">`) {
				t.Errorf("%s: chart %s is not labelled for screen readers", name, svg)
			}
		}
		if name != "person" && !strings.Contains(page, "<svg") {
			t.Errorf("%s has no chart", name)
		}
	}
}

// One person's record: every receipt, each verified against the chain; a
// receipt changed in the database shows as not verifying; the export holds
// exactly that person's receipts.
func TestConsolePersonRecord(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	page := f.do("GET", "/admin/person?id="+alice, nil).Body.String()
	if n := strings.Count(page, "✓ 通过"); n != 2 || strings.Contains(page, "✗") {
		t.Errorf("Alice's record: %d verified\n%s", n, page)
	}
	export := f.do("GET", "/admin/person/receipts.jsonl?id="+alice, nil)
	lines := strings.Split(strings.TrimSpace(export.Body.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"subject":"`+alice+`"`) || !strings.Contains(lines[1], `"ack":{"id":"r000000000000000000002","seq":3`) {
		t.Errorf("export:\n%s", export.Body)
	}
	if w := f.do("GET", "/admin/person?id=not-an-id", nil); w.Code != http.StatusBadRequest {
		t.Errorf("a malformed id: %d", w.Code)
	}
	raw, err := sql.Open("sqlite", f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE receipts SET body = replace(body, '"analytics"', '"marketing"') WHERE id = 'r000000000000000000002'`); err != nil {
		t.Fatal(err)
	}
	page = f.do("GET", "/admin/person?id="+alice, nil).Body.String()
	if strings.Count(page, "✓ 通过") != 1 || !strings.Contains(page, "chain hash does not match") {
		t.Errorf("a changed receipt still verifies:\n%s", page)
	}
}

// A history the person downloaded, pasted: each receipt checked against
// the chain (the same bytes at its acknowledgement's link, the same
// acknowledgement, the link signed by the server); a changed receipt, a
// forged acknowledgement and one still waiting in the browser are each
// named; the person's receipts export as ISO 27560 and Kantara records.
func TestConsolePastedHistory(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	var history []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(f.do("GET", "/admin/person/receipts.jsonl?id="+alice, nil).Body.String()), "\n") {
		var rec struct {
			Receipt json.RawMessage
			Ack     consent.Ack
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		history = append(history, map[string]any{"wire": string(rec.Receipt), "ack": rec.Ack})
	}
	paste := func(h any) *httptest.ResponseRecorder {
		text, _ := json.Marshal(h)
		return f.do("POST", "/admin/person", url.Values{"csrf": {f.csrf}, "history": {string(text)}}, "Origin", sameSite)
	}
	w := paste(history)
	page := w.Body.String()
	if w.Code != http.StatusOK || strings.Count(page, "✓ 通过") != 2 || strings.Contains(page, "✗") || !strings.Contains(page, "/admin/person?id="+alice) {
		t.Errorf("Alice's pasted history: %d\n%s", w.Code, page)
	}

	changed := []map[string]any{{"wire": strings.Replace(history[1]["wire"].(string), `"analytics"`, `"marketing"`, 1), "ack": history[1]["ack"]}}
	if page := paste(changed).Body.String(); strings.Contains(page, "✓ 通过") || !strings.Contains(page, "the chain holds another receipt") {
		t.Errorf("a changed receipt:\n%s", page)
	}
	ack := history[1]["ack"].(consent.Ack)
	ack.Sig = strings.Repeat("A", len(ack.Sig))
	if page := paste([]map[string]any{{"wire": history[1]["wire"], "ack": ack}}).Body.String(); strings.Contains(page, "✓ 通过") || !strings.Contains(page, "differs from the chain") {
		t.Errorf("a forged acknowledgement:\n%s", page)
	}
	if page := paste([]map[string]any{{"wire": history[0]["wire"], "ack": nil}}).Body.String(); !strings.Contains(page, "not acknowledged") {
		t.Errorf("a receipt still waiting:\n%s", page)
	}
	if w := paste("not a history"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "not a downloaded history") {
		t.Errorf("a malformed paste: %d", w.Code)
	}
	if w := f.do("POST", "/admin/person", url.Values{"history": {"[]"}}, "Origin", sameSite); w.Code != http.StatusForbidden {
		t.Errorf("a paste without the CSRF token: %d", w.Code)
	}

	for format, want := range map[string]string{"iso27560": `"dpv:ConsentRecord"`, "kantara": `"version":"KI-CR-v1.1.0"`} {
		w := f.do("GET", "/admin/person/export?format="+format+"&id="+alice, nil)
		lines := strings.Split(strings.TrimSpace(w.Body.String()), "\n")
		if w.Code != http.StatusOK || len(lines) != 2 || !strings.Contains(lines[0], want) || !strings.Contains(lines[1], alice) {
			t.Errorf("%s export: %d\n%s", format, w.Code, w.Body)
		}
		for _, l := range lines {
			if !json.Valid([]byte(l)) {
				t.Errorf("%s export: not JSON: %s", format, l)
			}
		}
	}
	if w := f.do("GET", "/admin/person/export?format=csv&id="+alice, nil); w.Code != http.StatusBadRequest {
		t.Errorf("an unknown format: %d", w.Code)
	}
}

// The listener's page: what visitors' browsers reported undeclared, per
// day and per name (newest first), with its chart; and a clear word when
// the listener is off.
func TestConsoleDiscovered(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	if page := f.do("GET", "/admin/discovered", nil).Body.String(); !strings.Contains(page, "The listener is off") {
		t.Errorf("with no listener the page says:\n%s", page)
	}
	d, err := sqlite.OpenDiscovered(filepath.Join(t.TempDir(), "discovered.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	day1, day2 := time.Date(2024, 3, 3, 9, 0, 0, 0, time.UTC), time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	hj, cdn := discovery.Name{Kind: discovery.Cookie, Name: "_hjSession"}, discovery.Name{Kind: discovery.ScriptHost, Name: "cdn.example.net"}
	// Names come from strangers' browsers: markup in one stays text.
	hostile := discovery.Name{Kind: discovery.LocalStorage, Name: "<script>alert(1)</script>"}
	for _, rec := range []struct {
		at    time.Time
		names []discovery.Name
	}{{day1, []discovery.Name{hj, cdn, hostile}}, {day1.Add(time.Hour), []discovery.Name{hj}}, {day2, []discovery.Name{hj}}} {
		if err := d.Record(ctx, rec.at, rec.names); err != nil {
			t.Fatal(err)
		}
	}
	f.console.c.Discovered = d
	page := f.do("GET", "/admin/discovered", nil).Body.String()
	if strings.Contains(page, "<script>alert") || !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("a reported name's markup is not escaped")
	}
	if got, want := strings.Join(cells(t, page, "2024-03-03"), " "), "4 3"; got != want {
		t.Errorf("day row: %s, want %s", got, want)
	}
	if got, want := strings.Join(cells(t, page, "<code>_hjSession</code>"), " "), "cookie 3 2 2024-03-03 09:00:00 UTC 2024-03-04 09:00:00 UTC"; got != want {
		t.Errorf("name row: %s, want %s", got, want)
	}
	if a, b := strings.Index(page, "_hjSession"), strings.Index(page, "cdn.example.net"); a < 0 || b < 0 || a > b {
		t.Error("the most recently seen name does not come first")
	}
	if !strings.Contains(page, "<svg") || strings.Contains(page, "<script") {
		t.Error("the page has no chart, or a script")
	}
}

// Separate consents' answers are counted per item and answer, apart from
// the browser permissions.
func TestConsoleSeparateConsents(t *testing.T) {
	f := newFixture(t)
	f.login(f.secret())
	var rs []consent.Receipt
	for i, a := range []string{consent.AnswerGranted, consent.AnswerRefused, consent.AnswerGranted, consent.AnswerWithdrawn} {
		rs = append(rs, consent.Receipt{ID: fmt.Sprintf("s%021d", i), Subject: alice, Event: consent.EventSeparateAnswered,
			Policy: "2024-03-01", PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Method: "api", Granted: []string{"analytics"},
			Separate: "location", Answer: a, StatementSHA256: strings.Repeat("b", 64), Time: time.Date(2024, 3, 3, 10, i, 0, 0, time.UTC)})
	}
	if _, _, err := f.console.c.Store.Put(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	page := f.do("GET", "/admin/permissions", nil).Body.String()
	if got, want := strings.Join(cells(t, page, "location"), " "), "2 1 1"; got != want {
		t.Errorf("location row: %s, want %s (granted, refused, withdrawn)", got, want)
	}
	if strings.Contains(page, "<th scope=\"row\">separate:") {
		t.Error("a separate consent is listed among the browser permissions")
	}
	if !strings.Contains(page, `id="separate-t"`) {
		t.Error("no chart of the separate consents")
	}
}

package core

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
)

// demoConfig is the demo site's configuration as the build writes it for
// the module (testdata/demo-config.json; build's TestCoreFixtureIsCurrent
// keeps it current).
func demoConfig(t *testing.T) *Config {
	t.Helper()
	data, err := os.ReadFile("testdata/demo-config.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Site     consent.Site
		Policies consent.Manifest
		Views    map[string]map[consent.Locale]any
		// Notices by the version in force, by the version acknowledged.
		Notices map[string]map[string]map[consent.Locale]any
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{Site: raw.Site, Policies: raw.Policies, Views: map[string]map[consent.Locale]consent.Node{}}
	for acked, byLocale := range raw.Notices[cfg.Policies.Current().ID] {
		raw.Views["notice:"+acked] = byLocale
	}
	for name, byLocale := range raw.Views {
		cfg.Views[name] = map[consent.Locale]consent.Node{}
		for l, tree := range byLocale {
			if l == consent.ZhCN || l == consent.En {
				cfg.Views[name][l] = node(t, tree)
			}
		}
	}
	return cfg
}

// node reads a compact tree: [tag, [name, value, ...], child...] or a text.
func node(t *testing.T, v any) consent.Node {
	switch v := v.(type) {
	case string:
		return consent.T(v)
	case []any:
		n := consent.Node{Tag: v[0].(string)}
		attrs := v[1].([]any)
		for i := 0; i+1 < len(attrs); i += 2 {
			n.Attrs = append(n.Attrs, consent.Attr{Name: attrs[i].(string), Value: attrs[i+1].(string)})
		}
		for _, k := range v[2:] {
			n.Kids = append(n.Kids, node(t, k))
		}
		return n
	}
	t.Fatalf("not a tree: %v", v)
	return consent.Node{}
}

// visit is a core on the demo site, with a clock that moves a second per
// event and numbered ids.
type visit struct {
	t    *testing.T
	core *Core
	now  time.Time
	ids  int
	all  []Effect
}

var day0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newVisit(t *testing.T) *visit {
	v := &visit{t: t, now: day0}
	v.core = New(demoConfig(t), Env{
		Now:   func() time.Time { return v.now },
		NewID: func() string { v.ids++; return fmt.Sprintf("id%020d", v.ids) },
	})
	return v
}

func (v *visit) handle(ev Event) []Effect {
	v.now = v.now.Add(time.Second)
	fx := v.core.Handle(ev)
	v.all = append(v.all, fx...)
	return fx
}

// page is a first visit's page: the loader painted the banner.
func page() *Page {
	return &Page{Host: "www.workly.ai", Path: "/", HTTPS: true, Lang: "zh-CN", Langs: []string{"zh-CN"}, Shown: "-",
		Started: day0.UnixMilli(), Vouched: true}
}

func (v *visit) start(p *Page, cookie string) []Effect {
	return v.handle(Event{Kind: EvStart, Page: p, Jar: &Jar{Cookie: cookie}})
}

func (v *visit) click(a consent.Action, notice string) []Effect {
	return v.handle(Event{Kind: EvClick, Click: &Click{Action: a, Notice: notice, InView: notice != "", At: v.now.UnixMilli()}})
}

func (v *visit) call(n int, method string) []Effect {
	return v.handle(Event{Kind: EvCall, Call: n, Method: method})
}

// receipts returns the receipts among fx, decoded.
func receipts(t *testing.T, fx []Effect) []consent.Receipt {
	t.Helper()
	var out []consent.Receipt
	for _, e := range fx {
		if r, ok := e.(Receipt); ok {
			rec, err := wire.DecodeReceipt([]byte(r.Wire))
			if err != nil {
				t.Fatalf("receipt %s: %v", r.Wire, err)
			}
			out = append(out, rec)
		}
	}
	return out
}

func find[T Effect](fx []Effect) []T {
	var out []T
	for _, e := range fx {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func kinds(fx []Effect) []string {
	var out []string
	for _, e := range fx {
		out = append(out, Kind(e))
	}
	return out
}

func TestFirstVisitAndAcceptAll(t *testing.T) {
	v := newVisit(t)
	fx := v.start(page(), "")
	if rs := receipts(t, fx); len(rs) != 1 || rs[0].Event != consent.EventBannerShown || rs[0].Method != "banner" {
		t.Fatalf("start: receipts %+v, want banner_shown", rs)
	}
	if rel := find[Release](fx); len(rel) != 1 || len(rel[0].Granted) != 0 {
		t.Errorf("start: release %+v, want nothing granted", rel)
	}
	if s := find[StateNow](fx); len(s) != 1 || s[0].V != nil {
		t.Errorf("start: state %+v, want null", s)
	}
	for _, c := range find[SetCookie](fx) {
		if strings.HasPrefix(c.V, consent.CookieName+"=") {
			t.Errorf("start wrote the consent cookie: %s", c.V)
		}
	}

	fx = v.click(consent.ActionAcceptAll, "banner")
	cookies := find[SetCookie](fx)
	if len(cookies) == 0 || !strings.HasPrefix(cookies[0].V, consent.CookieName+"=1~") ||
		!strings.Contains(cookies[0].V, "; Domain=workly.ai; Secure") {
		t.Fatalf("accept all: cookies %v", cookies)
	}
	rs := receipts(t, fx)
	if len(rs) != 1 || rs[0].Event != consent.EventConsentGiven || rs[0].Method != "banner" ||
		!slices.Equal(rs[0].Granted, v.core.cfg.Site.Optional()) {
		t.Fatalf("accept all: receipts %+v", rs)
	}
	// The banner's receipt and the choice's form one chain: the same subject.
	first := receipts(t, v.all)[0]
	if rs[0].Subject != first.Subject || v.core.State().ID != first.Subject {
		t.Errorf("choice subject %q, banner's %q, consent id %q: want one", rs[0].Subject, first.Subject, v.core.State().ID)
	}
	if rel := find[Release](fx); len(rel) != 1 || !slices.Equal(rel[0].Granted, v.core.cfg.Site.Optional()) {
		t.Errorf("accept all: release %+v", rel)
	}
	if d := find[Dispatch](fx); len(d) != 1 || d[0].Name != "consent:change" {
		t.Errorf("accept all: dispatch %+v", d)
	}
	// The consent cookie, its receipt, the notices gone, the identifiers now
	// granted, the gated content, Consent Mode, then the page is told.
	want := []string{"cookie", "storage", "receipt", "refresh", "remove", "cookie", "release", "mode", "state", "dispatch"}
	var got []string
	for _, k := range kinds(fx) {
		if k != "cookie" || len(got) == 0 || got[len(got)-1] != "cookie" {
			got = append(got, k)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("accept all: effects %v, want %v (in order)", got, want)
	}
}

// Page markup that looks like a control chooses nothing: only the module's
// views do; the page may open the preferences.
func TestPageControlsCannotChoose(t *testing.T) {
	v := newVisit(t)
	v.start(page(), "")
	for _, a := range []consent.Action{consent.ActionAcceptAll, consent.ActionSave, consent.ActionAcknowledge, HookGrant} {
		fx := v.handle(Event{Kind: EvClick, Click: &Click{Action: a, Value: "analytics", InView: false}})
		if len(receipts(t, fx)) != 0 || len(find[SetCookie](fx)) != 0 {
			t.Errorf("%s outside the views: %v", a, kinds(fx))
		}
	}
	fx := v.click(consent.ActionOpenPreferences, "")
	if s := find[Show](fx); len(s) != 1 || s[0].Name != "preferences" || !s[0].Modal {
		t.Errorf("open-preferences from the page: %v", kinds(fx))
	}
}

// Clicks queued by the loader count at their time, never before the page
// started loading (a forged time) or after now.
func TestQueuedClicksAtTheirTime(t *testing.T) {
	v := newVisit(t)
	p := page()
	at := day0.Add(500 * time.Millisecond).UnixMilli()
	p.Queue = []Click{{Action: consent.ActionRejectAll, Notice: "banner", InView: true, At: at}}
	p.Hidden = true
	rs := receipts(t, v.start(p, ""))
	if len(rs) != 2 || rs[1].Event != consent.EventConsentRefused || rs[1].Time.UnixMilli() != at {
		t.Fatalf("receipts %+v: want banner_shown then consent_refused at the click's time", rs)
	}
	v = newVisit(t)
	p.Queue[0].At = time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	rs = receipts(t, v.start(p, ""))
	if len(rs) != 2 || rs[1].Time.Before(day0) {
		t.Errorf("a queued click dated before the page: receipt at %v", rs[1].Time)
	}
}

// One event at a time, in order: acknowledge then openPreferences leaves the
// preferences centre open (the race of the goroutine module).
func TestActionsInOrder(t *testing.T) {
	v := newVisit(t)
	p := page()
	p.Shown = "2022-01-01"
	v.start(p, consent.CookieName+"=1~q83vEjRWeJq83vEjRWeJqw~2022-01-01~analytics~1767225600~1767225600")
	v.call(1, "acknowledge")
	fx := v.call(2, "openPreferences")
	if s := find[Show](fx); len(s) != 1 || s[0].Name != "preferences" {
		t.Fatalf("openPreferences after acknowledge: %v", kinds(fx))
	}
	// The preferences show what is granted.
	var checked []string
	n := find[Show](fx)[0].Tree
	patch(&n, "data-consent-category", func(e *consent.Node) {
		if _, on := attrOf(e, "checked"); on {
			id, _ := attrOf(e, "data-consent-category")
			checked = append(checked, id)
		}
	})
	if !slices.Contains(checked, "analytics") || slices.Contains(checked, "marketing") {
		t.Errorf("preferences switched on %v, want analytics and not marketing", checked)
	}
	if st := v.core.State(); st.Policy != v.core.current().ID {
		t.Errorf("acknowledged %s, want %s", st.Policy, v.core.current().ID)
	}
}

// The receipt's locale is the language of the text shown: with <html
// lang=fr> and an English browser, English.
func TestReceiptLocaleIsTheTextShown(t *testing.T) {
	v := newVisit(t)
	p := page()
	p.Lang, p.Langs = "fr", []string{"en-US", "zh-CN"}
	rs := receipts(t, v.start(p, ""))
	if rs[0].Locale != consent.En {
		t.Errorf("banner_shown locale %s, want en", rs[0].Locale)
	}
	fx := v.handle(Event{Kind: EvClick, Click: &Click{Action: HookLocale, Value: "zh-CN", InView: true}})
	if s := find[Show](fx); len(s) == 0 || s[0].Name != "notice" {
		t.Errorf("switching language re-renders the banner: %v", kinds(fx))
	}
	if rs := receipts(t, v.click(consent.ActionRejectAll, "banner")); rs[0].Locale != consent.ZhCN {
		t.Errorf("after switching: locale %s, want zh-CN", rs[0].Locale)
	}
}

// Do Not Track, where the site honours it, refuses by default and is
// recorded; Global Privacy Control always.
func TestSignalsRecorded(t *testing.T) {
	v := newVisit(t)
	p := page()
	p.DNT = "1"
	fx := v.start(p, "")
	if rs := receipts(t, fx); !rs[0].DNT || rs[0].GPC {
		t.Errorf("receipt dnt=%v gpc=%v, want dnt only", rs[0].DNT, rs[0].GPC)
	}
}

// The core releases exactly what testdata/release-vectors.json says, as the
// loader does (build/e2e) and Site.Releases.
func TestReleaseVectors(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name, Cookie, Category string
			Release                bool
		}
	}
	data, err := os.ReadFile("../testdata/release-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil || len(file.Vectors) == 0 {
		t.Fatalf("vectors: %v", err)
	}
	for _, vec := range file.Vectors {
		v := newVisit(t)
		p := page()
		p.Shown = ""
		rel := find[Release](v.start(p, consent.CookieName+"="+vec.Cookie))
		if len(rel) != 1 {
			t.Fatalf("%s: %d release effects", vec.Name, len(rel))
		}
		if got := slices.Contains(rel[0].Granted, vec.Category); got != vec.Release {
			t.Errorf("%s: releases %s = %v, want %v", vec.Name, vec.Category, got, vec.Release)
		}
	}
}

// Refused categories' cookies, storage keys, databases and caches go, on
// every domain and path a script could have used; the rest stays.
func TestRefusalClears(t *testing.T) {
	v := newVisit(t)
	p := page()
	fx := v.handle(Event{Kind: EvStart, Page: p, Jar: &Jar{
		Cookie: "_ga=GA1.2.3; Hm_lvt_abc=1; theme=dark", Local: []string{"_hjSession_1", "app.draft"},
		Databases: []string{"_hjdb", "app"}}})
	var gone []string
	for _, c := range find[SetCookie](fx) {
		if strings.Contains(c.V, "Max-Age=0") || strings.Contains(c.V, "Expires=Thu, 01 Jan 1970") {
			name, _, _ := strings.Cut(c.V, "=")
			if !slices.Contains(gone, name) {
				gone = append(gone, name)
			}
		}
	}
	sort.Strings(gone)
	if !slices.Contains(gone, "_ga") || slices.Contains(gone, "theme") {
		t.Errorf("cookies deleted %v: want _ga, not theme", gone)
	}
	for _, s := range find[Storage](fx) {
		if s.Remove && s.Key == "app.draft" {
			t.Error("removed an undeclared key")
		}
	}
	for _, d := range find[DeleteDatabase](fx) {
		if d.Name == "app" {
			t.Error("deleted an undeclared database")
		}
	}
	if l := find[Log](fx); len(l) == 0 || !strings.Contains(l[len(l)-1].Msg, "theme") {
		t.Errorf("undeclared cookie not reported: %+v", l)
	}
}

// Clearing writes only deletions that can matter (each is a
// document.cookie write on the main thread): none for a cookie this page
// would see and does not, one for each variant of a cookie on a path
// outside this page's, which it cannot see.
func TestClearingSkipsAbsentCookies(t *testing.T) {
	v := newVisit(t)
	var names []string
	for _, c := range find[SetCookie](v.start(page(), "")) {
		name, _, _ := strings.Cut(c.V, "=")
		names = append(names, name)
	}
	if slices.Contains(names, "_ga") || !slices.Contains(names, "lang") {
		t.Errorf("a first visit with no cookies deleted %v: want lang (declared on /app) only", names)
	}
}

// A malformed consent cookie is no consent, and is replaced.
func TestMalformedCookie(t *testing.T) {
	v := newVisit(t)
	fx := v.start(page(), consent.CookieName+"=1~x~y")
	if v.core.State().ID != "" {
		t.Fatal("a malformed cookie counted")
	}
	if c := find[SetCookie](fx); len(c) == 0 || !strings.HasPrefix(c[0].V, consent.CookieName+"=; Path=/; Max-Age=0") {
		t.Errorf("not replaced: %v", c)
	}
}

func TestSetRejectsUnknownAndRequired(t *testing.T) {
	v := newVisit(t)
	v.start(page(), "")
	for _, set := range []map[string]bool{{"nope": true}, {"necessary": false}} {
		fx := v.handle(Event{Kind: EvCall, Call: 7, Method: "set", Set: set})
		s := find[Settle](fx)
		if len(s) != 1 || s[0].Err == "" || len(receipts(t, fx)) != 0 {
			t.Errorf("set(%v): %+v", set, fx)
		}
	}
	fx := v.handle(Event{Kind: EvCall, Call: 8, Method: "set", Set: map[string]bool{"analytics": true}})
	if s := find[Settle](fx); len(s) != 1 || s[0].Err != "" || !v.core.State().Has("analytics") {
		t.Errorf("set analytics: %+v", fx)
	}
}

// A permission is asked for with the pre-prompt first, then the browser's
// prompt; each answer is a receipt; the call settles with the browser's
// answer; a refusal backs off.
func TestPermissionFlow(t *testing.T) {
	v := newVisit(t)
	p := page()
	p.Browser = map[string]string{"camera": "prompt"}
	v.start(p, "")
	fx := v.handle(Event{Kind: EvCall, Call: 3, Method: "requestPermission", Kinds: []string{"camera"}, Purpose: "视频通话"})
	s := find[Show](fx)
	if len(s) != 1 || s[0].Name != "permission" || !strings.Contains(s[0].Tree.HTML(), "视频通话") {
		t.Fatalf("pre-prompt: %v", kinds(fx))
	}
	// Asking again while asking waits for the same answer.
	if fx := v.handle(Event{Kind: EvCall, Call: 4, Method: "requestPermission", Kinds: []string{"camera"}}); len(fx) != 0 {
		t.Errorf("a second request: %v", kinds(fx))
	}
	fx = v.click(consent.ActionAllowPermission, "permission")
	if a := find[AskBrowser](fx); len(a) != 1 || a[0].Call != 3 {
		t.Fatalf("allow: %v", kinds(fx))
	}
	if rs := receipts(t, fx); len(rs) != 1 || rs[0].Answer != consent.AnswerAllowed {
		t.Errorf("allow: receipts %+v", rs)
	}
	fx = v.handle(Event{Kind: EvAnswer, Call: 3, State: consent.AnswerGranted})
	settled := find[Settle](fx)
	if len(settled) != 2 || settled[0].V != consent.AnswerGranted || settled[1].Call != 4 {
		t.Errorf("answer: %+v", settled)
	}
	// The browser's change event for the same answer is not a second receipt.
	if rs := receipts(t, v.handle(Event{Kind: EvAnswer, Permission: "camera", State: "granted"})); len(rs) != 0 {
		t.Errorf("change event after the answer: %d receipts", len(rs))
	}

	v = newVisit(t)
	v.start(p, "")
	v.handle(Event{Kind: EvCall, Call: 1, Method: "requestPermission", Kinds: []string{"camera"}})
	fx = v.handle(Event{Kind: EvClosed, View: "permission"}) // Esc
	if s := find[Settle](fx); len(s) != 1 || s[0].V != consent.AnswerRefused {
		t.Fatalf("Esc: %+v", fx)
	}
	stored := find[Storage](fx)
	p.Answers = stored[len(stored)-1].Value
	v = newVisit(t)
	v.start(p, "")
	fx = v.handle(Event{Kind: EvCall, Call: 2, Method: "requestPermission", Kinds: []string{"camera"}})
	if s := find[Settle](fx); len(s) != 1 || s[0].V != consent.AnswerRefused || len(find[Show](fx)) != 0 {
		t.Errorf("within the back-off: %+v", fx)
	}
}

// Every event and effect kind the core knows is declared in
// web/messages.d.ts, and nothing else.
func TestMessagesMatchTypeScript(t *testing.T) {
	data, err := os.ReadFile("../web/messages.d.ts")
	if err != nil {
		t.Fatal(err)
	}
	src := string(data)
	section := func(name string) []string {
		start := strings.Index(src, "export type "+name+" =")
		end := strings.Index(src[start:], ";\n//")
		var out []string
		for _, m := range regexp.MustCompile(`t: "([a-z]+)"`).FindAllStringSubmatch(src[start:start+end], -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return out
	}
	events := []string{"applied"} // the host's own
	for _, k := range []EventKind{EvStart, EvClick, EvCall, EvSweep, EvAdded, EvAnswer, EvClosed, EvHide, EvFailed, EvSeen, EvBlocked, EvRefused} {
		events = append(events, string(k))
	}
	sort.Strings(events)
	if got := section("Event"); !reflect.DeepEqual(got, events) {
		t.Errorf("messages.d.ts declares events %v, the core handles %v", got, events)
	}
	page := []string{"listening", "beacon", "download", "refresh", "spilled"} // the host's own, and one it completes
	for _, e := range []Effect{SetCookie{}, Storage{}, Show{}, Remove{}, Close{}, SetAttr{}, Release{}, ConsentMode{},
		Dispatch{}, StateNow{}, Settle{}, Log{}, OnHide{}, AskBrowser{}, Block{}, Observe{}} {
		page = append(page, Kind(e))
	}
	sort.Strings(page)
	if got := section("Effect"); !reflect.DeepEqual(got, page) {
		t.Errorf("messages.d.ts declares effects %v, the core and host post %v", got, page)
	}
}

// An effect the executor could not apply comes back, and is said.
func TestFailedEffectReported(t *testing.T) {
	v := newVisit(t)
	v.start(page(), "")
	fx := v.handle(Event{Kind: EvFailed, Name: "storage", Result: "SecurityError: access denied"})
	if l := find[Log](fx); len(l) != 1 || l[0].Level != "error" || !strings.Contains(l[0].Msg, "storage failed: SecurityError") {
		t.Errorf("failed effect: %+v", fx)
	}
}

// A cookie the server did not vouch for (a page script's, or one tossed from
// a sibling subdomain) grants nothing and is left as it is.
func TestUnvouchedCookieGrantsNothing(t *testing.T) {
	v := newVisit(t)
	p := page()
	p.Vouched = false
	fx := v.start(p, consent.CookieName+"=1~q83vEjRWeJq83vEjRWeJqw~2025-06-01~analytics.functional.marketing~1767225600~1767225600")
	if v.core.State().ID != "" {
		t.Fatal("an unvouched cookie counted")
	}
	if rel := find[Release](fx); len(rel) != 1 || len(rel[0].Granted) != 0 {
		t.Errorf("released %+v", rel)
	}
	for _, c := range find[SetCookie](fx) {
		if strings.HasPrefix(c.V, consent.CookieName+"=") {
			t.Errorf("touched the cookie: %s", c.V)
		}
	}
	if rs := receipts(t, fx); len(rs) != 1 || rs[0].Event != consent.EventBannerShown {
		t.Errorf("receipts %+v, want the banner's", rs)
	}
}

// Leaving the page with the minor-change note shown is continued use. The
// executor gets the cookie and the receipt before the page hides (its
// worker may be stopped first); hearing of the hide, the core makes that
// same receipt, so the outbox keeps one. Acknowledging first leaves
// nothing to do on hiding.
func TestContinuedUsePreparedBeforeHide(t *testing.T) {
	const minor = consent.CookieName + "=1~q83vEjRWeJq83vEjRWeJqw~2024-03-01~analytics~1767225600~1767225600"
	v := newVisit(t)
	p := page()
	p.Shown = "2024-03-01"
	fx := v.start(p, minor)
	h := find[OnHide](fx)
	if len(h) != 1 || !strings.Contains(h[0].Cookie, "~2025-06-01~analytics~") || !strings.Contains(h[0].Cookie, h[0].Written) {
		t.Fatalf("prepared %+v", h)
	}
	if rs := receipts(t, []Effect{h[0].Receipt}); len(rs) != 1 || rs[0].Event != consent.EventContinuedUse ||
		rs[0].Policy != "2025-06-01" || rs[0].Subject != "q83vEjRWeJq83vEjRWeJqw" || !slices.Equal(rs[0].Granted, []string{"analytics"}) {
		t.Fatalf("prepared receipt %+v", rs)
	}
	if len(find[OnHide](v.handle(Event{Kind: EvSweep, Jar: &Jar{Cookie: minor}}))) != 0 {
		t.Error("prepared again: a second receipt id")
	}
	fx = v.handle(Event{Kind: EvHide})
	if r := find[Receipt](fx); len(r) != 1 || r[0] != h[0].Receipt {
		t.Errorf("on hide %+v, want the prepared %+v", r, h[0].Receipt)
	}
	if got := v.core.State(); got.Policy != "2025-06-01" {
		t.Errorf("after leaving, the state is %+v", got)
	}
	if len(receipts(t, v.handle(Event{Kind: EvHide}))) != 0 {
		t.Error("hiding again recorded again")
	}

	w := newVisit(t)
	w.start(p, minor)
	fx = w.click(consent.ActionAcknowledge, "notice")
	if h := find[OnHide](fx); len(h) != 1 || h[0].Cookie != "" || h[0].Receipt.ID != "" {
		t.Errorf("after acknowledging, on hide %+v", h)
	}
	if rs := receipts(t, w.handle(Event{Kind: EvHide})); len(rs) != 0 {
		t.Errorf("hiding after acknowledging recorded %+v", rs)
	}
}

// Every page effect is valid JSON with its kind, and texts (markup, quotes,
// control characters) come back as they went in: the executor parses what
// the core writes.
func TestEffectsAsJSON(t *testing.T) {
	hostile := "</script><b onclick=\"x\">\u2028\x01'"
	tree := consent.El("p", consent.A("title", hostile), consent.T(hostile))
	for _, e := range []Effect{SetCookie{hostile}, Storage{Area: "local", Key: hostile, Value: hostile},
		Show{Name: "n", Tree: tree, Where: "body", Modal: true}, Remove{hostile}, Close{hostile}, SetAttr{hostile, "a", hostile},
		Release{Granted: []string{"a"}, Known: []string{"a", "b"}, Placeholders: map[string]consent.Node{"b": tree}},
		ConsentMode{[]string{}}, Dispatch{"consent:change", map[string]any{"id": hostile, "granted": []any{"a"}, "given": int64(1)}},
		StateNow{nil}, Settle{Call: 3, V: "granted"}, Settle{Call: 4, Err: hostile}, Log{"warn", hostile},
		OnHide{Cookie: hostile, Written: hostile, SpillKey: hostile, Spill: hostile}, AskBrowser{Call: 5, Kinds: []string{"camera"}},
		Block{Hosts: []string{hostile}, Allow: []string{}}, Observe{After: 5000}} {
		b := AppendEffect([]byte{'['}, e)
		var got []map[string]any
		if err := json.Unmarshal(append(b, ']'), &got); err != nil || len(got) != 1 || got[0]["t"] != Kind(e) {
			t.Fatalf("%T: %s: %v", e, b, err)
		}
		if s, ok := e.(Show); ok {
			want := []any{"p", []any{"title", hostile}, hostile}
			if !reflect.DeepEqual(got[0]["tree"], want) || s.Name != got[0]["name"] {
				t.Errorf("show: tree %v", got[0]["tree"])
			}
		}
		if _, ok := e.(Log); ok && got[0]["msg"] != hostile {
			t.Errorf("log: %q", got[0]["msg"])
		}
	}
}

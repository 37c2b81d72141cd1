package core

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
)

func (v *visit) askSeparate(call int, id string) []Effect {
	return v.handle(Event{Kind: EvCall, Call: call, Method: "requestSeparateConsent", Item: id})
}

// clickIn is a trusted click on action in the module's view notice (inView)
// or on the page's own markup with the same attributes (!inView).
func (v *visit) clickIn(a consent.Action, notice, value string, inView bool) []Effect {
	return v.handle(Event{Kind: EvClick, Click: &Click{Action: a, Notice: notice, Value: value, InView: inView, At: v.now.UnixMilli()}})
}

// stored returns the last value fx wrote to localStorage key.
func stored(fx []Effect, key string) (string, bool) {
	val, ok := "", false
	for _, s := range find[Storage](fx) {
		if s.Area == "local" && s.Key == key {
			val, ok = s.Value, true
		}
	}
	return val, ok
}

func settled(t *testing.T, fx []Effect, call int) Settle {
	t.Helper()
	for _, s := range find[Settle](fx) {
		if s.Call == call {
			return s
		}
	}
	t.Fatalf("call %d not settled: %v", call, kinds(fx))
	return Settle{}
}

// statementHash is the SHA-256 of separate-consent item id's statement in l,
// as its dialog carries it.
func statementHash(cfg *Config, id string, l consent.Locale) string {
	n := cfg.Views["separate:"+id][l]
	h, _ := attrOf(&n, "data-consent-statement")
	return h
}

func TestSeparateConsent(t *testing.T) {
	cfg := demoConfig(t)
	hash := statementHash(cfg, "location", consent.ZhCN)
	if len(hash) != 64 || statementHash(cfg, "location", consent.En) == hash {
		t.Fatalf("the statement hashes of location: %q", hash)
	}
	backoff := time.Duration(cfg.Site.SeparateBackoff()) * 24 * time.Hour
	type step struct {
		do   func(v *visit) []Effect
		want string // the call's answer, "" for still open
		// receipt is the answer recorded, "" for none.
		receipt string
		dialog  bool // the dialog shows
	}
	ask := func(v *visit) []Effect { return v.askSeparate(7, "location") }
	allow := func(v *visit) []Effect { return v.clickIn(consent.ActionAllowSeparate, "separate", "", true) }
	refuse := func(v *visit) []Effect { return v.clickIn(consent.ActionRefuseSeparate, "separate", "", true) }
	esc := func(v *visit) []Effect { return v.handle(Event{Kind: EvClosed, View: "separate"}) }
	for _, tc := range []struct {
		name string
		// answers is what localStorage consent.separate holds at start.
		answers func(now time.Time) string
		steps   []step
	}{
		{"granted", nil, []step{{do: ask, dialog: true}, {do: allow, want: "granted", receipt: "granted"}}},
		{"refused", nil, []step{{do: ask, dialog: true}, {do: refuse, want: "refused", receipt: "refused"}}},
		{"Esc refuses", nil, []step{{do: ask, dialog: true}, {do: esc, want: "refused", receipt: "refused"}}},
		{"the page's own markup cannot agree", nil, []step{{do: ask, dialog: true},
			{do: func(v *visit) []Effect { return v.clickIn(consent.ActionAllowSeparate, "separate", "", false) }},
			{do: func(v *visit) []Effect { return v.clickIn(consent.ActionAllowSeparate, "", "", false) }},
			{do: allow, want: "granted", receipt: "granted"}}},
		{"already granted", func(now time.Time) string {
			return "location granted " + ms(now.Add(-time.Hour)) + " " + hash + "\n"
		}, []step{{do: ask, want: "granted"}}},
		{"granted in the other locale", func(now time.Time) string {
			return "location granted " + ms(now.Add(-time.Hour)) + " " + statementHash(cfg, "location", consent.En) + "\n"
		}, []step{{do: ask, want: "granted"}}},
		{"a changed statement asks again", func(now time.Time) string {
			return "location granted " + ms(now.Add(-time.Hour)) + " " + strings.Repeat("0", 64) + "\n"
		}, []step{{do: ask, dialog: true}, {do: allow, want: "granted", receipt: "granted"}}},
		{"refused within the back-off", func(now time.Time) string {
			return "location refused " + ms(now.Add(-backoff+time.Hour)) + " " + hash + "\n"
		}, []step{{do: ask, want: "refused"}}},
		{"refused before the back-off", func(now time.Time) string {
			return "location refused " + ms(now.Add(-backoff-time.Hour)) + " " + hash + "\n"
		}, []step{{do: ask, dialog: true}, {do: allow, want: "granted", receipt: "granted"}}},
		{"withdrawn asks again", func(now time.Time) string {
			return "location withdrawn " + ms(now.Add(-time.Hour)) + " " + hash + "\n"
		}, []step{{do: ask, dialog: true}, {do: refuse, want: "refused", receipt: "refused"}}},
		{"another item's grant is not this one's", func(now time.Time) string {
			return "contacts granted " + ms(now.Add(-time.Hour)) + " " + statementHash(cfg, "contacts", consent.ZhCN) + "\n"
		}, []step{{do: ask, dialog: true}, {do: esc, want: "refused", receipt: "refused"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisit(t)
			p := page()
			if tc.answers != nil {
				p.Separate = tc.answers(v.now)
			}
			v.start(p, "")
			for i, st := range tc.steps {
				fx := st.do(v)
				shown := find[Show](fx)
				if st.dialog != (len(shown) == 1 && shown[0].Name == "separate") {
					t.Fatalf("step %d: dialog shown %v, want %v: %v", i, shown, st.dialog, kinds(fx))
				}
				if st.dialog && !(shown[0].Modal && !shown[0].Hold && strings.Contains(shown[0].Tree.HTML(), "必要性") &&
					strings.Contains(shown[0].Tree.HTML(), `data-consent-action="allow-separate"`)) {
					t.Errorf("step %d: the dialog: %+v", i, shown[0])
				}
				s := find[Settle](fx)
				if st.want == "" {
					if len(s) != 0 {
						t.Fatalf("step %d: settled %+v", i, s)
					}
				} else if len(s) != 1 || s[0].Call != 7 || s[0].V != st.want || s[0].Err != "" {
					t.Fatalf("step %d: settled %+v, want %q", i, s, st.want)
				}
				rs := receipts(t, fx)
				if st.receipt == "" {
					if len(rs) != 0 {
						t.Fatalf("step %d: receipts %+v", i, rs)
					}
					continue
				}
				if len(rs) != 1 || rs[0].Event != consent.EventSeparateAnswered || rs[0].Separate != "location" ||
					rs[0].Answer != st.receipt || rs[0].StatementSHA256 != hash || rs[0].Method != "prompt" {
					t.Fatalf("step %d: receipts %+v", i, rs)
				}
				if err := rs[0].Validate(&cfg.Site, &cfg.Policies, v.now); err != nil {
					t.Errorf("step %d: %v", i, err)
				}
				line, ok := stored(fx, "consent.separate")
				if !ok || !strings.Contains(line, "location "+st.receipt+" "+ms(v.now)+" "+hash) {
					t.Errorf("step %d: stored %q", i, line)
				}
				if !slicesContainKind(fx, "close") {
					t.Errorf("step %d: the dialog is not closed: %v", i, kinds(fx))
				}
			}
		})
	}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func slicesContainKind(fx []Effect, kind string) bool {
	for _, k := range kinds(fx) {
		if k == kind {
			return true
		}
	}
	return false
}

// Bad calls reject; a second call for the item asked waits for the same
// answer; another item waits its turn.
func TestSeparateConsentCalls(t *testing.T) {
	v := newVisit(t)
	v.start(page(), "")
	if s := settled(t, v.askSeparate(1, "telepathy"), 1); !strings.Contains(s.Err, `consent.requestSeparateConsent: unknown item "telepathy"`) {
		t.Errorf("unknown item: %+v", s)
	}
	if s := settled(t, v.handle(Event{Kind: EvCall, Call: 2, Method: "requestSeparateConsent", BadArgs: "want an item id"}), 2); s.Err == "" {
		t.Errorf("bad arguments: %+v", s)
	}
	v.askSeparate(3, "location")
	if fx := v.askSeparate(4, "location"); len(fx) != 0 {
		t.Errorf("asking again while asking: %v", kinds(fx))
	}
	if s := settled(t, v.askSeparate(5, "contacts"), 5); !strings.Contains(s.Err, "another") {
		t.Errorf("another item while asking: %+v", s)
	}
	fx := v.clickIn(consent.ActionAllowSeparate, "separate", "", true)
	if a, b := settled(t, fx, 3), settled(t, fx, 4); a.V != "granted" || b.V != "granted" || len(receipts(t, fx)) != 1 {
		t.Errorf("both calls: %+v %+v", a, b)
	}
	// The dialog's close event afterwards is not a refusal.
	if fx := v.handle(Event{Kind: EvClosed, View: "separate"}); len(receipts(t, fx)) != 0 || len(find[Settle](fx)) != 0 {
		t.Errorf("close after the answer: %v", kinds(fx))
	}
}

// Granted items are listed in the privacy settings, with the day; withdrawing
// one there is a receipt, tells the page, and the next request asks again.
func TestSeparateConsentWithdrawn(t *testing.T) {
	cfg := demoConfig(t)
	hash := statementHash(cfg, "location", consent.ZhCN)
	v := newVisit(t)
	p := page()
	p.Permissions = true
	p.Separate = "location granted " + ms(day0.Add(-48*time.Hour)) + " " + hash + "\n"
	fx := v.start(p, "")
	var list string
	for _, s := range find[Show](fx) {
		if s.Name == "permissions" {
			list = s.Tree.HTML()
		}
	}
	if !strings.Contains(list, `data-consent-separate="location" data-state="on"`) || !strings.Contains(list, `data-consent-separate="contacts" data-state="off"`) ||
		!strings.Contains(list, `datetime="2026-02-27">2026年2月27日`) {
		t.Fatalf("the settings list: %s", list)
	}
	// Page markup cannot withdraw.
	if fx := v.clickIn(consent.ActionWithdrawSeparate, "", "location", false); len(receipts(t, fx)) != 0 {
		t.Fatalf("a page control withdrew: %v", kinds(fx))
	}
	fx = v.clickIn(consent.ActionWithdrawSeparate, "", "location", true)
	rs := receipts(t, fx)
	if len(rs) != 1 || rs[0].Answer != consent.AnswerWithdrawn || rs[0].Separate != "location" || rs[0].StatementSHA256 != hash || rs[0].Method != "preferences" {
		t.Fatalf("withdraw: %+v", rs)
	}
	if d := find[Dispatch](fx); len(d) != 1 || d[0].Name != "consent:separate" {
		t.Errorf("withdraw: dispatched %+v", d)
	}
	list = ""
	for _, s := range find[Show](fx) {
		if s.Name == "permissions" && s.Where == "[data-consent-permissions]" {
			list = s.Tree.HTML()
		}
	}
	if !strings.Contains(list, `data-consent-separate="location" data-state="off"`) {
		t.Errorf("the settings list after withdrawing: %s", list)
	}
	// Withdrawing what is not granted does nothing.
	if fx := v.clickIn(consent.ActionWithdrawSeparate, "", "location", true); len(receipts(t, fx)) != 0 {
		t.Errorf("withdrawn twice: %v", kinds(fx))
	}
	if s := find[Show](v.askSeparate(9, "location")); len(s) != 1 || s[0].Name != "separate" {
		t.Errorf("after withdrawing, the next request: %+v", s)
	}
}

// Content that also names a separate-consent item runs only once that item
// is granted under the statement shown now: the release after the grant
// lists it, one under a changed statement does not.
func TestReleaseWaitsForSeparateConsent(t *testing.T) {
	const accepted = consent.CookieName + "=1~q83vEjRWeJq83vEjRWeJqw~2025-06-01~analytics.functional.marketing~1767225600~1767225600"
	v := newVisit(t)
	p := page()
	p.Shown = ""
	if rel := find[Release](v.start(p, accepted)); len(rel) != 1 || len(rel[0].Separate) != 0 || len(rel[0].Granted) != 3 {
		t.Fatalf("at start %+v: every category, no separate item", rel)
	}
	v.askSeparate(1, "google_ads")
	fx := v.clickIn(consent.ActionAllowSeparate, "separate", "", true)
	if rel := find[Release](fx); len(rel) != 1 || strings.Join(rel[0].Separate, " ") != "google_ads" {
		t.Errorf("after the grant, release %+v: want google_ads", rel)
	}
	hash := statementHash(v.core.cfg, "google_ads", consent.ZhCN)
	w := newVisit(t)
	p.Separate = "google_ads granted 1767225600000 " + hash
	if rel := find[Release](w.start(p, accepted)); len(rel) != 1 || strings.Join(rel[0].Separate, " ") != "google_ads" {
		t.Errorf("a later page, release %+v: want google_ads", rel)
	}
	x := newVisit(t)
	p.Separate = "google_ads granted 1767225600000 " + strings.Repeat("0", 64)
	if rel := find[Release](x.start(p, accepted)); len(rel) != 1 || len(rel[0].Separate) != 0 {
		t.Errorf("granted under another statement, release %+v: want none", rel)
	}
}

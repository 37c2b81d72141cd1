package core

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"workly.ai/consent"
	"workly.ai/consent/server/discovery"
)

// hostsVisit is a visit on the demo site whose categories declare hosts,
// with the listener on when discover.
func hostsVisit(t *testing.T, discover bool) *visit {
	v := newVisit(t)
	s := &v.core.cfg.Site
	s.Discovery = discover
	for i := range s.Categories {
		switch s.Categories[i].ID {
		case "necessary":
			s.Categories[i].Hosts = []string{"cdn.workly.net"}
		case "functional":
			s.Categories[i].Hosts = []string{"map.baidu.com"}
		case "analytics":
			s.Categories[i].Hosts = []string{"hm.baidu.com", "google-analytics.com"}
		case "marketing":
			s.Categories[i].Hosts = []string{"baidu.com", "doubleclick.net", "google-analytics.com"}
		}
	}
	return v
}

// Which hosts are blocked for which state: every optional category's until
// it is granted, beside those of the granted and required ones (the
// executor blocks a host whose longest match is only among the blocked);
// a Block with every release, before it.
func TestBlockedHosts(t *testing.T) {
	v := hostsVisit(t, false)
	fx := v.start(page(), "")
	want := func(step string, fx []Effect, hosts, allow []string) {
		t.Helper()
		b := find[Block](fx)
		if len(b) != 1 || !slices.Equal(b[0].Hosts, hosts) || !slices.Equal(b[0].Allow, allow) {
			t.Fatalf("%s: block %+v, want hosts %v allow %v", step, b, hosts, allow)
		}
		if k := kinds(fx); slices.Index(k, "block") > slices.Index(k, "release") {
			t.Errorf("%s: block after release: %v", step, k)
		}
	}
	all := []string{"map.baidu.com", "hm.baidu.com", "google-analytics.com", "baidu.com", "doubleclick.net", "google-analytics.com"}
	want("no consent", fx, all, []string{"cdn.workly.net"})
	if fx := v.handle(Event{Kind: EvSweep, Jar: &Jar{}}); len(find[Block](fx)) != 0 {
		t.Errorf("a sweep sent the block again: %v", kinds(fx))
	}
	fx = v.handle(Event{Kind: EvCall, Call: 1, Method: "set", Set: map[string]bool{"analytics": true}})
	want("analytics granted", fx, []string{"map.baidu.com", "baidu.com", "doubleclick.net", "google-analytics.com"},
		[]string{"cdn.workly.net", "hm.baidu.com", "google-analytics.com"})
	fx = v.click(consent.ActionAcceptAll, "banner")
	want("all granted", fx, []string{}, append([]string{"cdn.workly.net"}, all...))
	fx = v.handle(Event{Kind: EvCall, Call: 2, Method: "set", Set: map[string]bool{"marketing": false}})
	want("marketing withdrawn", fx, []string{"baidu.com", "doubleclick.net", "google-analytics.com"},
		[]string{"cdn.workly.net", "map.baidu.com", "hm.baidu.com", "google-analytics.com"})

	// A blocked host is said once per page, with the category refusing it.
	fx = v.handle(Event{Kind: EvBlocked, Name: "stats.doubleclick.net"})
	if l := find[Log](fx); len(l) != 1 || l[0].Level != "warn" || !strings.Contains(l[0].Msg, "stats.doubleclick.net") || !strings.Contains(l[0].Msg, `"marketing"`) {
		t.Errorf("blocked: %+v", fx)
	}
	if fx := v.handle(Event{Kind: EvBlocked, Name: "stats.doubleclick.net"}); len(fx) != 0 {
		t.Errorf("blocked again: %+v", fx)
	}
	// The category named is the longest declared host's.
	v.core.cfg.Site.Categories[1].Hosts = []string{"baidu.com"} // functional, before marketing
	v.core.cfg.Site.Categories[3].Hosts = []string{"pos.baidu.com"}
	if l := find[Log](v.handle(Event{Kind: EvBlocked, Name: "x.pos.baidu.com"})); len(l) != 1 || !strings.Contains(l[0].Msg, `"marketing"`) {
		t.Errorf("blocked x.pos.baidu.com: %+v", l)
	}

	// A site that declares no hosts blocks nothing and says nothing of it.
	d := newVisit(t)
	if fx := d.start(page(), ""); len(find[Block](fx)) != 0 {
		t.Errorf("the demo (no hosts) sent %+v", find[Block](fx))
	}
}

// The listener reports, once discoverAfter has passed, the names of what no
// category declares: cookies, storage keys, databases, caches, the hosts of
// scripts, iframes and requests, the hosts blocked. Never a value, the
// module's own keys, the consent id, the page's own site or an address.
func TestListenerReportsUndeclaredNames(t *testing.T) {
	v := hostsVisit(t, true)
	p := page()
	p.Subject = "subjectAAAAAAAAAAAAAAA"
	fx := v.handle(Event{Kind: EvStart, Page: p, Jar: &Jar{
		Cookie: "tracker_id=SECRETVALUE; lang=zh; _ga_X1=GA1.1; bad name=1",
		Local:  []string{"undeclared.key", "ui.theme", "consent.outbox.hide.id1", "k.subjectAAAAAAAAAAAAAAA", "a@b.example"},
		// What the host adds in the worker.
		Databases: []string{"undeclared-db", "consent.keys"}, Caches: []string{"undeclared-cache"},
	}})
	if o := find[Observe](fx); len(o) != 1 || o[0].After != 5000 {
		t.Fatalf("start: observe %+v, want one after 5000 ms", o)
	}
	v.handle(Event{Kind: EvSeen, Seen: []Resource{
		{"script", "cdn.tracker.cn"}, {"iframe", "player.video.cn"}, {"fetch", "api.tracker.cn"}, {"img", "pixel.tracker.cn"},
		{"fetch", "www.workly.ai"}, {"script", "static.workly.ai"}, // the site's own
		{"fetch", "10.0.0.1"}, {"img", "[::1]"}, {"fetch", "localhost"}, // addresses, no host name
		{"script", "hm.baidu.com"}, {"fetch", "x.doubleclick.net"}, {"script", "cdn.tracker.cn"}, // declared, or again
	}})
	v.handle(Event{Kind: EvBlocked, Name: "doubleclick.net"})
	fx = v.handle(Event{Kind: EvSweep, Jar: &Jar{Cookie: "tracker_id=SECRETVALUE; later=1", Session: []string{"s.key"}}})
	if d := find[Discover](fx); len(d) != 0 {
		t.Fatalf("reported %v before %v had passed", d, discoverAfter)
	}
	v.now = v.now.Add(discoverAfter)
	fx = v.handle(Event{Kind: EvSweep, Jar: &Jar{Cookie: "tracker_id=SECRETVALUE; later=1", Session: []string{"s.key"}}})
	d := find[Discover](fx)
	if len(d) != 1 {
		t.Fatalf("due: discover %+v", d)
	}
	names, err := discovery.Decode([]byte(d[0].Body))
	if err != nil {
		t.Fatalf("the server refuses the report %s: %v", d[0].Body, err)
	}
	var got []string
	for _, n := range names {
		got = append(got, string(n.Kind)+":"+n.Name)
	}
	want := []string{"cookie:tracker_id", "localStorage:undeclared.key", "indexedDB:undeclared-db", "cache:undeclared-cache",
		"script-host:cdn.tracker.cn", "iframe-host:player.video.cn", "request-host:api.tracker.cn", "request-host:pixel.tracker.cn",
		"blocked-host:doubleclick.net", "cookie:later", "sessionStorage:s.key"}
	if !slices.Equal(got, want) {
		t.Errorf("reported\n%v\nwant\n%v", got, want)
	}
	if strings.Contains(d[0].Body, "SECRET") || strings.Contains(d[0].Body, "subjectAAA") {
		t.Errorf("a value or the consent id in %s", d[0].Body)
	}
	if s := find[Storage](fx); len(s) != 1 || s[0].Area != "local" || s[0].Key != discoveredKey || s[0].Value != "2026-03-01" {
		t.Errorf("the day remembered: %+v", s)
	}
	// Once: nothing more on this page.
	v.now = v.now.Add(time.Hour)
	fx = v.handle(Event{Kind: EvSweep, Jar: &Jar{Cookie: "another=1"}})
	if len(find[Discover](fx)) != 0 || len(find[Storage](fx)) != 0 {
		t.Errorf("reported again on the page: %v", kinds(fx))
	}
}

// At most once a day per browser: a page of the day already reported
// gathers nothing; the next day's reports again. Off, nothing at all.
func TestListenerOnceADay(t *testing.T) {
	for _, c := range []struct {
		name     string
		discover bool
		day      string
		reports  bool
	}{
		{"reported today", true, "2026-03-01", false},
		{"reported yesterday", true, "2026-02-28", true},
		{"never reported", true, "", true},
		{"discovery off", false, "", false},
	} {
		v := hostsVisit(t, c.discover)
		p := page()
		p.Discovered = c.day
		fx := v.handle(Event{Kind: EvStart, Page: p, Jar: &Jar{Cookie: "tracker_id=1"}})
		if got := len(find[Observe](fx)) == 1; got != c.reports {
			t.Errorf("%s: observe %v, want %v", c.name, got, c.reports)
		}
		v.handle(Event{Kind: EvSeen, Seen: []Resource{{"script", "cdn.tracker.cn"}}})
		v.now = v.now.Add(time.Minute)
		fx = v.handle(Event{Kind: EvSweep, Jar: &Jar{Cookie: "tracker_id=1"}})
		if got := len(find[Discover](fx)) == 1; got != c.reports {
			t.Errorf("%s: reported %v, want %v (%v)", c.name, got, c.reports, kinds(fx))
		}
	}
}

// The core's check of a name is the server's: what it reports, the server
// takes.
func TestReportableIsTheServersCheck(t *testing.T) {
	c := New(&Config{}, Env{Now: time.Now})
	for _, k := range discovery.Kinds {
		for _, name := range []string{"_ga", "a b", "a=b", "a;b", "x@y", "k\x01", strings.Repeat("a", 128), strings.Repeat("a", 129),
			"hm.baidu.com", "HM.baidu.com", "10.0.0.1", "1.2.3.4.5", "a..b", "-a.cn", "a.cn:80", "a.cn/x", "a.c_n", "\xff", "", "localhost"} {
			want := discovery.Name{Kind: k, Name: name}.Validate() == nil
			if got := c.reportable(string(k), name); got != want {
				t.Errorf("%s %q: core %v, server %v", k, name, got, want)
			}
		}
	}
}

// The core's checks of characters are unicode's, without its tables.
func TestCharactersAsUnicodeSays(t *testing.T) {
	c := New(&Config{}, Env{Now: time.Now})
	for r := rune(0); r < 0x10000; r++ {
		if space(r) != unicode.IsSpace(r) {
			t.Errorf("%U: space %v", r, space(r))
		}
		if r < 0xd800 || r > 0xdfff {
			if got := c.reportable("localStorage", "a"+string(r)); got == (unicode.IsControl(r) || r == '@') {
				t.Errorf("%U: reportable %v", r, got)
			}
		}
	}
}

// Gated content the loader refused is counted in the core's state, and the
// host of an undeclared source goes to the listener's report.
func TestRefusedContentCounted(t *testing.T) {
	v := hostsVisit(t, true)
	v.handle(Event{Kind: EvStart, Page: page(), Jar: &Jar{}})
	v.handle(Event{Kind: EvRefused, Name: "https://cdn.evil.example is not a source of analytics", Result: "cdn.evil.example"})
	v.handle(Event{Kind: EvRefused, Name: "it lacks the page's nonce"})
	v.handle(Event{Kind: EvRefused, Name: "it lacks the page's nonce"})
	if got := v.core.Refusals(); got["it lacks the page's nonce"] != 2 || got["https://cdn.evil.example is not a source of analytics"] != 1 {
		t.Errorf("refusals %v", got)
	}
	v.now = v.now.Add(time.Minute)
	d := find[Discover](v.handle(Event{Kind: EvSweep, Jar: &Jar{}}))
	if len(d) != 1 || !strings.Contains(d[0].Body, `{"kind":"refused-host","name":"cdn.evil.example"}`) {
		t.Errorf("report %+v: want the refused source's host", d)
	}
}

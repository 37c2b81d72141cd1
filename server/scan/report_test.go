package scan

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
)

func testSite() *consent.Site {
	return &consent.Site{Cookie: consent.CookieConfig{Domain: "example.com"}, Categories: []consent.Category{
		{ID: "necessary", Required: true, Cookies: []consent.Item{{Name: "consent"}}, Storage: []consent.Item{{Name: "consent.*"}}},
		{ID: "analytics", Cookies: []consent.Item{{Name: "_ga"}, {Name: "_ga_*"}}, IndexedDB: []consent.Item{{Name: "stats"}}, Hosts: []string{"google-analytics.com"}},
		{ID: "marketing", Cookies: []consent.Item{{Name: "_gcl_au"}}, Hosts: []string{"ads.example.com"}},
	}}
}

func page(url string, cookies []string, local []string, hosts ...string) Page {
	p := Page{URL: url, Time: 1000, LocalStorage: local, Hosts: hosts}
	for _, c := range cookies {
		p.Cookies = append(p.Cookies, CookieSeen{Name: c, Domain: ".example.com", Path: "/", Expires: 1000 + 400*86400})
	}
	return p
}

func names(ss []Seen) string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s:%s@%v", s.Kind, s.Name, s.Phases))
	}
	return strings.Join(out, " ")
}

func TestAnalyze(t *testing.T) {
	obs := Site{URL: "https://www.example.com/", Visits: []Visit{
		{Phase: Before, Pages: []Page{
			page("https://www.example.com/", []string{"_ga"}, []string{"tracker.key"}, "www.example.com", "static.example.com", "region1.google-analytics.com"),
			page("https://www.example.com/about", nil, nil, "www.example.com"),
		}},
		{Phase: Rejected, Pages: []Page{
			page("https://www.example.com/", []string{"consent", "Hm_lvt_abc"}, []string{"consent.outbox"}, "www.example.com", "hm.baidu.com", "ads.example.com"),
		}},
		{Phase: Accepted, Pages: []Page{
			page("https://www.example.com/", []string{"consent", "_ga", "_ga_X1"}, []string{"consent.outbox"}, "www.example.com", "region1.google-analytics.com", "cdn.unknown.test"),
		}, Problem: ""},
	}}
	r := Analyze(testSite(), catalog.Default(), obs)
	if got, want := names(r.Undeclared), "cookie:Hm_lvt_abc@[rejected] host:cdn.unknown.test@[accepted] host:hm.baidu.com@[rejected] localStorage:tracker.key@[before]"; got != want {
		t.Errorf("undeclared\n%s\nwant\n%s", got, want)
	}
	if got, want := names(r.WithoutConsent), "cookie:_ga@[before]"; got != want {
		t.Errorf("without consent %s, want %s", got, want)
	}
	if got, want := names(r.RefusedHosts), "host:ads.example.com@[rejected] host:region1.google-analytics.com@[before]"; got != want {
		t.Errorf("refused hosts %s, want %s", got, want)
	}
	var never []string
	for _, d := range r.NeverSeen {
		never = append(never, d.Category+":"+string(d.Kind)+":"+d.Name)
	}
	if got, want := strings.Join(never, " "), "analytics:indexedDB:stats marketing:cookie:_gcl_au"; got != want {
		t.Errorf("never seen %s, want %s", got, want)
	}
	for _, s := range r.Undeclared {
		switch s.Name {
		case "Hm_lvt_abc", "hm.baidu.com":
			if s.Service == nil || s.Service.ID != "baidu-tongji" || s.Service.Category != "analytics" {
				t.Errorf("%s: suggestion %+v", s.Name, s.Service)
			}
		default:
			if s.Service != nil {
				t.Errorf("%s recognised as %s", s.Name, s.Service.ID)
			}
		}
	}
	if r.OK() {
		t.Error("a report with findings is OK")
	}
	var md bytes.Buffer
	r.WriteMarkdown(&md, testSite())
	for _, want := range []string{"**7 problem(s)**", "## Seen but undeclared (4)", "`\"services\": [\"baidu-tongji\"]` in category `analytics`",
		"## Optional, present without consent (1)", "## Requests to a refused category's hosts (2)", "| cookie | `_ga_X1` | analytics (`_ga_*`) | after accept all; .example.com/, 400 days |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "static.example.com") {
		t.Error("a host of the site itself (under cookie.domain) was reported")
	}
}

func TestAnalyzeNothingWrong(t *testing.T) {
	obs := Site{URL: "https://www.example.com/", Visits: []Visit{
		{Phase: Before, Pages: []Page{page("https://www.example.com/", nil, nil, "www.example.com")}},
		{Phase: Rejected, Pages: []Page{page("https://www.example.com/", []string{"consent"}, []string{"consent.queue"})}},
		{Phase: Accepted, Pages: []Page{page("https://www.example.com/", []string{"consent", "_ga"}, nil, "www.google-analytics.com")}},
	}}
	r := Analyze(testSite(), catalog.Default(), obs)
	if !r.OK() {
		t.Errorf("not OK: %+v", r)
	}
	obs.Visits[1].Problem = `no [data-consent-action="reject-all"] on https://www.example.com/`
	if r := Analyze(testSite(), catalog.Default(), obs); r.OK() || len(r.Problems) != 1 {
		t.Errorf("a phase that could not run is OK: %+v", r.Problems)
	}
}

func TestLifetime(t *testing.T) {
	for _, tc := range []struct {
		expires float64
		want    string
	}{{-1, "session"}, {1000 + 400*86400, "400 days"}, {1000 + 86400, "24 hours"}, {1000 + 60, "1 minutes"}, {999, "expired"}} {
		if got := lifetime(tc.expires, 1000); got != tc.want {
			t.Errorf("lifetime(%v) = %q, want %q", tc.expires, got, tc.want)
		}
	}
}

var update = flag.Bool("update", false, "rewrite testdata/report.md and testdata/report.json")

// The report's two forms, pinned: sites' CI reads the JSON.
func TestReportGolden(t *testing.T) {
	obs := Site{URL: "https://www.example.com/", Visits: []Visit{
		{Phase: Before, Pages: []Page{page("https://www.example.com/", []string{"_ga"}, []string{"tracker.key"}, "www.example.com", "region1.google-analytics.com")}},
		{Phase: Rejected, Pages: []Page{page("https://www.example.com/", []string{"consent", "Hm_lvt_abc"}, []string{"consent.outbox"}, "hm.baidu.com")}},
		{Phase: Accepted, Pages: []Page{page("https://www.example.com/", []string{"consent", "_ga"}, nil, "region1.google-analytics.com")}},
	}}
	r := Analyze(testSite(), catalog.Default(), obs)
	var md, js bytes.Buffer
	r.WriteMarkdown(&md, testSite())
	if err := WriteJSON(&js, []Report{r}); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"testdata/report.md": md.Bytes(), "testdata/report.json": js.Bytes()} {
		if *update {
			os.MkdirAll("testdata", 0o755)
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (go test -update rewrites it):\n%s", name, got)
		}
	}
}

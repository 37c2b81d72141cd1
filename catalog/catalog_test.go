package catalog

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"workly.ai/consent"
)

// The shipped catalogue parses and validates, and has the services the
// project promises.
func TestShippedCatalogue(t *testing.T) {
	c, err := Parse(servicesJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"baidu-tongji", "umeng-cnzz", "growingio", "sensors-data", "tencent-analytics", "tencent-ads",
		"wechat-jssdk", "aliyun-captcha", "geetest", "google-analytics", "google-tag-manager", "meta-pixel", "microsoft-clarity", "hotjar"} {
		if _, ok := c.Service(id); !ok {
			t.Errorf("the catalogue has no %s", id)
		}
	}
	// Every pattern compiles to what the module matches: a prefix pattern
	// as a regexp anchored at the start, an exact name anchored at both ends.
	for _, s := range c.Services {
		for _, kind := range []consent.ItemKind{consent.KindCookie, consent.KindStorage, consent.KindIndexedDB, consent.KindCache} {
			for _, e := range s.Entries(kind) {
				expr := "^" + regexp.QuoteMeta(strings.TrimSuffix(e.Name, "*"))
				if !strings.HasSuffix(e.Name, "*") {
					expr += "$"
				}
				re, err := regexp.Compile(expr)
				if err != nil {
					t.Errorf("%s %s %q: %v", s.ID, kind, e.Name, err)
					continue
				}
				probe := strings.TrimSuffix(e.Name, "*") + "x1"
				if got := (consent.Item{Name: e.Name}).Matches(probe); got != re.MatchString(probe) {
					t.Errorf("%s %q: Matches(%q) = %v, the regexp says %v", s.ID, e.Name, probe, got, !got)
				}
			}
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := `{"id":"x-analytics","name":{"zh-CN":"某","en":"X"},"provider":"X","category":"analytics","purpose":{"zh-CN":"统计","en":"Counts"},` +
		`"cookies":[{"name":"x_*","purpose":{"zh-CN":"标识","en":"Id"},"lifetime":{"zh-CN":"1 年","en":"1 year"}}],"hosts":[{"host":"x.example.com"}]}`
	if _, err := Parse([]byte(`{"format":1,"services":[` + good + `]}`)); err != nil {
		t.Fatalf("the good entry: %v", err)
	}
	for _, tc := range []struct{ name, json, want string }{
		{"duplicate id", `{"format":1,"services":[` + good + `,` + good + `]}`, "duplicate id"},
		{"bad id", `{"format":1,"services":[` + strings.Replace(good, `"x-analytics"`, `"X Analytics"`, 1) + `]}`, "not a service id"},
		{"star inside", `{"format":1,"services":[` + strings.Replace(good, `"x_*"`, `"x_*_y"`, 1) + `]}`, "not a name or a prefix"},
		{"star alone", `{"format":1,"services":[` + strings.Replace(good, `"x_*"`, `"*"`, 1) + `]}`, "not a name or a prefix"},
		{"host with scheme", `{"format":1,"services":[` + strings.Replace(good, `"x.example.com"`, `"https://x.example.com"`, 1) + `]}`, "not a host name"},
		{"unknown category", `{"format":1,"services":[` + strings.Replace(good, `"analytics"`, `"stats"`, 1) + `]}`, "category"},
		{"missing en lifetime", `{"format":1,"services":[` + strings.Replace(good, `"en":"1 year"`, `"en":""`, 1) + `]}`, "lifetime needs"},
		{"unknown field", `{"format":1,"services":[` + strings.Replace(good, `"provider"`, `"vendor":"X","provider"`, 1) + `]}`, "unknown field"},
		{"wrong format", `{"format":2,"services":[` + good + `]}`, "format 2"},
		{"declares nothing", `{"format":1,"services":[{"id":"empty","name":{"zh-CN":"空","en":"E"},"provider":"E","category":"analytics","purpose":{"zh-CN":"无","en":"None"}}]}`, "declares nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

func TestRecognise(t *testing.T) {
	c := Default()
	for _, tc := range []struct {
		kind       consent.ItemKind
		name, want string
	}{
		{consent.KindCookie, "Hm_lvt_8bf3d8fbd4e2e02c16e4e4f3b51c1e4a", "baidu-tongji"},
		{consent.KindCookie, "Hm_lpvt_8bf3d8fbd4e2e02c16e4e4f3b51c1e4a", "baidu-tongji"},
		{consent.KindCookie, "CNZZDATA1281234567", "umeng-cnzz"},
		{consent.KindCookie, "_ga", "google-analytics"},
		{consent.KindCookie, "_ga_ABCDEF1234", "google-analytics"},
		{consent.KindCookie, "_gat_gtag_UA_1_1", "google-analytics"},
		{consent.KindCookie, "_hjSessionUser_123", "hotjar"},
		{consent.KindCookie, "_fbp", "meta-pixel"},
		{consent.KindCookie, "sensorsdata2015jssdkcross", "sensors-data"},
		{consent.KindCookie, "tracker_id", ""},
		{consent.KindStorage, "_ga", ""},
		{consent.KindHost, "hm.baidu.com", "baidu-tongji"},
		{consent.KindHost, "www.baidu.com", ""},
		{consent.KindHost, "s4.cnzz.com", "umeng-cnzz"},
		{consent.KindHost, "region1.google-analytics.com", "google-analytics"},
		{consent.KindHost, "www.googletagmanager.com", "google-tag-manager"},
		{consent.KindHost, "stats.g.doubleclick.net", "google-analytics"}, // longer than doubleclick.net (Google Ads)
		{consent.KindHost, "googleads.g.doubleclick.net", "google-ads"},
		{consent.KindHost, "res2.wx.qq.com", "wechat-jssdk"},
		{consent.KindHost, "static.geetest.com", "geetest"},
		{consent.KindHost, "x.clarity.ms", "microsoft-clarity"},
		{consent.KindHost, "qq.com", ""},
	} {
		s, _, ok := c.Recognise(tc.kind, tc.name)
		got := ""
		if ok {
			got = s.ID
		}
		if got != tc.want {
			t.Errorf("Recognise(%s, %q) = %q, want %q", tc.kind, tc.name, got, tc.want)
		}
	}
}

func TestExpand(t *testing.T) {
	site := consent.Site{Categories: []consent.Category{
		{ID: "necessary", Required: true},
		{ID: "analytics", Services: []string{"baidu-tongji", "google-analytics"}, Hosts: []string{"hm.baidu.com"},
			Cookies: []consent.Item{{Name: "_ga", Provider: "us", Purpose: consent.Text{ZhCN: "自己的", En: "our own"}, Lifetime: consent.Text{ZhCN: "1 天", En: "1 day"}}}},
	}}
	if err := Default().Expand(&site); err != nil {
		t.Fatal(err)
	}
	a := site.Categories[1]
	if len(a.Services) != 0 {
		t.Errorf("services left after expansion: %v", a.Services)
	}
	var names []string
	for _, it := range a.Cookies {
		names = append(names, it.Name)
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "_ga Hm_lvt_* Hm_lpvt_*") || strings.Count(got, "_ga ") != 1 || !strings.Contains(got, "_ga_*") {
		t.Errorf("cookies after expansion: %s", got)
	}
	if a.Cookies[0].Provider != "us" {
		t.Errorf("the category's own _ga was replaced: %+v", a.Cookies[0])
	}
	if a.Cookies[1].Provider != "百度统计" || a.Cookies[1].Lifetime.En != "1 year" {
		t.Errorf("Hm_lvt_* expanded as %+v", a.Cookies[1])
	}
	if got := strings.Join(a.Hosts, " "); got != "hm.baidu.com hmcdn.baidu.com google-analytics.com analytics.google.com stats.g.doubleclick.net" {
		t.Errorf("hosts after expansion: %s", got)
	}
	if err := site.Validate(); err != nil && !strings.Contains(err.Error(), "controller") {
		// Only the fields this test leaves out may be missing.
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			if strings.Contains(e.Error(), "categories[1]") {
				t.Errorf("expanded category invalid: %v", e)
			}
		}
	}

	bad := consent.Site{Categories: []consent.Category{{ID: "analytics", Services: []string{"nope", "hotjar", "hotjar"}}}}
	err := Default().Expand(&bad)
	var fe *consent.SiteFieldError
	if !errors.As(err, &fe) || fe.Field != "categories[0].services[0]" || !strings.Contains(err.Error(), `unknown service "nope"`) ||
		!strings.Contains(err.Error(), `categories[0].services[2]: service "hotjar" included twice`) {
		t.Errorf("got %v", err)
	}
}

// Every service can be included in a site: its expansion passes the site's
// own validation.
func TestEveryServiceExpandsIntoAValidSite(t *testing.T) {
	txt := consent.Text{ZhCN: "x", En: "x"}
	c := Default()
	for _, s := range c.Services {
		site := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365},
			Controller: consent.Controller{Name: "c", Address: "a", Email: "e@x", Phone: "1", URL: "https://x"},
			Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt},
				{ID: "optional", Title: txt, Purpose: txt, Services: []string{s.ID}}}}
		if err := errors.Join(c.Expand(&site), site.Validate()); err != nil {
			t.Errorf("%s: %v", s.ID, err)
		}
		if got := len(site.Categories[1].Cookies) + len(site.Categories[1].Storage) + len(site.Categories[1].Hosts); got == 0 {
			t.Errorf("%s expanded into nothing", s.ID)
		}
	}
}

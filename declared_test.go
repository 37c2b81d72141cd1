package consent

import "testing"

func TestDeclaring(t *testing.T) {
	site := Site{Categories: []Category{
		{ID: "necessary", Required: true, Cookies: []Item{{Name: "consent"}}, Storage: []Item{{Name: "consent.*"}}},
		{ID: "analytics", Cookies: []Item{{Name: "_ga"}, {Name: "_ga_*"}, {Name: "Hm_lvt_*"}},
			IndexedDB: []Item{{Name: "yq-analytics"}}, Hosts: []string{"baidu.com", "google-analytics.com"}},
		{ID: "marketing", Cookies: []Item{{Name: "_ga_ADS"}}, Caches: []Item{{Name: "ads-*"}}, Hosts: []string{"hm.baidu.com", "doubleclick.net"}},
	}}
	for _, tc := range []struct {
		name string
		kind ItemKind
		seen string
		want string // category id, "" for undeclared
	}{
		{"exact cookie", KindCookie, "_ga", "analytics"},
		{"prefix cookie", KindCookie, "_ga_ABC123", "analytics"},
		{"prefix needs its prefix", KindCookie, "_g", ""},
		{"exact beats an earlier prefix", KindCookie, "_ga_ADS", "marketing"},
		{"prefix with the site id", KindCookie, "Hm_lvt_0123456789abcdef", "analytics"},
		{"cookie names are case-sensitive", KindCookie, "hm_lvt_0123", ""},
		{"undeclared cookie", KindCookie, "tracker", ""},
		{"storage prefix", KindStorage, "consent.outbox", "necessary"},
		{"storage kinds are separate from cookies", KindStorage, "_ga", ""},
		{"indexedDB exact", KindIndexedDB, "yq-analytics", "analytics"},
		{"indexedDB is not a prefix", KindIndexedDB, "yq-analytics-2", ""},
		{"cache prefix", KindCache, "ads-v2", "marketing"},
		{"host itself", KindHost, "google-analytics.com", "analytics"},
		{"host subdomain", KindHost, "region1.google-analytics.com", "analytics"},
		{"longest declared host wins", KindHost, "hm.baidu.com", "marketing"},
		{"sibling of a declared subdomain", KindHost, "www.baidu.com", "analytics"},
		{"host suffix only on a label boundary", KindHost, "notbaidu.com", ""},
		{"host case and trailing dot", KindHost, "Stats.G.DoubleClick.NET.", "marketing"},
		{"undeclared host", KindHost, "example.org", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, ok := site.Declaring(tc.kind, tc.seen)
			got := ""
			if ok {
				got = c.ID
			}
			if got != tc.want {
				t.Errorf("Declaring(%s, %q) = %q, want %q", tc.kind, tc.seen, got, tc.want)
			}
		})
	}
}

func TestValidHost(t *testing.T) {
	for h, want := range map[string]bool{
		"hm.baidu.com": true, "res2.wx.qq.com": true, "a-b.example": true,
		"": false, "localhost": false, "HM.baidu.com": false, "https://hm.baidu.com": false,
		"hm.baidu.com:443": false, "hm.baidu.com/x": false, "*.baidu.com": false, ".baidu.com": false,
		"baidu..com": false, "-a.com": false, "a-.com": false,
	} {
		if got := ValidHost(h); got != want {
			t.Errorf("ValidHost(%q) = %v, want %v", h, got, want)
		}
	}
}

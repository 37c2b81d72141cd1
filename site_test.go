package consent

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestSiteValidate(t *testing.T) {
	fullMode := func() map[string]string {
		m := map[string]string{}
		for _, k := range ConsentModeTypes {
			m[k] = "analytics"
		}
		m["security_storage"] = "necessary"
		return m
	}
	good := func() *Site {
		s := testSite()
		s.Categories[2].Cookies = []Item{{Name: "aid", Provider: "p", Purpose: Text{"x", "x"}, Lifetime: Text{"x", "x"}}}
		s.ConsentMode = fullMode()
		s.Identifiers = []Identifier{{Name: "aid", Category: "analytics", RotateDays: 90}}
		return s
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("valid site: %v", err)
	}
	withSources := good()
	withSources.Categories[2].Sources = []string{"https://hm.baidu.com", "http://cdn.example.com:8080"}
	if err := withSources.Validate(); err != nil {
		t.Fatalf("valid sources: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Site)
		want   string
	}{
		{"source with a path", func(s *Site) { s.Categories[2].Sources = []string{"https://hm.baidu.com/hm.js"} }, `categories[2].sources[0]: "https://hm.baidu.com/hm.js" is not an origin`},
		{"source without scheme", func(s *Site) { s.Categories[2].Sources = []string{"https://a.example", "hm.baidu.com"} }, `categories[2].sources[1]: "hm.baidu.com" is not an origin`},
		{"source of another scheme", func(s *Site) { s.Categories[2].Sources = []string{"javascript://a.example"} }, `categories[2].sources[0]`},
		{"source with the default port", func(s *Site) { s.Categories[2].Sources = []string{"https://a.example:443"} }, `categories[2].sources[0]`},
		{"malformed cookie key", func(s *Site) { s.Cookie.PublicKey = "abc" }, `cookie.publicKey: not an ECDSA P-256 public key`},
		{"unknown consent type", func(s *Site) { s.ConsentMode["ads"] = "marketing" }, `consentMode.ads: "ads" is not a Consent Mode v2 type`},
		{"unknown category in consent mode", func(s *Site) { s.ConsentMode["ad_storage"] = "ads" }, `consentMode.ad_storage: unknown category "ads"`},
		{"consent type missing", func(s *Site) { delete(s.ConsentMode, "ad_user_data") }, "consentMode: missing ad_user_data"},
		{"identifier in required category", func(s *Site) { s.Identifiers[0].Category = "necessary" }, `identifiers[0].category: "necessary" is not an optional category`},
		{"identifier not declared", func(s *Site) { s.Identifiers[0].Name = "other" }, `identifiers[0].name: category "analytics" does not declare the cookie "other"`},
		{"rotation out of range", func(s *Site) { s.Identifiers[0].RotateDays = 0 }, "identifiers[0].rotateDays: want 1 to 400"},
		{"storage with a path", func(s *Site) {
			s.Categories[1].Storage = []Item{{Name: "k", Path: "/app", Provider: "p", Purpose: Text{"x", "x"}, Lifetime: Text{"x", "x"}}}
		}, `categories[1].storage[0].path: "/app" is not a cookie path`},
		{"bad cookie domain", func(s *Site) { s.Cookie.Domain = ".workly.ai" }, `cookie.domain: ".workly.ai" is not a registrable domain`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := good()
			tc.mutate(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// Site.Releases agrees with every vector of testdata/release-vectors.json,
// which the loader is tested against too (build/e2e).
func TestReleaseVectors(t *testing.T) {
	var site Site
	readJSON(t, "web/site.json", &site)
	m := &Manifest{Versions: []Version{{ID: "2022-01-01"}, {ID: "2024-03-01"}, {ID: "2025-06-01"}}}
	var file struct {
		Vectors []struct {
			Name, Cookie, Category string
			Release                bool
		}
	}
	readJSON(t, "testdata/release-vectors.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		st, _ := DecodeCookie(v.Cookie) // malformed: no consent
		if got := site.Releases(m, st, v.Category); got != v.Release {
			t.Errorf("%s: Releases(%q) = %v, want %v", v.Name, v.Category, got, v.Release)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// Site.SignalRefuses agrees with every vector of testdata/signal-vectors.json,
// which the loader and the module are tested against too (build/e2e).
func TestSignalVectors(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name          string
			HonorDNT, GPC bool
			DNT           *string
			Refuses       bool
		}
	}
	readJSON(t, "testdata/signal-vectors.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		dnt := ""
		if v.DNT != nil {
			dnt = *v.DNT
		}
		s := Site{HonorDNT: v.HonorDNT}
		if got := s.SignalRefuses(v.GPC, dnt); got != v.Refuses {
			t.Errorf("%s: SignalRefuses = %v, want %v", v.Name, got, v.Refuses)
		}
	}
}

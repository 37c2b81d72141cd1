package discovery

import (
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	names, err := Decode([]byte(`{"names":[{"kind":"cookie","name":"Hm_lvt_abc"},{"kind":"localStorage","name":"点击.记录"},` +
		`{"kind":"request-host","name":"hm.baidu.com"},{"kind":"cookie","name":"Hm_lvt_abc"},{"kind":"blocked-host","name":"hm.baidu.com"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 4 || names[0] != (Name{Cookie, "Hm_lvt_abc"}) || names[1].Name != "点击.记录" || names[2].Kind != RequestHost ||
		names[3] != (Name{BlockedHost, "hm.baidu.com"}) {
		t.Errorf("got %v", names)
	}
	many := `{"names":[` + strings.Repeat(`{"kind":"cookie","name":"a"},`, MaxNames) + `{"kind":"cookie","name":"b"}]}`
	for _, tc := range []struct{ name, body, want string }{
		{"not JSON", `names=_ga`, "want"},
		{"no names", `{}`, "want"},
		{"a value", `{"names":[{"kind":"cookie","name":"_ga","value":"GA1.1.123"}]}`, "unknown field"},
		{"the consent id", `{"id":"q83vEjRWeJq83vEjRWeJqw","names":[]}`, "unknown field"},
		{"an address field", `{"names":[{"kind":"cookie","name":"_ga","ip":"203.0.113.9"}]}`, "unknown field"},
		{"unknown kind", `{"names":[{"kind":"password","name":"x"}]}`, "kind"},
		{"empty name", `{"names":[{"kind":"cookie","name":""}]}`, "1 to 128"},
		{"long name", `{"names":[{"kind":"localStorage","name":"` + strings.Repeat("k", 129) + `"}]}`, "1 to 128"},
		{"cookie with its value", `{"names":[{"kind":"cookie","name":"_ga=GA1.1.1"}]}`, "not a cookie name"},
		{"control character", `{"names":[{"kind":"localStorage","name":"a\u0000b"}]}`, "not a localStorage name"},
		{"an e-mail", `{"names":[{"kind":"localStorage","name":"user@example.com"}]}`, "not a localStorage name"},
		{"an IP as host", `{"names":[{"kind":"request-host","name":"203.0.113.9"}]}`, "not a host name"},
		{"an IPv6 host", `{"names":[{"kind":"script-host","name":"[::1]"}]}`, "not a host name"},
		{"a URL as host", `{"names":[{"kind":"script-host","name":"https://hm.baidu.com/hm.js?x=1"}]}`, "not a host name"},
		{"a host with a port", `{"names":[{"kind":"iframe-host","name":"hm.baidu.com:443"}]}`, "not a host name"},
		{"an IP as blocked host", `{"names":[{"kind":"blocked-host","name":"203.0.113.9"}]}`, "not a host name"},
		{"numbers as host", `{"names":[{"kind":"request-host","name":"3405803785.0"}]}`, "not a host name"},
		{"too many", many, "at most 100"},
		{"trailing data", `{"names":[]} {"names":[]}`, "unexpected data"},
		{"wrong type", `{"names":{"kind":"cookie"}}`, "want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.body))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error about %q", err, tc.want)
			}
		})
	}
}

// Whatever a browser sends, what Decode accepts is only kinds and names in
// their shapes.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"names":[{"kind":"cookie","name":"_ga"}]}`,
		`{"names":[{"kind":"request-host","name":"hm.baidu.com"},{"kind":"localStorage","name":"a b"}]}`,
		`{"names":[{"kind":"cookie","name":"a=b"}]}`,
		`{"names":[{"kind":"script-host","name":"10.0.0.1"}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		names, err := Decode(body)
		if err != nil {
			return
		}
		if len(names) > MaxNames {
			t.Fatalf("%d names accepted", len(names))
		}
		for _, n := range names {
			if n.Validate() != nil || n.Name == Other {
				t.Fatalf("accepted %+v", n)
			}
			if n.Kind == Cookie && strings.ContainsAny(n.Name, "=; ,") || strings.Contains(n.Name, "@") {
				t.Fatalf("accepted %+v", n)
			}
			if n.Kind.IsHost() && strings.Trim(n.Name, "0123456789.") == "" {
				t.Fatalf("accepted an address %+v", n)
			}
		}
	})
}

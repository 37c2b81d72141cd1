package consent

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// testRegistry is a small registry over testManifest's versions: a push SDK
// from the first version, a location purpose with its separate consent, and
// an analytics recipient abroad with its cross-border consent.
func testRegistry() *Registry {
	t := Text{"x", "x"}
	return &Registry{
		Storage: Text{"境内", "in China"},
		Rights:  Rights{Text: Text{"15 日内答复", "within 15 days"}, ResponseDays: 15},
		Types: []InfoType{
			{ID: "device-id", Name: Text{"设备标识符", "device identifier"}},
			{ID: "app-info", Name: Text{"应用信息", "app details"}},
			{ID: "precise-location", Name: Text{"精准位置", "precise location"}, Sensitive: "other"},
			{ID: "usage", Name: Text{"使用情况", "usage"}},
		},
		Purposes: []Purpose{
			{ID: "push", Title: Text{"消息提醒", "alerts"}, Basis: "contract", Types: []string{"device-id"}, Scenario: t, Retention: t},
			{ID: "location", Title: Text{"发送位置", "sharing location"}, Basis: "consent", Types: []string{"precise-location"}, Scenario: t, Retention: t},
		},
		Recipients: []Recipient{
			{ID: "mipush", Company: Text{"小米", "Xiaomi"}, Product: Text{"小米推送", "Mi Push"}, SDK: "com.xiaomi.push", Platform: t,
				Types: []string{"device-id"}, Purpose: Text{"推送", "push"}, Scenario: t, Method: Text{"SDK 本机采集", "SDK"}, Contact: "privacy@xiaomi.com", URL: "https://dev.mi.com/", Country: "CN"},
			{ID: "ga", Company: Text{"Google LLC", "Google LLC"}, Product: Text{"Google Analytics", "Google Analytics"}, Platform: t,
				Types: []string{"usage"}, Purpose: Text{"统计", "statistics"}, Scenario: t, Method: Text{"脚本", "script"}, Contact: "https://support.google.com/", URL: "https://policies.google.com/privacy", Country: "US"},
		},
		Separate: []SeparateItem{
			{ID: "location", Kind: SeparateSensitive, Title: Text{"发送位置", "Sharing your location"}, Purpose: "location", Types: []string{"precise-location"},
				Necessity: Text{"必要性", "necessity"}, Impact: Text{"影响", "impact"}},
			{ID: "ga_abroad", Kind: SeparateCrossBorder, Title: Text{"境外统计", "Statistics abroad"}, Recipient: "ga", Rights: Text{"联系 Google", "contact Google"}},
		},
	}
}

func TestRegistryValidate(t *testing.T) {
	m := testManifest()
	type fixture struct {
		*Site
		Registry *Registry
	}
	site := func() fixture { return fixture{testSite(), testRegistry()} }
	if f := site(); f.Registry.Validate(f.Site, m) != nil {
		t.Fatalf("valid registry: %v", f.Registry.Validate(f.Site, m))
	}
	for _, tc := range []struct {
		name   string
		mutate func(*fixture)
		want   string
	}{
		{"no registry", func(s *fixture) { s.Registry = nil }, "registry: missing"},
		{"unknown basis", func(s *fixture) { s.Registry.Purposes[0].Basis = "interest" }, `registry.purposes[0].basis: "interest" is not a legal basis of PIPL art. 13`},
		{"purpose without types", func(s *fixture) { s.Registry.Purposes[0].Types = nil }, "registry.purposes[0].types: list the types"},
		{"unknown type", func(s *fixture) { s.Registry.Purposes[0].Types = []string{"imei"} }, `registry.purposes[0].types[0]: unknown type "imei" in version 2022-01-01`},
		{"not an Annex B class", func(s *fixture) { s.Registry.Types[2].Sensitive = "yes" }, `registry.types[2].sensitive: "yes" is not a class of GB/T 35273 Annex B`},
		{"missing English", func(s *fixture) { s.Registry.Purposes[1].Scenario.En = "" }, "registry.purposes[1].scenario: missing en text"},
		{"recipient without contact", func(s *fixture) { s.Registry.Recipients[0].Contact = "" }, "registry.recipients[0].contact: missing contact (art. 23)"},
		{"link not https", func(s *fixture) { s.Registry.Recipients[0].URL = "javascript:alert(1)" }, `registry.recipients[0].url: "javascript:alert(1)" is not an https link`},
		{"bad country", func(s *fixture) { s.Registry.Recipients[0].Country = "China" }, `registry.recipients[0].country: "China" is not an ISO 3166-1 country code`},
		{"abroad without cross-border consent", func(s *fixture) { s.Registry.Separate = s.Registry.Separate[:1] },
			"registry.recipients[1].country: US is abroad: a cross-border separate-consent item must name this recipient (art. 39)"},
		{"cross-border to a recipient in China", func(s *fixture) { s.Registry.Separate[1].Recipient = "mipush" },
			`registry.separate[1].recipient: "mipush" is in CN: not a cross-border transfer`},
		{"cross-border without rights", func(s *fixture) { s.Registry.Separate[1].Rights = Text{} }, "registry.separate[1].rights: missing zh-CN text"},
		{"sensitive without necessity", func(s *fixture) { s.Registry.Separate[0].Necessity.En = "" }, "registry.separate[0].necessity: missing en text"},
		{"sensitive item on information not sensitive", func(s *fixture) { s.Registry.Separate[0].Types = []string{"usage"} },
			`registry.separate[0].types[0]: "usage" is not marked sensitive`},
		{"sensitive on consent without separate consent", func(s *fixture) { s.Registry.Separate = s.Registry.Separate[1:] },
			`registry.purposes[1].types: "precise-location" is sensitive: a sensitive separate-consent item must cover it for this purpose (art. 29)`},
		{"unknown kind", func(s *fixture) { s.Registry.Separate[0].Kind = "special" }, `registry.separate[0].kind: "special" is not a kind of separate consent`},
		{"third-party item with its own types", func(s *fixture) {
			s.Registry.Separate = append(s.Registry.Separate, SeparateItem{ID: "mi", Kind: SeparateThirdParty, Title: Text{"x", "x"}, Recipient: "mipush", Types: []string{"device-id"}})
		}, "registry.separate[2].recipient: a third-party item names its recipient (and takes purpose and types from it), nothing else"},
		{"public without scope", func(s *fixture) {
			s.Registry.Separate = append(s.Registry.Separate, SeparateItem{ID: "pub", Kind: SeparatePublic, Title: Text{"x", "x"}, Purpose: "push", Types: []string{"device-id"}})
		}, "registry.separate[2].scope: missing zh-CN text"},
		{"bad item id", func(s *fixture) { s.Registry.Separate[0].ID = "Location!" }, `registry.separate[0].id: "Location!" is not an id`},
		{"duplicate in one version", func(s *fixture) { s.Registry.Recipients = append(s.Registry.Recipients, s.Registry.Recipients[0]) },
			`registry.recipients[2].id: duplicate id "mipush" in version 2022-01-01`},
		{"since an unknown version", func(s *fixture) { s.Registry.Recipients[0].Since = "2023-02-30" }, `registry.recipients[0].since: "2023-02-30" is not a policy version`},
		{"until before since", func(s *fixture) { s.Registry.Recipients[0].Span = Span{Since: "2024-01-01", Until: "2023-01-01"} },
			"registry.recipients[0].until: 2023-01-01 is not after since 2024-01-01"},
		{"reference to a removed entry", func(s *fixture) { s.Registry.Types[0].Until = "2024-01-01" }, `unknown type "device-id" in version 2024-01-01`},
		{"cookie names an unknown recipient", func(s *fixture) {
			s.Categories[2].Cookies = []Item{{Name: "_ga", Provider: "Google", Purpose: Text{"x", "x"}, Lifetime: Text{"x", "x"}, Recipient: "gaa"}}
		}, `categories[2].cookies[0].recipient: unknown recipient "gaa"`},
		{"permission uses an unknown purpose", func(s *fixture) {
			s.Permissions = []Permission{{Kind: "geolocation", Title: Text{"x", "x"}, Uses: "gps"}}
		}, `permissions[0].uses: unknown purpose "gps"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := site()
			tc.mutate(&s)
			err := s.Registry.Validate(s.Site, m)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("ValidateRegistry() = %v, want an ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// A change of an entry is an entry ending where its successor begins: each
// version sees one of them.
func TestRegistryAt(t *testing.T) {
	m := testManifest()
	r := testRegistry()
	old := r.Recipients[0]
	old.Until = "2024-01-01"
	changed := old
	changed.Span = Span{Since: "2024-01-01"}
	changed.Types = []string{"device-id", "app-info"}
	r.Recipients[0] = old
	r.Recipients = append(r.Recipients, changed)
	if err := r.Validate(testSite(), m); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]int{"2022-01-01": 1, "2023-01-01": 1, "2024-01-01": 2, "2025-01-01": 2} {
		got, _ := r.At(m, id).Recipient("mipush")
		if len(got.Types) != want {
			t.Errorf("At(%s): mipush has %d types, want %d", id, len(got.Types), want)
		}
	}
}

// Each registry change makes the kind of change PIPL art. 14 and the policy's
// section 8 say it is.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Registry)
		want   []Kind
		entry  string
	}{
		{"nothing", func(*Registry) {}, nil, ""},
		{"new purpose", func(r *Registry) {
			r.Purposes = append(r.Purposes, Purpose{ID: "stats", Title: Text{"统计", "statistics"}, Basis: "consent", Types: []string{"usage"}})
		}, []Kind{KindPurposes}, "stats"},
		{"new type for a purpose", func(r *Registry) { r.Purposes[0].Types = append(r.Purposes[0].Types, "app-info") }, []Kind{KindPurposes}, "push"},
		{"a type no longer used", func(r *Registry) { r.Purposes[0].Types = []string{"app-info"} }, []Kind{KindPurposes, KindMinor}, "push"},
		{"new legal basis", func(r *Registry) { r.Purposes[0].Basis = "consent" }, []Kind{KindPurposes}, "push"},
		{"purpose removed", func(r *Registry) { r.Purposes = r.Purposes[1:] }, []Kind{KindMinor}, "push"},
		{"retention reworded", func(r *Registry) { r.Purposes[0].Retention = Text{"一年", "a year"} }, []Kind{KindMinor}, "push"},
		{"information becomes sensitive", func(r *Registry) { r.Types[0].Sensitive = "other" }, []Kind{KindPurposes}, ""},
		{"new recipient", func(r *Registry) {
			hp := r.Recipients[0]
			hp.ID, hp.Product = "honorpush", Text{"荣耀推送", "HONOR Push"}
			r.Recipients = append(r.Recipients, hp)
		}, []Kind{KindRecipients}, "honorpush"},
		{"recipient gets more information", func(r *Registry) { r.Recipients[0].Types = append(r.Recipients[0].Types, "app-info") }, []Kind{KindRecipients}, "mipush"},
		{"recipient's method changes", func(r *Registry) { r.Recipients[0].Method = Text{"后台传输", "server to server"} }, []Kind{KindRecipients}, "mipush"},
		{"recipient moves abroad", func(r *Registry) { r.Recipients[0].Country = "SG" }, []Kind{KindRecipients}, "mipush"},
		{"recipient's link changes", func(r *Registry) { r.Recipients[0].URL = "https://dev.mi.com/privacy" }, []Kind{KindMinor}, "mipush"},
		{"recipient removed", func(r *Registry) { r.Recipients = r.Recipients[:1]; r.Separate = r.Separate[:1] }, []Kind{KindMinor, KindMinor}, "ga"},
		{"new cross-border transfer", func(r *Registry) {
			r.Recipients[0].Country = "SG"
			r.Separate = append(r.Separate, SeparateItem{ID: "mi_abroad", Kind: SeparateCrossBorder, Title: Text{"x", "x"}, Recipient: "mipush", Rights: Text{"x", "x"}})
		}, []Kind{KindRecipients, KindRecipients}, "mipush"},
		{"cross-border statement changes", func(r *Registry) { r.Separate[1].Rights = Text{"联系我们", "contact us"} }, []Kind{KindRecipients}, "ga_abroad"},
		{"foreign recipient's contact changes", func(r *Registry) { r.Recipients[1].Contact = "privacy@google.com" }, []Kind{KindMinor, KindRecipients}, "ga"},
		{"sensitive statement changes", func(r *Registry) { r.Separate[0].Impact = Text{"新的影响", "new impact"} }, []Kind{KindPurposes}, "location"},
		{"storage moves", func(r *Registry) { r.Storage = Text{"新加坡", "Singapore"} }, []Kind{KindRecipients}, ""},
		{"rights change", func(r *Registry) { r.Rights.ResponseDays = 30 }, []Kind{KindRights}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := *testRegistry(), *testRegistry()
			tc.change(&b)
			got := Compare(a, b)
			var kinds []Kind
			for _, c := range got {
				kinds = append(kinds, c.Kind)
				if c.Summary.missing() != "" || (c.List != ListCollected && c.List != ListSharing) {
					t.Errorf("change %+v lacks a summary or a list", c)
				}
			}
			if !slices.Equal(kinds, tc.want) {
				t.Fatalf("kinds %v, want %v (%+v)", kinds, tc.want, got)
			}
			if tc.entry != "" && got[0].Entry != tc.entry {
				t.Errorf("entry %q, want %q", got[0].Entry, tc.entry)
			}
		})
	}
}

// A version whose computed list changes are material must declare that kind.
func TestCheckListChanges(t *testing.T) {
	m := testManifest() // 2024-01-01 declares recipients; 2023-01-01 only minor
	r := testRegistry()
	hp := r.Recipients[0]
	hp.ID, hp.Since = "honorpush", "2024-01-01"
	r.Recipients = append(r.Recipients, hp)
	r.ListChanges(m)
	if err := m.CheckListChanges(); err != nil {
		t.Fatalf("declared: %v", err)
	}
	if got := m.ListChangesSince("2022-01-01"); len(got) != 1 || got[0].Entry != "honorpush" {
		t.Errorf("ListChangesSince = %+v", got)
	}
	r.Recipients[2].Since = "2023-01-01"
	r.ListChanges(m)
	err := m.CheckListChanges()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Version != "2023-01-01" || fe.Field != "changes" || !strings.Contains(fe.Msg, "list a change of kind recipients") {
		t.Fatalf("undeclared new recipient: %v", err)
	}
}

// The statement shows the fields each article requires, and its text
// changes with any shown word.
func TestStatement(t *testing.T) {
	r := testRegistry()
	title, fields, text, ok := r.Statement("ga_abroad", ZhCN)
	if !ok || title != "境外统计" {
		t.Fatalf("Statement = %q, %v", title, ok)
	}
	var labels []string
	for _, f := range fields {
		labels = append(labels, f.Label)
	}
	if want := []string{"接收方", "联系方式", "处理目的", "处理方式", "个人信息的种类", "所在国家或地区", "向境外接收方行使权利的方式", "撤回"}; !slices.Equal(labels, want) {
		t.Errorf("cross-border fields %v, want %v", labels, want)
	}
	_, fields, _, _ = r.Statement("location", En)
	labels = nil
	for _, f := range fields {
		labels = append(labels, f.Label)
	}
	if want := []string{"Purpose", "Types of information", "Why it is needed", "What it means for you", "Withdrawing"}; !slices.Equal(labels, want) {
		t.Errorf("sensitive fields %v, want %v", labels, want)
	}
	r.Recipients[1].Purpose.ZhCN = "统计访问"
	if _, _, again, _ := r.Statement("ga_abroad", ZhCN); again == text {
		t.Error("the statement's text did not change with the recipient's purpose")
	}
	if _, _, _, ok := r.Statement("nope", ZhCN); ok {
		t.Error("an unknown item has a statement")
	}
}

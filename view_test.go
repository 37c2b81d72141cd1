package consent

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestHTMLEscapes(t *testing.T) {
	n := El("p", A("title", `"><script>alert(1)</script>`, "data-x", "a&b"),
		T("<b>bold</b> & \"quoted\""), El("br", nil), El("span", nil))
	got := n.HTML()
	const want = `<p title="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" data-x="a&amp;b">&lt;b&gt;bold&lt;/b&gt; &amp; "quoted"<br><span></span></p>`
	if got != want {
		t.Fatalf("HTML()\n got %s\nwant %s", got, want)
	}
	if tc := n.TextContent(); tc != `<b>bold</b> & "quoted"` {
		t.Fatalf("TextContent() = %q", tc)
	}
}

// realSite reads the site configuration the demo is built from.
func realSite(t *testing.T) *Site {
	t.Helper()
	data, err := os.ReadFile("web/site.json")
	if err != nil {
		t.Fatal(err)
	}
	var s Site
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	// The permissions' purposes come from the registry, as the build fills
	// them in.
	var reg struct{ Registry *Registry }
	if err := json.Unmarshal(data, &reg); err != nil {
		t.Fatal(err)
	}
	reg.Registry.ResolvePermissions(&s, realVersions(t))
	return &s
}

// realVersions is a manifest of the ids of web/policies' versions.
func realVersions(t *testing.T) *Manifest {
	t.Helper()
	files, err := filepath.Glob("web/policies/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("web/policies: %v", err)
	}
	m := &Manifest{}
	for _, f := range files {
		m.Versions = append(m.Versions, Version{ID: strings.TrimSuffix(filepath.Base(f), ".md")})
	}
	return m
}

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n got %s\nwant %s", name, got, want)
	}
}

// Golden files pin the notices' markup in every locale.
func TestViewsGolden(t *testing.T) {
	site := realSite(t)
	policy := Version{ID: "2022-01-01", Effective: day("2022-01-01"), Title: Text{"隐私政策", "Privacy policy"}, SHA256: hash}
	granted := State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2022-01-01", Granted: []string{"analytics"}}
	for _, l := range Locales {
		banner := BannerView(site, policy, l)
		golden(t, "views/banner."+string(l)+".html", indent(banner.HTML()))
		prefs := PreferencesView(site, granted, policy, l)
		golden(t, "views/preferences."+string(l)+".html", indent(prefs.HTML()))
		golden(t, "views/permission-prompt."+string(l)+".html", indent(PermissionPromptView(site, "camera,microphone", l).HTML()))
		golden(t, "views/permissions."+string(l)+".html", indent(PermissionsView(site, l).HTML()))
	}
	if got := site.PromptSets(); !slices.Equal(got, []string{"camera", "microphone", "notifications", "geolocation", "persistent-storage", "camera,microphone"}) {
		t.Errorf("PromptSets = %v", got)
	}
}

// Golden files pin the policy-change notices and the archive's status line.
func TestPolicyNoticesGolden(t *testing.T) {
	site := realSite(t)
	m := testManifest()
	m.Versions[2].Changes = append(m.Versions[2].Changes, Change{Kind: KindContact, Summary: Text{"投诉渠道 <变更>", "Complaints go <elsewhere>"}})
	m.Versions[2].ListChanges = []ListChange{{List: ListSharing, Entry: "honorpush", Kind: KindRecipients, Summary: Text{"新增第三方：荣耀推送", "New third party: HONOR Push"}}}
	for _, l := range Locales {
		for _, acked := range []string{"2022-01-01", "2024-01-01"} {
			view, ok := m.NoticeView(site, acked, l)
			if !ok {
				t.Fatalf("no notice for %s", acked)
			}
			golden(t, "views/notice-"+acked+"."+string(l)+".html", indent(view.HTML()))
			golden(t, "views/status-"+acked+"."+string(l)+".html", indent(m.StatusView(acked, l).HTML()))
		}
	}
	if _, ok := m.NoticeView(site, "2025-01-01", ZhCN); ok {
		t.Error("a notice for a person on the current version")
	}
	material, _ := m.NoticeView(site, "2022-01-01", En)
	html := material.HTML()
	for _, want := range []string{`data-consent-action="acknowledge"`, `href="/policies/diff/2022-01-01/2025-01-01"`,
		`data-consent-kind="recipients"`, `data-consent-kind="contact"`, `data-consent-kind="minor"`, "Complaints go &lt;elsewhere&gt;",
		`data-consent-lists`, `data-consent-list="sharing"`, "New third party: HONOR Push", `href="/en/policies/2025-01-01/sharing"`} {
		if !strings.Contains(html, want) {
			t.Errorf("material notice lacks %s", want)
		}
	}
	// Kinds are grouped: the three minor changes since 2022-01-01 are one group.
	if n := strings.Count(html, `data-consent-kind="minor"`); n != 1 {
		t.Errorf("minor changes in %d groups, want 1", n)
	}
}

func TestFormatDate(t *testing.T) {
	if got := FormatDate(2024, 3, 1, ZhCN); got != "2024年3月1日" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := FormatDate(2024, 3, 1, En); got != "1 March 2024" {
		t.Errorf("en: %q", got)
	}
	for _, day := range []string{"1970-01-01", "2000-02-29", "2024-03-01", "2026-12-31", "2100-03-01", "1969-12-31"} {
		tm, _ := time.Parse(time.DateOnly, day)
		for _, offset := range []int64{0, 86399} {
			y, m, d := CivilDate(tm.Unix() + offset)
			if got := ISODate(y, m, d); got != day {
				t.Errorf("CivilDate(%s + %ds) = %s", day, offset, got)
			}
		}
	}
	if got := ISODate(2024, 3, 1); got != "2024-03-01" {
		t.Errorf("ISODate: %q", got)
	}
}

// Every control and switch carries the DOM hooks integrators and tests rely on.
func TestViewHooks(t *testing.T) {
	site := realSite(t)
	policy := Version{ID: "2022-01-01"}
	for _, l := range Locales {
		banner := BannerView(site, policy, l).HTML()
		for _, action := range []Action{ActionAcceptAll, ActionRejectAll, ActionOpenPreferences} {
			if !strings.Contains(banner, `data-consent-action="`+string(action)+`"`) {
				t.Errorf("%s banner lacks %s", l, action)
			}
		}
		prefs := PreferencesView(site, State{}, policy, l).HTML()
		for _, action := range []Action{ActionSave, ActionAcceptAll, ActionRejectAll, ActionDismiss} {
			if !strings.Contains(prefs, `data-consent-action="`+string(action)+`"`) {
				t.Errorf("%s preferences lack %s", l, action)
			}
		}
		for _, c := range site.Categories {
			if !strings.Contains(prefs, `type="checkbox" role="switch" id="cm-cat-`+c.ID+`" data-consent-category="`+c.ID+`"`) {
				t.Errorf("%s preferences lack a switch for %s", l, c.ID)
			}
		}
		if !strings.Contains(prefs, `lang="`+string(l)+`"`) {
			t.Errorf("preferences in %s do not say their language", l)
		}
	}
}

// indent puts each element start on its own line, so golden diffs read well.
func indent(html string) string {
	return strings.ReplaceAll(html, "><", ">\n<") + "\n"
}

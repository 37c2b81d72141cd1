package consent

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

const hash = "0000000000000000000000000000000000000000000000000000000000000000"

func change(k Kind) Change { return Change{Kind: k, Summary: Text{"变更", "change"}} }

func testManifest() *Manifest {
	title := Text{"隐私政策", "Privacy policy"}
	return &Manifest{Versions: []Version{
		{ID: "2022-01-01", Effective: day("2022-01-01"), Title: title, SHA256: hash},
		{ID: "2023-01-01", Effective: day("2023-01-01"), Title: title, SHA256: hash, Changes: []Change{change(KindMinor)}},
		{ID: "2024-01-01", Effective: day("2024-01-01"), Title: title, SHA256: hash, Changes: []Change{change(KindRecipients), change(KindMinor)}},
		{ID: "2025-01-01", Effective: day("2025-01-01"), Title: title, SHA256: hash, Changes: []Change{change(KindMinor)}},
	}}
}

func TestNoticeFor(t *testing.T) {
	m := testManifest()
	for _, tc := range []struct {
		acked       string
		want        NoticeKind
		wantChanges int
	}{
		{"", NoticeBanner, 0},
		{"1999-01-01", NoticeBanner, 0}, // a version this site never published
		{"2022-01-01", NoticeMaterial, 4},
		{"2023-01-01", NoticeMaterial, 3},
		{"2024-01-01", NoticeMinor, 1},
		{"2025-01-01", NoticeNone, 0},
	} {
		kind, changes := m.NoticeFor(tc.acked)
		if kind != tc.want || len(changes) != tc.wantChanges {
			t.Errorf("NoticeFor(%q) = %q with %d changes, want %q with %d", tc.acked, kind, len(changes), tc.want, tc.wantChanges)
		}
	}
}

func TestManifestValidate(t *testing.T) {
	if err := testManifest().Validate(); err != nil {
		t.Fatalf("valid manifest: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(m *Manifest)
		want   string
	}{
		{"empty", func(m *Manifest) { m.Versions = nil }, "no policy version"},
		{"bad id", func(m *Manifest) { m.Versions[1].ID = "../etc" }, `policy #2: id: "../etc" is not a valid version id`},
		{"duplicate id", func(m *Manifest) { m.Versions[2].ID = "2022-01-01" }, "policy 2022-01-01: id: duplicate version"},
		{"dates not increasing", func(m *Manifest) { m.Versions[2].Effective = day("2023-01-01") },
			"policy 2024-01-01: effective: 2023-01-01 is not after the previous version's 2023-01-01"},
		{"no date", func(m *Manifest) { m.Versions[0].Effective = time.Time{} }, "policy 2022-01-01: effective: missing"},
		{"unknown kind", func(m *Manifest) { m.Versions[1].Changes[0].Kind = "sharing" }, `changes[0].kind: unknown kind "sharing"`},
		{"missing summary", func(m *Manifest) { m.Versions[2].Changes[1].Summary.ZhCN = "" }, "changes[1].summary: missing zh-CN summary"},
		{"later version lists nothing", func(m *Manifest) { m.Versions[3].Changes = nil }, "policy 2025-01-01: changes: a later version must list"},
		{"bad hash", func(m *Manifest) { m.Versions[0].SHA256 = "ABC" }, "sha256: want 64 lowercase hex digits"},
		{"missing title", func(m *Manifest) { m.Versions[0].Title.En = "" }, "title: missing en title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := testManifest()
			tc.mutate(m)
			err := m.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	material := 0
	for _, k := range Kinds {
		if k.Material() {
			material++
		}
	}
	if material != 6 || KindMinor.Material() || Kind("other").Valid() || Kind("other").Material() {
		t.Fatalf("want the policy's six material kinds plus minor; got %d material", material)
	}
}

func TestMatchLocale(t *testing.T) {
	for tag, want := range map[string]Locale{"zh": ZhCN, "zh-CN": ZhCN, "zh-Hans-CN": ZhCN, "ZH_tw": ZhCN, "en": En, "en-GB": En, "EN": En, "": "", "fr": "", "ent": "", "e": ""} {
		got, ok := MatchLocale(tag)
		if got != want || ok != (want != "") {
			t.Errorf("MatchLocale(%q) = %q, %v; want %q", tag, got, ok, want)
		}
	}
}

// ChooseLocale agrees with every vector of testdata/locale-vectors.json,
// which the loader and the module are tested against too (build/e2e).
func TestLocaleVectors(t *testing.T) {
	var file struct {
		Vectors []struct {
			Name, Switched, Lang string
			Languages            []string
			Want                 Locale
		}
	}
	readJSON(t, "testdata/locale-vectors.json", &file)
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		if got := ChooseLocale(append([]string{v.Switched, v.Lang}, v.Languages...)...); got != v.Want {
			t.Errorf("%s: ChooseLocale = %q, want %q", v.Name, got, v.Want)
		}
	}
}

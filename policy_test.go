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

// InForce and Announced agree with every vector of
// testdata/effective-vectors.json, which the loader is tested against in
// Chromium (build/e2e).
func TestEffectiveVectors(t *testing.T) {
	var file struct {
		AdvanceNoticeDays int
		Versions          []struct {
			ID       string
			Material bool
		}
		Vectors []struct {
			Name, Acked, Current, Notice string
			Now                          time.Time
		}
	}
	readJSON(t, "testdata/effective-vectors.json", &file)
	var m Manifest
	for _, v := range file.Versions {
		day, err := time.Parse(time.DateOnly, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		kind := KindMinor
		if v.Material {
			kind = KindContact
		}
		m.Versions = append(m.Versions, Version{ID: v.ID, Effective: day, Changes: []Change{{Kind: kind}}})
	}
	for _, vec := range file.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			cur := m.InForce(vec.Now)
			if got := cur.Current().ID; got != vec.Current {
				t.Errorf("in force at %s: %s, want %s", vec.Now, got, vec.Current)
			}
			kind, _ := cur.NoticeFor(vec.Acked)
			if next, ok := m.Announced(vec.Now, file.AdvanceNoticeDays); ok && kind == NoticeNone && vec.Acked == cur.Current().ID {
				if next.ID != m.Versions[len(cur.Versions)].ID {
					t.Errorf("announced %s, not the next version", next.ID)
				}
				kind = NoticeAdvance
			}
			if string(kind) != vec.Notice {
				t.Errorf("notice %q, want %q", kind, vec.Notice)
			}
		})
	}
}

// InForce keeps the first version before its own date, and never lets a
// caller's append reach the manifest's later versions.
func TestInForceEdges(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	m := Manifest{Versions: []Version{{ID: "a", Effective: d("2024-01-01")}, {ID: "b", Effective: d("2025-01-01")}}}
	if got := m.InForce(d("2020-01-01")); len(got.Versions) != 1 || got.Current().ID != "a" {
		t.Errorf("before the first version: %+v", got.Versions)
	}
	cur := m.InForce(d("2024-06-01"))
	_ = append(cur.Versions, Version{ID: "x"})
	if m.Versions[1].ID != "b" {
		t.Error("appending to InForce's manifest overwrote the next version")
	}
	if _, ok := m.Announced(d("2024-06-01"), 0); !ok {
		t.Error("with 0 days a version published ahead is announced at once")
	}
	if _, ok := m.Announced(d("2024-06-01"), 30); ok {
		t.Error("announced 7 months ahead with 30 days")
	}
	if _, ok := m.Announced(d("2025-06-01"), 30); ok {
		t.Error("announced with nothing upcoming")
	}
}

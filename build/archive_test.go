package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestDiffHTML(t *testing.T) {
	long := strings.Repeat("未改动的条款。", 40) // 280 characters
	from := "第一条" + long + "联系方式:400-8576-886。<旧>"
	to := "第一条" + long + "联系方式:privacy@workly.ai。<新>"
	html, ins, del := diffHTML(from, to)
	got := string(html)
	for _, want := range []string{
		`<ins><span class="diff-label">[新增]</span>`, `<del><span class="diff-label">[删除]</span>`,
		`<details class="diff-fold"><summary>未改动的 `, "。&lt;<del>", "</ins>&gt;",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diff lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "<新") || strings.Contains(got, "<旧") {
		t.Error("text was not escaped")
	}
	if ins == 0 || del == 0 {
		t.Errorf("counted %d inserted, %d deleted", ins, del)
	}
	// The folded text is still all there, so nothing is lost by folding.
	plain := strings.NewReplacer(`<span class="diff-label">[新增]</span>`, "", `<span class="diff-label">[删除]</span>`, "").Replace(got)
	if !strings.Contains(plain, long[:30]) {
		t.Error("the unchanged text is missing")
	}
	if same, _, _ := diffHTML("相同", "相同"); string(same) != "相同" {
		t.Errorf("identical texts: %s", same)
	}
}

// The golden file pins the rendered comparison of the real 2022-01-01 and
// 2024-03-01 policies.
func TestDiffGolden(t *testing.T) {
	srcs, err := readPolicies("../web/policies")
	if err != nil {
		t.Fatal(err)
	}
	html, _, _ := diffHTML(string(bodyOf(srcs, "2022-01-01")), string(bodyOf(srcs, "2024-03-01")))
	path := filepath.Join("testdata", "diff-2022-01-01-2024-03-01.html")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(html), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if string(html) != string(want) {
		t.Errorf("the diff differs from %s (go test -update rewrites it)", path)
	}
	for _, want := range []string{"荣耀推送(com.hihonor.push)", "privacy@workly.ai"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the diff does not show %s", want)
		}
	}
}

// renderArchive renders the real sources' archive and lists, unminified.
func renderArchive(t *testing.T) (map[string][]byte, *sources) {
	t.Helper()
	src, err := readSources("..", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	arch, err := newArchive(src.Policies, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base, err := parsePages(os.DirFS("../web/pages"), func(name string) (string, error) { return "/assets/" + name, nil })
	if err != nil {
		t.Fatal(err)
	}
	pages, err := archivePages(base, arch, src.Policies, src.Registry, &src.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	return pages, src
}

// Golden files pin the two lists of the real 2024-03-01 version in both
// locales; the current version's lists are also served without a version.
func TestListsGolden(t *testing.T) {
	pages, src := renderArchive(t)
	for _, p := range []string{"policies/2024-03-01/collected.html", "policies/2024-03-01/sharing.html",
		"en/policies/2024-03-01/collected.html", "en/policies/2024-03-01/sharing.html"} {
		got, ok := pages[p]
		if !ok {
			t.Fatalf("%s not rendered", p)
		}
		golden := filepath.Join("testdata", "lists", strings.ReplaceAll(p, "/", "-"))
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s (go test -update rewrites it)", p, golden)
		}
	}
	cur := src.Manifest.Current().ID
	for _, l := range []string{"policies/", "en/policies/"} {
		for _, list := range []string{"collected", "sharing"} {
			if string(pages[l+list+".html"]) != string(pages[l+cur+"/"+list+".html"]) {
				t.Errorf("%s%s is not the current version's list", l, list)
			}
		}
	}
	// Kept per version: HONOR Push is listed from 2024-03-01 on.
	if strings.Contains(string(pages["policies/2022-01-01/sharing.html"]), "com.hihonor.push") ||
		!strings.Contains(string(pages["policies/2024-03-01/sharing.html"]), "com.hihonor.push") {
		t.Error("HONOR Push is not listed from 2024-03-01 only")
	}
	// Each comparison shows what changed in the lists between its versions.
	if d := string(pages["policies/diff/2022-01-01/2025-06-01.html"]); !strings.Contains(d, `data-consent-list="sharing" data-consent-kind="recipients"`) || !strings.Contains(d, "新增第三方：荣耀推送") {
		t.Error("the comparison 2022-01-01 → 2025-06-01 does not list HONOR Push")
	}
	// Every version page and the archive's index link to the lists.
	for _, v := range src.Manifest.Versions {
		if !strings.Contains(string(pages["policies/"+v.ID+".html"]), `href="/policies/`+v.ID+`/sharing"`) {
			t.Errorf("the page of %s does not link to its sharing list", v.ID)
		}
	}
}

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
)

const goodFrontMatter = `---
version: 2023-06-01
effective: 2023-06-01
title.zh-CN: 隐私政策
title.en: Privacy policy
changes:
  - kind: recipients
    zh-CN: 新增推送服务 SDK。
    en: A push notification SDK was added.
  - kind: minor
    zh-CN: 文字修订。
    en: "Wording: clearer."
---
# 隐私政策
`

const firstVersion = "---\nversion: 2022-01-01\neffective: 2022-01-01\ntitle.zh-CN: 隐私政策\ntitle.en: Privacy policy\n---\n# 隐私政策\n"

func writePolicies(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestReadPolicies(t *testing.T) {
	dir := writePolicies(t, map[string]string{"2022-01-01.md": firstVersion, "2023-06-01.md": goodFrontMatter})
	srcs, err := readPolicies(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 || srcs[0].Version.ID != "2022-01-01" || srcs[1].Version.ID != "2023-06-01" {
		t.Fatalf("versions out of order: %+v", srcs)
	}
	v := srcs[1].Version
	if len(v.Changes) != 2 || v.Changes[0].Kind != "recipients" || v.Changes[1].Summary.En != "Wording: clearer." {
		t.Fatalf("changes parsed as %+v", v.Changes)
	}
	if string(srcs[1].Body) != "# 隐私政策\n" {
		t.Fatalf("body %q", srcs[1].Body)
	}
	// The hash is of the exact text after the front matter: sha256("# 隐私政策\n").
	sum := sha256.Sum256([]byte("# 隐私政策\n"))
	if v.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("sha256 %s is not of the text", v.SHA256)
	}
	if srcs[0].Version.SHA256 != srcs[1].Version.SHA256 {
		t.Error("identical texts hash differently")
	}
}

// Every broken policy file is reported with its file and the line at fault.
func TestPolicyErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct {
		name, file, text, want string
	}{
		{"unknown kind", "2023-06-01.md", strings.Replace(goodFrontMatter, "kind: recipients", "kind: sharing", 1),
			`2023-06-01.md:7: changes[0].kind: unknown kind "sharing"`},
		{"missing summary", "2023-06-01.md", strings.Replace(goodFrontMatter, "    en: A push notification SDK was added.\n", "", 1),
			"2023-06-01.md:7: changes[0].summary: missing en summary"},
		{"dates not increasing", "2023-06-01.md", strings.Replace(goodFrontMatter, "effective: 2023-06-01", "effective: 2021-12-31", 1),
			"2023-06-01.md:3: effective: 2021-12-31 is not after the previous version's 2022-01-01"},
		{"bad date", "2023-06-01.md", strings.Replace(goodFrontMatter, "effective: 2023-06-01", "effective: 2023-13-01", 1),
			`2023-06-01.md:3: effective: "2023-13-01" is not a date`},
		{"unsafe version id", "2023-06-01.md", strings.Replace(goodFrontMatter, "version: 2023-06-01", "version: ../x", 1),
			`2023-06-01.md:2: version "../x" does not match the file name`},
		{"duplicate version", "2023-06-01.md", strings.Replace(goodFrontMatter, "version: 2023-06-01", "version: 2022-01-01", 1),
			"2023-06-01.md:2: version \"2022-01-01\" does not match"},
		{"unknown key", "2023-06-01.md", strings.Replace(goodFrontMatter, "title.en:", "titel.en:", 1),
			`2023-06-01.md:5: unknown key "titel.en"`},
		{"repeated key", "2023-06-01.md", strings.Replace(goodFrontMatter, "title.en: Privacy policy\n", "title.en: Privacy policy\ntitle.en: again\n", 1),
			"2023-06-01.md:6: title.en given twice (first on line 5)"},
		{"no changes listed", "2023-06-01.md", goodFrontMatter[:strings.Index(goodFrontMatter, "changes:")] + "---\n# x\n",
			"2023-06-01.md:2: changes: a later version must list what changed"},
		{"unclosed front matter", "2023-06-01.md", "---\nversion: 2023-06-01\n",
			"2023-06-01.md:1: front matter is not closed"},
		{"version named like a page", "sharing.md", strings.Replace(goodFrontMatter, "version: 2023-06-01", "version: sharing", 1),
			`sharing.md:2: version "sharing" would hide the archive's page /policies/sharing`},
		{"no front matter", "2023-06-01.md", "# 隐私政策\n", `2023-06-01.md:1: want front matter`},
		{"empty text", "2023-06-01.md", strings.TrimSuffix(goodFrontMatter, "# 隐私政策\n"), "2023-06-01.md:14: the policy text is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writePolicies(t, map[string]string{"2022-01-01.md": firstVersion, tc.file: tc.text})
			_, err := readPolicies(dir)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), filepath.Join(dir, tc.want)) && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n%v\nwant it to contain\n%s", err, tc.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error does not name the file's path: %v", err)
			}
		})
	}
}

const goodSite = `{
  "name": {"zh-CN": "亿洽", "en": "Yiqia"},
  "controller": {"name": "c", "address": "a", "email": "e@x", "phone": "1", "url": "https://x"},
  "cookie": {"maxAgeDays": 365},
  "categories": [
    {"id": "necessary", "required": true,
     "title": {"zh-CN": "必要", "en": "Necessary"},
     "purpose": {"zh-CN": "运行", "en": "Running"}},
    {"id": "analytics",
     "title": {"zh-CN": "统计", "en": "Analytics"},
     "purpose": {"zh-CN": "统计", "en": "Statistics"},
     "cookies": [{"name": "_ga_*", "provider": "Google", "purpose": {"zh-CN": "会话", "en": "Session"}, "lifetime": {"zh-CN": "400 天", "en": "400 days"}}]}
  ]
}`

func TestSiteErrorsNameFileAndLine(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"good", goodSite, ""},
		{"syntax", strings.Replace(goodSite, `"required": true,`, `"required": true`, 1), "site.json:7: JSON syntax"},
		{"unknown field", strings.Replace(goodSite, `"required"`, `"requird"`, 1), `site.json:6: unknown field "requird"`},
		{"wrong type", strings.Replace(goodSite, `"maxAgeDays": 365`, `"maxAgeDays": "365"`, 1), "site.json:4: cookie.maxAgeDays: want int"},
		{"bad category id", strings.Replace(goodSite, `"id": "analytics"`, `"id": "Analytics!"`, 1), `site.json:9: categories[1].id: "Analytics!" is not a category id`},
		{"duplicate category", strings.Replace(goodSite, `"id": "analytics"`, `"id": "necessary"`, 1), `site.json:9: categories[1].id: duplicate category "necessary"`},
		{"missing English", strings.Replace(goodSite, `"en": "Statistics"`, `"en": ""`, 1), "site.json:11: categories[1].purpose: missing en purpose"},
		{"bad cookie pattern", strings.Replace(goodSite, `"_ga_*"`, `"_g*a"`, 1), `site.json:12: categories[1].cookies[0].name: "_g*a" is not a name or a prefix`},
		{"lifetime over 400 days", strings.Replace(goodSite, `365`, `500`, 1), "site.json:4: cookie.maxAgeDays: want 1 to 400"},
		{"required not first", strings.Replace(goodSite, `"required": true,`, ``, 1), "site.json:5: categories: the first category must be the required"},
		{"truncated", goodSite[:200], "site.json:"},
		{"a catalogued service", strings.Replace(goodSite, `"cookies": [`, `"services": ["baidu-tongji"], "cookies": [`, 1), ""},
		{"unknown service", strings.Replace(goodSite, `"cookies": [`, "\n     \"services\": [\"baidu-tongj\"], \"cookies\": [", 1), `site.json:13: categories[1].services[0]: unknown service "baidu-tongj"`},
		{"bad host", strings.Replace(goodSite, `"cookies": [`, "\n     \"hosts\": [\"https://hm.baidu.com\"], \"cookies\": [", 1), `site.json:13: categories[1].hosts[0]: "https://hm.baidu.com" is not a host name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "site.json")
			os.WriteFile(file, []byte(tc.text), 0o644)
			_, err := readSite(file)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}

// A category's services are expanded into its items, so the module's
// configuration lists the catalogue's cookies and hosts, not the ids.
func TestSiteServicesExpanded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "site.json")
	os.WriteFile(file, []byte(strings.Replace(goodSite, `"cookies": [`, `"services": ["baidu-tongji"], "cookies": [`, 1)), 0o644)
	site, err := readSite(file)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := site.Category("analytics")
	if len(c.Services) != 0 {
		t.Errorf("services not expanded: %v", c.Services)
	}
	if got, _, ok := site.Declaring(consent.KindCookie, "Hm_lvt_0123abcd"); !ok || got.ID != "analytics" {
		t.Errorf("Hm_lvt_* not declared by analytics after expansion: %+v", c.Cookies)
	}
	if got, _, ok := site.Declaring(consent.KindHost, "hm.baidu.com"); !ok || got.ID != "analytics" {
		t.Errorf("hm.baidu.com not declared by analytics after expansion: %v", c.Hosts)
	}
}

// The real sources in web/ are valid.
func TestRealSources(t *testing.T) {
	if _, err := readSite("../web/site.json"); err != nil {
		t.Error(err)
	}
	srcs, err := readPolicies("../web/policies")
	if err != nil {
		t.Fatal(err)
	}
	if srcs[0].Version.ID != "2022-01-01" {
		t.Errorf("first policy %s", srcs[0].Version.ID)
	}
}

// goodRegistry is a registry for goodSite: a push SDK from 2023-06-01.
const goodRegistry = `,
  "registry": {
    "storage": {"zh-CN": "境内", "en": "In China"},
    "rights": {"text": {"zh-CN": "15 日内答复", "en": "Within 15 days"}, "responseDays": 15},
    "types": [
      {"id": "device-id", "name": {"zh-CN": "设备标识符", "en": "Device identifier"}}
    ],
    "purposes": [
      {"id": "push", "title": {"zh-CN": "消息提醒", "en": "Alerts"}, "basis": "contract", "types": ["device-id"],
       "scenario": {"zh-CN": "收到消息时", "en": "On a message"}, "retention": {"zh-CN": "一年", "en": "A year"}}
    ],
    "recipients": [
      {"id": "mipush", "company": {"zh-CN": "小米", "en": "Xiaomi"}, "product": {"zh-CN": "小米推送", "en": "Mi Push"},
       "platform": {"zh-CN": "安卓", "en": "Android"}, "types": ["device-id"], "purpose": {"zh-CN": "推送", "en": "Push"},
       "scenario": {"zh-CN": "收到消息时", "en": "On a message"}, "method": {"zh-CN": "SDK 本机采集", "en": "SDK"},
       "contact": "privacy@xiaomi.com", "url": "https://dev.mi.com/", "country": "CN", "since": "2023-06-01"}
    ]
  }
}`

// writeSources writes a source tree (web/site.json, web/policies) with the
// 2023-06-01 version's front matter fm, and returns its root.
func writeSources(t *testing.T, site, fm string) string {
	t.Helper()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "web", "policies"), 0o755)
	for name, body := range map[string]string{"web/site.json": site, "web/policies/2022-01-01.md": firstVersion, "web/policies/2023-06-01.md": fm} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func siteWithRegistry(registry string) string {
	return strings.TrimSuffix(goodSite, "\n}") + registry
}

// The registry's errors name site.json's line; a version whose registry
// changes are material but whose typed changes do not say so names the
// version's file and the line of its changes.
func TestRegistryErrorsNameFileAndLine(t *testing.T) {
	minorOnly := strings.Replace(goodFrontMatter, "kind: recipients", "kind: minor", 1)
	for _, tc := range []struct{ name, site, fm, want string }{
		{"good", siteWithRegistry(goodRegistry), goodFrontMatter, ""},
		{"no registry", goodSite, goodFrontMatter, "site.json:1: registry: missing"},
		{"unknown basis", siteWithRegistry(strings.Replace(goodRegistry, `"basis": "contract"`, `"basis": "interest"`, 1)), goodFrontMatter,
			`site.json:21: registry.purposes[0].basis: "interest" is not a legal basis`},
		{"unknown type", siteWithRegistry(strings.Replace(goodRegistry, `"types": ["device-id"], "purpose"`, `"types": ["imei"], "purpose"`, 1)), goodFrontMatter,
			`site.json:26: registry.recipients[0].types[0]: unknown type "imei" in version 2023-06-01`},
		{"unknown version", siteWithRegistry(strings.Replace(goodRegistry, `"since": "2023-06-01"`, `"since": "2023-07-01"`, 1)), goodFrontMatter,
			`site.json:28: registry.recipients[0].since: "2023-07-01" is not a policy version`},
		{"abroad without cross-border consent", siteWithRegistry(strings.Replace(goodRegistry, `"country": "CN"`, `"country": "SG"`, 1)), goodFrontMatter,
			"site.json:28: registry.recipients[0].country: SG is abroad"},
		{"unknown field", siteWithRegistry(strings.Replace(goodRegistry, `"retention"`, `"retension"`, 1)), goodFrontMatter,
			`site.json:22: unknown field "retension"`},
		{"new recipient not declared", siteWithRegistry(goodRegistry), minorOnly,
			"2023-06-01.md:6: changes: the registry's changes make this version material (新增第三方：小米推送，小米): list a change of kind recipients"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := writeSources(t, tc.site, tc.fm)
			src, err := readSources(root, time.Now())
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if lc := src.Manifest.Versions[1].ListChanges; len(lc) != 1 || lc[0].Entry != "mipush" {
					t.Errorf("computed list changes %+v", lc)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error\n%v\nwant it to contain\n%s", err, tc.want)
			}
		})
	}
}

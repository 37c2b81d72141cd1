package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"strings"
	"testing"
	"time"
)

// parsedFeed reads an Atom feed back with its own, independent struct: what
// a feed reader sees.
type parsedFeed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"http://www.w3.org/2005/Atom id"`
	Title   string   `xml:"http://www.w3.org/2005/Atom title"`
	Updated string   `xml:"http://www.w3.org/2005/Atom updated"`
	Author  struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"http://www.w3.org/2005/Atom link"`
	Entries []struct {
		ID      string `xml:"http://www.w3.org/2005/Atom id"`
		Title   string `xml:"http://www.w3.org/2005/Atom title"`
		Updated string `xml:"http://www.w3.org/2005/Atom updated"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"http://www.w3.org/2005/Atom link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"http://www.w3.org/2005/Atom content"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

func realFeed(t *testing.T) ([]byte, *archive) {
	t.Helper()
	site, err := readSite("../web/site.json")
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := readPolicies("../web/policies")
	if err != nil {
		t.Fatal(err)
	}
	a, err := newArchive(srcs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	feed, err := policyFeed(&site.Site, a)
	if err != nil {
		t.Fatal(err)
	}
	return feed, a
}

// The feed of the real policies parses back as Atom 1.0 with every element
// RFC 4287 requires, one entry per version, newest first, each with a stable
// tag: id, links to the version and the comparison, and the changes in both
// locales.
func TestPolicyFeed(t *testing.T) {
	feed, a := realFeed(t)
	var f parsedFeed
	if err := xml.Unmarshal(feed, &f); err != nil {
		t.Fatalf("the feed is not well-formed Atom: %v\n%s", err, feed)
	}
	if f.ID == "" || f.Title == "" || f.Author.Name == "" {
		t.Errorf("feed lacks id, title or author: %+v", f)
	}
	if len(f.Entries) != len(a.Versions) {
		t.Fatalf("%d entries for %d versions", len(f.Entries), len(a.Versions))
	}
	newest := a.Newest[0]
	if want := newest.Effective.UTC().Format(time.RFC3339); f.Updated != want {
		t.Errorf("feed updated %q, want the newest version's effective date %q", f.Updated, want)
	}
	ids := map[string]bool{}
	for i, e := range f.Entries {
		v := a.Newest[i]
		if want := "tag:workly.ai,2022-01-01:policies/" + v.ID; e.ID != want {
			t.Errorf("entry %d id %q, want %q", i, e.ID, want)
		}
		if ids[e.ID] || e.ID == f.ID {
			t.Errorf("id %q used twice", e.ID)
		}
		ids[e.ID] = true
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.Title == "" {
			t.Errorf("entry %s: updated %q (%v), title %q", v.ID, e.Updated, err, e.Title)
		}
		links := map[string]bool{}
		for _, l := range e.Links {
			links[l.Href] = true
		}
		if !links["/policies/"+v.ID] {
			t.Errorf("entry %s does not link to its version: %+v", v.ID, e.Links)
		}
		if v.Previous != "" && !links["/policies/diff/"+v.Previous+"/"+v.ID] {
			t.Errorf("entry %s does not link to its diff: %+v", v.ID, e.Links)
		}
		if e.Content.Type != "html" {
			t.Errorf("entry %s content type %q", v.ID, e.Content.Type)
		}
		for _, c := range v.Changes {
			for _, s := range []string{c.Summary.ZhCN, c.Summary.En} {
				if !strings.Contains(e.Content.Body, xmlEscapedForHTML(s)) {
					t.Errorf("entry %s lacks the change %q", v.ID, s)
				}
			}
		}
		if !strings.Contains(e.Content.Body, `lang="zh-CN"`) || !strings.Contains(e.Content.Body, `lang="en"`) {
			t.Errorf("entry %s is not in both locales", v.ID)
		}
	}
	// Built twice, the feed is the same bytes: ids and times do not move.
	again, _ := realFeed(t)
	if !bytes.Equal(feed, again) {
		t.Error("two builds gave two feeds")
	}
}

// xmlEscapedForHTML is s as html/template escapes it into the content.
func xmlEscapedForHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// The archive's page names the feed to feed readers and shows a link to it.
func TestArchiveLinksFeed(t *testing.T) {
	_, a := realFeed(t)
	pagesFS := os.DirFS("../web/pages")
	base, err := parsePages(pagesFS, func(string) (string, error) { return "/assets/x", nil })
	if err != nil {
		t.Fatal(err)
	}
	pages, err := renderPages(pagesFS, base, pageData{Archive: a})
	if err != nil {
		t.Fatal(err)
	}
	index := string(pages["policies/index.html"])
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" href="/policies/feed.atom"`,
		`<a href="/policies/feed.atom"`,
	} {
		if !strings.Contains(index, want) {
			t.Errorf("the archive lacks %s", want)
		}
	}
}

package main

import (
	"encoding/xml"
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"workly.ai/consent"
)

// FeedPath is where the archive's Atom feed is served: one entry per policy
// version, newest first, so a reader or a regulator's tool learns of a new
// version without visiting the archive.
const FeedPath = "policies/feed.atom"

// atomFeed is an Atom 1.0 feed (RFC 4287): id, title, updated and an author
// are required of the feed; id, title and updated of each entry.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name  string `xml:"name"`
	Email string `xml:"email,omitempty"`
	URI   string `xml:"uri,omitempty"`
}

type atomLink struct {
	Rel      string `xml:"rel,attr,omitempty"`
	Type     string `xml:"type,attr,omitempty"`
	Href     string `xml:"href,attr"`
	HrefLang string `xml:"hreflang,attr,omitempty"`
	Title    string `xml:"title,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr,omitempty"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Summary   atomText   `xml:"summary"`
	Content   atomText   `xml:"content"`
}

// feedAuthority is the tagging entity of the feed's tag: URIs (RFC 4151): the
// site's cookie domain, else the host of the controller's address.
func feedAuthority(site *consent.Site) (string, error) {
	if site.Cookie.Domain != "" {
		return strings.TrimPrefix(site.Cookie.Domain, "."), nil
	}
	if u, err := url.Parse(site.Controller.URL); err == nil && u.Hostname() != "" {
		return u.Hostname(), nil
	}
	return "", fmt.Errorf("web/site.json: the feed's ids need cookie.domain or controller.url")
}

// policyFeed renders the archive's Atom feed. Every id is a tag: URI made
// from the site's domain, the first version's effective date and the
// version's id, e.g. tag:workly.ai,2022-01-01:policies/2024-03-01, so ids
// stay the same across builds and never change once published. An entry's
// updated and published times are the day the version was published (its
// effective date unless published ahead of it: the entry is there from its
// publication and says when it takes effect); the feed's updated is the
// newest of them, which is also what the server sends as Last-Modified. Each entry's content lists the changes in Chinese and in
// English and links to the version and to the comparison with the one
// before. Links are relative to the feed's address (/policies/feed.atom).
func policyFeed(site *consent.Site, a *archive) ([]byte, error) {
	authority, err := feedAuthority(site)
	if err != nil {
		return nil, err
	}
	first := a.Versions[0].Effective.Format(time.DateOnly)
	tag := func(rest string) string { return "tag:" + authority + "," + first + ":" + rest }
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	f := atomFeed{
		Lang:  string(consent.ZhCN),
		ID:    tag("policies"),
		Title: site.Name.ZhCN + " 隐私政策的版本 · " + site.Name.En + " privacy policy versions",
		Author: atomPerson{Name: site.Controller.Name, Email: site.Controller.Email,
			URI: site.Controller.URL},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: "/" + FeedPath},
			{Rel: "alternate", Type: "text/html", Href: "/policies/"},
		},
	}
	var newest time.Time
	for _, v := range a.Newest {
		if v.Published.After(newest) {
			newest = v.Published
		}
		e := atomEntry{
			ID:        tag("policies/" + v.ID),
			Title:     v.Title.ZhCN + " " + v.ID + " · " + v.Title.En + " " + v.ID,
			Updated:   stamp(v.Published),
			Published: stamp(v.Published),
			Links: []atomLink{
				{Rel: "alternate", Type: "text/html", Href: consent.PolicyURL(v.ID)},
				{Rel: "related", Type: "text/plain", Href: consent.PolicyURL(v.ID) + ".md", Title: "text · 原文"},
			},
			Summary: atomText{Type: "text", Body: feedSummary(v)},
			Content: atomText{Type: "html", Body: feedContent(v)},
		}
		if v.Previous != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Type: "text/html", Href: consent.DiffURL(v.Previous, v.ID),
				Title: "changes since " + v.Previous + " · 与 " + v.Previous + " 版本对比"})
		}
		f.Entries = append(f.Entries, e)
	}
	f.Updated = stamp(newest)
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// feedSummary is one line: effective date, and whether a change is material.
func feedSummary(v archiveVersion) string {
	date := v.Effective.Format(time.DateOnly)
	if v.Effective.After(v.Published) {
		pub := v.Published.Format(time.DateOnly)
		return pub + " 发布，将于 " + date + " 生效，此前上一版本继续适用" + map[bool]string{true: "；含重大变更，届时需要您确认。", false: "。"}[v.Material()] +
			" Published " + pub + ", takes effect on " + date + "; the previous version applies until then" +
			map[bool]string{true: ". It includes material changes, which you will be asked to acknowledge then.", false: "."}[v.Material()]
	}
	switch {
	case v.Previous == "":
		return "生效日期 " + date + "：首个存档版本。 Effective " + date + ": the first archived version."
	case v.Material():
		return "生效日期 " + date + "：含重大变更，需要您确认。 Effective " + date + ": includes material changes that need your acknowledgement."
	}
	return "生效日期 " + date + "：非重大修改。 Effective " + date + ": minor changes only."
}

// feedContent is the changes of v, grouped by kind, in both locales, as
// escaped HTML (Atom type="html").
func feedContent(v archiveVersion) string {
	var b strings.Builder
	esc := template.HTMLEscapeString
	for _, l := range consent.Locales {
		b.WriteString(`<section lang="` + string(l) + `">`)
		if len(v.Changes) == 0 {
			b.WriteString("<p>" + esc(map[consent.Locale]string{consent.ZhCN: "首个存档版本。", consent.En: "The first archived version."}[l]) + "</p>")
		}
		for _, k := range consent.Kinds {
			var items []string
			for _, c := range v.Changes {
				if c.Kind == k {
					items = append(items, "<li>"+esc(c.Summary.In(l))+"</li>")
				}
			}
			if len(items) == 0 {
				continue
			}
			label := consent.KindLabels[k].In(l)
			if k.Material() {
				label += map[consent.Locale]string{consent.ZhCN: "（重大变更）", consent.En: " (material)"}[l]
			}
			b.WriteString("<h3>" + esc(label) + "</h3><ul>" + strings.Join(items, "") + "</ul>")
		}
		b.WriteString(`<p><a href="` + consent.PolicyURL(v.ID) + `">` +
			esc(map[consent.Locale]string{consent.ZhCN: "阅读 " + v.ID + " 版本", consent.En: "Read version " + v.ID}[l]) + "</a>")
		if v.Previous != "" {
			b.WriteString(` · <a href="` + consent.DiffURL(v.Previous, v.ID) + `">` +
				esc(map[consent.Locale]string{consent.ZhCN: "与 " + v.Previous + " 版本对比", consent.En: "Compare with " + v.Previous}[l]) + "</a>")
		}
		b.WriteString("</p></section>")
	}
	return b.String()
}

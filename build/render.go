package main

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"workly.ai/consent"
)

// tree converts a view to the compact form the loader builds DOM from:
// [tag, [name, value, ...], child...], or a string for a text node.
func tree(n consent.Node) any {
	if n.Tag == "" {
		return n.Text
	}
	attrs := make([]string, 0, 2*len(n.Attrs))
	for _, a := range n.Attrs {
		attrs = append(attrs, a.Name, a.Value)
	}
	out := []any{n.Tag, attrs}
	for _, k := range n.Kids {
		out = append(out, tree(k))
	}
	return out
}

// notices pre-renders, for each policy version a visitor may have
// acknowledged, the notice they see while the versions of cur are in force,
// in every locale: key "" is the first-visit banner; versions that need no
// notice are absent. Each entry is {k: kind, "zh-CN": tree, en: tree}. With
// advance, and a version of all after cur's current one, those who
// acknowledged the current version have the advance note about it.
func notices(site *consent.Site, all, cur *consent.Manifest, advance bool) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, acked := range append([]string{""}, versionIDs(cur)...) {
		kind, _ := cur.NoticeFor(acked)
		if kind == consent.NoticeNone {
			continue
		}
		e := map[string]any{"k": string(kind)}
		for _, l := range consent.Locales {
			view, _ := cur.NoticeView(site, acked, l)
			e[string(l)] = tree(view)
		}
		out[acked] = e
	}
	if n := len(cur.Versions); advance && n < len(all.Versions) {
		e := map[string]any{"k": string(consent.NoticeAdvance)}
		for _, l := range consent.Locales {
			e[string(l)] = tree(consent.AdvanceNoteView(cur.Current(), all.Versions[n], l))
		}
		out[cur.Current().ID] = e
	}
	return out
}

// upcoming describes the versions of all published ahead of their date
// (after cur's), oldest first, for the loader: [effective date, id, when
// the advance note about it starts] (Unix ms; site.AdvanceNoticeDays before
// its date, 0 for from now); and for the module's configuration, which the
// loader fetches when it needs them, the notices by version in force from
// cur's current version on (notices), each with its advance note.
func upcoming(site *consent.Site, all, cur *consent.Manifest) (dates [][]any, tables map[string]any) {
	tables = map[string]any{cur.Current().ID: notices(site, all, cur, true)}
	if len(cur.Versions) == len(all.Versions) {
		return nil, tables
	}
	for _, v := range all.Versions[len(cur.Versions):] {
		from := v.Effective.AddDate(0, 0, -site.AdvanceNoticeDays).UnixMilli()
		if site.AdvanceNoticeDays == 0 {
			from = 0
		}
		dates = append(dates, []any{v.Effective.UnixMilli(), v.ID, from})
		at := all.InForce(v.Effective)
		tables[v.ID] = notices(site, all, &at, true)
	}
	return dates, tables
}

func versionIDs(m *consent.Manifest) []string {
	var ids []string
	for _, v := range m.Versions {
		ids = append(ids, v.ID)
	}
	return ids
}

// pageData is what the page templates in web/pages see.
type pageData struct {
	Archive *archive
}

// parsePages parses web/pages: layout.html and the partial templates whose
// names begin with "_" form the base every page is executed with.
func parsePages(pages fs.FS, assetURL func(string) (string, error)) (*template.Template, error) {
	funcs := template.FuncMap{
		"asset": assetURL,
		"date":  func(t time.Time) string { return t.Format(time.DateOnly) },
		"zhDate": func(t time.Time) string {
			return consent.FormatDate(t.Year(), int(t.Month()), t.Day(), consent.ZhCN)
		},
		// in picks a text's locale; pick chooses between a zh-CN and an
		// English string; listURL is consent.ListURL.
		"in": func(t consent.Text, l consent.Locale) string { return t.In(l) },
		"pick": func(l consent.Locale, zh, en string) string {
			if l == consent.En {
				return en
			}
			return zh
		},
		"localDate": func(t time.Time, l consent.Locale) string {
			return consent.FormatDate(t.Year(), int(t.Month()), t.Day(), l)
		},
		"listURL": consent.ListURL,
		"country": consent.CountryName,
		// contactURL is the link for a contact that is an address or an
		// e-mail, "" for anything else (a phone number).
		"contactURL": func(c string) string {
			switch {
			case strings.HasPrefix(c, "https://"):
				return c
			case strings.Contains(c, "@") && !strings.ContainsAny(c, " :/"):
				return "mailto:" + c
			}
			return ""
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(pages, "layout.html", "_*.html")
	if err != nil {
		return nil, fmt.Errorf("web/pages: %w", err)
	}
	return base, nil
}

// renderPages executes every page of web/pages (every .html but layout.html
// and the partials) and returns the HTML by output path ("index.html",
// "app/index.html", ...).
func renderPages(pages fs.FS, base *template.Template, data pageData) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := fs.WalkDir(pages, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".html" || path == "layout.html" || strings.HasPrefix(d.Name(), "_") {
			return err
		}
		src, err := fs.ReadFile(pages, path)
		if err != nil {
			return err
		}
		clone, err := base.Clone()
		if err != nil {
			return err
		}
		t, err := clone.New(path).Parse(string(src))
		if err != nil {
			return fmt.Errorf("web/pages/%w", err)
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("web/pages/%s: %w", path, err)
		}
		out[path] = b.Bytes()
		return nil
	})
	return out, err
}

// contentType returns the media type the build minifies a file as, or "".
func contentType(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".html":
		return "text/html"
	case ".css":
		return "text/css"
	case ".js":
		return "application/javascript"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	}
	return ""
}

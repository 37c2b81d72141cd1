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
// acknowledged, the notice the loader paints, in every locale: key "" is the
// first-visit banner; versions that need no notice are absent.
func notices(site *consent.Site, m *consent.Manifest) map[string]map[string]any {
	out := map[string]map[string]any{}
	cur := m.Current()
	add := func(acked string, kind consent.NoticeKind, view func(consent.Locale) consent.Node) {
		e := map[string]any{"k": string(kind)}
		for _, l := range consent.Locales {
			e[string(l)] = tree(view(l))
		}
		out[acked] = e
	}
	add("", consent.NoticeBanner, func(l consent.Locale) consent.Node { return consent.BannerView(site, cur, l) })
	for _, v := range m.Versions {
		kind, _ := m.NoticeFor(v.ID)
		if kind == consent.NoticeNone {
			continue
		}
		// Notices for older versions come with the policy-versions work; until
		// then a person on an older version is asked again with the banner.
		add(v.ID, consent.NoticeBanner, func(l consent.Locale) consent.Node { return consent.BannerView(site, cur, l) })
	}
	return out
}

// pageData is what the page templates in web/pages see.
type pageData struct {
	Versions []consent.Version // newest first
	Current  string
}

// renderPages executes every page template (web/pages/**/*.html except
// layout.html) and returns the HTML by output path ("index.html",
// "app/index.html", ...).
func renderPages(pages fs.FS, assetURL func(string) (string, error), data pageData) (map[string][]byte, error) {
	funcs := template.FuncMap{
		"asset": assetURL,
		"date":  func(t time.Time) string { return t.Format(time.DateOnly) },
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(pages, "layout.html")
	if err != nil {
		return nil, fmt.Errorf("web/pages/layout.html: %w", err)
	}
	out := map[string][]byte{}
	err = fs.WalkDir(pages, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".html" || path == "layout.html" {
			return err
		}
		src, err := fs.ReadFile(pages, path)
		if err != nil {
			return err
		}
		t, err := template.Must(layout.Clone()).New(path).Parse(string(src))
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

package main

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// builtArchivePages renders and minifies the archive's pages of the real
// policies as the build does.
func builtArchivePages(t *testing.T) (unminified, minified map[string][]byte) {
	t.Helper()
	src, err := readSources("..", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	arch, err := newArchive(src.Policies, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	base, err := parsePages(os.DirFS("../web/pages"), func(name string) (string, error) { return "/" + name, nil })
	if err != nil {
		t.Fatal(err)
	}
	pages, err := archivePages(base, arch, src.Policies, src.Registry, &src.Manifest)
	if err != nil {
		t.Fatal(err)
	}
	unminified = map[string][]byte{}
	for p, data := range pages {
		unminified[p] = bytes.Clone(data)
	}
	if minified, err = minifyPages(pages); err != nil {
		t.Fatal(err)
	}
	return unminified, minified
}

// A version's page and its copy by content hash are byte for byte the same
// once built, and what the minifier wrote parses to the same document as
// what the templates rendered: no text or attribute changed.
func TestArchiveCopiesIdentical(t *testing.T) {
	unminified, minified := builtArchivePages(t)
	srcs, _ := readPolicies("../web/policies")
	for _, s := range srcs {
		byVersion, byHash := "policies/"+s.Version.ID+".html", "policies/sha256/"+s.Version.SHA256+".html"
		if minified[byVersion] == nil || !bytes.Equal(minified[byVersion], minified[byHash]) {
			t.Errorf("%s and %s differ once built", byVersion, byHash)
		}
	}
	for p, min := range minified {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		want, got := domOf(t, unminified[p]), domOf(t, min)
		if want != got {
			i := 0
			for i < len(want) && i < len(got) && want[i] == got[i] {
				i++
			}
			t.Errorf("%s: the minified page parses to another document; first difference:\nrendered: %q\nminified: %q", p, clip(want, i), clip(got, i))
		}
	}
}

func clip(s string, i int) string {
	return s[max(0, i-200):min(len(s), i+200)]
}

// domOf is the document page parses to, as text: elements with their
// attributes (sorted), and text with runs of white space made one space
// (what minifying may change without changing the page), empty text left
// out.
func domOf(t *testing.T, page []byte) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(n *html.Node, depth int)
	walk = func(n *html.Node, depth int) {
		switch n.Type {
		case html.ElementNode:
			attrs := make([]string, 0, len(n.Attr))
			for _, a := range n.Attr {
				v := strings.Join(strings.Fields(a.Val), " ")
				if n.Data == "meta" && a.Key == "content" {
					v = strings.ReplaceAll(v, ", ", ",") // the minifier's, for the viewport
				}
				attrs = append(attrs, fmt.Sprintf("%s=%q", a.Key, v))
			}
			slices.Sort(attrs)
			fmt.Fprintf(&b, "%*s<%s %s>\n", depth, "", n.Data, strings.Join(attrs, " "))
		case html.TextNode:
			if text := strings.Join(strings.Fields(n.Data), " "); text != "" {
				fmt.Fprintf(&b, "%*s%q\n", depth, "", text)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, depth+1)
		}
	}
	walk(doc, 0)
	return b.String()
}

package main

import (
	"bytes"
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sergi/go-diff/diffmatchpatch"
	"github.com/yuin/goldmark"

	"workly.ai/consent"
)

// The archive of policy versions, rendered at build time to static HTML, so
// reading any version or comparing two needs no JavaScript:
//
//	policies/index.html            every version, newest first, with its changes
//	policies/VERSION.html          one version (served at /policies/VERSION)
//	policies/VERSION.md            its exact text, whose SHA-256 the manifest holds
//	policies/sha256/HASH.html      the same page, by content hash
//	policies/diff/FROM/TO.html     what changed from an older version to a newer one

// archiveVersion is one version as the archive pages show it.
type archiveVersion struct {
	consent.Version
	Current  bool // in force at build time
	Upcoming bool // published ahead of its effective date, which is after the build's time
	// Published is when the version was published (policySource.Published).
	Published time.Time
	Previous  string // the version before, "" for the first
	Groups    []changeGroup
	HTML      template.HTML // the text, rendered from Markdown
}

// changeGroup is the changes of one kind.
type changeGroup struct {
	Kind      consent.Kind
	Label     string
	Material  bool
	Summaries []string
}

func groupChanges(changes []consent.Change) []changeGroup {
	var out []changeGroup
	for _, k := range consent.Kinds {
		g := changeGroup{Kind: k, Label: consent.KindLabels[k].ZhCN, Material: k.Material()}
		for _, c := range changes {
			if c.Kind == k {
				g.Summaries = append(g.Summaries, c.Summary.ZhCN)
			}
		}
		if len(g.Summaries) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// archive is everything the archive pages show.
type archive struct {
	Versions []archiveVersion // oldest first
	Newest   []archiveVersion // newest first
	Current  string           // the version in force at build time
}

// newArchive makes the archive as it stands at now: the current version is
// the newest in force, and those after it are upcoming.
func newArchive(srcs []policySource, now time.Time) (*archive, error) {
	md := goldmark.New() // raw HTML in a policy is not rendered: the text is text
	a := &archive{}
	for i, s := range srcs {
		var b bytes.Buffer
		if err := md.Convert(s.Body, &b); err != nil {
			return nil, fmt.Errorf("%s: render Markdown: %w", s.File, err)
		}
		v := archiveVersion{Version: s.Version, Groups: groupChanges(s.Version.Changes), HTML: template.HTML(b.String()),
			Published: s.Published, Upcoming: s.Version.Effective.After(now)}
		if i > 0 {
			v.Previous = srcs[i-1].Version.ID
		}
		a.Versions = append(a.Versions, v)
	}
	cur := 0 // the first version counts as current even before its date
	for i, v := range a.Versions {
		if !v.Upcoming {
			cur = i
		}
	}
	a.Versions[cur].Current = true
	a.Current = a.Versions[cur].ID
	for i := len(a.Versions) - 1; i >= 0; i-- {
		a.Newest = append(a.Newest, a.Versions[i])
	}
	return a, nil
}

// diffPage is one comparison.
type diffPage struct {
	From, To          archiveVersion
	Changes           []changeGroup        // what the versions after From declare
	ListChanges       []consent.ListChange // what changed in the two lists, computed from the registry
	Diff              template.HTML
	Inserted, Deleted int // characters
}

// foldContext is how many characters of unchanged text stay visible on each
// side of a change; longer unchanged stretches are folded.
const foldContext = 60

// diffHTML compares two texts character by character, which suits Chinese
// (no spaces between words), cleans the result up to whole phrases, and
// renders it: insertions as <ins>, deletions as <del>, each also labelled in
// words for screen readers and print, and long unchanged stretches folded
// into <details>.
func diffHTML(from, to string) (html template.HTML, inserted, deleted int) {
	dmp := diffmatchpatch.New()
	diffs := dmp.DiffCleanupSemantic(dmp.DiffMain(from, to, false))
	var b strings.Builder
	esc := template.HTMLEscapeString
	for i, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			inserted += utf8.RuneCountInString(d.Text)
			b.WriteString(`<ins><span class="diff-label">[新增]</span>` + esc(d.Text) + `</ins>`)
		case diffmatchpatch.DiffDelete:
			deleted += utf8.RuneCountInString(d.Text)
			b.WriteString(`<del><span class="diff-label">[删除]</span>` + esc(d.Text) + `</del>`)
		default:
			runes := []rune(d.Text)
			head, tail := foldContext, foldContext
			if i == 0 {
				head = 0 // nothing before the first stretch to give context to
			}
			if i == len(diffs)-1 {
				tail = 0
			}
			if len(runes) <= head+tail+foldContext {
				b.WriteString(esc(d.Text))
				continue
			}
			hidden := runes[head : len(runes)-tail]
			b.WriteString(esc(string(runes[:head])))
			b.WriteString(`<details class="diff-fold"><summary>未改动的 ` + strconv.Itoa(len(hidden)) +
				` 字</summary>` + esc(string(hidden)) + `</details>`)
			b.WriteString(esc(string(runes[len(runes)-tail:])))
		}
	}
	return template.HTML(b.String()), inserted, deleted
}

// archivePages renders every archive page with the templates of web/pages
// (_policy.html, _diff.html) and returns them by output path. The archive's
// index is an ordinary page (policies/index.html) and is rendered with the
// others.
//
// It also renders the two lists of every version (listPages) and, in each
// comparison, what changed in them between the two versions.
func archivePages(pages *template.Template, a *archive, srcs []policySource, reg *consent.Registry, m *consent.Manifest) (map[string][]byte, error) {
	out := map[string][]byte{}
	exec := func(name string, data any) ([]byte, error) {
		var b bytes.Buffer
		if err := pages.ExecuteTemplate(&b, name, data); err != nil {
			return nil, fmt.Errorf("web/pages/%s: %w", name, err)
		}
		return b.Bytes(), nil
	}
	for i, v := range a.Versions {
		page, err := exec("_policy.html", struct {
			V       archiveVersion
			Current string
		}{v, a.Current})
		if err != nil {
			return nil, err
		}
		out["policies/"+v.ID+".html"] = page
		out["policies/sha256/"+v.SHA256+".html"] = bytes.Clone(page) // each output its own buffer
		out["policies/"+v.ID+".md"] = srcs[i].Body
		for _, later := range a.Versions[i+1:] {
			var changes []consent.Change
			for _, w := range a.Versions[i+1:] {
				changes = append(changes, w.Changes...)
				if w.ID == later.ID {
					break
				}
			}
			d := diffPage{From: v, To: later, Changes: groupChanges(changes),
				ListChanges: consent.Compare(reg.At(m, v.ID), reg.At(m, later.ID))}
			d.Diff, d.Inserted, d.Deleted = diffHTML(string(srcs[i].Body), string(bodyOf(srcs, later.ID)))
			page, err := exec("_diff.html", d)
			if err != nil {
				return nil, err
			}
			out["policies/diff/"+v.ID+"/"+later.ID+".html"] = page
		}
	}
	lists, err := listPages(exec, a, reg, m)
	if err != nil {
		return nil, err
	}
	for p, page := range lists {
		out[p] = page
	}
	return out, nil
}

func bodyOf(srcs []policySource, id string) []byte {
	for _, s := range srcs {
		if s.Version.ID == id {
			return s.Body
		}
	}
	return nil
}

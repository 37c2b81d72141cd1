package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/catalog"
)

// policySource is one policy version read from web/policies/VERSION.md.
type policySource struct {
	Version consent.Version
	File    string
	Body    []byte // the exact text after the front matter; its SHA-256 is Version.SHA256
	// Published is the day the version was published (front matter
	// published:), at most its effective date; the effective date when absent.
	// A version published ahead of its date must give it: the feed dates its
	// entry by it.
	Published time.Time
	lines     map[string]int // field → line, for errors
}

// reservedVersionIDs are the archive's own pages under /policies/, which no
// version may be named.
var reservedVersionIDs = map[string]bool{consent.ListCollected: true, consent.ListSharing: true, "diff": true, "sha256": true, "index": true}

// readPolicies reads every web/policies/*.md and validates them together.
// Versions are ordered by file name, so name each file by its version id and
// the version id by its effective date (2022-01-01.md); their effective dates
// must then strictly increase. Every error names the file and line.
func readPolicies(dir string) ([]policySource, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no policy version (*.md)", dir)
	}
	var srcs []policySource
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		src, err := parsePolicy(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".md"); src.Version.ID != want {
			errs = append(errs, &consent.SourceError{File: f, Line: src.lines["id"],
				Msg: fmt.Sprintf("version %q does not match the file name %s.md", src.Version.ID, want)})
		}
		if reservedVersionIDs[src.Version.ID] {
			errs = append(errs, &consent.SourceError{File: f, Line: src.lines["id"],
				Msg: fmt.Sprintf("version %q would hide the archive's page /policies/%s: name the version by its effective date", src.Version.ID, src.Version.ID)})
		}
		srcs = append(srcs, src)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	m := manifestOf(srcs)
	if err := m.Validate(); err != nil {
		return nil, placePolicyErrors(srcs, err)
	}
	return srcs, nil
}

func manifestOf(srcs []policySource) consent.Manifest {
	var m consent.Manifest
	for _, s := range srcs {
		m.Versions = append(m.Versions, s.Version)
	}
	return m
}

// placePolicyErrors turns each *consent.FieldError into a SourceError at the
// field's line.
func placePolicyErrors(srcs []policySource, err error) error {
	var out []error
	for _, e := range unjoin(err) {
		var fe *consent.FieldError
		if !errors.As(e, &fe) {
			out = append(out, e)
			continue
		}
		placed := false
		for i, s := range srcs {
			if s.Version.ID == fe.Version || fe.Version == "#"+strconv.Itoa(i+1) {
				line := s.lines[fe.Field]
				if line == 0 {
					line = s.lines[strings.SplitN(fe.Field, ".", 2)[0]]
				}
				if line == 0 {
					line = s.lines["id"] // a missing field: where the version is named
				}
				out = append(out, &consent.SourceError{File: s.File, Line: line, Msg: fe.Field + ": " + fe.Msg})
				placed = true
				break
			}
		}
		if !placed {
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// parsePolicy reads one policy file: front matter between "---" lines, then
// the text. The front matter is a small, strict subset of YAML:
//
//	---
//	version: 2023-06-01
//	effective: 2023-06-01
//	title.zh-CN: 亿洽团队沟通与协作平台隐私政策
//	title.en: Yiqia Team Communication and Collaboration Platform Privacy Policy
//	changes:
//	  - kind: recipients
//	    zh-CN: 新增推送服务 SDK。
//	    en: A push notification SDK was added.
//	---
//
// Unknown keys, repeated keys and stray lines are errors.
func parsePolicy(file string, data []byte) (policySource, error) {
	src := policySource{File: file, lines: map[string]int{}}
	fail := func(line int, format string, args ...any) (policySource, error) {
		return policySource{}, &consent.SourceError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	rest, ok := bytes.CutPrefix(data, []byte("---\n"))
	if !ok {
		return fail(1, `want front matter: the file must begin with a line "---"`)
	}
	end := bytes.Index(rest, []byte("\n---\n"))
	if end < 0 {
		return fail(1, `front matter is not closed by a line "---"`)
	}
	src.Body = rest[end+len("\n---\n"):]
	if len(bytes.TrimSpace(src.Body)) == 0 {
		return fail(strings.Count(string(rest[:end]), "\n")+4, "the policy text is empty")
	}
	sum := sha256.Sum256(src.Body)
	src.Version.SHA256 = hex.EncodeToString(sum[:])

	v := &src.Version
	seen := map[string]int{}
	inChanges := false
	var cur *consent.Change
	for i, raw := range strings.Split(string(rest[:end]), "\n") {
		line := i + 2
		if strings.TrimSpace(raw) == "" || strings.HasPrefix(strings.TrimSpace(raw), "#") {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " "))
		if strings.Contains(raw, "\t") {
			return fail(line, "tab in front matter: indent with spaces")
		}
		text := strings.TrimSpace(raw)
		if inChanges && indent > 0 {
			if item, isItem := strings.CutPrefix(text, "- "); isItem {
				v.Changes = append(v.Changes, consent.Change{})
				cur = &v.Changes[len(v.Changes)-1]
				src.lines["changes["+strconv.Itoa(len(v.Changes)-1)+"]"] = line
				text = strings.TrimSpace(item)
			}
			if cur == nil {
				return fail(line, `want a list item "- kind: …" under changes`)
			}
			key, val, err := keyValue(text)
			if err != nil {
				return fail(line, "%v", err)
			}
			field := "changes[" + strconv.Itoa(len(v.Changes)-1) + "]"
			var dst *string
			switch key {
			case "kind":
				cur.Kind = consent.Kind(val)
				src.lines[field+".kind"] = line
				continue
			case "zh-CN":
				dst = &cur.Summary.ZhCN
			case "en":
				dst = &cur.Summary.En
			default:
				return fail(line, "unknown key %q in a change (want kind, zh-CN, en)", key)
			}
			if *dst != "" {
				return fail(line, "%s given twice in this change", key)
			}
			*dst = val
			if src.lines[field+".summary"] == 0 {
				src.lines[field+".summary"] = src.lines[field]
			}
			continue
		}
		if indent > 0 {
			return fail(line, "unexpected indented line")
		}
		inChanges = false
		key, val, err := keyValue(text)
		if err != nil {
			return fail(line, "%v", err)
		}
		if prev, dup := seen[key]; dup {
			return fail(line, "%s given twice (first on line %d)", key, prev)
		}
		seen[key] = line
		switch key {
		case "version":
			v.ID = val
			src.lines["id"] = line
		case "effective":
			t, err := time.Parse(time.DateOnly, val)
			if err != nil {
				return fail(line, "effective: %q is not a date like 2022-01-01", val)
			}
			v.Effective = t
			src.lines["effective"] = line
		case "published":
			t, err := time.Parse(time.DateOnly, val)
			if err != nil {
				return fail(line, "published: %q is not a date like 2022-01-01", val)
			}
			src.Published = t
			src.lines["published"] = line
		case "title.zh-CN":
			v.Title.ZhCN = val
			src.lines["title"] = line
		case "title.en":
			v.Title.En = val
			if src.lines["title"] == 0 {
				src.lines["title"] = line
			}
		case "changes":
			if val != "" {
				return fail(line, "changes: want a list on the following lines")
			}
			inChanges = true
			src.lines["changes"] = line
		default:
			return fail(line, "unknown key %q (want version, effective, published, title.zh-CN, title.en, changes)", key)
		}
	}
	for _, k := range []string{"version", "effective"} {
		if seen[k] == 0 {
			return fail(1, "front matter has no %s", k)
		}
	}
	if src.Published.IsZero() {
		src.Published = v.Effective
	} else if src.Published.After(v.Effective) {
		return fail(src.lines["published"], "published: %s is after the effective date %s", src.Published.Format(time.DateOnly), v.Effective.Format(time.DateOnly))
	}
	return src, nil
}

// keyValue splits "key: value", unquoting a double-quoted value.
func keyValue(s string) (key, val string, err error) {
	key, val, ok := strings.Cut(s, ":")
	if !ok || key == "" || strings.ContainsAny(key, " \"") {
		return "", "", fmt.Errorf("want \"key: value\", got %q", s)
	}
	val = strings.TrimSpace(val)
	if strings.HasPrefix(val, `"`) {
		u, err := strconv.Unquote(val)
		if err != nil {
			return "", "", fmt.Errorf("%s: bad quoted string %s", key, val)
		}
		val = u
	}
	return key, val, nil
}

// siteFile is web/site.json: the site configuration the browser module
// reads, and beside it the registry the build renders the two lists from
// (kept out of consent.Site, which the module links).
type siteFile struct {
	consent.Site
	Registry *consent.Registry `json:"registry"`
}

// readSite reads and validates the site configuration (web/site.json),
// expanding each category's services from the catalogue (package catalog);
// the registry is checked with the policy versions (readSources). Every
// error names the file and line.
func readSite(file string) (siteFile, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return siteFile{}, err
	}
	var site siteFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&site); err != nil {
		return siteFile{}, jsonSourceError(file, data, err)
	}
	if dec.More() {
		return siteFile{}, &consent.SourceError{File: file, Line: lineAt(data, int(dec.InputOffset())), Msg: "unexpected data after the configuration object"}
	}
	if err := errors.Join(catalog.Default().Expand(&site.Site), site.Validate()); err != nil {
		return siteFile{}, placeSiteErrors(file, data, err)
	}
	return site, nil
}

// placeSiteErrors turns each *consent.SiteFieldError into a SourceError at
// the field's line of file, whose contents are data.
func placeSiteErrors(file string, data []byte, err error) error {
	lines, _ := jsonLines(data)
	var out []error
	for _, e := range unjoin(err) {
		var fe *consent.SiteFieldError
		if errors.As(e, &fe) {
			out = append(out, &consent.SourceError{File: file, Line: lineOfField(lines, fe.Field), Msg: fe.Error()})
		} else {
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

// sources are the site configuration and the policy versions, read and
// checked together.
type sources struct {
	Site     consent.Site
	Registry *consent.Registry
	Policies []policySource
	// Manifest has every version's ListChanges computed from the registry.
	Manifest consent.Manifest
}

// readSources reads web/site.json and web/policies under root and checks
// them together: the registry against the policy versions, and every
// version whose registry changes are material against its typed changes
// (a new purpose, type of information or recipient, or a changed
// cross-border transfer, must be declared as a change of that kind). Each
// error names the file and line: site.json's for the registry, the
// version's changes for an undeclared material change.
//
// A version whose effective date is after now is published ahead of it
// (upcoming): it must say when it was published, not after now.
func readSources(root string, now time.Time) (*sources, error) {
	sitePath := filepath.Join(root, "web/site.json")
	site, err := readSite(sitePath)
	if err != nil {
		return nil, err
	}
	policies, err := readPolicies(filepath.Join(root, "web/policies"))
	if err != nil {
		return nil, err
	}
	var early []error
	for _, p := range policies {
		switch {
		case !p.Version.Effective.After(now):
		case p.lines["published"] == 0:
			early = append(early, &consent.SourceError{File: p.File, Line: p.lines["effective"],
				Msg: "takes effect after today (" + now.UTC().Format(time.DateOnly) + "): say when it is published (published: YYYY-MM-DD), which the feed dates it by"})
		case p.Published.After(now):
			early = append(early, &consent.SourceError{File: p.File, Line: p.lines["published"],
				Msg: "published: " + p.Published.Format(time.DateOnly) + " is after today (" + now.UTC().Format(time.DateOnly) + "): build it on that day"})
		}
	}
	if len(early) > 0 {
		return nil, errors.Join(early...)
	}
	m := manifestOf(policies)
	if err := site.Registry.Validate(&site.Site, &m); err != nil {
		data, _ := os.ReadFile(sitePath)
		return nil, placeSiteErrors(sitePath, data, err)
	}
	site.Registry.ListChanges(&m)
	if err := m.CheckListChanges(); err != nil {
		return nil, placePolicyErrors(policies, err)
	}
	for i := range policies {
		policies[i].Version = m.Versions[i]
	}
	site.Registry.ResolvePermissions(&site.Site, &m)
	return &sources{Site: site.Site, Registry: site.Registry, Policies: policies, Manifest: m}, nil
}

// lineOfField returns the line of field, or of its nearest ancestor present
// (a missing field is reported where its object is).
func lineOfField(lines map[string]int, field string) int {
	for f := field; f != ""; {
		if l, ok := lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 1
}

func jsonSourceError(file string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return &consent.SourceError{File: file, Line: lineAt(data, int(syn.Offset)), Msg: "JSON syntax: " + syn.Error()}
	case errors.As(err, &typ):
		// The field is named from the file's root: siteFile embeds Site.
		field := strings.TrimPrefix(typ.Field, "Site.")
		return &consent.SourceError{File: file, Line: lineAt(data, int(typ.Offset)), Msg: fmt.Sprintf("%s: want %s, got JSON %s", field, typ.Type, typ.Value)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &consent.SourceError{File: file, Line: lineAt(data, len(data)), Msg: "unexpected end of file"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		lines, _ := jsonLines(data)
		unq, _ := strconv.Unquote(name)
		best := 0
		for path, l := range lines {
			if path == unq || strings.HasSuffix(path, "."+unq) {
				best = l
				break
			}
		}
		return &consent.SourceError{File: file, Line: best, Msg: "unknown field " + name}
	}
	return &consent.SourceError{File: file, Msg: err.Error()}
}

func lineAt(data []byte, offset int) int {
	offset = min(max(offset, 0), len(data))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

// jsonLines maps every value's path ("categories[1].title.en") to the line it
// starts on.
func jsonLines(data []byte) (map[string]int, error) {
	lines := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func(path string) error
	walk = func(path string) error {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		// InputOffset before Token points at the separator; skip to the value.
		off := int(start)
		for off < len(data) && strings.ContainsRune(" \t\r\n:,", rune(data[off])) {
			off++
		}
		if path != "" {
			lines[path] = lineAt(data, off)
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				p := k.(string)
				if path != "" {
					p = path + "." + p
				}
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(path + "[" + strconv.Itoa(i) + "]"); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	return lines, walk("")
}

package consent

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Locale is a language the module speaks. Every Text has all of them.
type Locale string

// The locales, default first.
const (
	ZhCN Locale = "zh-CN"
	En   Locale = "en"
)

// Locales lists every supported locale, the default first.
var Locales = []Locale{ZhCN, En}

// MatchLocale returns the supported locale for a BCP 47 tag such as "en-GB"
// or "zh-Hans-CN", and false when none matches.
func MatchLocale(tag string) (Locale, bool) {
	if len(tag) < 2 || (len(tag) > 2 && tag[2] != '-' && tag[2] != '_') {
		return "", false
	}
	switch tag[0] | 0x20 {
	case 'z':
		if tag[1]|0x20 == 'h' {
			return ZhCN, true
		}
	case 'e':
		if tag[1]|0x20 == 'n' {
			return En, true
		}
	}
	return "", false
}

// ChooseLocale returns the locale to show given the person's preferences in
// order (the one they switched to in this tab, the page's <html lang>, then
// the browser's languages): the first that is supported, else the default.
// The loader chooses the same way; testdata/locale-vectors.json pins both.
func ChooseLocale(tags ...string) Locale {
	for _, t := range tags {
		if l, ok := MatchLocale(t); ok {
			return l
		}
	}
	return Locales[0]
}

// Text is one text written in every locale, by people, not machine-translated.
type Text struct {
	ZhCN string `json:"zh-CN"`
	En   string `json:"en"`
}

// In returns the text in locale l, or in the default locale if l is unknown.
func (t Text) In(l Locale) string {
	if l == En {
		return t.En
	}
	return t.ZhCN
}

// missing returns the first locale t has no text for, or "".
func (t Text) missing() Locale {
	if t.ZhCN == "" {
		return ZhCN
	}
	if t.En == "" {
		return En
	}
	return ""
}

// Kind is the kind of a policy change. The six material kinds are those of the
// policy's section 8 (本隐私政策如何更新); anything else is minor. The values are
// written into receipts: append only.
type Kind string

// The kinds of change.
const (
	KindPurposes   Kind = "purposes"   // 处理个人信息的目的、类型以及使用方式
	KindOwnership  Kind = "ownership"  // 所有权、组织架构
	KindRecipients Kind = "recipients" // 共享、转让或公开披露的主要对象
	KindRights     Kind = "rights"     // 用户权利及其行使方式
	KindContact    Kind = "contact"    // 责任部门、联络方式及投诉渠道
	KindRisk       Kind = "risk"       // 安全影响评估表明存在高风险
	KindMinor      Kind = "minor"      // 非重大变更
)

// Kinds lists every kind in the policy's order, minor last.
var Kinds = []Kind{KindPurposes, KindOwnership, KindRecipients, KindRights, KindContact, KindRisk, KindMinor}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, known := range Kinds {
		if k == known {
			return true
		}
	}
	return false
}

// Material reports whether a change of kind k needs a prominent notice and an
// explicit acknowledgement.
func (k Kind) Material() bool { return k.Valid() && k != KindMinor }

// Change is one change a policy version makes to the one before it.
type Change struct {
	Kind    Kind `json:"kind"`
	Summary Text `json:"summary"`
}

// Version is one published version of the privacy policy.
type Version struct {
	// ID names the version (see ValidVersionID), by convention its effective
	// date, e.g. "2022-01-01".
	ID string `json:"id"`
	// Effective is the day the version took effect (midnight UTC).
	Effective time.Time `json:"effective"`
	// Title is the policy's title in each locale.
	Title Text `json:"title"`
	// Changes lists what changed since the previous version; empty for the first.
	Changes []Change `json:"changes"`
	// SHA256 is the lowercase hex SHA-256 of the version's exact text, the bytes
	// a person reads and can download.
	SHA256 string `json:"sha256"`
	// ListChanges are the changes to the two lists since the previous
	// version, computed by the build from the registry (Registry.ListChanges).
	ListChanges []ListChange `json:"listChanges,omitempty"`
	// Lists are the version's two lists as the archive renders them, each
	// with the SHA-256 of its exact bytes; the build fills them in for the
	// public manifest (GET /v1/policies).
	Lists []ListPage `json:"lists,omitempty"`
}

// ListPage is one rendering of one of a version's two lists.
type ListPage struct {
	List   string `json:"list"` // ListCollected or ListSharing
	Locale Locale `json:"locale"`
	Path   string `json:"path"` // where it is served, e.g. /policies/2024-03-01/sharing
	SHA256 string `json:"sha256"`
}

// Material reports whether any change in v is material.
func (v Version) Material() bool {
	for _, c := range v.Changes {
		if c.Kind.Material() {
			return true
		}
	}
	return false
}

// FieldError is a problem with one field of one policy version. The build maps
// Field to the line it came from.
type FieldError struct {
	Version string // the version's id, or its position "#N" when the id is bad
	Field   string // "id", "effective", "title", "sha256", "changes[N].kind", "changes[N].summary"
	Msg     string
}

func (e *FieldError) Error() string {
	return "policy " + e.Version + ": " + e.Field + ": " + e.Msg
}

// Unwrap makes every FieldError match ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Manifest is every published policy version, oldest first. The last is the
// current one.
type Manifest struct {
	Versions []Version `json:"versions"`
}

// Validate checks m and returns every problem found, joined; each is a
// *FieldError. It checks that ids are valid and unique, effective dates
// strictly increase, every version after the first lists at least one change,
// every change has a known kind and a summary in every locale, every title is
// in every locale, and every hash is 64 lowercase hex digits.
func (m *Manifest) Validate() error {
	if len(m.Versions) == 0 {
		return &FieldError{Version: "manifest", Field: "versions", Msg: "no policy version"}
	}
	var errs []error
	seen := map[string]bool{}
	for i, v := range m.Versions {
		name := v.ID
		bad := func(field, msg string) { errs = append(errs, &FieldError{Version: name, Field: field, Msg: msg}) }
		switch {
		case !ValidVersionID(v.ID):
			name = "#" + strconv.Itoa(i+1)
			bad("id", strconv.Quote(v.ID)+" is not a valid version id (a–z, 0–9, '-', '.'; at most 32)")
		case seen[v.ID]:
			bad("id", "duplicate version")
		}
		seen[v.ID] = true
		switch {
		case v.Effective.IsZero():
			bad("effective", "missing effective date")
		case i > 0 && !v.Effective.After(m.Versions[i-1].Effective):
			bad("effective", v.Effective.Format(time.DateOnly)+" is not after the previous version's "+
				m.Versions[i-1].Effective.Format(time.DateOnly))
		}
		if l := v.Title.missing(); l != "" {
			bad("title", "missing "+string(l)+" title")
		}
		if !validSHA256(v.SHA256) {
			bad("sha256", "want 64 lowercase hex digits")
		}
		if i > 0 && len(v.Changes) == 0 {
			bad("changes", "a later version must list what changed")
		}
		for j, c := range v.Changes {
			field := "changes[" + strconv.Itoa(j) + "]"
			if !c.Kind.Valid() {
				bad(field+".kind", "unknown kind "+strconv.Quote(string(c.Kind))+kindHint)
			}
			if l := c.Summary.missing(); l != "" {
				bad(field+".summary", "missing "+string(l)+" summary")
			}
		}
	}
	return errors.Join(errs...)
}

const kindHint = " (want purposes, ownership, recipients, rights, contact, risk or minor)"

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) && !('a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// Current returns the newest version. It panics on an empty manifest, which
// Validate rejects.
func (m *Manifest) Current() Version { return m.Versions[len(m.Versions)-1] }

// InForce returns the manifest of the versions in force at t: those whose
// effective date (00:00 UTC) is not after t, so that its Current is the
// version in force and a version published ahead of its date is left out
// until that day. Before the first version's date it holds the first version
// alone. The loader picks the current version by the browser's clock with the
// same rule; testdata/effective-vectors.json pins both.
func (m *Manifest) InForce(t time.Time) Manifest {
	n := 1
	for n < len(m.Versions) && !m.Versions[n].Effective.After(t) {
		n++
	}
	return Manifest{Versions: m.Versions[:n:n]}
}

// Announced returns the version a person who acknowledged the version in
// force at t is told about in advance: the first one published ahead of its
// date, once t is within days of that date (any time before it for days 0).
func (m *Manifest) Announced(t time.Time, days int) (Version, bool) {
	n := len(m.InForce(t).Versions)
	if n == len(m.Versions) {
		return Version{}, false
	}
	v := m.Versions[n]
	if days > 0 && v.Effective.AddDate(0, 0, -days).After(t) {
		return Version{}, false
	}
	return v, true
}

// Lookup returns the version with id, or ErrNotFound.
func (m *Manifest) Lookup(id string) (Version, error) {
	for _, v := range m.Versions {
		if v.ID == id {
			return v, nil
		}
	}
	return Version{}, ErrNotFound
}

// ListChangesSince returns the changes to the two lists in the versions
// after acked, oldest first (nil for an unknown or the current version).
func (m *Manifest) ListChangesSince(acked string) []ListChange {
	var out []ListChange
	after := false
	for _, v := range m.Versions {
		if after {
			out = append(out, v.ListChanges...)
		}
		if v.ID == acked {
			after = true
		}
	}
	return out
}

// CheckListChanges checks that every version whose list changes are
// material says so: among its typed changes is one of each material kind
// its ListChanges have. Each problem is a *FieldError on the version's
// "changes".
func (m *Manifest) CheckListChanges() error {
	var errs []error
	for _, v := range m.Versions {
		typed := map[Kind]bool{}
		for _, c := range v.Changes {
			typed[c.Kind] = true
		}
		for _, k := range Kinds {
			if !k.Material() || typed[k] {
				continue
			}
			var what []string
			for _, lc := range v.ListChanges {
				if lc.Kind == k {
					what = append(what, lc.Summary.ZhCN)
				}
			}
			if len(what) > 0 {
				errs = append(errs, &FieldError{Version: v.ID, Field: "changes", Msg: "the registry's changes make this version material (" +
					strings.Join(what, "; ") + "): list a change of kind " + string(k)})
			}
		}
	}
	return errors.Join(errs...)
}

// NoticeKind says which notice a person should see.
type NoticeKind string

// The notices. The values are used in markup and receipts: append only.
const (
	NoticeNone     NoticeKind = ""         // consent is current: show nothing
	NoticeBanner   NoticeKind = "banner"   // no (valid) consent: the first-visit banner
	NoticeMaterial NoticeKind = "material" // a material change since: blocking notice
	NoticeMinor    NoticeKind = "minor"    // only minor changes since: light note
	// NoticeAdvance is the light, dismissible note about a version published
	// ahead of its date, for a person whose consent is current: it asks for
	// nothing (see Manifest.Announced and AdvanceNoteView).
	NoticeAdvance NoticeKind = "advance"
)

// NoticeFor returns the notice for a person who acknowledged version acked
// ("" for nobody) and the changes since then, oldest first. An acked version
// the manifest does not know is treated like no consent: the banner.
func (m *Manifest) NoticeFor(acked string) (NoticeKind, []Change) {
	at := -1
	for i, v := range m.Versions {
		if v.ID == acked {
			at = i
		}
	}
	if at < 0 {
		return NoticeBanner, nil
	}
	var since []Change
	kind := NoticeNone
	for _, v := range m.Versions[at+1:] {
		since = append(since, v.Changes...)
		if v.Material() {
			kind = NoticeMaterial
		} else if kind == NoticeNone {
			kind = NoticeMinor
		}
	}
	return kind, since
}

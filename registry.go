package consent

import (
	"errors"
	"strconv"
	"strings"
)

// Registry is the one description of what personal information the site
// processes, why, and who receives it, as PIPL and the policy state it: the
// purposes with their legal basis (art. 13), the types of personal
// information each uses (sensitive ones marked, GB/T 35273 Annex B), the
// recipients (art. 23, the SDKs of section 四), the items that need a
// separate consent (单独同意: arts. 23, 25, 29, 39), where the information is
// stored (section 七) and how people exercise their rights (section 六).
// The two lists (已收集个人信息清单, 第三方信息共享清单) are rendered from it.
//
// The registry is kept per policy version: every entry holds for the
// versions from Since (its first, "" for the first version) up to, not
// including, Until ("" for still in force). A change to an entry is an entry
// ending (Until: V) and one with the same id beginning (Since: V); At gives
// the registry of one version, and Compare what changed between two.
type Registry struct {
	// Storage says where personal information is stored (section 七).
	Storage Text `json:"storage"`
	// Rights says how people exercise their rights and how soon they get an
	// answer (section 六).
	Rights     Rights         `json:"rights"`
	Types      []InfoType     `json:"types"`
	Purposes   []Purpose      `json:"purposes"`
	Recipients []Recipient    `json:"recipients"`
	Separate   []SeparateItem `json:"separate,omitempty"`
}

// Span is the policy versions an entry holds for: from Since ("" for the
// first version) up to, not including, Until ("" for still in force).
type Span struct {
	Since string `json:"since,omitempty"`
	Until string `json:"until,omitempty"`
}

// Rights is how people exercise their rights (section 六).
type Rights struct {
	Text Text `json:"text"`
	// ResponseDays is how many days an answer takes at most (15).
	ResponseDays int `json:"responseDays"`
}

// InfoType is one type of personal information.
type InfoType struct {
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Sensitive is, for sensitive personal information, its class in GB/T
	// 35273-2020 Annex B (see SensitiveClass); "" for other information.
	Sensitive string `json:"sensitive,omitempty"`
	Span
}

// SensitiveClass names a class of sensitive personal information of GB/T
// 35273-2020 Annex B (table B.1) for people, and reports whether class is
// one: property, health, biometric, identity or other. (A function, not a
// map: the browser module links package-level maps whether it uses them or
// not.)
func SensitiveClass(class string) (Text, bool) {
	switch class {
	case "property":
		return Text{"个人财产信息", "financial information"}, true
	case "health":
		return Text{"个人健康生理信息", "health information"}, true
	case "biometric":
		return Text{"个人生物识别信息", "biometric information"}, true
	case "identity":
		return Text{"个人身份信息", "identity documents"}, true
	case "other":
		return Text{"其他敏感信息", "other sensitive information"}, true
	}
	return Text{}, false
}

// Purpose is one purpose of processing: what it is for, on which legal
// basis, with which types of information, when, and how long they are kept.
type Purpose struct {
	ID    string `json:"id"`
	Title Text   `json:"title"`
	// Basis is its legal basis under PIPL art. 13, see Basis.
	Basis string `json:"basis"`
	// Types are InfoType ids.
	Types     []string `json:"types"`
	Scenario  Text     `json:"scenario"`
	Retention Text     `json:"retention"`
	Span
}

// Basis names a legal basis of PIPL art. 13 for people, and reports
// whether basis is one: consent (13(1)), contract (13(2), with HR
// management), legal-duty (13(3)), public-interest and vital-interests
// (13(4)), news-reporting (13(5)), public-information (13(6)).
func Basis(basis string) (Text, bool) {
	switch basis {
	case "consent":
		return Text{"取得您的同意", "your consent"}, true
	case "contract":
		return Text{"订立、履行合同或实施人力资源管理所必需", "needed for a contract with you, or for HR management"}, true
	case "legal-duty":
		return Text{"履行法定职责或法定义务所必需", "needed for a legal duty"}, true
	case "public-interest":
		return Text{"应对突发公共卫生事件所必需", "needed to respond to a public health emergency"}, true
	case "vital-interests":
		return Text{"紧急情况下保护生命健康和财产安全所必需", "needed in an emergency to protect life, health or property"}, true
	case "news-reporting":
		return Text{"为公共利益实施新闻报道、舆论监督", "news reporting and public oversight in the public interest"}, true
	case "public-information":
		return Text{"处理已经合法公开的个人信息", "information already lawfully made public"}, true
	}
	return Text{}, false
}

// Recipient is a third party that receives personal information, or
// collects it through an SDK in the app (art. 23; section 四.(一)).
type Recipient struct {
	ID      string `json:"id"`
	Company Text   `json:"company"`
	Product Text   `json:"product"`
	// SDK is the SDK's package, e.g. "com.xiaomi.push"; "" for none.
	SDK      string   `json:"sdk,omitempty"`
	Platform Text     `json:"platform"`
	Types    []string `json:"types"`
	Purpose  Text     `json:"purpose"`
	Scenario Text     `json:"scenario"`
	// Method is how the information reaches it, e.g. "SDK 本机采集".
	Method  Text   `json:"method"`
	Contact string `json:"contact"`
	// URL is the third party's own rules for personal information.
	URL string `json:"url"`
	// Country is where it processes the information, ISO 3166-1 alpha-2;
	// anything but "CN" is a cross-border transfer (art. 38–39).
	Country string `json:"country"`
	Span
}

// CountryName names an ISO 3166-1 code in l for the countries the
// registry's recipients are in, or returns the code.
func CountryName(code string, l Locale) string {
	switch code {
	case "CN":
		return Text{"中国（境内）", "China (mainland)"}.In(l)
	case "US":
		return Text{"美国（境外）", "United States (abroad)"}.In(l)
	}
	return code
}

// CrossBorder reports whether the recipient processes outside mainland China.
func (r Recipient) CrossBorder() bool { return r.Country != "CN" }

// The kinds of separate consent (单独同意), by the PIPL article requiring it.
const (
	SeparateSensitive   = "sensitive"    // arts. 28–30: sensitive personal information
	SeparateThirdParty  = "third-party"  // art. 23: providing it to another handler
	SeparatePublic      = "public"       // art. 25: making it public
	SeparateCrossBorder = "cross-border" // art. 39: providing it abroad
)

// SeparateKinds lists the kinds of separate consent.
var SeparateKinds = []string{SeparateSensitive, SeparateThirdParty, SeparatePublic, SeparateCrossBorder}

// SeparateItem is one thing that needs its own affirmative consent, never
// bundled with another choice. Each kind has the fields its article requires;
// the statement a person is shown is built from them (Statement).
type SeparateItem struct {
	// ID is written into receipts: append only.
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Title Text   `json:"title"`
	// Purpose is the Purpose id it serves (sensitive, public).
	Purpose string `json:"purpose,omitempty"`
	// Recipient is the Recipient id it provides information to
	// (third-party, cross-border); its name, contact, purpose, method and
	// types are the ones art. 23 and art. 39 require.
	Recipient string `json:"recipient,omitempty"`
	// Types are the InfoType ids concerned (sensitive, public); for a
	// recipient, its own.
	Types []string `json:"types,omitempty"`
	// Necessity and Impact are why the sensitive information is needed and
	// what its processing means for the person (art. 30).
	Necessity Text `json:"necessity,omitempty"`
	Impact    Text `json:"impact,omitempty"`
	// Scope is who can see what is made public (art. 25).
	Scope Text `json:"scope,omitempty"`
	// Rights is how to exercise one's rights against the foreign recipient
	// (art. 39).
	Rights Text `json:"rights,omitempty"`
	Span
}

// holds reports whether an entry with span s holds for the version at
// position at, versions being positioned by pos.
func (s Span) holds(at int, pos map[string]int) bool {
	return (s.Since == "" || pos[s.Since] <= at) && (s.Until == "" || at < pos[s.Until])
}

// At returns the registry of version id: the entries holding for it. An
// unknown id gives the entries without a span only.
func (r *Registry) At(m *Manifest, id string) Registry {
	pos := map[string]int{}
	for i, v := range m.Versions {
		pos[v.ID] = i
	}
	at, ok := pos[id]
	if !ok {
		at = -1
	}
	out := Registry{Storage: r.Storage, Rights: r.Rights}
	for _, t := range r.Types {
		if t.holds(at, pos) {
			out.Types = append(out.Types, t)
		}
	}
	for _, p := range r.Purposes {
		if p.holds(at, pos) {
			out.Purposes = append(out.Purposes, p)
		}
	}
	for _, rc := range r.Recipients {
		if rc.holds(at, pos) {
			out.Recipients = append(out.Recipients, rc)
		}
	}
	for _, s := range r.Separate {
		if s.holds(at, pos) {
			out.Separate = append(out.Separate, s)
		}
	}
	return out
}

// Type returns the information type with id.
func (r Registry) Type(id string) (InfoType, bool) {
	for _, t := range r.Types {
		if t.ID == id {
			return t, true
		}
	}
	return InfoType{}, false
}

// Purpose returns the purpose with id.
func (r Registry) Purpose(id string) (Purpose, bool) {
	for _, p := range r.Purposes {
		if p.ID == id {
			return p, true
		}
	}
	return Purpose{}, false
}

// Recipient returns the recipient with id.
func (r Registry) Recipient(id string) (Recipient, bool) {
	for _, rc := range r.Recipients {
		if rc.ID == id {
			return rc, true
		}
	}
	return Recipient{}, false
}

// SeparateForPurpose returns the separate-consent items for purpose id.
func (r Registry) SeparateForPurpose(id string) []SeparateItem {
	var out []SeparateItem
	for _, s := range r.Separate {
		if s.Purpose == id {
			out = append(out, s)
		}
	}
	return out
}

// SeparateForRecipient returns the separate-consent items for recipient id.
func (r Registry) SeparateForRecipient(id string) []SeparateItem {
	var out []SeparateItem
	for _, s := range r.Separate {
		if s.Recipient == id {
			out = append(out, s)
		}
	}
	return out
}

// TypeNames names the types ids in locale l, joined with "、" or ", ".
func (r Registry) TypeNames(ids []string, l Locale) string {
	var names []string
	for _, id := range ids {
		if t, ok := r.Type(id); ok {
			names = append(names, t.Name.In(l))
		}
	}
	return strings.Join(names, textListSep.In(l))
}

var textListSep = Text{"、", ", "}

// StatementField is one labelled field of a separate-consent statement.
type StatementField struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// Labels of the statement's fields.
var (
	labelRecipient = Text{"接收方", "Recipient"}
	labelContact   = Text{"联系方式", "Contact"}
	labelPurpose   = Text{"处理目的", "Purpose"}
	labelMethod    = Text{"处理方式", "Method"}
	labelTypes     = Text{"个人信息的种类", "Types of information"}
	labelNecessity = Text{"必要性", "Why it is needed"}
	labelImpact    = Text{"对您的影响", "What it means for you"}
	labelScope     = Text{"公开范围", "Who can see it"}
	labelCountry   = Text{"所在国家或地区", "Country"}
	labelRights    = Text{"向境外接收方行使权利的方式", "How to exercise your rights against the foreign recipient"}
	labelWithdraw  = Text{"撤回", "Withdrawing"}
	textWithdraw   = Text{"您可以随时在“我的-设置-隐私”中撤回此同意，撤回不影响您使用基本功能，也不影响撤回前基于同意的处理。", "You can withdraw this consent at any time in Me › Settings › Privacy. Withdrawing does not stop you using the basic service, nor affect what was done before."}
)

// Statement returns the statutory fields of separate-consent item id in
// locale l, in the order they are shown, as its article requires them, and
// their exact text: the title, then each field as "label: value", each on a
// line of its own. The SHA-256 of that text is what a receipt of the
// person's answer carries (the build computes it: the domain package does
// not link crypto/sha256); it changes whenever any shown word does. It
// returns false for an unknown id.
func (r Registry) Statement(id string, l Locale) (title string, fields []StatementField, text string, ok bool) {
	var it SeparateItem
	for _, s := range r.Separate {
		if s.ID == id {
			it, ok = s, true
		}
	}
	if !ok {
		return "", nil, "", false
	}
	add := func(label Text, value string) {
		if value != "" {
			fields = append(fields, StatementField{label.In(l), value})
		}
	}
	switch it.Kind {
	case SeparateThirdParty, SeparateCrossBorder:
		rc, _ := r.Recipient(it.Recipient)
		add(labelRecipient, recipientName(rc, l))
		add(labelContact, rc.Contact)
		add(labelPurpose, rc.Purpose.In(l))
		add(labelMethod, rc.Method.In(l))
		add(labelTypes, r.TypeNames(rc.Types, l))
		if it.Kind == SeparateCrossBorder {
			add(labelCountry, CountryName(rc.Country, l))
			add(labelRights, it.Rights.In(l))
		}
	default:
		p, _ := r.Purpose(it.Purpose)
		add(labelPurpose, p.Title.In(l)+textListSep.In(l)+p.Scenario.In(l))
		add(labelTypes, r.TypeNames(it.Types, l))
		add(labelNecessity, it.Necessity.In(l))
		add(labelImpact, it.Impact.In(l))
		add(labelScope, it.Scope.In(l))
	}
	add(labelWithdraw, textWithdraw.In(l))
	var b strings.Builder
	b.WriteString(it.Title.In(l) + "\n")
	for _, f := range fields {
		b.WriteString(f.Label + ": " + f.Value + "\n")
	}
	return it.Title.In(l), fields, b.String(), true
}

// validate checks the registry against the policy versions: every span names
// known versions in order, and for each version the entries holding for it
// have unique ids, known references and the fields their article requires.
// Every problem is a *SiteFieldError under "registry", reported once.
func (r *Registry) validate(m *Manifest) []error {
	var errs []error
	seenMsg := map[string]bool{}
	bad := func(field, msg string) {
		if !seenMsg[field+msg] {
			seenMsg[field+msg] = true
			errs = append(errs, &SiteFieldError{Field: "registry." + field, Msg: msg})
		}
	}
	pos := map[string]int{}
	for i, v := range m.Versions {
		pos[v.ID] = i
	}
	span := func(field string, s Span) {
		for name, id := range map[string]string{"since": s.Since, "until": s.Until} {
			if _, ok := pos[id]; id != "" && !ok {
				bad(field+"."+name, strconv.Quote(id)+" is not a policy version (web/policies/VERSION.md)")
			}
		}
		if s.Since != "" && s.Until != "" && pos[s.Until] <= pos[s.Since] {
			bad(field+".until", s.Until+" is not after since "+s.Since)
		}
	}
	text := func(field string, t Text) {
		if l := t.missing(); l != "" {
			bad(field, "missing "+string(l)+" text")
		}
	}
	text("storage", r.Storage)
	text("rights.text", r.Rights.Text)
	if r.Rights.ResponseDays < 1 || r.Rights.ResponseDays > 30 {
		bad("rights.responseDays", "want 1 to 30 days (the policy answers within 15)")
	}
	for i, t := range r.Types {
		f := "types[" + strconv.Itoa(i) + "]"
		span(f, t.Span)
		text(f+".name", t.Name)
		if _, ok := SensitiveClass(t.Sensitive); t.Sensitive != "" && !ok {
			bad(f+".sensitive", strconv.Quote(t.Sensitive)+" is not a class of GB/T 35273 Annex B (property, health, biometric, identity, other)")
		}
	}
	for i, p := range r.Purposes {
		f := "purposes[" + strconv.Itoa(i) + "]"
		span(f, p.Span)
		text(f+".title", p.Title)
		text(f+".scenario", p.Scenario)
		text(f+".retention", p.Retention)
		if _, ok := Basis(p.Basis); !ok {
			bad(f+".basis", strconv.Quote(p.Basis)+" is not a legal basis of PIPL art. 13 (consent, contract, legal-duty, public-interest, vital-interests, news-reporting, public-information)")
		}
		if len(p.Types) == 0 {
			bad(f+".types", "list the types of personal information it uses")
		}
	}
	for i, rc := range r.Recipients {
		f := "recipients[" + strconv.Itoa(i) + "]"
		span(f, rc.Span)
		for name, t := range map[string]Text{"company": rc.Company, "product": rc.Product, "platform": rc.Platform, "purpose": rc.Purpose, "scenario": rc.Scenario, "method": rc.Method} {
			text(f+"."+name, t)
		}
		if rc.Contact == "" {
			bad(f+".contact", "missing contact (art. 23)")
		}
		if !strings.HasPrefix(rc.URL, "https://") || strings.ContainsAny(rc.URL, " \"<>") {
			bad(f+".url", strconv.Quote(rc.URL)+" is not an https link to the recipient's rules")
		}
		if len(rc.Country) != 2 || strings.ToUpper(rc.Country) != rc.Country {
			bad(f+".country", strconv.Quote(rc.Country)+" is not an ISO 3166-1 country code such as CN")
		}
		if len(rc.Types) == 0 {
			bad(f+".types", "list the types of personal information it receives (art. 23)")
		}
	}
	for i, s := range r.Separate {
		f := "separate[" + strconv.Itoa(i) + "]"
		span(f, s.Span)
		text(f+".title", s.Title)
		if !ValidCategoryID(s.ID) {
			bad(f+".id", strconv.Quote(s.ID)+" is not an id (a lowercase letter, then a–z, 0–9, '_'; at most 32)")
		}
		switch s.Kind {
		case SeparateSensitive:
			text(f+".necessity", s.Necessity)
			text(f+".impact", s.Impact)
		case SeparatePublic:
			text(f+".scope", s.Scope)
		case SeparateCrossBorder:
			text(f+".rights", s.Rights)
		case SeparateThirdParty:
		default:
			bad(f+".kind", strconv.Quote(s.Kind)+" is not a kind of separate consent ("+strings.Join(SeparateKinds, ", ")+")")
		}
		byRecipient := s.Kind == SeparateThirdParty || s.Kind == SeparateCrossBorder
		if byRecipient && (s.Recipient == "" || s.Purpose != "" || len(s.Types) > 0) {
			bad(f+".recipient", "a "+s.Kind+" item names its recipient (and takes purpose and types from it), nothing else")
		}
		if !byRecipient && (s.Purpose == "" || s.Recipient != "" || len(s.Types) == 0) {
			bad(f+".purpose", "a "+s.Kind+" item names its purpose and types")
		}
	}

	// Per version: ids unique, references known, statutory consent present.
	for _, vid := range versionIDsOf(m) {
		reg := r.At(m, vid)
		at := " in version " + vid
		dup := func(field string, seen map[string]bool, id string) {
			if seen[id] {
				bad(field, "duplicate id "+strconv.Quote(id)+at+" (end the old entry with until where a new one begins)")
			}
			seen[id] = true
		}
		index := func(kind string, id string) string {
			return kind + "[" + strconv.Itoa(indexOf(r, kind, id, vid, m)) + "]"
		}
		seen := map[string]bool{}
		for _, t := range reg.Types {
			dup(index("types", t.ID)+".id", seen, t.ID)
		}
		seen = map[string]bool{}
		for _, p := range reg.Purposes {
			f := index("purposes", p.ID)
			dup(f+".id", seen, p.ID)
			for j, tid := range p.Types {
				if _, ok := reg.Type(tid); !ok {
					bad(f+".types["+strconv.Itoa(j)+"]", "unknown type "+strconv.Quote(tid)+at)
				}
			}
		}
		seen = map[string]bool{}
		for _, rc := range reg.Recipients {
			f := index("recipients", rc.ID)
			dup(f+".id", seen, rc.ID)
			for j, tid := range rc.Types {
				if _, ok := reg.Type(tid); !ok {
					bad(f+".types["+strconv.Itoa(j)+"]", "unknown type "+strconv.Quote(tid)+at)
				}
			}
			if rc.CrossBorder() && !hasSeparate(reg, SeparateCrossBorder, rc.ID) {
				bad(f+".country", rc.Country+" is abroad: a cross-border separate-consent item must name this recipient (art. 39)"+at)
			}
		}
		seen = map[string]bool{}
		for _, s := range reg.Separate {
			f := index("separate", s.ID)
			dup(f+".id", seen, s.ID)
			if s.Purpose != "" {
				if _, ok := reg.Purpose(s.Purpose); !ok {
					bad(f+".purpose", "unknown purpose "+strconv.Quote(s.Purpose)+at)
				}
			}
			if s.Recipient != "" {
				rc, ok := reg.Recipient(s.Recipient)
				switch {
				case !ok:
					bad(f+".recipient", "unknown recipient "+strconv.Quote(s.Recipient)+at)
				case s.Kind == SeparateCrossBorder && !rc.CrossBorder():
					bad(f+".recipient", strconv.Quote(s.Recipient)+" is in CN: not a cross-border transfer"+at)
				}
			}
			for j, tid := range s.Types {
				t, ok := reg.Type(tid)
				switch {
				case !ok:
					bad(f+".types["+strconv.Itoa(j)+"]", "unknown type "+strconv.Quote(tid)+at)
				case s.Kind == SeparateSensitive && t.Sensitive == "":
					bad(f+".types["+strconv.Itoa(j)+"]", strconv.Quote(tid)+" is not marked sensitive"+at)
				}
			}
		}
		// A purpose resting on consent that uses sensitive information needs
		// a separate consent for it (art. 29).
		for _, p := range reg.Purposes {
			if p.Basis != "consent" {
				continue
			}
			for _, tid := range p.Types {
				if t, _ := reg.Type(tid); t.Sensitive != "" && !coversSensitive(reg, p.ID, tid) {
					bad(index("purposes", p.ID)+".types", strconv.Quote(tid)+" is sensitive: a sensitive separate-consent item must cover it for this purpose (art. 29)"+at)
				}
			}
		}
	}
	return errs
}

func versionIDsOf(m *Manifest) []string {
	var ids []string
	for _, v := range m.Versions {
		ids = append(ids, v.ID)
	}
	return ids
}

// indexOf returns the position in r of the entry of kind with id holding
// for version vid, for error paths.
func indexOf(r *Registry, kind, id, vid string, m *Manifest) int {
	pos := map[string]int{}
	for i, v := range m.Versions {
		pos[v.ID] = i
	}
	at := pos[vid]
	var spans []Span
	var ids []string
	switch kind {
	case "types":
		for _, e := range r.Types {
			spans, ids = append(spans, e.Span), append(ids, e.ID)
		}
	case "purposes":
		for _, e := range r.Purposes {
			spans, ids = append(spans, e.Span), append(ids, e.ID)
		}
	case "recipients":
		for _, e := range r.Recipients {
			spans, ids = append(spans, e.Span), append(ids, e.ID)
		}
	case "separate":
		for _, e := range r.Separate {
			spans, ids = append(spans, e.Span), append(ids, e.ID)
		}
	}
	last := 0
	for i := range ids {
		if ids[i] == id && spans[i].holds(at, pos) {
			last = i // the last one, so a duplicate is reported where it repeats
		}
	}
	return last
}

func hasSeparate(r Registry, kind, recipient string) bool {
	for _, s := range r.Separate {
		if s.Kind == kind && s.Recipient == recipient {
			return true
		}
	}
	return false
}

func coversSensitive(r Registry, purpose, typ string) bool {
	for _, s := range r.Separate {
		if s.Kind == SeparateSensitive && s.Purpose == purpose && containsString(s.Types, typ) {
			return true
		}
	}
	return false
}

// Validate checks the registry (web/site.json's "registry", beside the
// site configuration s) and the site's references to it against the policy
// versions of m; every problem is a *SiteFieldError, joined. Categories'
// items may name a recipient (Item.Recipient) and permissions a purpose
// (Permission.Uses); those must exist in the current version's registry. A
// nil registry is an error: the build requires one.
//
// The registry is not a field of Site: the browser module would carry its
// types (every type a heap-allocated Site refers to is linked), and it
// needs none of it.
func (r *Registry) Validate(s *Site, m *Manifest) error {
	if r == nil {
		return &SiteFieldError{Field: "registry", Msg: "missing: the purposes, types of information and recipients (the two lists) are required"}
	}
	errs := r.validate(m)
	cur := r.At(m, m.Current().ID)
	for i, c := range s.Categories {
		for kind, items := range map[string][]Item{"cookies": c.Cookies, "storage": c.Storage, "indexedDB": c.IndexedDB, "caches": c.Caches} {
			for j, it := range items {
				if _, ok := cur.Recipient(it.Recipient); it.Recipient != "" && !ok {
					errs = append(errs, &SiteFieldError{Field: "categories[" + strconv.Itoa(i) + "]." + kind + "[" + strconv.Itoa(j) + "].recipient",
						Msg: "unknown recipient " + strconv.Quote(it.Recipient) + " in the current registry"})
				}
			}
		}
	}
	for i, p := range s.Permissions {
		if _, ok := cur.Purpose(p.Uses); p.Uses != "" && !ok {
			errs = append(errs, &SiteFieldError{Field: "permissions[" + strconv.Itoa(i) + "].uses", Msg: "unknown purpose " + strconv.Quote(p.Uses) + " in the current registry"})
		}
	}
	return errors.Join(errs...)
}

// ResolvePermissions fills in each permission of s whose purpose names a
// registry purpose (Uses) instead of a text: its scenario, in the current
// version's registry. The browser module reads the purpose from the result.
func (r *Registry) ResolvePermissions(s *Site, m *Manifest) {
	if r == nil {
		return
	}
	cur := r.At(m, m.Current().ID)
	for i, p := range s.Permissions {
		if pu, ok := cur.Purpose(p.Uses); ok && p.Purpose == (Text{}) {
			s.Permissions[i].Purpose = pu.Scenario
		}
	}
}

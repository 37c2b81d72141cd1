package consent

import "strconv"

// Texts of the policy-change notices.
var (
	textMaterialTitle = Text{"隐私政策有重要更新", "Our privacy policy has changed"}
	textMaterialIntro = Text{"自您确认的 %s 版本以来，我们对隐私政策做了以下重要修改。请您阅读并确认；在您确认之前，您原有的 Cookie 选择保持不变。", "Since version %s, which you acknowledged, we have made the important changes below. Please read them and confirm. Until you do, your cookie choices stay as they were."}
	textDiffSince     = Text{"逐字查看与 %s 版本的差异", "See every word changed since version %s"}
	textReadNew       = Text{"阅读新版隐私政策", "Read the new policy"}
	textAcknowledge   = Text{"我已阅读并同意", "I have read and agree"}
	textMinorTitle    = Text{"隐私政策有小幅修改", "We made small changes to our privacy policy"}
	textMinorOutro    = Text{"这些修改不影响您的权利。继续使用即表示您同意修订后的政策。", "These changes do not affect your rights. If you go on using the service, you accept the revised policy."}
	textSeeChanges    = Text{"查看修改", "See what changed"}
	textDismiss       = Text{"知道了", "OK"}
	textListsChanged  = Text{"两个清单中的变化", "What changed in the two lists"}
	textCollectedList = Text{"已收集个人信息清单", "Personal information we collect"}
	textSharingList   = Text{"第三方信息共享清单", "Third parties we share it with"}
)

// ListURL returns the address of one of the two lists of a version
// (ListCollected or ListSharing) in locale l: /policies/VERSION/LIST, or
// /en/policies/VERSION/LIST in English.
func ListURL(version, list string, l Locale) string {
	if l == En {
		return "/en/policies/" + version + "/" + list
	}
	return "/policies/" + version + "/" + list
}

// ListChangesView lists the changes to the two lists, material ones marked,
// with links to the current version's lists; nil when there are none.
func ListChangesView(changes []ListChange, current string, l Locale) []Node {
	if len(changes) == 0 {
		return nil
	}
	var items []Node
	class := "cm-change cm-lists"
	for _, c := range changes {
		// data-consent-kind stays the contract of the grouped changes
		// (ChangesView); an entry is marked material by its class.
		attrs := A("data-consent-list", c.List)
		if c.Kind.Material() {
			attrs = A("class", "cm-material", "data-consent-list", c.List)
			class = "cm-change cm-material cm-lists"
		}
		items = append(items, El("li", attrs, T(c.Summary.In(l))))
	}
	return []Node{El("section", A("class", class, "data-consent-lists", ""),
		El("h3", nil, T(textListsChanged.In(l))), El("ul", nil, items...),
		El("p", A("class", "cm-links"),
			El("a", A("href", ListURL(current, ListCollected, l)), T(textCollectedList.In(l))),
			T(" · "),
			El("a", A("href", ListURL(current, ListSharing, l)), T(textSharingList.In(l)))))}
}

// KindLabels names each kind of change for people, in the policy's terms.
var KindLabels = map[Kind]Text{
	KindPurposes:   {"处理目的、信息类型与使用方式", "Purposes, types and use of personal information"},
	KindOwnership:  {"所有权与组织架构", "Ownership and organisation"},
	KindRecipients: {"共享、转让或公开披露的对象", "Who receives your information"},
	KindRights:     {"您的权利及其行使方式", "Your rights and how to exercise them"},
	KindContact:    {"负责部门、联系方式与投诉渠道", "Who is responsible, how to reach us and complain"},
	KindRisk:       {"安全影响评估中的高风险", "High risk found by a security impact assessment"},
	KindMinor:      {"其他非重大修改", "Other minor changes"},
}

// DiffURL returns the address of the archive's comparison of two versions.
func DiffURL(from, to string) string { return "/policies/diff/" + from + "/" + to }

// fill puts s where a text has its one %s.
func fill(text, s string) string {
	for i := 0; i+1 < len(text); i++ {
		if text[i] == '%' && text[i+1] == 's' {
			return text[:i] + s + text[i+2:]
		}
	}
	return text
}

// ChangesView lists changes grouped by kind, material kinds first in the
// policy's order, each kind once however many versions it spans.
func ChangesView(changes []Change, l Locale) []Node {
	var out []Node
	for _, k := range Kinds {
		var items []Node
		for _, c := range changes {
			if c.Kind == k {
				items = append(items, El("li", nil, T(c.Summary.In(l))))
			}
		}
		if len(items) == 0 {
			continue
		}
		class := "cm-change"
		if k.Material() {
			class += " cm-material"
		}
		out = append(out, El("section", A("class", class, "data-consent-kind", string(k)),
			El("h3", nil, T(KindLabels[k].In(l))), El("ul", nil, items...)))
	}
	return out
}

// MaterialNoticeView is the prominent notice for a person who acknowledged
// version acked when versions since then changed something material: every
// change since, grouped by kind, what changed in the two lists (lists, as
// the build computed them from the registry; may be nil), a link to the
// word-by-word comparison, and an explicit acknowledgement. It is a modal
// dialog that Esc does not close: only the acknowledgement does.
func MaterialNoticeView(acked string, changes []Change, lists []ListChange, current Version, l Locale) Node {
	body := []Node{
		El("div", A("class", "cm-head"), El("h2", A("class", "cm-title", "id", "cm-notice-title"), T(textMaterialTitle.In(l))), LocaleSwitch(l)),
		El("p", nil, T(fill(textMaterialIntro.In(l), acked))),
	}
	body = append(body, ChangesView(changes, l)...)
	body = append(body, ListChangesView(lists, current.ID, l)...)
	body = append(body,
		El("p", A("class", "cm-links"),
			El("a", A("href", DiffURL(acked, current.ID)), T(fill(textDiffSince.In(l), acked))),
			T(" · "),
			El("a", A("href", PolicyURL(current.ID), "data-consent-policy", current.ID), T(textReadNew.In(l)))),
		El("div", A("class", "cm-actions"), button(string(ActionAcknowledge), textAcknowledge.In(l))))
	return El("dialog", A("class", "cm cm-notice", "lang", string(l), "aria-labelledby", "cm-notice-title",
		"data-consent-notice", string(NoticeMaterial), "data-consent-acked", acked), body...)
}

// MinorNoteView is the light note for a person whose acknowledged version
// differs from the current one only in minor changes: a dismissible region
// with the summaries; going on using the service accepts them.
func MinorNoteView(acked string, changes []Change, current Version, l Locale) Node {
	var items []Node
	for _, c := range changes {
		items = append(items, El("li", nil, T(c.Summary.In(l))))
	}
	return El("section", A("class", "cm cm-note", "lang", string(l), "aria-labelledby", "cm-note-title",
		"data-consent-notice", string(NoticeMinor), "data-consent-acked", acked),
		El("div", A("class", "cm-body"),
			El("div", A("class", "cm-head"), El("h2", A("class", "cm-title", "id", "cm-note-title"), T(textMinorTitle.In(l))), LocaleSwitch(l)),
			El("ul", nil, items...),
			El("p", nil, T(textMinorOutro.In(l)+" "),
				El("a", A("href", DiffURL(acked, current.ID)), T(textSeeChanges.In(l))))),
		El("div", A("class", "cm-actions"), button(string(ActionDismiss), textDismiss.In(l))))
}

// Texts of the advance note.
var (
	textAdvanceTitle = Text{"隐私政策将于 %s 更新", "Our privacy policy changes on %s"}
	textAdvanceOutro = Text{"届时新版本生效；您现在无需做任何事。", "The new version applies from that day; you need not do anything now."}
)

// AdvanceNoteView is the light note for a person who acknowledged current,
// the version in force, about next, published ahead of its date: the day it
// takes effect, its changes and a link to the comparison. It asks for
// nothing; its dismiss control only hides it. data-consent-acked names
// current, the key the loader's notice trees hold it under.
func AdvanceNoteView(current, next Version, l Locale) Node {
	var items []Node
	for _, c := range next.Changes {
		items = append(items, El("li", nil, T(c.Summary.In(l))))
	}
	y, mo, d := next.Effective.Date()
	return El("section", A("class", "cm cm-note cm-advance", "lang", string(l), "aria-labelledby", "cm-advance-title",
		"data-consent-notice", string(NoticeAdvance), "data-consent-acked", current.ID, "data-consent-upcoming", next.ID),
		El("div", A("class", "cm-body"),
			El("div", A("class", "cm-head"), El("h2", A("class", "cm-title", "id", "cm-advance-title"),
				T(fill(textAdvanceTitle.In(l), FormatDate(y, int(mo), d, l))))),
			El("ul", nil, items...),
			El("p", nil, T(textAdvanceOutro.In(l)+" "),
				El("a", A("href", DiffURL(current.ID, next.ID)), T(textSeeChanges.In(l))))),
		El("div", A("class", "cm-actions"), button(string(ActionDismiss), textDismiss.In(l))))
}

// NoticeView returns the notice a person who acknowledged acked sees, and
// false when they see none.
func (m *Manifest) NoticeView(site *Site, acked string, l Locale) (Node, bool) {
	kind, changes := m.NoticeFor(acked)
	switch kind {
	case NoticeBanner:
		return BannerView(site, m.Current(), l), true
	case NoticeMaterial:
		return MaterialNoticeView(acked, changes, m.ListChangesSince(acked), m.Current(), l), true
	case NoticeMinor:
		return MinorNoteView(acked, changes, m.Current(), l), true
	}
	return Node{}, false
}

// FormatDate writes a day as people read it in locale l: "2024年3月1日",
// "1 March 2024". (time.Format would cost the browser module more.)
func FormatDate(y, m, d int, l Locale) string {
	if l == En {
		months := [...]string{"January", "February", "March", "April", "May", "June", "July",
			"August", "September", "October", "November", "December"}
		if m < 1 || m > 12 {
			return ""
		}
		return strconv.Itoa(d) + " " + months[m-1] + " " + strconv.Itoa(y)
	}
	return strconv.Itoa(y) + "年" + strconv.Itoa(m) + "月" + strconv.Itoa(d) + "日"
}

// Texts of the archive's status line.
var (
	textStatusNone    = Text{"您尚未在本网站确认过隐私政策。", "You have not acknowledged a privacy policy on this site yet."}
	textStatusOn      = Text{"您于 ", "On "}
	textStatusAcked   = Text{"确认了 ", " you acknowledged version "}
	textStatusVersion = Text{" 版本。", "."}
	textStatusCurrent = Text{"这是当前版本，您无需再做什么。", "It is the current version: there is nothing more to do."}
	textStatusSince   = Text{"此后的修改如下，您可以在这里确认：", "It has changed since, as below; you can acknowledge the changes here:"}
)

// StatusView tells a person, on the archive pages, which version they
// acknowledged and when, and what changed since, with a way to acknowledge
// it there. acked is "" for a person without consent. The date is left to
// fill in: an empty <time data-consent-date> element.
func (m *Manifest) StatusView(acked string, l Locale) Node {
	attrs := A("class", "cm cm-status", "lang", string(l), "role", "status")
	if _, err := m.Lookup(acked); err != nil {
		return El("div", attrs, El("p", nil, T(textStatusNone.In(l))))
	}
	kids := []Node{El("p", nil, T(textStatusOn.In(l)), El("time", A("data-consent-date", "")),
		T(textStatusAcked.In(l)), El("a", A("href", PolicyURL(acked)), T(acked)), T(textStatusVersion.In(l)))}
	kind, changes := m.NoticeFor(acked)
	if kind == NoticeNone {
		kids = append(kids, El("p", nil, T(textStatusCurrent.In(l))))
		return El("div", attrs, kids...)
	}
	kids = append(kids, El("p", nil, T(textStatusSince.In(l))))
	kids = append(kids, ChangesView(changes, l)...)
	kids = append(kids,
		El("p", A("class", "cm-links"), El("a", A("href", DiffURL(acked, m.Current().ID)), T(fill(textDiffSince.In(l), acked)))),
		El("div", A("class", "cm-actions"), button(string(ActionAcknowledge), textAcknowledge.In(l))))
	return El("div", attrs, kids...)
}

// ISODate writes a day as 2024-03-01, for datetime attributes.
func ISODate(y, m, d int) string {
	two := func(n int) string {
		if n < 10 {
			return "0" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	}
	return strconv.Itoa(y) + "-" + two(m) + "-" + two(d)
}

// CivilDate returns the UTC calendar day of a Unix time, computed directly
// (Howard Hinnant's days-to-civil): time.Time.Date would bring the time-zone
// machinery into the browser module.
func CivilDate(unix int64) (y, m, d int) {
	days := unix / 86400
	if unix < 0 && unix%86400 != 0 {
		days--
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

// Texts of the placeholder of a refused embed.
var (
	textPlaceholder      = Text{"此处的内容由第三方提供，会使用“%s”类 Cookie。您尚未允许该类别，因此它没有加载。", "This content comes from a third party and uses %s cookies. You have not allowed them, so it has not loaded."}
	textPlaceholderGrant = Text{"允许“%s”并加载", "Allow %s and load"}
)

// PlaceholderView stands in for an embed (iframe data-consent=CATEGORY) while
// its category is refused: what it is, and a button that grants the
// category, after which the embed loads.
func PlaceholderView(c Category, l Locale) Node {
	title := c.Title.In(l)
	return El("div", A("class", "cm cm-placeholder", "lang", string(l), "data-consent-placeholder", c.ID),
		El("p", nil, T(fill(textPlaceholder.In(l), title))),
		El("button", A("type", "button", "class", "cm-btn", "data-consent-grant", c.ID), T(fill(textPlaceholderGrant.In(l), title))))
}

package consent

// Separate consent (单独同意) in the browser: the dialog that asks for one
// item with its statutory fields (Registry.Statement), and the privacy
// settings' list of the items granted, each with a way to withdraw it.

// SeparateStatement is a separate-consent item as a person is asked for it:
// its id, title and statutory fields in one locale (Registry.Statement),
// and the SHA-256 (hex) of their exact text, which a receipt of the answer
// carries.
type SeparateStatement struct {
	ID, Title string
	Fields    []StatementField
	SHA256    string
}

// The dialog's and the settings' texts.
var (
	textSeparateKicker = Text{"需要您的单独同意", "This needs your separate consent"}
	textSeparateIntro  = Text{"此项单独征求您的同意，不与其他选择捆绑。不同意不影响您使用其他功能。", "We ask for this on its own, never bundled with another choice. If you do not agree, everything else still works."}
	textSeparateAgree  = Text{"同意", "Agree"}
	textSeparateRefuse = Text{"不同意", "Do not agree"}
	textSeparateTitle  = Text{"单独同意", "Separate consents"}
	textSeparateNone   = Text{"您没有给予任何单独同意。", "You have given no separate consent."}
	textSeparateSince  = Text{"已同意于", "Agreed on"}
	textSeparateOff    = Text{"撤回同意", "Withdraw"}
)

// SeparatePromptView is the dialog asking for item st: its title, its
// statutory fields as a description list, and two equal buttons, agree and
// do not agree (nothing is preselected; Esc is do not agree). Its
// data-consent-statement is the statement's SHA-256, which the module
// records with the answer.
func SeparatePromptView(st SeparateStatement, l Locale) Node {
	var fields []Node
	for _, f := range st.Fields {
		fields = append(fields, El("dt", nil, T(f.Label)), El("dd", nil, T(f.Value)))
	}
	return El("dialog", A("class", "cm cm-notice cm-perm cm-sep", "lang", string(l), "aria-labelledby", "cm-sep-title",
		"data-consent-notice", "separate", "data-consent-separate", st.ID, "data-consent-statement", st.SHA256),
		El("div", A("class", "cm-head"), El("p", A("class", "cm-muted"), T(textSeparateKicker.In(l))),
			El("h2", A("class", "cm-title", "id", "cm-sep-title"), T(st.Title))),
		El("p", A("class", "cm-muted"), T(textSeparateIntro.In(l))),
		El("dl", A("class", "cm-sep-fields"), fields...),
		El("div", A("class", "cm-actions"),
			button(string(ActionRefuseSeparate), textSeparateRefuse.In(l)),
			button(string(ActionAllowSeparate), textSeparateAgree.In(l))))
}

// SeparateListView is the privacy settings' list of separate consents: a row
// per item (li[data-consent-separate]) with its title, the day it was
// granted (time[data-consent-date], which the module fills) and a withdraw
// control, and a paragraph ([data-consent-none]) for none granted. The
// module sets each row's data-state, "on" for granted, else "off"; the
// stylesheet shows the rows on, or else the paragraph.
func SeparateListView(items []SeparateStatement, l Locale) Node {
	var rows []Node
	for _, it := range items {
		rows = append(rows, El("li", A("class", "cm-perm-row", "data-consent-separate", it.ID, "data-state", "on"),
			El("strong", nil, T(it.Title)),
			El("span", A("class", "cm-perm-state", "data-label", "on"), T(textSeparateSince.In(l)+" "), El("time", A("data-consent-date", ""))),
			El("button", A("type", "button", "class", "cm-link", "data-consent-action", string(ActionWithdrawSeparate), "data-consent-separate", it.ID),
				T(textSeparateOff.In(l)))))
	}
	return El("div", A("class", "cm-seps"),
		El("h3", A("class", "cm-title"), T(textSeparateTitle.In(l))),
		El("p", A("data-consent-none", ""), T(textSeparateNone.In(l))),
		El("ul", nil, rows...))
}

package consent

import "strconv"

// The module's own texts, written for people in both locales.
var (
	textBannerTitle   = Text{"我们重视您的隐私", "We respect your privacy"}
	textBannerBody    = Text{"我们使用 Cookie 和匿名标识符来保障网站运行；在您同意后，也会用于记住您的偏好、统计访问情况和衡量推广效果。您可以随时在页面底部的“Cookie 设置”中更改或撤回您的选择。", "We use cookies and anonymous identifiers to keep this site working. With your consent we also use them to remember your preferences, count visits and measure our promotions. You can change or withdraw your choice at any time under “Cookie settings” at the foot of every page."}
	textPolicyLink    = Text{"阅读隐私政策", "Read the privacy policy"}
	textAlwaysOn      = Text{"始终开启", "Always on"}
	textAcceptAll     = Text{"全部接受", "Accept all"}
	textRejectAll     = Text{"全部拒绝", "Reject all"}
	textPreferences   = Text{"偏好设置", "Preferences"}
	textCategoriesFor = Text{"Cookie 类别", "Cookie categories"}
	textGPC           = Text{"您的浏览器发出了“全局隐私控制”（GPC）信号，因此我们默认拒绝所有可选 Cookie。您仍可以自行选择。", "Your browser sends a Global Privacy Control (GPC) signal, so we refuse all optional cookies by default. You can still choose for yourself."}
	textResetID       = Text{"重置匿名标识符", "Reset the anonymous identifier"}
	textPrefsTitle    = Text{"Cookie 偏好设置", "Cookie preferences"}
	textPrefsIntro    = Text{"请选择您允许我们使用的 Cookie 类别。您可以随时回到这里更改，关闭某一类别即撤回对它的同意，我们会删除它保存的数据。", "Choose which kinds of cookies we may use. You can come back here at any time: switching a category off withdraws your consent to it, and we delete what it stored."}
	textSave          = Text{"保存设置", "Save settings"}
	textClose         = Text{"关闭", "Close"}
	textItemsUsed     = Text{"使用的 Cookie 和存储", "Cookies and storage used"}
	textColName       = Text{"名称", "Name"}
	textColProvider   = Text{"提供方", "Provider"}
	textColPurpose    = Text{"用途", "Purpose"}
	textColLifetime   = Text{"有效期", "Lifetime"}
	textRecords       = Text{"您的每一次选择和确认都会生成一份由我们服务器签名的记录，您可以下载并保存。", "Each choice and acknowledgement you make leaves a record signed by our server. You can download yours and keep it."}
	textDownload      = Text{"下载我的同意记录", "Download my consent records"}
)

// PolicyURL returns the address of a policy version's page in the archive.
func PolicyURL(version string) string { return "/policies/" + version }

// BannerView is the first-visit banner: what the site stores and why, a link to
// the current policy, and three controls of equal weight (accept all, reject
// all, preferences). It does not block the page, so it is a labelled region,
// not a modal dialog.
func BannerView(site *Site, policy Version, l Locale) Node {
	var cats []Node
	for _, c := range site.Categories {
		name := []Node{El("strong", nil, T(c.Title.In(l)))}
		if c.Required {
			name = append(name, T(" "), El("span", A("class", "cm-always"), T(textAlwaysOn.In(l))))
		}
		cats = append(cats, El("li", A("data-consent-category", c.ID),
			El("span", A("class", "cm-cat-name"), name...),
			El("span", A("class", "cm-cat-purpose"), T(c.Purpose.In(l)))))
	}
	return El("section", A("class", "cm cm-banner", "lang", string(l), "aria-labelledby", "cm-banner-title", "data-consent-notice", string(NoticeBanner)),
		El("div", A("class", "cm-body"),
			El("div", A("class", "cm-head"), El("h2", A("class", "cm-title", "id", "cm-banner-title"), T(textBannerTitle.In(l))), LocaleSwitch(l)),
			El("p", nil, T(textBannerBody.In(l)+" "),
				El("a", A("href", PolicyURL(policy.ID), "data-consent-policy", policy.ID), T(textPolicyLink.In(l)))),
			// Shown by the loader when the browser sends GPC (or DNT, if honoured).
			El("p", A("class", "cm-gpc", "data-consent-gpc", "", "hidden", ""), T(textGPC.In(l))),
			El("ul", A("class", "cm-cats", "aria-label", textCategoriesFor.In(l)), cats...)),
		El("div", A("class", "cm-actions"),
			button("accept-all", textAcceptAll.In(l)),
			button("reject-all", textRejectAll.In(l)),
			button("open-preferences", textPreferences.In(l))))
}

// LocaleSwitch is the control that shows a notice in the other locale. Its
// label is the other language's name, in that language.
func LocaleSwitch(l Locale) Node {
	other, name := En, "English"
	if l == En {
		other, name = ZhCN, "中文"
	}
	return El("button", A("type", "button", "class", "cm-lang", "lang", string(other), "data-consent-locale", string(other)), T(name))
}

func button(action, label string) Node {
	return El("button", A("type", "button", "class", "cm-btn", "data-consent-action", action), T(label))
}

// PreferencesView is the preferences centre: one switch per category with its
// purpose and the cookies and storage it uses, and save, accept all and
// reject all. It is a modal dialog (the browser module opens it with
// showModal, which traps focus and closes on Esc). Granting and withdrawing a
// category take the same steps: flip its switch, save.
func PreferencesView(site *Site, s State, policy Version, l Locale) Node {
	var cats []Node
	for _, c := range site.Categories {
		input := A("type", "checkbox", "role", "switch", "id", "cm-cat-"+c.ID, "data-consent-category", c.ID)
		if c.Required || s.Has(c.ID) {
			input = append(input, "checked", "")
		}
		if c.Required {
			input = append(input, "disabled", "", "aria-describedby", "cm-always-"+c.ID)
		}
		head := []Node{El("label", A("for", "cm-cat-"+c.ID), El("strong", nil, T(c.Title.In(l))))}
		if c.Required {
			head = append(head, El("span", A("class", "cm-always", "id", "cm-always-"+c.ID), T(textAlwaysOn.In(l))))
		}
		head = append(head, El("input", input))
		kids := []Node{
			El("div", A("class", "cm-cat-head"), head...),
			El("p", A("class", "cm-cat-purpose"), T(c.Purpose.In(l))),
		}
		for _, id := range site.Identifiers {
			if id.Category == c.ID {
				kids = append(kids, El("p", nil, El("button", A("type", "button", "class", "cm-link", "data-consent-reset", id.Name), T(textResetID.In(l)))))
			}
		}
		if items := append(append([]Item(nil), c.Cookies...), c.Storage...); len(items) > 0 {
			head := El("thead", nil, El("tr", nil,
				El("th", A("scope", "col"), T(textColName.In(l))), El("th", A("scope", "col"), T(textColProvider.In(l))),
				El("th", A("scope", "col"), T(textColPurpose.In(l))), El("th", A("scope", "col"), T(textColLifetime.In(l)))))
			var rows []Node
			for _, it := range items {
				rows = append(rows, El("tr", nil,
					El("td", nil, El("code", nil, T(it.Name))), El("td", nil, T(it.Provider)),
					El("td", nil, T(it.Purpose.In(l))), El("td", nil, T(it.Lifetime.In(l)))))
			}
			kids = append(kids, El("details", nil,
				El("summary", nil, T(textItemsUsed.In(l)+" ("+strconv.Itoa(len(items))+")")),
				El("div", A("class", "cm-table-wrap"), El("table", nil, head, El("tbody", nil, rows...)))))
		}
		cats = append(cats, El("section", A("class", "cm-cat", "data-consent-category-panel", c.ID), kids...))
	}
	body := []Node{
		El("div", A("class", "cm-prefs-head"),
			El("h2", A("class", "cm-title", "id", "cm-prefs-title"), T(textPrefsTitle.In(l))),
			LocaleSwitch(l),
			El("button", A("type", "button", "class", "cm-close", "data-consent-action", string(ActionDismiss), "aria-label", textClose.In(l)), T("×"))),
		El("p", nil, T(textPrefsIntro.In(l)+" "),
			El("a", A("href", PolicyURL(policy.ID), "data-consent-policy", policy.ID), T(textPolicyLink.In(l)))),
	}
	body = append(body, cats...)
	body = append(body, El("p", A("class", "cm-records"), T(textRecords.In(l)+" "),
		El("button", A("type", "button", "class", "cm-link", "data-consent-action", string(ActionDownloadHistory)), T(textDownload.In(l)))))
	body = append(body, El("div", A("class", "cm-actions"),
		button(string(ActionSave), textSave.In(l)),
		button(string(ActionAcceptAll), textAcceptAll.In(l)),
		button(string(ActionRejectAll), textRejectAll.In(l))))
	return El("dialog", A("class", "cm cm-prefs", "lang", string(l), "aria-labelledby", "cm-prefs-title", "data-consent-notice", "preferences"), body...)
}

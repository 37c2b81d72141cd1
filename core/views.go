package core

import (
	"strconv"
	"strings"

	"workly.ai/consent"
)

// view returns the pre-rendered view name in the locale shown, and whether it
// exists. The tree is a copy: patching it leaves the configuration alone.
func (c *Core) view(name string) (consent.Node, bool) {
	n, ok := c.cfg.Views[name][c.locale]
	if !ok {
		c.error("no view " + name + " in " + string(c.locale))
	}
	return clone(n), ok
}

func clone(n consent.Node) consent.Node {
	n.Attrs = append([]consent.Attr(nil), n.Attrs...)
	kids := make([]consent.Node, len(n.Kids))
	for i, k := range n.Kids {
		kids[i] = clone(k)
	}
	n.Kids = kids
	return n
}

// patch calls fn with every element of n that has attribute attr.
func patch(n *consent.Node, attr string, fn func(*consent.Node)) {
	if n.Tag == "" {
		return
	}
	if _, ok := attrOf(n, attr); ok {
		fn(n)
	}
	for i := range n.Kids {
		patch(&n.Kids[i], attr, fn)
	}
}

func attrOf(n *consent.Node, name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

func setAttr(n *consent.Node, name, value string) {
	for i, a := range n.Attrs {
		if a.Name == name {
			n.Attrs[i].Value = value
			return
		}
	}
	n.Attrs = append(n.Attrs, consent.Attr{Name: name, Value: value})
}

func delAttr(n *consent.Node, name string) {
	for i, a := range n.Attrs {
		if a.Name == name {
			n.Attrs = append(n.Attrs[:i], n.Attrs[i+1:]...)
			return
		}
	}
}

// signalRefuses reports whether the browser's signals refuse the optional
// categories by default (consent.Site.SignalRefuses).
func (c *Core) signalRefuses() bool { return c.cfg.Site.SignalRefuses(c.page.GPC, c.page.DNT) }

// closeNotices removes every notice and open dialog of the module.
func (c *Core) closeNotices() {
	c.do(Remove{"[data-consent-root],dialog[data-consent-notice],[data-consent-notice=minor]"})
	c.noticeFor, c.minorShown, c.prefsOpen = "", false, false
	if c.perm.prompt != nil {
		c.answerPrompt(consent.ActionRefusePermission)
	}
	c.answerSeparate(consent.AnswerRefused)
}

// notice shows the loader's notice (for version acked, "-" for the banner) in
// the locale shown, in place of the one shown before.
func (c *Core) notice(acked string) {
	key := acked
	if key == "-" {
		key = ""
	}
	n, ok := c.view("notice:" + key)
	if !ok {
		return
	}
	setAttr(&n, "data-consent-root", "")
	if c.signalRefuses() {
		patch(&n, "data-consent-gpc", func(e *consent.Node) { delAttr(e, "hidden") })
	}
	c.do(Show{Name: "notice", Tree: n, Where: "root", Modal: n.Tag == "dialog", Hold: n.Tag == "dialog", Focus: "[data-consent-locale]"})
}

// switchLocale shows every view of the module in locale l: the notice, the
// preferences centre, the archive's status line and the privacy settings.
func (c *Core) switchLocale(l consent.Locale) {
	c.locale = l
	c.do(Storage{Area: "session", Key: localeKey, Value: string(l)})
	if c.noticeFor != "" {
		c.notice(c.noticeFor)
	}
	if c.prefsOpen {
		c.do(Remove{`dialog[data-consent-notice="preferences"]`})
		c.prefsOpen = false
		c.openPreferences()
	}
	c.showStatus()
	if c.page.Permissions {
		c.showPermissions()
	}
}

// showStatus fills every [data-consent-status] element (the archive pages)
// with what the person acknowledged and what changed since, and marks the
// archive's entries ([data-policy-version]) newer than that version.
func (c *Core) showStatus() {
	if !c.page.Status {
		return
	}
	s := c.state
	acked, on, iso := "", "", ""
	if !s.IsZero() {
		acked = s.Policy
		y, mo, d := consent.CivilDate(s.Updated.Unix())
		on, iso = consent.FormatDate(y, mo, d, c.locale), consent.ISODate(y, mo, d)
	}
	n, ok := c.view("status:" + acked)
	if !ok {
		return
	}
	patch(&n, "data-consent-date", func(e *consent.Node) {
		e.Kids = []consent.Node{consent.T(on)}
		setAttr(e, "datetime", iso)
	})
	c.do(Show{Name: "status", Tree: n, Where: "[data-consent-status]"})
	if acked == "" {
		return
	}
	newer := false
	for _, v := range c.cfg.Policies.Versions {
		if newer {
			c.do(SetAttr{`[data-policy-version="` + v.ID + `"]`, "data-consent-since", acked})
		}
		newer = newer || v.ID == acked
	}
}

// openPreferences shows the preferences centre as a modal dialog, with what
// is granted switched on.
func (c *Core) openPreferences() {
	if c.prefsOpen {
		return
	}
	n, ok := c.view("preferences")
	if !ok {
		return
	}
	patch(&n, "data-consent-category", func(e *consent.Node) {
		if id, _ := attrOf(e, "data-consent-category"); e.Tag == "input" && c.state.Has(id) {
			setAttr(e, "checked", "")
		}
	})
	c.prefsOpen = true
	c.do(Show{Name: "preferences", Tree: n, Where: "body", Modal: true})
}

// closePreferences closes the preferences centre without saving.
func (c *Core) closePreferences() {
	if c.prefsOpen {
		c.do(Close{`dialog[data-consent-notice="preferences"]`})
	}
}

// closed is a dialog of the module closed by the person.
func (c *Core) closed(view string) {
	switch view {
	case "preferences":
		c.prefsOpen = false
		c.do(Remove{`dialog[data-consent-notice="preferences"]`})
	case "permission":
		c.answerPrompt(consent.ActionRefusePermission)
	case "separate":
		c.answerSeparate(consent.AnswerRefused) // Esc; nothing once answered
		c.do(Remove{separateSel})
	}
}

// release applies the consent to the page's gated content.
func (c *Core) release() {
	c.blockHosts()
	r := Release{Granted: []string{}, Known: c.cfg.Site.Optional(), Placeholders: map[string]consent.Node{}, Separate: c.separateGranted()}
	for _, id := range r.Known {
		if c.cfg.Site.Releases(&c.cfg.Policies, c.state, id) {
			r.Granted = append(r.Granted, id)
		} else if n, ok := c.cfg.Views["placeholder:"+id][c.locale]; ok {
			r.Placeholders[id] = n
		}
	}
	c.do(r)
}

// clearRefused deletes what the site declared for every optional category
// not granted: matching cookies, on every domain and path a script could
// have used; matching localStorage and sessionStorage keys, IndexedDB
// databases and caches. It runs at start, on every choice and on every sweep,
// so what a third-party script re-created is removed again.
func (c *Core) clearRefused() {
	var refused []consent.Category
	for _, cat := range c.cfg.Site.Categories {
		if !cat.Required && !c.state.Has(cat.ID) {
			refused = append(refused, cat)
		}
	}
	if len(refused) == 0 {
		return
	}
	visible := map[string]bool{}
	var names []string
	for _, part := range splitJar(c.jar.Cookie) {
		name, _, _ := cut(part)
		if !visible[name] {
			visible[name] = true
			names = append(names, name)
		}
	}
	for _, cat := range refused {
		for _, it := range cat.Cookies {
			var del []string
			if !strings.HasSuffix(it.Name, "*") {
				// Only what may exist: a cookie this page could see is in
				// the jar; one on a path outside this page's may be there
				// unseen. (Each deletion is a document.cookie write.)
				if visible[it.Name] || !within(c.page.Path, it.Path) {
					del = append(del, it.Name)
				}
			} else {
				for _, name := range names {
					if it.Matches(name) {
						del = append(del, name)
					}
				}
			}
			for _, name := range del {
				for _, d := range consent.CookieDeletions(name, c.page.Host, c.page.Path, it.Path) {
					c.do(SetCookie{d})
				}
			}
		}
	}
	for _, k := range []struct {
		area string
		keys *[]string
	}{{"local", &c.jar.Local}, {"session", &c.jar.Session}} {
		var left []string
		for _, key := range *k.keys {
			if declared(refused, key, func(c consent.Category) []consent.Item { return c.Storage }) {
				c.do(Storage{Area: k.area, Key: key, Remove: true})
			} else {
				left = append(left, key)
			}
		}
		*k.keys = left
	}
	for _, name := range c.jar.Databases {
		if declared(refused, name, func(c consent.Category) []consent.Item { return c.IndexedDB }) {
			c.do(DeleteDatabase{name})
		}
	}
	for _, name := range c.jar.Caches {
		if declared(refused, name, func(c consent.Category) []consent.Item { return c.Caches }) {
			c.do(DeleteCache{name})
		}
	}
	c.jar.Databases, c.jar.Caches = nil, nil
}

// reportUndeclared warns about cookies the page holds that no category
// declares, so the site owner can declare them (or stop setting them).
func (c *Core) reportUndeclared() {
	var undeclared []string
	for _, part := range splitJar(c.jar.Cookie) {
		name, _, _ := cut(part)
		if name != "" && name != c.cfg.Site.CookieName() &&
			!declared(c.cfg.Site.Categories, name, func(c consent.Category) []consent.Item { return c.Cookies }) {
			undeclared = append(undeclared, name)
		}
	}
	if len(undeclared) > 0 {
		c.warn("cookies no category declares (add them to the site configuration): " + strings.Join(undeclared, ", "))
	}
}

func declared(cats []consent.Category, name string, items func(consent.Category) []consent.Item) bool {
	for _, c := range cats {
		for _, it := range items(c) {
			if it.Matches(name) {
				return true
			}
		}
	}
	return false
}

// ensureIdentifiers makes the anonymous identifiers of granted categories
// that are missing or due for rotation, and resets the one named reset ("" for
// none) whatever its age. Identifiers of refused categories go with the
// category's other cookies (clearRefused).
func (c *Core) ensureIdentifiers(reset string) {
	now := c.now().Unix()
	for _, id := range c.cfg.Site.Identifiers {
		if !c.known(c.state) || !c.state.Has(id.Category) {
			continue
		}
		v := cookieValue(c.jar.Cookie, id.Name)
		if id.Name != reset && !id.Due(v, now) {
			continue
		}
		val := consent.IdentifierValue(c.env.NewID(), now)
		c.do(SetCookie{id.Name + "=" + val + "; Path=/; Max-Age=" + strconv.Itoa(id.RotateDays*86400) + c.scope()})
		c.jar.Cookie = setJar(c.jar.Cookie, id.Name, val)
	}
}

// within reports whether a page at path sees the cookies of cookie path p
// (RFC 6265 path-match; "" is "/").
func within(path, p string) bool {
	p = strings.TrimSuffix(p, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

func splitJar(jar string) []string {
	if jar == "" {
		return nil
	}
	return strings.Split(jar, "; ")
}

func cut(part string) (name, value string, ok bool) { return strings.Cut(part, "=") }

// setJar returns jar with cookie name set to value, as the page will see it.
func setJar(jar, name, value string) string {
	parts := splitJar(jar)
	out := ""
	found := false
	for _, p := range parts {
		if n, _, _ := cut(p); n == name {
			p, found = name+"="+value, true
		}
		if out != "" {
			out += "; "
		}
		out += p
	}
	if !found {
		if out != "" {
			out += "; "
		}
		out += name + "=" + value
	}
	return out
}

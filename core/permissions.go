package core

import (
	"strconv"
	"strings"

	"workly.ai/consent"
)

// Browser permissions are asked for only when the person uses the feature
// that needs them, after the module's own explanation (the pre-prompt); each
// answer is a receipt; a person who declines is not asked again for the
// site's back-off days; the privacy settings ([data-consent-permissions])
// list every permission with its state and a way to switch it off.

// permissionsKey is the localStorage key of the person's answers: lines
// "KIND STATE MS", STATE "refused" (declined the pre-prompt at MS), "off"
// (switched off in the privacy settings) or "granted" (by the browser: what
// counts where navigator.permissions cannot tell, as in Firefox for the
// camera).
const permissionsKey = "consent.permissions"

type permissions struct {
	answers  map[string]answer // stored answers, by kind
	browser  map[string]string // navigator.permissions' state, by kind ("" where it cannot tell)
	recorded map[string]string // the browser's answer last recorded, by kind
	prompt   *asking           // the request open, if any
	shown    consent.Locale    // the locale the privacy settings show, "" before
}

type answer struct {
	state string
	at    int64  // Unix ms
	hash  string // a separate consent's: the SHA-256 of the statement answered
}

// loadAnswers reads stored answers: lines "ID STATE MS", and for separate
// consents "ID STATE MS SHA256".
func loadAnswers(stored string) map[string]answer {
	m := map[string]answer{}
	for _, line := range strings.Split(stored, "\n") {
		if f := strings.Split(line, " "); len(f) == 3 || len(f) == 4 {
			at, _ := strconv.ParseInt(f[2], 10, 64)
			m[f[0]] = answer{state: f[1], at: at}
			if len(f) == 4 {
				m[f[0]] = answer{f[1], at, f[3]}
			}
		}
	}
	return m
}

// storeAnswers writes answers to localStorage key, in loadAnswers' form,
// sorted.
func (c *Core) storeAnswers(key string, answers map[string]answer) {
	keys := sortedKeys(answers)
	var text []byte
	for _, k := range keys {
		e := answers[k]
		text = append(append(append(append(append(text, k...), ' '), e.state...), ' '), strconv.FormatInt(e.at, 10)...)
		if e.hash != "" {
			text = append(append(text, ' '), e.hash...)
		}
		text = append(text, '\n')
	}
	c.do(Storage{Area: "local", Key: key, Value: string(text)})
}

func sortedKeys(m map[string]answer) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ { // a few
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

// asking is an open permission request: the set asked for, the calls waiting
// for its answer, and whether the browser's own prompt is open (after the
// pre-prompt's "continue").
type asking struct {
	set     string
	kinds   []string
	calls   []int
	browser bool
}

func (p *permissions) load(stored string, browser map[string]string) {
	p.answers, p.browser, p.recorded = loadAnswers(stored), map[string]string{}, map[string]string{}
	for k, v := range browser {
		p.browser[k] = v
	}
}

// requestPermission is consent.requestPermission(kind or [kinds], {purpose}).
// It resolves to "granted", "denied" (by the browser) or "refused" (declined
// in the pre-prompt, now or within the back-off). Bad arguments reject;
// asking again while asking waits for the same answer: there is never a
// second prompt.
func (c *Core) requestPermission(ev Event) {
	fail := func(msg string) { c.do(Settle{Call: ev.Call, Err: "consent.requestPermission: " + msg}) }
	if ev.BadArgs != "" {
		fail(ev.BadArgs)
		return
	}
	if len(ev.Kinds) == 0 {
		fail(`want a permission name such as "camera", or a list of them`)
		return
	}
	var known []string
	set := ""
	for _, p := range c.cfg.Site.Permissions {
		known = append(known, p.Kind)
		if contains(ev.Kinds, p.Kind) {
			set += "," + p.Kind
		}
	}
	for _, k := range ev.Kinds {
		if !contains(known, k) {
			fail("unknown permission " + strconv.Quote(k) + " (this site asks for " + strings.Join(known, ", ") + ")")
			return
		}
	}
	set = strings.TrimPrefix(set, ",")
	if !contains(c.cfg.Site.PromptSets(), set) {
		fail("ask for " + set + " one at a time")
		return
	}
	if a := c.perm.prompt; a != nil {
		if a.set != set {
			fail("another permission request is open: ask once it is answered")
			return
		}
		a.calls = append(a.calls, ev.Call)
		return
	}
	kinds := strings.Split(set, ",")
	now := c.now().UnixMilli()
	granted := true
	for _, k := range kinds {
		stored := c.perm.answers[k]
		switch c.perm.browser[k] {
		case "denied":
			c.do(Settle{Call: ev.Call, V: consent.AnswerDenied})
			return
		case "granted":
			granted = granted && stored.state != consent.AnswerOff
		case "prompt":
			granted = false
		default: // the browser cannot tell (Firefox, for the camera): the last answer recorded here
			granted = granted && stored.state == consent.AnswerGranted
		}
		if stored.state == consent.AnswerRefused && now-stored.at < int64(c.cfg.Site.BackoffDays())*86400e3 {
			c.do(Settle{Call: ev.Call, V: consent.AnswerRefused})
			return
		}
	}
	if granted {
		c.do(Settle{Call: ev.Call, V: consent.AnswerGranted})
		return
	}
	n, ok := c.view("permission:" + set)
	if !ok {
		c.do(Settle{Call: ev.Call, V: consent.AnswerRefused})
		return
	}
	if ev.Purpose != "" {
		patch(&n, "data-consent-purpose", func(e *consent.Node) {
			e.Kids = []consent.Node{consent.T(ev.Purpose)}
			delAttr(e, "hidden")
		})
	}
	c.perm.prompt = &asking{set: set, kinds: kinds, calls: []int{ev.Call}}
	c.do(Show{Name: "permission", Tree: n, Where: "body", Modal: true})
}

// answerPrompt answers the open pre-prompt, if any: refused settles the
// request; allowed asks the browser.
func (c *Core) answerPrompt(a consent.Action) {
	p := c.perm.prompt
	if p == nil || p.browser {
		return
	}
	c.do(Remove{`[data-consent-view="permission"]`})
	ans := consent.AnswerRefused
	if a == consent.ActionAllowPermission {
		ans = consent.AnswerAllowed
	}
	c.permissionAnswered(p.kinds, ans, "prompt")
	if ans == consent.AnswerRefused {
		c.settlePrompt(consent.AnswerRefused, "")
		return
	}
	p.browser = true
	c.do(AskBrowser{Call: p.calls[0], Kinds: p.kinds})
}

func (c *Core) settlePrompt(v, err string) {
	for _, call := range c.perm.prompt.calls {
		if err != "" {
			c.do(Settle{Call: call, Err: "consent.requestPermission: " + err})
		} else {
			c.do(Settle{Call: call, V: v})
		}
	}
	c.perm.prompt = nil
}

// answer is the browser's answer to AskBrowser (ev.Call), or a change of a
// permission's state in the browser (ev.Call 0: a person revoking the camera
// in the site settings, say): each becomes a receipt, the privacy settings
// show it, and consent:permission tells the page.
func (c *Core) answer(ev Event) {
	if ev.Call != 0 {
		p := c.perm.prompt
		if p == nil || !p.browser || p.calls[0] != ev.Call {
			return
		}
		if ev.State != consent.AnswerGranted && ev.State != consent.AnswerDenied {
			c.settlePrompt("", ev.State)
			return
		}
		for _, k := range p.kinds {
			c.perm.browser[k] = map[string]string{consent.AnswerGranted: "granted", consent.AnswerDenied: "denied"}[ev.State]
		}
		c.permissionAnswered(p.kinds, ev.State, "browser")
		c.settlePrompt(ev.State, "")
		c.showPermissions()
		return
	}
	c.perm.browser[ev.Permission] = ev.State
	ans := map[string]string{"granted": consent.AnswerGranted, "denied": consent.AnswerDenied}[ev.State]
	if ans == "" {
		ans = consent.AnswerReset
	}
	if c.perm.recorded[ev.Permission] == ans {
		return
	}
	c.permissionAnswered([]string{ev.Permission}, ans, "browser")
	c.do(Dispatch{"consent:permission", map[string]any{"kind": ev.Permission, "state": ans}})
	c.showPermissions()
}

// permissionAnswered records answer for each of kinds, as a receipt and in
// storage (where a refusal starts the back-off and a grant ends "off").
func (c *Core) permissionAnswered(kinds []string, ans, method string) {
	for _, k := range kinds {
		if method == "browser" {
			// The answer to the browser's prompt also comes as a change
			// event: one receipt for one answer.
			if c.perm.recorded[k] == ans {
				continue
			}
			c.perm.recorded[k] = ans
		}
		c.emit(consent.Receipt{Event: consent.EventPermissionAnswered, Permission: k, Answer: ans, Method: method}, c.now())
		switch ans {
		case consent.AnswerRefused, consent.AnswerOff, consent.AnswerGranted:
			c.perm.answers[k] = answer{state: ans, at: c.now().UnixMilli()}
		case consent.AnswerDenied, consent.AnswerReset:
			delete(c.perm.answers, k)
		}
	}
	c.storeAnswers(permissionsKey, c.perm.answers)
}

// switchOff records that the person switched kind off in the privacy
// settings: the site stops using it (consent:permission says so) and asks
// with the pre-prompt before using it again.
func (c *Core) switchOff(kind string) {
	if _, ok := c.cfg.Site.Permission(kind); !ok {
		return
	}
	c.permissionAnswered([]string{kind}, consent.AnswerOff, "preferences")
	c.do(Dispatch{"consent:permission", map[string]any{"kind": kind, "state": consent.AnswerOff}})
	c.showPermissions()
}

// showPermissions fills every [data-consent-permissions] element (the
// privacy settings) with the permissions and their states: "on" when the
// browser grants it and the person has not switched it off, "denied" when
// the browser blocks it, else "off".
func (c *Core) showPermissions() {
	if !c.page.Permissions {
		return
	}
	state := map[string]string{}
	for _, p := range c.cfg.Site.Permissions {
		stored := c.perm.answers[p.Kind].state
		switch c.perm.browser[p.Kind] {
		case "granted":
			state[p.Kind] = "on"
			if stored == consent.AnswerOff {
				state[p.Kind] = "off"
			}
		case "denied":
			state[p.Kind] = "denied"
		case "prompt":
			state[p.Kind] = "off"
		default: // the browser cannot tell: the last answer recorded here
			state[p.Kind] = map[bool]string{true: "on", false: "off"}[stored == consent.AnswerGranted]
		}
	}
	n, ok := c.view("permissions")
	if !ok {
		return
	}
	granted := ""
	patch(&n, "data-state", func(e *consent.Node) {
		if k, ok := attrOf(e, "data-consent-permission"); ok && e.Tag == "li" {
			setAttr(e, "data-state", state[k])
		}
		if k, ok := attrOf(e, "data-consent-separate"); ok {
			granted += c.listSeparate(e, k)
		}
	})
	// Where the settings show already, in this locale, only the states
	// change (focus stays on the control the person used); empty slots, and
	// all of them after a language switch or a change of the separate
	// consents granted, get the view.
	where := "[data-consent-permissions]:empty"
	if c.perm.shown != c.locale || c.sep.shown != granted {
		where = "[data-consent-permissions]"
	}
	c.perm.shown, c.sep.shown = c.locale, granted
	c.do(Show{Name: "permissions", Tree: n, Where: where})
	for _, p := range c.cfg.Site.Permissions {
		c.do(SetAttr{`[data-consent-permissions] li[data-consent-permission="` + p.Kind + `"]`, "data-state", state[p.Kind]})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

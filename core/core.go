// Package core is the browser side's one owner of state: every decision the
// consent module makes in a visitor's browser. It is plain Go (no JavaScript,
// no safejs), tested on the host. Events go in (the page started, a click, an
// API call, a change of storage or of a permission), one at a time, in
// order; effects come out (show or remove a view, write a cookie, release
// gated content, make a receipt, settle a promise). The wasm host runs it in
// a Web Worker; the executor on the page's main thread applies its effects.
package core

import (
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
)

// Config is what the core knows of the site and its policies: the module's
// configuration file, which the build writes (build/assets.go moduleConfig).
type Config struct {
	Site     consent.Site
	Policies consent.Manifest
	// Views are the views the build pre-rendered, by name and locale:
	// "preferences", "notice:"+acked, "status:"+acked, "placeholder:"+category,
	// "permission:"+set, "permissions", "separate:"+item (its
	// data-consent-statement is the statement's SHA-256).
	Views map[string]map[consent.Locale]consent.Node
}

// Env is what the core takes from its surroundings: the clock and fresh ids
// (128 random bits, base64url).
type Env struct {
	Now   func() time.Time
	NewID func() string
}

// Core is the browser module's state and rules. Its zero value is not
// usable: make one with New.
type Core struct {
	cfg *Config
	env Env
	fx  []Effect

	started bool
	page    Page
	jar     Jar
	state   consent.State
	locale  consent.Locale
	subject string // the pending subject: the consent id of receipts made before a first choice

	noticeFor  string   // the version the open notice is for ("-" the banner), "" for none
	minorShown bool     // the minor-change note is shown: leaving is continued use
	leaving    *leaving // what leaving the page records now (nil: nothing)
	prefsOpen  bool
	perm       permissions
	sep        separate
	early      []Event        // events before start, handled after it
	refusals   map[string]int // gated content refused, by why
	lis        listener
}

// New returns a core for the site and policies in cfg.
func New(cfg *Config, env Env) *Core {
	return &Core{cfg: cfg, env: env}
}

// Handle handles one event and returns the effects, in the order they must
// be applied.
func (c *Core) Handle(ev Event) []Effect {
	c.fx = nil
	if !c.started && ev.Kind != EvStart {
		c.early = append(c.early, ev)
		return nil
	}
	c.handle(ev)
	if ev.Kind == EvStart {
		early := c.early
		c.early = nil
		for _, e := range early {
			c.handle(e)
		}
	}
	c.report()
	c.prepareLeaving()
	return c.fx
}

func (c *Core) handle(ev Event) {
	if ev.Jar != nil && ev.Kind != EvStart {
		c.jar = *ev.Jar // what the page stores now
		c.gather(ev.Jar)
	}
	switch ev.Kind {
	case EvStart:
		c.start(ev.Page, ev.Jar)
	case EvClick:
		if ev.Click != nil {
			c.click(*ev.Click)
		}
	case EvCall:
		c.call(ev)
	case EvSweep:
		c.clearRefused()
	case EvAdded:
		// The page added privacy settings to fill (a single-page app
		// rendering them late).
		c.page.Permissions = true
		c.showPermissions()
	case EvAnswer:
		c.answer(ev)
	case EvClosed:
		c.closed(ev.View)
	case EvHide:
		c.hide()
	case EvFailed:
		// Never dropped in silence: the page's console says what did not
		// happen.
		c.error(ev.Name + " failed: " + ev.Result)
	case EvSeen:
		c.seen(ev.Seen)
	case EvBlocked:
		c.blocked(ev.Name)
	case EvRefused:
		c.refusedContent(ev.Name, ev.Result)
	case EvDeleted:
		if ev.Result == "blocked" {
			c.warn("the IndexedDB database " + strconv.Quote(ev.Name) + " of a refused category is held open by a script of this page: it is deleted as soon as that script closes it")
		} else if ev.Result != "deleted" {
			c.error("delete IndexedDB database " + strconv.Quote(ev.Name) + ": " + ev.Result)
		}
	}
}

func (c *Core) do(e ...Effect)   { c.fx = append(c.fx, e...) }
func (c *Core) warn(msg string)  { c.do(Log{"warn", "consent: " + msg}) }
func (c *Core) error(msg string) { c.do(Log{"error", "consent: " + msg}) }
func (c *Core) now() time.Time   { return c.env.Now() }

// State is the person's consent state now.
func (c *Core) State() consent.State { return c.state }

func (c *Core) current() consent.Version { return c.cfg.Policies.Current() }

// known reports whether a state counts: a choice under a policy version this
// site published. Anything else is no consent.
func (c *Core) known(s consent.State) bool {
	if s.IsZero() {
		return false
	}
	_, err := c.cfg.Policies.Lookup(s.Policy)
	return err == nil
}

// start takes the page's snapshot: it reads the consent cookie, clears what
// is refused, records what the loader showed, applies the clicks it queued
// and resolves consent.ready.
func (c *Core) start(p *Page, j *Jar) {
	if p != nil {
		c.page = *p
	}
	if j != nil {
		c.jar = *j
	}
	c.started = true
	c.subject = c.page.Subject
	c.locale = consent.ChooseLocale(append([]string{c.page.Switched, c.page.Lang}, c.page.Langs...)...)
	c.perm.load(c.page.Answers, c.page.Browser)
	c.sep.answers = loadAnswers(c.page.Separate)
	c.startListener()
	if raw := cookieValue(c.jar.Cookie, c.cfg.Site.CookieName()); raw != "" {
		s, err := consent.DecodeCookie(raw)
		if err != nil {
			// A malformed or tampered cookie means no consent: replace it.
			c.warn("ignoring a malformed consent cookie")
			c.do(SetCookie{c.cfg.Site.CookieName() + "=; Path=/; Max-Age=0" + c.scope()},
				Storage{Area: "local", Key: writtenKey, Remove: true})
		}
		c.state = s
		if err == nil && !c.page.Vouched {
			// A page script's cookie, or one tossed from a sibling subdomain:
			// no consent (nothing is granted, so every refusal holds), and
			// the cookie is left as it is.
			c.warn("the consent cookie has no valid proof from the server: it grants nothing (the module agrees with the loader)")
			c.state = consent.State{}
		}
	}
	if !c.known(c.state) {
		c.state = consent.State{}
	}
	c.clearRefused()
	// What the loader painted: the banner for no consent, else the notice of
	// a newer version (unless a queued click hid it already).
	if c.page.Shown != "" {
		c.noticeFor = c.page.Shown
		if c.state.IsZero() {
			c.emit(consent.Receipt{Event: consent.EventBannerShown, Method: "banner"}, c.now())
		} else if kind, _ := c.cfg.Policies.NoticeFor(c.state.Policy); kind != consent.NoticeNone {
			c.minorShown = kind == consent.NoticeMinor && !c.page.Hidden
			c.emit(consent.Receipt{Event: consent.EventNoticeDisplayed, Method: "notice"}, c.now())
		}
	}
	// Once a browser session, have the server set a returning person's
	// cookie again too: one written before, or while the server was away.
	if !c.state.IsZero() && !c.page.Refreshed {
		c.do(Storage{Area: "session", Key: refreshedKey, Value: "1"}, RefreshCookie{})
	}
	for _, q := range c.page.Queue {
		// A queued click happened during this page load: never earlier.
		if q.At < c.page.Started || q.At > c.now().UnixMilli() {
			q.At = c.now().UnixMilli()
		}
		c.click(q)
	}
	c.ensureIdentifiers("")
	c.release()
	c.reportUndeclared()
	c.showStatus()
	if c.page.Permissions {
		c.showPermissions()
	}
	c.do(StateNow{c.stateValue()})
}

// refreshedKey is the sessionStorage key that says the server has set the
// consent cookie again in this browser session.
const refreshedKey = "consent.refreshed"

// writtenKey is the localStorage key of the consent cookie this origin's
// module wrote last: the loader believes it without the server's proof (the
// person's own choice, its receipt not yet acknowledged).
const writtenKey = "consent.written"

// localeKey is the sessionStorage key of the locale a person switched to.
const localeKey = "consent.locale"

// stateValue is the state as window.consent.state() returns it: nil for no
// consent, else {id, policy, current, granted, given, updated}, times in Unix
// seconds, the shape the loader returns before the module loads.
func (c *Core) stateValue() map[string]any {
	s := c.state
	if s.IsZero() {
		return nil
	}
	granted := []any{}
	for _, g := range s.Granted {
		granted = append(granted, g)
	}
	return map[string]any{
		"id": s.ID, "policy": s.Policy, "current": s.Policy == c.current().ID,
		"granted": granted, "given": s.Given.Unix(), "updated": s.Updated.Unix(),
	}
}

// click performs a click on a control.
func (c *Core) click(k Click) {
	at := time.UnixMilli(k.At)
	if k.At == 0 {
		at = c.now()
	}
	switch k.Action {
	case HookLocale:
		if !k.InView {
			return
		}
		if l, ok := consent.MatchLocale(k.Value); ok {
			c.switchLocale(l)
		}
		return
	case HookGrant:
		if k.InView {
			c.choose(append(append([]string(nil), c.state.Granted...), k.Value), "placeholder", at)
		}
		return
	case HookReset:
		if k.InView {
			c.ensureIdentifiers(k.Value)
			c.emit(consent.Receipt{Event: consent.EventIdentifierReset, Method: methodFor(k.Notice)}, c.now())
		}
		return
	}
	// Page elements may open the preferences centre and nothing else:
	// markup injected into the page cannot choose for the person.
	if k.Action != consent.ActionOpenPreferences && !k.InView {
		c.warn("ignoring data-consent-action=" + strconv.Quote(string(k.Action)) +
			" outside the module's views: a page control may only open the preferences")
		return
	}
	method := methodFor(k.Notice)
	switch k.Action {
	case consent.ActionAcceptAll:
		c.choose(c.cfg.Site.Optional(), method, at)
	case consent.ActionRejectAll:
		c.choose(nil, method, at)
	case consent.ActionSave:
		on := c.state.Granted
		if c.prefsOpen {
			on = k.On
		}
		c.choose(on, method, at)
	case consent.ActionOpenPreferences:
		c.openPreferences()
	case consent.ActionDownloadHistory:
		y, mo, d := consent.CivilDate(c.now().Unix())
		c.do(Download{"consent-records-" + consent.ISODate(y, mo, d) + ".json"})
	case consent.ActionAllowPermission, consent.ActionRefusePermission:
		c.answerPrompt(k.Action)
	case consent.ActionPermissionOff:
		c.switchOff(k.Value)
	case consent.ActionAllowSeparate:
		c.answerSeparate(consent.AnswerGranted)
	case consent.ActionRefuseSeparate:
		c.answerSeparate(consent.AnswerRefused)
	case consent.ActionWithdrawSeparate:
		c.withdrawSeparate(k.Value)
	case consent.ActionAcknowledge:
		c.acknowledge(method, at)
	case consent.ActionDismiss:
		if k.Notice == "advance" { // the advance note, which the loader hides for good
			c.do(Remove{`[data-consent-notice="advance"]`})
			c.noticeFor = ""
			return
		}
		c.closePreferences()
		// Dismissing the minor-change note is going on using the service.
		if kind, _ := c.cfg.Policies.NoticeFor(c.state.Policy); kind == consent.NoticeMinor && !c.state.IsZero() {
			c.acknowledge(method, at)
		}
	default:
		c.warn("unknown action " + string(k.Action))
	}
}

// methodFor is the receipt method of a control in the view whose
// data-consent-notice is kind ("" outside the module's views).
func methodFor(kind string) string {
	switch kind {
	case "":
		return "page"
	case "banner", "preferences":
		return kind
	}
	return "notice"
}

// call answers a window.consent method.
func (c *Core) call(ev Event) {
	fail := func(err string) { c.do(Settle{Call: ev.Call, Err: "consent." + ev.Method + ": " + err}) }
	done := func() { c.do(Settle{Call: ev.Call, V: c.stateValue()}) }
	switch ev.Method {
	case "acceptAll":
		c.choose(c.cfg.Site.Optional(), "api", c.now())
		done()
	case "rejectAll":
		c.choose(nil, "api", c.now())
		done()
	case "set":
		granted, err := c.grantsFrom(ev)
		if err != "" {
			fail(err)
			return
		}
		c.choose(granted, "api", c.now())
		done()
	case "openPreferences":
		c.openPreferences()
		done()
	case "acknowledge":
		c.acknowledge("api", c.now())
		done()
	case "history":
		c.do(History{ev.Call})
	case "requestPermission":
		c.requestPermission(ev)
	case "requestSeparateConsent":
		c.requestSeparate(ev)
	default:
		fail("no such method")
	}
}

// grantsFrom reads set({category: bool, ...}): categories not named keep
// their current state; unknown or required ones are an error.
func (c *Core) grantsFrom(ev Event) ([]string, string) {
	if ev.BadArgs != "" || ev.Set == nil {
		return nil, "set wants an object such as {analytics: true}"
	}
	want := map[string]bool{}
	for _, g := range c.state.Granted {
		want[g] = true
	}
	for name, on := range ev.Set {
		cat, ok := c.cfg.Site.Category(name)
		if !ok {
			return nil, "unknown category " + strconv.Quote(name)
		}
		if cat.Required {
			return nil, "category " + strconv.Quote(name) + " is strictly necessary and always on"
		}
		want[name] = on
	}
	var granted []string
	for _, id := range c.cfg.Site.Optional() {
		if want[id] {
			granted = append(granted, id)
		}
	}
	return granted, ""
}

// choose records a choice of exactly the granted optional categories, made
// by method at time at: it writes the cookie, makes the receipt, clears what
// is now refused, removes the notices, runs newly granted content and
// announces the change.
func (c *Core) choose(granted []string, method string, at time.Time) {
	c.record(granted, "", method, at)
	c.clearRefused()
	c.closeNotices()
	c.ensureIdentifiers("")
	c.release()
	c.do(ConsentMode{c.grantedNow()})
	c.showStatus()
	c.do(StateNow{c.stateValue()}, Dispatch{"consent:change", c.stateValue()})
}

// record decides the new state, writes the consent cookie, has the server set
// it again and makes the receipt of event ev (for "", the choice's).
func (c *Core) record(granted []string, ev consent.Event, method string, at time.Time) {
	next := consent.Decide(c.state, &c.cfg.Site, granted, c.current().ID, at, c.firstID)
	v, err := consent.EncodeCookie(next)
	if err != nil {
		c.error("write consent cookie: " + err.Error())
		return
	}
	c.do(SetCookie{c.consentCookie(v)}, Storage{Area: "local", Key: writtenKey, Value: v})
	if ev == "" {
		ev = consent.ChoiceEvent(c.state, next)
	}
	c.state = next
	c.emit(consent.Receipt{Event: ev, Method: method}, at)
	c.do(RefreshCookie{})
}

func (c *Core) consentCookie(v string) string {
	return c.cfg.Site.CookieName() + "=" + v + "; Path=/; Max-Age=" +
		strconv.Itoa(c.cfg.Site.Cookie.MaxAgeDays*86400) + c.scope()
}

// firstID is the consent id of a first choice: the subject of the receipts
// made before it (banner shown), so that they and the choice form one chain.
func (c *Core) firstID() string {
	id := c.subject
	c.subject = ""
	if id == "" {
		id = c.env.NewID()
	}
	return id
}

// emit makes receipt r (its event, method and, for permissions, permission
// and answer set) for the state now, at time at.
func (c *Core) emit(r consent.Receipt, at time.Time) {
	c.do(c.receipt(c.state, r, at))
}

// receipt completes r, made at at under state s, into its effect.
func (c *Core) receipt(s consent.State, r consent.Receipt, at time.Time) Receipt {
	v := c.current()
	r.ID, r.Subject, r.Policy, r.PolicySHA256, r.Locale, r.Granted, r.Time = c.env.NewID(), s.ID, v.ID, v.SHA256, c.locale, s.Granted, at
	r.GPC = c.page.GPC
	r.DNT = c.cfg.Site.HonorDNT && c.page.DNT == "1"
	if r.Subject == "" {
		if c.subject == "" {
			c.subject = c.env.NewID()
		}
		r.Subject = c.subject
	}
	return Receipt{ID: r.ID, Subject: r.Subject, Wire: string(consent.AppendReceiptJSON(nil, r)), Pending: c.subject}
}

// acknowledge accepts the current policy version, keeping every choice as it
// was. A person without consent has nothing to acknowledge: they choose.
func (c *Core) acknowledge(method string, at time.Time) {
	if c.state.IsZero() || c.state.Policy == c.current().ID {
		return
	}
	c.choose(c.state.Granted, method, at)
}

// grantedNow is the granted categories that count (none for no consent).
func (c *Core) grantedNow() []string {
	if !c.known(c.state) {
		return []string{}
	}
	return append([]string{}, c.state.Granted...)
}

// scope returns the attributes that scope the module's cookies: SameSite=Lax,
// Secure on https, and the configured Domain when the page is on that domain
// or a subdomain of it (elsewhere, such as localhost during development, the
// cookie is host-only: a browser refuses a foreign Domain).
func (c *Core) scope() string {
	attrs := "; SameSite=Lax"
	host := c.page.Host
	if d := c.cfg.Site.Cookie.Domain; d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
		attrs += "; Domain=" + d
	}
	if c.page.HTTPS {
		attrs += "; Secure"
	}
	return attrs
}

// cookieValue returns the value of cookie name in a document.cookie string.
func cookieValue(jar, name string) string {
	for _, part := range strings.Split(jar, "; ") {
		if k, v, ok := strings.Cut(part, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// leaving is continued use prepared in advance: the state it decides and
// its receipt.
type leaving struct {
	state   consent.State
	receipt Receipt
}

// hide is the page being hidden: with the minor-change note shown, leaving
// is continued use (policy section 8(三)), which acknowledges the revised
// version. The executor has set the prepared cookie and kept the prepared
// receipt already (OnHide); this is the same receipt, for this page's
// outbox.
func (c *Core) hide() {
	if c.leaving == nil {
		return
	}
	c.state = c.leaving.state
	c.do(c.leaving.receipt, OnHide{})
	c.leaving, c.minorShown = nil, false
}

// prepareLeaving keeps the executor's OnHide in step with the page: while
// the minor-change note is shown, the continued-use cookie and receipt,
// made once (their time is when the note was shown: what leaving the page
// accepts); once it is not, nothing.
func (c *Core) prepareLeaving() {
	due := c.minorShown && !c.state.IsZero() && c.state.Policy != c.current().ID
	if due == (c.leaving != nil) {
		return
	}
	if !due {
		c.leaving = nil
		c.do(OnHide{})
		return
	}
	at := c.now()
	next := consent.Decide(c.state, &c.cfg.Site, c.state.Granted, c.current().ID, at, c.env.NewID)
	v, err := consent.EncodeCookie(next)
	if err != nil {
		return
	}
	c.leaving = &leaving{next, c.receipt(next, consent.Receipt{Event: consent.EventContinuedUse, Method: "notice"}, at)}
	c.do(OnHide{Cookie: c.consentCookie(v), Written: v, Receipt: c.leaving.receipt})
}

//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// queueKey is the sessionStorage key where the loader queues clicks made
// before the module loaded.
const queueKey = "consent.queue"

// refreshedKey is the sessionStorage key that says the server has set the
// consent cookie again in this browser session (see refreshCookie).
const refreshedKey = "consent.refreshed"

// module is the running browser module.
type module struct {
	cfg *config
	now func() time.Time

	mu    sync.Mutex // guards state; JS callbacks and goroutines share it
	state consent.State

	api    safejs.Value
	funcs  []safejs.Func // kept alive for the page's lifetime
	styled chan struct{} // closed once module.css has loaded (or failed)

	actions    serial      // clicks and API calls, one at a time, in order
	out        receipts    // the receipt outbox and its sender
	perm       permissions // permission pre-prompts
	minorShown bool        // the minor-change note was shown: leaving is continued use
}

func newModule(configJSON safejs.Value) (*module, error) {
	cfg, err := loadConfig(configJSON)
	if err != nil {
		return nil, err
	}
	return &module{cfg: cfg, now: time.Now}, nil
}

// start reads the consent cookie, installs the API and the click handler,
// applies queued clicks and resolves consent.ready.
func (m *module) start() error {
	raw, err := readCookie(m.cfg.site.CookieName())
	if err != nil {
		return fmt.Errorf("read consent cookie: %w", err)
	}
	if raw != "" {
		s, err := consent.DecodeCookie(raw)
		if err != nil {
			// A malformed or tampered cookie means no consent: replace it.
			consoleWarn("consent: ignoring a malformed consent cookie")
			clearConsentCookie(&m.cfg.site)
		} else if !cookieVouched() {
			// Not the server's (nor this origin's own, unacknowledged):
			// it grants nothing. Left as it is: it may be the person's
			// choice on another subdomain, waiting for its receipt.
			s = consent.State{}
		}
		m.state = s
	}
	if !m.known(m.state) {
		m.state = consent.State{}
	}
	// No consent refuses every optional category: whatever a script stored
	// without consent, or re-created after a refusal, goes now.
	if err := m.clearRefused(m.state); err != nil {
		consoleError("consent: clear refused categories: " + err.Error())
	}
	if err := m.installAPI(); err != nil {
		return fmt.Errorf("install window.consent: %w", err)
	}
	if m.cfg.own, err = m.api.Get("_views"); err != nil || m.cfg.own.Type() != safejs.TypeObject {
		if m.cfg.own, err = newJS("WeakSet"); err != nil {
			return err
		}
	}
	// What the loader painted (or, with clicks queued, painted on the page
	// before): the banner for no consent, else a notice of a newer version.
	if m.state.IsZero() {
		m.emit(consent.EventBannerShown, m.state, "banner", m.now())
	} else if kind, _ := m.cfg.policies.NoticeFor(m.state.Policy); kind != consent.NoticeNone {
		m.minorShown = kind == consent.NoticeMinor
		m.emit(consent.EventNoticeDisplayed, m.state, "notice", m.now())
	}
	if err := m.startReceipts(); err != nil {
		return fmt.Errorf("receipts: %w", err)
	}
	// Once a browser session, have the server set a returning person's
	// cookie again too: one written before, or while the server was away.
	if store, err := global("sessionStorage"); err == nil && !m.state.IsZero() {
		if v, err := store.Call("getItem", refreshedKey); err == nil && v.IsNull() {
			store.Call("setItem", refreshedKey, "1")
			m.refreshCookie()
		}
	}
	if err := m.loadStylesheet(); err != nil {
		return fmt.Errorf("load module.css: %w", err)
	}
	if err := m.listenClicks(); err != nil {
		return err
	}
	if err := m.applyQueue(); err != nil {
		consoleError("consent: " + err.Error())
	}
	for _, step := range []func() error{
		func() error { return m.ensureIdentifiers("") },
		m.release,
		m.watchPage,
		m.reportUndeclared,
	} {
		if err := step(); err != nil {
			consoleError("consent: " + err.Error())
		}
	}
	if err := m.showStatus(); err != nil {
		consoleError("consent: " + err.Error())
	}
	go func() {
		var kinds []string
		for _, p := range m.cfg.site.Permissions {
			kinds = append(kinds, p.Kind)
		}
		m.watchPermissions(kinds)
		m.showPermissions()
	}()
	// Actions that arrived during the start (clicks, API calls) run now, in
	// order, after it.
	m.actions.run()
	resolve, err := m.api.Get("_resolve")
	if err != nil {
		return err
	}
	if resolve.Type() == safejs.TypeFunction {
		if _, err := resolve.Invoke(m.stateValue()); err != nil {
			return err
		}
	}
	return nil
}

// current returns the state, safe for concurrent use.
func (m *module) current() consent.State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state
}

// currentPolicy is the newest policy version.
func (m *module) currentPolicy() consent.Version { return m.cfg.policies.Current() }

// stateValue is the state as window.consent.state() returns it: null for no
// consent, else {id, policy, current, granted, given, updated} with times in
// Unix seconds, the shape the loader returns before the module loads.
func (m *module) stateValue() any {
	s := m.current()
	if s.IsZero() {
		return nil
	}
	return map[string]any{
		"id": s.ID, "policy": s.Policy, "current": s.Policy == m.currentPolicy().ID,
		"granted": jsStrings(s.Granted), "given": s.Given.Unix(), "updated": s.Updated.Unix(),
	}
}

// choose records a choice of exactly the granted optional categories, made
// by method (a receipt's Method) at time at: it writes the cookie, makes the
// receipt, removes the notices, runs newly granted scripts and announces the
// change with a consent:change event.
//
// It waits on promises (clearing databases): call it from a goroutine, never
// from a JS callback.
func (m *module) choose(granted []string, method string, at time.Time) error {
	next, err := m.record(granted, "", method, at)
	if err != nil {
		return err
	}
	if err := m.clearRefused(next); err != nil {
		return fmt.Errorf("clear refused categories: %w", err)
	}
	if err := m.closeNotices(); err != nil {
		return err
	}
	if err := m.ensureIdentifiers(""); err != nil {
		return fmt.Errorf("anonymous identifiers: %w", err)
	}
	if err := m.release(); err != nil {
		return fmt.Errorf("release gated content: %w", err)
	}
	if err := m.signalConsentMode(); err != nil {
		return fmt.Errorf("consent mode: %w", err)
	}
	if err := m.showStatus(); err != nil {
		return err
	}
	return m.announce()
}

// record decides the new state, writes the consent cookie (and has the
// server set it again: refreshCookie) and puts the receipt of event ev (for
// "", the choice's: consent.ChoiceEvent) in the outbox, without waiting on
// anything: safe inside a JS callback.
func (m *module) record(granted []string, ev consent.Event, method string, at time.Time) (consent.State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	next := consent.Decide(m.state, &m.cfg.site, granted, m.currentPolicy().ID, at, m.firstID)
	if err := writeConsentCookie(&m.cfg.site, next); err != nil {
		return consent.State{}, fmt.Errorf("write consent cookie: %w", err)
	}
	if ev == "" {
		ev = consent.ChoiceEvent(m.state, next)
	}
	m.state = next
	m.emit(ev, next, method, at)
	m.refreshCookie()
	return next, nil
}

// announce dispatches consent:change on window with the state as detail.
func (m *module) announce() error { return m.announceEvent("consent:change", m.stateValue()) }

// announceEvent dispatches the CustomEvent name on window.
func (m *module) announceEvent(name string, detail any) error {
	ctor, err := global("CustomEvent")
	if err != nil {
		return err
	}
	ev, err := ctor.New(name, map[string]any{"detail": detail})
	if err != nil {
		return err
	}
	_, err = call("window", "dispatchEvent", ev)
	return err
}

// act performs a notice control's action, taken in the view named by method
// (see methodOf) at time at.
func (m *module) act(a consent.Action, method string, at time.Time) error {
	switch a {
	case consent.ActionAcceptAll:
		return m.choose(m.cfg.site.Optional(), method, at)
	case consent.ActionRejectAll:
		return m.choose(nil, method, at)
	case consent.ActionSave:
		granted, err := m.switchedOn()
		if err != nil {
			return err
		}
		return m.choose(granted, method, at)
	case consent.ActionOpenPreferences:
		return m.openPreferences()
	case consent.ActionDownloadHistory:
		return m.downloadHistory()
	case consent.ActionAllowPermission, consent.ActionRefusePermission:
		m.answerPrompt(a)
		return nil
	case consent.ActionAcknowledge:
		return m.acknowledge(method, at)
	case consent.ActionDismiss:
		if err := m.closePreferences(); err != nil {
			return err
		}
		// Dismissing the minor-change note is going on using the service.
		if kind, _ := m.cfg.policies.NoticeFor(m.current().Policy); kind == consent.NoticeMinor {
			return m.acknowledge(method, at)
		}
		return nil
	}
	consoleWarn("consent: unknown action " + string(a))
	return nil
}

// acknowledge accepts the current policy version, keeping every choice as it
// was. A person without consent has nothing to acknowledge: they choose.
func (m *module) acknowledge(method string, at time.Time) error {
	s := m.current()
	if s.IsZero() || s.Policy == m.currentPolicy().ID {
		return nil
	}
	return m.choose(s.Granted, method, at)
}

// methodOf is the receipt method of a control: the module view it sits in,
// else "page" (a control of the site's own page).
func methodOf(control safejs.Value) string {
	kind := ""
	if v, err := control.Call("closest", "[data-consent-notice]"); err == nil && !v.IsNull() {
		k, _ := v.Call("getAttribute", "data-consent-notice")
		kind, _ = k.String()
	}
	return methodFor(kind)
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

// known reports whether a person's state counts: they chose, under a policy
// version this site published. Anything else is no consent.
func (m *module) known(s consent.State) bool {
	if s.IsZero() {
		return false
	}
	_, err := m.cfg.policies.Lookup(s.Policy)
	return err == nil
}

// applyQueue performs the clicks the loader queued before the module loaded,
// in order, then empties the queue.
func (m *module) applyQueue() error {
	store, err := global("sessionStorage")
	if err != nil {
		return nil // storage disabled: nothing can have been queued
	}
	raw, err := store.Call("getItem", queueKey)
	if err != nil || raw.IsNull() {
		return nil
	}
	store.Call("removeItem", queueKey)
	s, _ := raw.String()
	list, err := call("JSON", "parse", s)
	if err != nil {
		return errors.New("ignoring a malformed click queue")
	}
	// Each click: {a: action, t: time (ms), n: the notice it was in}.
	var r jsReader
	for _, item := range r.list(list, "") {
		if a := r.str(item, "a"); a != "" {
			at := m.now()
			if t := r.int(item, "t"); t > 0 {
				at = time.UnixMilli(int64(t))
			}
			if err := m.act(consent.Action(a), methodFor(r.str(item, "n")), at); err != nil {
				return err
			}
		}
	}
	return r.err
}

// listenClicks handles clicks on every [data-consent-action] control of the
// page from now on (the loader stops queueing once api._apply exists).
func (m *module) listenClicks() error {
	fn, err := callback("click", func(_ safejs.Value, args []safejs.Value) any {
		if len(args) == 0 {
			return nil
		}
		target, err := args[0].Get("target")
		if err != nil || target.Type() != safejs.TypeObject {
			return nil
		}
		if sw, err := target.Call("closest", "[data-consent-locale]"); err == nil && !sw.IsNull() && m.cfg.inView(sw) {
			name, _ := sw.Call("getAttribute", "data-consent-locale")
			s, _ := name.String()
			if l, ok := consent.MatchLocale(s); ok {
				m.actions.enqueue(func() {
					if err := m.switchLocale(l); err != nil {
						consoleError("consent: switch language: " + err.Error())
					}
				})
			}
			return nil
		}
		for _, hook := range []string{"data-consent-grant", "data-consent-reset"} {
			el, err := target.Call("closest", "["+hook+"]")
			if err != nil || el.IsNull() || !m.cfg.inView(el) {
				continue
			}
			v, _ := el.Call("getAttribute", hook)
			name, _ := v.String()
			m.actions.enqueue(func() {
				var err error
				if hook == "data-consent-grant" {
					err = m.choose(append(m.current().Granted, name), "placeholder", m.now())
				} else if err = m.ensureIdentifiers(name); err == nil {
					m.emit(consent.EventIdentifierReset, m.current(), methodOf(el), m.now())
				}
				if err != nil {
					consoleError("consent: " + hook + ": " + err.Error())
				}
			})
			return nil
		}
		el, err := target.Call("closest", "[data-consent-action]")
		if err != nil || el.IsNull() {
			return nil
		}
		name, _ := el.Call("getAttribute", "data-consent-action")
		action, _ := name.String()
		// Page elements may open the preferences centre and nothing else:
		// markup injected into the page cannot choose for the person.
		if consent.Action(action) != consent.ActionOpenPreferences && !m.cfg.inView(el) {
			consoleWarn("consent: ignoring data-consent-action=" + strconv.Quote(action) +
				" outside the module's views: a page control may only open the preferences")
			return nil
		}
		args[0].Call("preventDefault")
		method, at := methodOf(el), m.now()
		if consent.Action(action) == consent.ActionPermissionOff {
			kind, _ := el.Call("getAttribute", "data-consent-permission")
			m.actions.enqueue(func() { m.switchOff(jsString(kind)) })
			return nil
		}
		m.actions.enqueue(func() {
			if err := m.act(consent.Action(action), method, at); err != nil {
				consoleError("consent: " + action + ": " + err.Error())
			}
		})
		return nil
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, fn)
	if _, err := call("document", "addEventListener", "click", fn); err != nil {
		return err
	}
	return m.api.Set("_apply", true)
}

// newID returns 128 random bits from crypto.getRandomValues, base64url: a
// consent or receipt id. (crypto/rand would do the same at a higher cost in
// module size.) It panics if the browser has no crypto.getRandomValues, which
// every browser able to run the module has; callers run under a recover.
func newID() string {
	ctor, err := global("Uint8Array")
	if err != nil {
		panic(err)
	}
	arr, err := ctor.New(16)
	if err != nil {
		panic(err)
	}
	if _, err := call("crypto", "getRandomValues", arr); err != nil {
		panic(err)
	}
	var b [16]byte
	if _, err := safejs.CopyBytesToGo(b[:], arr); err != nil {
		panic(err)
	}
	return base64URL(b[:])
}

// base64URL encodes b as base64url without padding (encoding/base64 would
// cost the module more than these lines).
func base64URL(b []byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	out := make([]byte, 0, (len(b)*8+5)/6)
	var acc uint
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint(c)
		bits += 8
		for bits >= 6 {
			bits -= 6
			out = append(out, alphabet[acc>>uint(bits)&63])
		}
	}
	if bits > 0 {
		out = append(out, alphabet[acc<<uint(6-bits)&63])
	}
	return string(out)
}

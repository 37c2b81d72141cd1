//go:build js && wasm

package main

import (
	"strconv"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// release applies the consent to the page's gated content: scripts
// (script type="text/plain" data-consent=CATEGORY) of granted categories run,
// with their attributes and nonce; embeds (iframe data-consent=CATEGORY
// data-src=URL) of granted categories load, and those of refused ones show a
// placeholder that can grant the category. Elements naming a category the
// site does not know are left alone, with a console warning. It is called on
// every change and for every element added to the page later.
func (m *module) release() error {
	s := m.current()
	granted := func(c string) bool { return m.cfg.site.Releases(&m.cfg.policies, s, c) }
	els, err := querySelectorAll(`script[type="text/plain"][data-consent], iframe[data-consent][data-src]`)
	if err != nil {
		return err
	}
	var r jsReader
	tt := handover.tt
	for _, el := range els {
		attr, _ := el.Call("getAttribute", "data-consent")
		cat, _ := attr.String()
		if c, ok := m.cfg.site.Category(cat); !ok || c.Required {
			if warned, _ := el.Call("hasAttribute", "data-consent-unknown"); !truthy(warned) {
				el.Call("setAttribute", "data-consent-unknown", "")
				consoleWarn("consent: ignoring content gated by unknown category " + strconv.Quote(cat))
			}
			continue
		}
		tag := r.str(el, "tagName")
		switch {
		case tag == "IFRAME" && granted(cat):
			src, _ := el.Call("getAttribute", "data-src")
			el.Call("removeAttribute", "data-src")
			// http(s) from a declared source only; a refusal is reported.
			u, ok := gatedURL(handover.frame, jsString(src), cat, el)
			if !ok {
				continue
			}
			el.Set("hidden", false)
			if ph := r.get(el, "previousElementSibling"); ph.Type() == safejs.TypeObject {
				if is, _ := ph.Call("hasAttribute", "data-consent-placeholder"); truthy(is) {
					ph.Call("remove")
				}
			}
			el.Set("src", u)
		case tag == "IFRAME":
			if err := m.placeholder(el, cat); err != nil {
				return err
			}
		case granted(cat):
			// Refused (undeclared source, no nonce): reported, left inert.
			runScript(el, tt, cat)
		}
	}
	return r.err
}

// placeholder hides a refused embed behind the category's placeholder, once.
func (m *module) placeholder(iframe safejs.Value, cat string) error {
	if held, _ := iframe.Call("hasAttribute", "hidden"); truthy(held) {
		return nil
	}
	ph, err := m.cfg.view("placeholder:"+cat, locale())
	if err != nil {
		return err
	}
	var r jsReader
	style := r.get(ph, "style")
	for _, dim := range []string{"width", "height"} {
		if v, _ := iframe.Call("getAttribute", dim); v.Type() == safejs.TypeString {
			n, _ := v.String()
			if _, err := strconv.Atoi(n); err == nil {
				n += "px"
			}
			style.Call("setProperty", dim, n)
		}
	}
	iframe.Set("hidden", true)
	_, err = iframe.Call("before", ph)
	return err
}

// runScript replaces a gated script of category cat with one the browser
// runs. Script URLs and text pass through the loader's Trusted Types policy
// (the hand-over's tt), which refuses what cat does not declare and, on a
// page with a nonce CSP, a script without the page's nonce.
func runScript(old, tt safejs.Value, cat string) error {
	var r jsReader
	x, err := call("document", "createElement", "script")
	if err != nil {
		return err
	}
	for _, at := range r.list(old, "attributes") {
		switch name, value := r.str(at, "name"), r.str(at, "value"); name {
		case "src":
			u, err := tt.Call("createScriptURL", value, cat, old)
			if err != nil {
				return err
			}
			x.Set("src", u)
		case "type", "data-consent", "nonce":
		default:
			x.Call("setAttribute", name, value)
		}
	}
	if nonce := r.str(old, "nonce"); nonce != "" {
		x.Set("nonce", nonce)
	}
	typ := "text/javascript"
	if dt, _ := old.Call("getAttribute", "data-type"); dt.Type() == safejs.TypeString {
		typ, _ = dt.String()
	}
	x.Set("type", typ)
	if text := r.str(old, "text"); text != "" || r.str(old, "src") == "" {
		t, err := tt.Call("createScript", text, cat, old)
		if err != nil {
			return err
		}
		x.Set("text", t)
	}
	if r.err != nil {
		return r.err
	}
	_, err = old.Call("replaceWith", x)
	return err
}

// watchPage applies the consent to content added to the page later (single
// page apps), and removes again what a script re-creates in a refused
// category: on Cookie Store change events where the browser has them, on a
// sweep every few seconds otherwise.
func (m *module) watchPage() error {
	added, err := callback("mutation", func(safejs.Value, []safejs.Value) any {
		m.actions.enqueue(func() {
			if err := m.release(); err != nil {
				consoleError("consent: " + err.Error())
			}
			// A privacy settings view a single-page app rendered just now.
			if empty, _ := querySelectorAll("[data-consent-permissions]:empty"); len(empty) > 0 {
				m.showPermissions()
			}
		})
		return nil
	})
	if err != nil {
		return err
	}
	sweep, err := callback("sweep", func(safejs.Value, []safejs.Value) any {
		m.actions.enqueue(func() {
			if err := m.clearRefused(m.current()); err != nil {
				consoleError("consent: " + err.Error())
			}
		})
		return nil
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, added, sweep)
	ctor, err := global("MutationObserver")
	if err != nil {
		return err
	}
	obs, err := ctor.New(added)
	if err != nil {
		return err
	}
	root, err := call("document", "querySelector", "html")
	if err != nil {
		return err
	}
	if _, err := obs.Call("observe", root, map[string]any{"childList": true, "subtree": true}); err != nil {
		return err
	}
	if store, err := global("cookieStore"); err == nil && store.Type() == safejs.TypeObject {
		_, err = store.Call("addEventListener", "change", sweep)
		return err
	}
	_, err = call("window", "setInterval", sweep, 3000)
	return err
}

// signalConsentMode tells Google Consent Mode the person's choice, through
// the gtag the loader set up with the defaults (consent._gtag, _modes).
func (m *module) signalConsentMode() error {
	var r jsReader
	gtag, modes := r.get(m.api, "_gtag"), r.get(m.api, "_modes")
	if gtag.Type() != safejs.TypeFunction || modes.Type() != safejs.TypeFunction {
		return r.err // the site uses no Consent Mode
	}
	s := m.current()
	var granted []string
	if m.known(s) {
		granted = s.Granted
	}
	update, err := modes.Invoke(jsStrings(granted))
	if err != nil {
		return err
	}
	_, err = gtag.Invoke("consent", "update", update)
	return err
}

// ensureIdentifiers makes the anonymous identifiers of granted categories
// that are missing or due for rotation, and resets the one named reset ("" for
// none) whatever its age. Identifiers of refused categories are deleted with
// the category's other cookies (clearRefused).
func (m *module) ensureIdentifiers(reset string) error {
	s := m.current()
	now := m.now().Unix()
	for _, id := range m.cfg.site.Identifiers {
		if !m.known(s) || !s.Has(id.Category) {
			continue
		}
		v, err := readCookie(id.Name)
		if err != nil {
			return err
		}
		if id.Name != reset && !id.Due(v, now) {
			continue
		}
		c := id.Name + "=" + consent.IdentifierValue(newID(), now) + "; Path=/; Max-Age=" +
			strconv.Itoa(id.RotateDays*86400) + cookieScope(&m.cfg.site)
		if err := setCookie(c); err != nil {
			return err
		}
	}
	return nil
}

func truthy(v safejs.Value) bool {
	b, _ := v.Truthy()
	return b
}

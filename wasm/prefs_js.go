//go:build js && wasm

package main

import (
	"sync"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// localeKey is the sessionStorage key of the locale a person switched to.
const localeKey = "consent.locale"

// locale returns the locale to show (consent.ChooseLocale): the first
// supported of the locale the person switched to in this tab, <html lang>,
// and the browser's languages; else the default. The loader chooses the
// same way (testdata/locale-vectors.json).
func locale() consent.Locale {
	var r jsReader
	var tags []string
	if store, err := global("sessionStorage"); err == nil && store.Type() == safejs.TypeObject {
		if v, err := store.Call("getItem", localeKey); err == nil && v.Type() == safejs.TypeString {
			s, _ := v.String()
			tags = append(tags, s)
		}
	}
	if doc, err := global("document"); err == nil {
		tags = append(tags, r.str(r.get(doc, "documentElement"), "lang"))
	}
	if nav, err := global("navigator"); err == nil {
		langs := r.list(r.get(nav, "languages"), "")
		for _, l := range langs {
			s, _ := l.String()
			tags = append(tags, s)
		}
		if len(langs) == 0 {
			tags = append(tags, r.str(nav, "language"))
		}
	}
	return consent.ChooseLocale(tags...)
}

// openPreferences shows the preferences centre as a modal dialog. Focus goes
// back where it was when it closes.
func (m *module) openPreferences() error {
	<-m.styled
	if els, _ := querySelectorAll(`dialog[data-consent-notice="preferences"]`); len(els) > 0 {
		return nil // already open
	}
	dlg, err := m.cfg.view("preferences", locale())
	if err != nil {
		return err
	}
	// The view was rendered for no consent; switch on what is granted.
	s := m.current()
	boxes, err := dlg.Call("querySelectorAll", "input[data-consent-category]")
	if err != nil {
		return err
	}
	var br jsReader
	for _, b := range br.list(boxes, "") {
		cat, _ := b.Call("getAttribute", "data-consent-category")
		id, _ := cat.String()
		if s.Has(id) {
			b.Set("checked", true)
		}
	}
	body, err := call("document", "querySelector", "body")
	if err != nil {
		return err
	}
	var r jsReader
	previous := r.get(r.get(safejs.Global(), "document"), "activeElement")
	onClose, err := callback("close", func(safejs.Value, []safejs.Value) any {
		dlg.Call("remove")
		if previous.Type() == safejs.TypeObject {
			previous.Call("focus")
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, onClose)
	if _, err := dlg.Call("addEventListener", "close", onClose); err != nil {
		return err
	}
	if _, err := body.Call("appendChild", dlg); err != nil {
		return err
	}
	_, err = dlg.Call("showModal")
	return err
}

// closePreferences closes the preferences centre without saving.
func (m *module) closePreferences() error {
	els, err := querySelectorAll(`dialog[data-consent-notice="preferences"]`)
	if err != nil {
		return err
	}
	for _, d := range els {
		d.Call("close")
	}
	return nil
}

// switchedOn returns the optional categories switched on in the open
// preferences centre, or the current grants if it is not open.
func (m *module) switchedOn() ([]string, error) {
	boxes, err := querySelectorAll(`dialog[data-consent-notice="preferences"] input[data-consent-category]`)
	if err != nil {
		return nil, err
	}
	if len(boxes) == 0 {
		return m.current().Granted, nil
	}
	var r jsReader
	var on []string
	for _, b := range boxes {
		if r.bool(b, "checked") {
			cat, _ := b.Call("getAttribute", "data-consent-category")
			id, _ := cat.String()
			on = append(on, id)
		}
	}
	return on, r.err
}

// loadStylesheet adds the stylesheet of the module's views (module.css) to
// the page. m.styled is closed once it has loaded or failed, so a view is
// never shown unstyled for long.
func (m *module) loadStylesheet() error {
	m.styled = make(chan struct{})
	var once sync.Once
	done, err := callback("stylesheet", func(safejs.Value, []safejs.Value) any {
		once.Do(func() { close(m.styled) })
		return nil
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, done)
	ctor, err := global("URL")
	if err != nil {
		return err
	}
	var r jsReader
	href, err := ctor.New(m.cfg.css, r.get(m.api, "_base"))
	if err != nil {
		return err
	}
	link, err := call("document", "createElement", "link")
	if err != nil {
		return err
	}
	link.Set("rel", "stylesheet")
	link.Set("href", r.str(href, "href"))
	link.Call("addEventListener", "load", done)
	link.Call("addEventListener", "error", done)
	head, err := call("document", "querySelector", "head")
	if err != nil {
		return err
	}
	_, err = head.Call("appendChild", link)
	return err
}

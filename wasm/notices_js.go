//go:build js && wasm

package main

import (
	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// closeNotices removes every notice and open dialog of the module.
func (m *module) closeNotices() error {
	return removeAll("[data-consent-root],dialog[data-consent-notice],[data-consent-notice=minor]")
}

// showStatus fills every [data-consent-status] element (the archive pages)
// with what the person acknowledged and what changed since, and marks the
// archive's entries ([data-policy-version]) newer than that version.
func (m *module) showStatus() error {
	slots, err := querySelectorAll("[data-consent-status]")
	if err != nil || len(slots) == 0 {
		return err
	}
	s, l := m.current(), locale()
	acked, on, iso := "", "", ""
	if !s.IsZero() {
		acked = s.Policy
		y, mo, d := consent.CivilDate(s.Updated.Unix())
		on, iso = consent.FormatDate(y, mo, d, l), consent.ISODate(y, mo, d)
	}
	for _, slot := range slots {
		el, err := m.cfg.view("status:"+acked, l)
		if err != nil {
			return err
		}
		if date, err := el.Call("querySelector", "[data-consent-date]"); err == nil && !date.IsNull() {
			date.Set("textContent", on)
			date.Set("dateTime", iso)
		}
		if _, err := slot.Call("replaceChildren", el); err != nil {
			return err
		}
	}
	if acked == "" {
		return nil
	}
	newer := false
	for _, v := range m.cfg.policies.Versions {
		if newer {
			els, _ := querySelectorAll(`[data-policy-version="` + v.ID + `"]`)
			for _, el := range els {
				el.Call("setAttribute", "data-consent-since", acked)
			}
		}
		newer = newer || v.ID == acked
	}
	return nil
}

// switchLocale shows every view of the module in locale l: the notice the
// loader painted (re-rendered from the trees the loader holds, consent._n),
// the preferences centre and the archive's status line.
func (m *module) switchLocale(l consent.Locale) error {
	if store, err := global("sessionStorage"); err == nil && store.Type() == safejs.TypeObject {
		store.Call("setItem", localeKey, string(l))
	}
	var r jsReader
	roots, err := querySelectorAll("[data-consent-root]")
	if err != nil {
		return err
	}
	doc, err := global("document")
	if err != nil {
		return err
	}
	for _, old := range roots {
		if !m.cfg.inView(old) {
			continue // page markup, not the loader's notice
		}
		acked, _ := old.Call("getAttribute", "data-consent-acked")
		key := ""
		if acked.Type() == safejs.TypeString {
			key, _ = acked.String()
		}
		t := r.get(r.get(r.get(m.api, "_n"), key), string(l))
		if r.err != nil || t.IsUndefined() {
			return r.err
		}
		el, err := renderTree(doc, t)
		if err != nil {
			return err
		}
		el.Call("setAttribute", "data-consent-root", "")
		m.cfg.adopt(el)
		if note, err := el.Call("querySelector", "[data-consent-gpc]"); err == nil && !note.IsNull() && m.signalRefuses() {
			note.Set("hidden", false)
		}
		if _, err := old.Call("replaceWith", el); err != nil {
			return err
		}
		if show := r.get(el, "showModal"); show.Type() == safejs.TypeFunction {
			if err := m.blockCancel(el); err != nil {
				return err
			}
			el.Call("showModal")
		}
		if sw, err := el.Call("querySelector", "[data-consent-locale]"); err == nil && !sw.IsNull() {
			sw.Call("focus")
		}
	}
	if open, _ := querySelectorAll(`dialog[data-consent-notice="preferences"]`); len(open) > 0 {
		for _, d := range open {
			d.Call("remove")
		}
		if err := m.openPreferences(); err != nil {
			return err
		}
	}
	return m.showStatus()
}

// blockCancel keeps Esc from closing a dialog that needs an answer.
func (m *module) blockCancel(dialog safejs.Value) error {
	fn, err := callback("cancel", func(_ safejs.Value, args []safejs.Value) any {
		if len(args) > 0 {
			args[0].Call("preventDefault")
		}
		return nil
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, fn)
	_, err = dialog.Call("addEventListener", "cancel", fn)
	return err
}

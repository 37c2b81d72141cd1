//go:build js && wasm

package main

import (
	"strings"

	"workly.ai/consent"
)

// clearRefused deletes what the site declared for every optional category
// not granted in s: matching cookies, on every domain and path a script could
// have used, and matching localStorage and sessionStorage keys. It runs on
// every choice and when the module starts, so what a third-party script
// re-created since is removed again.
func (m *module) clearRefused(s consent.State) error {
	var refused []consent.Category
	for _, c := range m.cfg.site.Categories {
		if !c.Required && !s.Has(c.ID) {
			refused = append(refused, c)
		}
	}
	if len(refused) == 0 {
		return nil
	}
	doc, err := global("document")
	if err != nil {
		return err
	}
	loc, err := global("location")
	if err != nil {
		return err
	}
	var r jsReader
	host, path, jar := r.str(loc, "hostname"), r.str(loc, "pathname"), r.str(doc, "cookie")
	if r.err != nil {
		return r.err
	}
	// Cookies this page can see, and declared exact names it cannot (set on
	// another path): each is deleted on every domain and path it could have.
	visible := map[string]bool{}
	for _, part := range strings.Split(jar, "; ") {
		name, _, _ := strings.Cut(part, "=")
		visible[name] = true
	}
	for _, c := range refused {
		for _, it := range c.Cookies {
			names := []string{}
			if !strings.HasSuffix(it.Name, "*") {
				names = append(names, it.Name)
			} else {
				for name := range visible {
					if it.Matches(name) {
						names = append(names, name)
					}
				}
			}
			for _, name := range names {
				for _, del := range consent.CookieDeletions(name, host, path, it.Path) {
					if err := doc.Set("cookie", del); err != nil {
						return err
					}
				}
			}
		}
	}
	for _, area := range []string{"localStorage", "sessionStorage"} {
		store, err := global(area)
		if err != nil || store.IsNull() || store.IsUndefined() {
			continue // storage disabled: nothing stored
		}
		keys, err := call("Object", "keys", store)
		if err != nil {
			continue
		}
		for _, k := range r.list(keys, "") {
			key, _ := k.String()
			if declaresStorage(refused, key) {
				store.Call("removeItem", key)
			}
		}
	}
	return r.err
}

func declaresStorage(cats []consent.Category, name string) bool {
	for _, c := range cats {
		for _, it := range c.Storage {
			if it.Matches(name) {
				return true
			}
		}
	}
	return false
}

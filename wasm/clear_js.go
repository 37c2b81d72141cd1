//go:build js && wasm

package main

import (
	"errors"
	"strconv"
	"strings"

	"github.com/hack-pad/safejs"

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
			if declared(refused, key, func(c consent.Category) []consent.Item { return c.Storage }) {
				store.Call("removeItem", key)
			}
		}
	}
	if r.err != nil {
		return r.err
	}
	return clearDatabases(refused)
}

// clearDatabases deletes the refused categories' IndexedDB databases and
// Cache Storage caches. It waits on promises: call it from a goroutine.
func clearDatabases(refused []consent.Category) error {
	var r jsReader
	if idb, err := global("indexedDB"); err == nil && idb.Type() == safejs.TypeObject {
		if p, err := idb.Call("databases"); err == nil {
			list, err := await(p)
			if err != nil {
				return err
			}
			for _, db := range r.list(list, "") {
				name := r.str(db, "name")
				if declared(refused, name, func(c consent.Category) []consent.Item { return c.IndexedDB }) {
					if err := deleteDatabase(idb, name); err != nil {
						consoleError("consent: delete IndexedDB database " + strconv.Quote(name) + ": " + err.Error())
					}
				}
			}
		}
	}
	if caches, err := global("caches"); err == nil && caches.Type() == safejs.TypeObject {
		if p, err := caches.Call("keys"); err == nil {
			keys, err := await(p)
			if err != nil {
				return err
			}
			for _, k := range r.list(keys, "") {
				name, _ := k.String()
				if declared(refused, name, func(c consent.Category) []consent.Item { return c.Caches }) {
					if p, err := caches.Call("delete", name); err == nil {
						await(p)
					}
				}
			}
		}
	}
	return r.err
}

// deleteDatabase deletes the IndexedDB database name and waits until it is
// deleted, or failed, or is blocked by a connection a script of the page
// holds open: then it says so in the console and returns, and the browser
// deletes the database once that connection closes (the next start tries
// again if the page goes first).
func deleteDatabase(idb safejs.Value, name string) error {
	req, err := idb.Call("deleteDatabase", name)
	if err != nil {
		return err
	}
	answer := make(chan string, 3)
	var funcs []safejs.Func
	for _, ev := range []string{"success", "error", "blocked"} {
		f, err := callback("deleteDatabase", func(safejs.Value, []safejs.Value) any {
			answer <- ev
			return nil
		})
		if err != nil {
			return err
		}
		funcs = append(funcs, f)
		if err := req.Set("on"+ev, f); err != nil {
			return err
		}
	}
	release := func() {
		for _, f := range funcs {
			f.Release()
		}
	}
	switch <-answer {
	case "success":
		release()
		return nil
	case "error":
		release()
		var r jsReader
		return errors.New(r.str(r.get(req, "error"), "message"))
	}
	consoleWarn("consent: the IndexedDB database " + strconv.Quote(name) + " of a refused category is held open by a script of this page: it is deleted as soon as that script closes it")
	go func() { // the callbacks stay until the browser answers
		<-answer
		release()
	}()
	return nil
}

// reportUndeclared warns in the console about cookies this page holds that no
// category declares, so the site owner can declare them (or stop setting them).
func (m *module) reportUndeclared() error {
	var r jsReader
	jar := r.str(r.get(safejs.Global(), "document"), "cookie")
	var undeclared []string
	for _, part := range strings.Split(jar, "; ") {
		name, _, _ := strings.Cut(part, "=")
		if name != "" && name != m.cfg.site.CookieName() &&
			!declared(m.cfg.site.Categories, name, func(c consent.Category) []consent.Item { return c.Cookies }) {
			undeclared = append(undeclared, name)
		}
	}
	if len(undeclared) > 0 {
		consoleWarn("consent: cookies no category declares (add them to the site configuration): " + strings.Join(undeclared, ", "))
	}
	return r.err
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

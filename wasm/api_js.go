//go:build js && wasm

package main

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// installAPI completes window.consent, which the loader created with ready,
// state and granted. Methods that change consent return promises.
func (m *module) installAPI() error {
	api, err := global("consent")
	if err != nil {
		return err
	}
	if api.Type() != safejs.TypeObject {
		ctor, err := global("Object")
		if err != nil {
			return err
		}
		if api, err = ctor.New(); err != nil {
			return err
		}
		if err := safejs.Global().Set("consent", api); err != nil {
			return err
		}
	}
	m.api = api
	methods := map[string]func(args []safejs.Value) (any, error){
		"state": func([]safejs.Value) (any, error) { return m.stateValue(), nil },
		// history returns a promise, though it does not wait, so that it
		// behaves the same before the module has loaded (the loader queues it).
		"requestPermission": func(args []safejs.Value) (any, error) { return m.requestPermission(args) },
		"history": func([]safejs.Value) (any, error) {
			return promise(func() (any, error) { return m.history() })
		},
		"granted": func(args []safejs.Value) (any, error) {
			if len(args) == 0 || args[0].Type() != safejs.TypeString {
				return false, nil
			}
			cat, _ := args[0].String()
			s := m.current()
			return m.known(s) && s.Has(cat), nil
		},
	}
	for name, fn := range methods {
		if err := m.method(name, fn); err != nil {
			return err
		}
	}
	// Methods that change consent return a promise of the new state.
	async := map[string]func(args []safejs.Value) error{
		"acceptAll":       func([]safejs.Value) error { return m.choose(m.cfg.site.Optional(), "api", m.now()) },
		"rejectAll":       func([]safejs.Value) error { return m.choose(nil, "api", m.now()) },
		"openPreferences": func([]safejs.Value) error { return m.openPreferences() },
		"acknowledge":     func([]safejs.Value) error { return m.acknowledge("api", m.now()) },
		"set": func(args []safejs.Value) error {
			granted, err := m.grantsFrom(args)
			if err != nil {
				return err
			}
			return m.choose(granted, "api", m.now())
		},
	}
	for name, fn := range async {
		if err := m.method(name, func(args []safejs.Value) (any, error) {
			return promise(func() (any, error) {
				return m.actions.do(func() (any, error) {
					if err := fn(args); err != nil {
						return nil, fmt.Errorf("consent.%s: %w", name, err)
					}
					return m.stateValue(), nil
				})
			})
		}); err != nil {
			return err
		}
	}
	return nil
}

// method sets api[name] to a function whose errors are thrown as JS Errors
// would be; synchronous methods must not block.
func (m *module) method(name string, fn func(args []safejs.Value) (any, error)) error {
	f, err := callback(name, func(_ safejs.Value, args []safejs.Value) any {
		v, err := fn(args)
		if err != nil {
			consoleError("consent." + name + ": " + err.Error())
			return nil
		}
		return v
	})
	if err != nil {
		return err
	}
	m.funcs = append(m.funcs, f)
	return m.api.Set(name, f)
}

// grantsFrom reads set({category: bool, ...}): categories not named keep
// their current state; unknown or required ones are an error.
func (m *module) grantsFrom(args []safejs.Value) ([]string, error) {
	if len(args) == 0 || args[0].Type() != safejs.TypeObject {
		return nil, errors.New("set wants an object such as {analytics: true}")
	}
	keys, err := call("Object", "keys", args[0])
	if err != nil {
		return nil, err
	}
	var r jsReader
	want := map[string]bool{}
	for _, c := range m.current().Granted {
		want[c] = true
	}
	for _, k := range r.list(keys, "") {
		name, _ := k.String()
		cat, ok := m.cfg.site.Category(name)
		if !ok {
			return nil, fmt.Errorf("unknown category %q", name)
		}
		if cat.Required {
			return nil, fmt.Errorf("category %q is strictly necessary and always on", name)
		}
		want[name] = r.bool(args[0], name)
	}
	var granted []string
	for _, id := range m.cfg.site.Optional() {
		if want[id] {
			granted = append(granted, id)
		}
	}
	return granted, r.err
}

//go:build js && wasm

package main

import (
	"errors"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// render builds DOM nodes from a view: the run-time twin of
// consent.Node.AppendHTML. It uses createElement, setAttribute and
// createTextNode only, so text is never parsed as HTML.
func render(n consent.Node) (safejs.Value, error) {
	doc, err := global("document")
	if err != nil {
		return safejs.Undefined(), err
	}
	return renderIn(doc, n)
}

func renderIn(doc safejs.Value, n consent.Node) (safejs.Value, error) {
	if n.Tag == "" {
		return doc.Call("createTextNode", n.Text)
	}
	el, err := doc.Call("createElement", n.Tag)
	if err != nil {
		return safejs.Undefined(), err
	}
	for _, a := range n.Attrs {
		if _, err := el.Call("setAttribute", a.Name, a.Value); err != nil {
			return safejs.Undefined(), err
		}
	}
	for _, k := range n.Kids {
		kid, err := renderIn(doc, k)
		if err != nil {
			return safejs.Undefined(), err
		}
		if _, err := el.Call("appendChild", kid); err != nil {
			return safejs.Undefined(), err
		}
	}
	return el, nil
}

// renderTree builds DOM nodes from a view the build pre-rendered, in the
// loader's compact form: [tag, [name, value, ...], child...] or a text string.
func renderTree(doc, t safejs.Value) (safejs.Value, error) {
	if t.Type() == safejs.TypeString {
		return doc.Call("createTextNode", t)
	}
	var r jsReader
	parts := r.list(t, "")
	if r.err != nil || len(parts) < 2 {
		return safejs.Undefined(), errors.New("malformed view tree")
	}
	el, err := doc.Call("createElement", parts[0])
	if err != nil {
		return safejs.Undefined(), err
	}
	attrs := r.list(parts[1], "")
	for i := 0; i+1 < len(attrs); i += 2 {
		if _, err := el.Call("setAttribute", attrs[i], attrs[i+1]); err != nil {
			return safejs.Undefined(), err
		}
	}
	for _, k := range parts[2:] {
		kid, err := renderTree(doc, k)
		if err != nil {
			return safejs.Undefined(), err
		}
		if _, err := el.Call("appendChild", kid); err != nil {
			return safejs.Undefined(), err
		}
	}
	return el, r.err
}

// view renders the pre-rendered view name in locale l.
func (c *config) view(name string, l consent.Locale) (safejs.Value, error) {
	doc, err := global("document")
	if err != nil {
		return safejs.Undefined(), err
	}
	var r jsReader
	t := r.get(r.get(c.views, name), string(l))
	if r.err != nil || t.IsUndefined() {
		return safejs.Undefined(), errors.New("no view " + name + " in " + string(l))
	}
	el, err := renderTree(doc, t)
	if err == nil {
		c.adopt(el)
	}
	return el, err
}

// adopt counts el as one of the module's views (see inView).
func (c *config) adopt(el safejs.Value) {
	if c.own.Type() == safejs.TypeObject {
		c.own.Call("add", el)
	}
}

// inView reports whether el is inside a view the module or the loader
// rendered. Page markup that merely looks like one (an injected
// data-consent-notice) is not.
func (c *config) inView(el safejs.Value) bool {
	if c.own.Type() != safejs.TypeObject {
		return false
	}
	var r jsReader
	for n := el; n.Type() == safejs.TypeObject && r.err == nil; n = r.get(n, "parentElement") {
		if has, err := c.own.Call("has", n); err == nil && truthy(has) {
			return true
		}
	}
	return false
}

// querySelectorAll returns the elements matching selector in the document.
func querySelectorAll(selector string) ([]safejs.Value, error) {
	list, err := call("document", "querySelectorAll", selector)
	if err != nil {
		return nil, err
	}
	var r jsReader
	return r.list(list, ""), r.err
}

// removeAll removes every element matching selector.
func removeAll(selector string) error {
	els, err := querySelectorAll(selector)
	if err != nil {
		return err
	}
	for _, el := range els {
		if _, err := el.Call("remove"); err != nil {
			return err
		}
	}
	return nil
}

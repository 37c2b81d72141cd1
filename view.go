package consent

import "strings"

// Node is one node of a notice's markup: an element, or a text when Tag is "".
//
// A view is described once as a Node tree and rendered twice: to an HTML
// string at build time (AppendHTML, for the loader's first paint and golden
// files) and to DOM nodes at run time (the browser module walks the same tree
// with createElement, setAttribute and createTextNode). Text and attribute
// values are always escaped by construction; tag and attribute names come
// only from this package's code, never from input.
type Node struct {
	Tag   string
	Attrs []Attr
	Kids  []Node
	Text  string
}

// Attr is one attribute of an element.
type Attr struct{ Name, Value string }

// El returns an element with attributes given as name, value pairs.
func El(tag string, attrs []string, kids ...Node) Node {
	n := Node{Tag: tag, Kids: kids}
	for i := 0; i+1 < len(attrs); i += 2 {
		n.Attrs = append(n.Attrs, Attr{attrs[i], attrs[i+1]})
	}
	return n
}

// T returns a text node.
func T(text string) Node { return Node{Text: text} }

// A is shorthand for an attribute list: A("class", "x", "id", "y").
func A(pairs ...string) []string { return pairs }

var voidElements = map[string]bool{"br": true, "hr": true, "img": true, "input": true, "meta": true, "link": true}

// AppendHTML appends n's HTML to b and returns it.
func (n Node) AppendHTML(b []byte) []byte {
	if n.Tag == "" {
		return appendEscaped(b, n.Text, false)
	}
	b = append(b, '<')
	b = append(b, n.Tag...)
	for _, a := range n.Attrs {
		b = append(b, ' ')
		b = append(b, a.Name...)
		b = append(b, `="`...)
		b = appendEscaped(b, a.Value, true)
		b = append(b, '"')
	}
	b = append(b, '>')
	if voidElements[n.Tag] {
		return b
	}
	for _, k := range n.Kids {
		b = k.AppendHTML(b)
	}
	b = append(b, "</"...)
	b = append(b, n.Tag...)
	return append(b, '>')
}

// HTML returns n's HTML.
func (n Node) HTML() string { return string(n.AppendHTML(nil)) }

// TextContent returns the concatenated text of n and its descendants, as the
// DOM's textContent does.
func (n Node) TextContent() string {
	var b strings.Builder
	var walk func(Node)
	walk = func(n Node) {
		b.WriteString(n.Text)
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(n)
	return b.String()
}

func appendEscaped(b []byte, s string, attr bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '&':
			b = append(b, "&amp;"...)
		case c == '<':
			b = append(b, "&lt;"...)
		case c == '>':
			b = append(b, "&gt;"...)
		case c == '"' && attr:
			b = append(b, "&#34;"...)
		default:
			b = append(b, c)
		}
	}
	return b
}

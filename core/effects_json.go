package core

import (
	"strconv"

	"workly.ai/consent"
)

// Page effects travel to the executor as one JSON text per event, which it
// parses with JSON.parse: cheaper to post than a structured clone of nested
// objects, and smaller in the module than building JavaScript objects from
// Go (or linking encoding/json). web/messages.d.ts declares the shapes.

// JSON is a JSON object being written: New, then fields, then Close.
type JSON []byte

// Object starts an object {"t": kind, ...} after b (a comma first unless b
// ends a list's opening bracket).
func Object(b []byte, kind string) JSON {
	if len(b) > 0 && b[len(b)-1] != '[' {
		b = append(b, ',')
	}
	return JSON(consent.AppendJSONString(append(b, `{"t":`...), kind))
}

// Close ends the object.
func (j JSON) Close() []byte { return append(j, '}') }

func (j JSON) key(k string) JSON {
	return JSON(append(consent.AppendJSONString(append(j, ','), k), ':'))
}

// Str, Bool, Int, List add a field.
func (j JSON) Str(k, v string) JSON       { return JSON(consent.AppendJSONString(j.key(k), v)) }
func (j JSON) Bool(k string, v bool) JSON { return JSON(strconv.AppendBool(j.key(k), v)) }
func (j JSON) Int(k string, v int) JSON   { return JSON(strconv.AppendInt(j.key(k), int64(v), 10)) }
func (j JSON) List(k string, v []string) JSON {
	b := append(j.key(k), '[')
	for i, s := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = consent.AppendJSONString(b, s)
	}
	return JSON(append(b, ']'))
}

// Tree adds a view as the compact tree the loader renders: [tag, [name,
// value, ...], child...] or a text.
func (j JSON) Tree(k string, n consent.Node) JSON { return JSON(appendTree(j.key(k), n)) }

// Any adds a state or an event's detail: nil, strings, booleans, integers,
// and lists and maps of those.
func (j JSON) Any(k string, v any) JSON { return JSON(appendAny(j.key(k), v)) }

func appendTree(b []byte, n consent.Node) []byte {
	if n.Tag == "" {
		return consent.AppendJSONString(b, n.Text)
	}
	b = append(consent.AppendJSONString(append(b, '['), n.Tag), ",["...)
	for i, a := range n.Attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = consent.AppendJSONString(append(consent.AppendJSONString(b, a.Name), ','), a.Value)
	}
	b = append(b, ']')
	for _, k := range n.Kids {
		b = appendTree(append(b, ','), k)
	}
	return append(b, ']')
}

func appendAny(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return consent.AppendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAny(b, x)
		}
		return append(b, ']')
	case map[string]any:
		if v == nil {
			break
		}
		b = append(b, '{')
		first := true
		for k, x := range v {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendAny(append(consent.AppendJSONString(b, k), ':'), x)
		}
		return append(b, '}')
	}
	return append(b, "null"...)
}

// AppendEffect appends page effect e as its message.
func AppendEffect(b []byte, e Effect) []byte {
	j := Object(b, Kind(e))
	switch e := e.(type) {
	case SetCookie:
		j = j.Str("v", e.V)
	case Storage:
		j = j.Str("area", e.Area).Str("key", e.Key).Str("value", e.Value).Bool("remove", e.Remove)
	case Show:
		j = j.Str("name", e.Name).Tree("tree", e.Tree).Str("where", e.Where).Bool("modal", e.Modal).Bool("hold", e.Hold).Str("focus", e.Focus)
	case Remove:
		j = j.Str("sel", e.Sel)
	case Close:
		j = j.Str("sel", e.Sel)
	case SetAttr:
		j = j.Str("sel", e.Sel).Str("name", e.Name).Str("value", e.Value)
	case Release:
		j = j.List("granted", e.Granted).List("known", e.Known).List("separate", e.Separate).key("placeholders")
		j = append(j, '{')
		first := true
		for k, n := range e.Placeholders {
			if !first {
				j = append(j, ',')
			}
			first = false
			j = JSON(appendTree(append(consent.AppendJSONString(j, k), ':'), n))
		}
		j = append(j, '}')
	case ConsentMode:
		j = j.List("granted", e.Granted)
	case Dispatch:
		j = j.Str("name", e.Name).Any("detail", e.Detail)
	case StateNow:
		j = j.Any("v", e.V)
	case Settle:
		j = j.Int("call", e.Call)
		if e.Err != "" {
			j = j.Str("err", e.Err)
		} else {
			j = j.Any("v", e.V)
		}
	case Log:
		j = j.Str("level", e.Level).Str("msg", e.Msg)
	case OnHide:
		j = j.Str("cookie", e.Cookie).Str("written", e.Written).Str("spillKey", e.SpillKey).Str("spill", e.Spill)
	case AskBrowser:
		j = j.Int("call", e.Call).List("kinds", e.Kinds)
	case Block:
		j = j.List("hosts", e.Hosts).List("allow", e.Allow)
	case Observe:
		j = j.Int("after", e.After)
	}
	return j.Close()
}

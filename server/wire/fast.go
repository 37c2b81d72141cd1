package wire

import (
	"bytes"
	"strconv"
	"time"

	"workly.ai/consent"
)

// The decoder of the canonical form, by hand: it reads the fields in the
// encoder's order, with its escapes only, and then checks that the encoder
// writes exactly the bytes it read for the receipt it made. What it does not
// accept goes to the encoding/json decoder (decodeBatchJSON), which says
// why; what it accepts, the encoding/json decoder would have returned
// alike (FuzzDecodersAgree).

// canonicalBatch returns the receipts of a batch in the canonical form, ok
// false for anything else (not canonical, not JSON, too many receipts).
func canonicalBatch(body []byte) (rs []consent.Receipt, ok bool) {
	const open, end = `{"receipts":[`, `]}`
	p := parser{b: body, s: string(body)}
	if !p.lit(open) {
		return nil, false
	}
	rs = make([]consent.Receipt, 0, min(consent.MaxReceiptsPerBatch, bytes.Count(body, []byte(`{"id":`))))
	var buf []byte
	for i := 0; !p.peek(']'); i++ {
		if i > 0 && !p.lit(",") || i == consent.MaxReceiptsPerBatch {
			return nil, false
		}
		start := p.i
		r, ok := p.receipt()
		if !ok {
			return nil, false
		}
		if buf = consent.AppendReceiptJSON(buf[:0], r); !bytes.Equal(buf, body[start:p.i]) {
			return nil, false
		}
		rs = append(rs, r)
	}
	if !p.lit(end) || p.i != len(body) {
		return nil, false
	}
	return rs, true
}

// canonicalReceipt returns the receipt whose canonical form is data, ok
// false if data is not one.
func canonicalReceipt(data []byte) (consent.Receipt, bool) {
	p := parser{b: data, s: string(data)}
	r, ok := p.receipt()
	if !ok || p.i != len(data) || !bytes.Equal(consent.AppendReceiptJSON(nil, r), data) {
		return consent.Receipt{}, false
	}
	return r, true
}

// parser reads b from i; s is b as a string, of which the strings it
// returns are parts (one allocation for a batch).
type parser struct {
	b []byte
	s string
	i int
}

func (p *parser) peek(c byte) bool { return p.i < len(p.b) && p.b[p.i] == c }

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

// receipt reads one receipt object in the encoder's field order.
func (p *parser) receipt() (r consent.Receipt, ok bool) {
	var event, locale string
	var ms int64
	if !(p.field(`{"id":`, &r.ID) && p.field(`,"subject":`, &r.Subject) && p.field(`,"event":`, &event) &&
		p.field(`,"policy":`, &r.Policy) && p.field(`,"policySha256":`, &r.PolicySHA256) &&
		p.field(`,"locale":`, &locale) && p.lit(`,"granted":[`)) {
		return r, false
	}
	r.Granted = []string{}
	for !p.peek(']') {
		if len(r.Granted) > 0 && !p.lit(",") {
			return r, false
		}
		g, ok := p.str()
		if !ok {
			return r, false
		}
		r.Granted = append(r.Granted, g)
	}
	if !(p.lit(`],"time":`) && p.int(&ms) && p.field(`,"method":`, &r.Method) && p.lit(`,"gpc":`)) {
		return r, false
	}
	switch {
	case p.lit("true"):
		r.GPC = true
	case !p.lit("false"):
		return r, false
	}
	r.DNT = p.lit(`,"dnt":true`)
	if p.lit(`,"separate":`) {
		if r.Separate, ok = p.str(); !ok || !p.field(`,"answer":`, &r.Answer) || !p.field(`,"statementSha256":`, &r.StatementSHA256) {
			return r, false
		}
	} else if p.lit(`,"permission":`) {
		if r.Permission, ok = p.str(); !ok || !p.field(`,"answer":`, &r.Answer) {
			return r, false
		}
	}
	if !p.field(`,"prev":`, &r.Prev) {
		return r, false
	}
	if p.lit(`,"key":`) {
		if r.Key, ok = p.str(); !ok {
			return r, false
		}
	}
	if p.lit(`,"sig":`) {
		if r.Sig, ok = p.str(); !ok {
			return r, false
		}
	}
	if !p.lit("}") {
		return r, false
	}
	r.Event, r.Locale, r.Time = consent.Event(event), consent.Locale(locale), time.UnixMilli(ms).UTC()
	return r, true
}

// field reads name (the separator, the key and its colon) then a string.
func (p *parser) field(name string, v *string) bool {
	if !p.lit(name) {
		return false
	}
	s, ok := p.str()
	*v = s
	return ok
}

// str reads a string as the encoder writes it: the bytes themselves but for
// `\"`, `\\`, `\n` and `\u00XX` (lower-case hex) for the other bytes below
// 0x20. Other bytes are taken as they are: the caller's re-encoding refuses
// what is not valid UTF-8 (which the encoder writes as U+FFFD).
func (p *parser) str() (string, bool) {
	if !p.lit(`"`) {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// escaped reads the rest of a string that has an escape at p.i, from start.
func (p *parser) escaped(start int) (string, bool) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(out), true
		case c < 0x20:
			return "", false
		case c != '\\':
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			return "", false
		}
		switch p.b[p.i+1] {
		case '"', '\\':
			out = append(out, p.b[p.i+1])
			p.i += 2
		case 'n':
			out = append(out, '\n')
			p.i += 2
		case 'u':
			if p.i+6 > len(p.b) || string(p.b[p.i+2:p.i+4]) != "00" {
				return "", false
			}
			hi, lo := unhex(p.b[p.i+4]), unhex(p.b[p.i+5])
			if hi > 1 || lo > 15 {
				return "", false
			}
			out = append(out, hi<<4|lo)
			p.i += 6
		default:
			return "", false
		}
	}
	return "", false
}

// unhex is the value of a lower-case hex digit, 255 for anything else.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 255
}

// int reads the time: an optional minus and digits, at most maxTimeDigits+1
// characters as DecodeReceipt takes them (the re-encoding refuses leading
// zeros and "-0").
func (p *parser) int(v *int64) bool {
	start := p.i
	if p.peek('-') {
		p.i++
	}
	for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
		p.i++
	}
	if p.i-start > maxTimeDigits+1 {
		return false
	}
	n, err := strconv.ParseInt(string(p.b[start:p.i]), 10, 64)
	*v = n
	return err == nil
}

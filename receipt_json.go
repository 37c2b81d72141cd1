package consent

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The receipt wire format is JSON, one object per receipt, fields in this
// order, times in Unix milliseconds:
//
//	{"id":"Q9cF0lXn3bJt8m2Y5aQ1rA","subject":"q83vEjRWeJq83vEjRWeJqw",
//	 "event":"consent_given","policy":"2025-06-01","policySha256":"aec9…d4b",
//	 "locale":"zh-CN","granted":["analytics"],"time":1767225600000,
//	 "method":"banner","gpc":false,"prev":""}
//
// A permission_answered receipt has "permission" and "answer" after "gpc".
// "prev" is always last (see LinkReceiptJSON).
//
// A batch, as the browser posts it, is {"receipts":[…]}. The codec is written
// by hand, not with encoding/json, because the browser module links it and
// encoding/json would cost every visitor hundreds of KB. testdata/receipts
// pins it; FuzzDecodeReceipts feeds it hostile input.

// MaxReceiptsPerBatch bounds a batch.
const MaxReceiptsPerBatch = 200

// AppendReceiptJSON appends r's JSON to b.
func AppendReceiptJSON(b []byte, r Receipt) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, r.ID)
	b = append(b, `,"subject":`...)
	b = appendJSONString(b, r.Subject)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, string(r.Event))
	b = append(b, `,"policy":`...)
	b = appendJSONString(b, r.Policy)
	b = append(b, `,"policySha256":`...)
	b = appendJSONString(b, r.PolicySHA256)
	b = append(b, `,"locale":`...)
	b = appendJSONString(b, string(r.Locale))
	b = append(b, `,"granted":[`...)
	for i, g := range r.Granted {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, g)
	}
	b = append(b, `],"time":`...)
	b = strconv.AppendInt(b, r.Time.UnixMilli(), 10)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"gpc":`...)
	b = strconv.AppendBool(b, r.GPC)
	if r.Permission != "" || r.Answer != "" {
		b = append(b, `,"permission":`...)
		b = appendJSONString(b, r.Permission)
		b = append(b, `,"answer":`...)
		b = appendJSONString(b, r.Answer)
	}
	b = append(b, `,"prev":`...)
	b = appendJSONString(b, r.Prev)
	return append(b, '}')
}

// LinkReceiptJSON returns wire, the wire form of a receipt made with an empty
// Prev, with Prev set to prev: the browser makes receipts at once and links
// each to the same person's previous one when that one's hash is known.
// Prev is the last field of the wire form, so this is a splice; wire in any
// other shape (already linked) is returned unchanged.
func LinkReceiptJSON(wire, prev string) string {
	const open = `"prev":""}`
	if !strings.HasSuffix(wire, open) || prev == "" {
		return wire
	}
	return wire[:len(wire)-2] + prev + `"}`
}

// EncodeReceipts returns the batch {"receipts":[…]}.
func EncodeReceipts(rs []Receipt) []byte {
	b := []byte(`{"receipts":[`)
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendReceiptJSON(b, r)
	}
	return append(b, "]}"...)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// DecodeReceipts parses a batch {"receipts":[…]} strictly: every field of a
// receipt present once with its type, no unknown field, at most
// MaxReceiptsPerBatch receipts. It checks the form only; Validate checks the
// values. Errors wrap ErrInvalid and say where. It never panics.
func DecodeReceipts(data []byte) ([]Receipt, error) {
	d := &jsonDecoder{data: data}
	out := []Receipt{}
	seen := false
	err := d.object(func(key string) error {
		if key != "receipts" {
			return d.fail("unknown field " + strconv.Quote(key))
		}
		seen = true
		return d.array(func() error {
			if len(out) == MaxReceiptsPerBatch {
				return d.fail("more than " + strconv.Itoa(MaxReceiptsPerBatch) + " receipts in a batch")
			}
			r, err := d.receipt()
			if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err == nil {
		d.space()
		if d.pos != len(d.data) {
			err = d.fail("data after the batch")
		}
	}
	if err == nil && !seen {
		err = d.fail(`want {"receipts":[…]}`)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// jsonDecoder reads the little JSON the receipt format uses.
type jsonDecoder struct {
	data []byte
	pos  int
}

type receiptError string

func (e receiptError) Error() string { return string(e) }
func (e receiptError) Unwrap() error { return ErrInvalid }

func (d *jsonDecoder) fail(msg string) error {
	return receiptError("receipts: at byte " + strconv.Itoa(d.pos) + ": " + msg)
}

func (d *jsonDecoder) space() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) expect(c byte) error {
	d.space()
	if d.pos >= len(d.data) || d.data[d.pos] != c {
		return d.fail("want " + strconv.Quote(string(c)))
	}
	d.pos++
	return nil
}

func (d *jsonDecoder) peek() byte {
	d.space()
	if d.pos >= len(d.data) {
		return 0
	}
	return d.data[d.pos]
}

// object reads {"key": value, …}, calling field for each key with the
// decoder positioned at the value. A key may appear once.
func (d *jsonDecoder) object(field func(key string) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	seen := map[string]bool{}
	if d.peek() == '}' {
		d.pos++
		return nil
	}
	for {
		key, err := d.string()
		if err != nil {
			return err
		}
		if seen[key] {
			return d.fail("field " + strconv.Quote(key) + " given twice")
		}
		seen[key] = true
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case '}':
			d.pos++
			return nil
		default:
			return d.fail("want , or }")
		}
	}
}

// array reads [value, …], calling elem at each value.
func (d *jsonDecoder) array(elem func() error) error {
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.pos++
		case ']':
			d.pos++
			return nil
		default:
			return d.fail("want , or ]")
		}
	}
}

// maxJSONString bounds one string: ids, versions and categories are short.
const maxJSONString = 256

func (d *jsonDecoder) string() (string, error) {
	if err := d.expect('"'); err != nil {
		return "", err
	}
	var b []byte
	for {
		if d.pos >= len(d.data) {
			return "", d.fail("unterminated string")
		}
		if len(b) > maxJSONString {
			return "", d.fail("string longer than " + strconv.Itoa(maxJSONString) + " bytes")
		}
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if !utf8.Valid(b) {
				return "", d.fail("string is not UTF-8")
			}
			return string(b), nil
		case c < 0x20:
			return "", d.fail("control character in string")
		case c != '\\':
			b = append(b, c)
			d.pos++
			continue
		}
		if d.pos+1 >= len(d.data) {
			return "", d.fail("unterminated escape")
		}
		d.pos += 2
		switch e := d.data[d.pos-1]; e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := d.hex4()
			if !ok {
				return "", d.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
					d.pos += 2
					r2, ok = d.hex4()
					if !ok {
						return "", d.fail("bad \\u escape")
					}
				}
				r = utf16.DecodeRune(r, r2)
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", d.fail("bad escape")
		}
	}
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	d.pos += 4
	return r, true
}

// int reads a non-negative integer of at most 16 digits.
func (d *jsonDecoder) int() (int64, error) {
	d.space()
	start := d.pos
	for d.pos < len(d.data) && isDigit(d.data[d.pos]) {
		d.pos++
	}
	if d.pos == start || d.pos-start > 16 || (d.data[start] == '0' && d.pos-start > 1) {
		return 0, d.fail("want a whole number of milliseconds")
	}
	return strconv.ParseInt(string(d.data[start:d.pos]), 10, 64)
}

func (d *jsonDecoder) bool() (bool, error) {
	d.space()
	for _, lit := range []string{"true", "false"} {
		if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
			d.pos += len(lit)
			return lit == "true", nil
		}
	}
	return false, d.fail("want true or false")
}

// receiptFields are the fields of a receipt, all required but permission and
// answer, which permission_answered receipts carry (both or neither).
var receiptFields = []string{"id", "subject", "event", "policy", "policySha256", "locale", "granted", "time", "method", "gpc", "prev"}

func (d *jsonDecoder) receipt() (Receipt, error) {
	var r Receipt
	got := 0
	err := d.object(func(key string) error {
		var err error
		var s string
		switch key {
		case "id":
			r.ID, err = d.string()
		case "subject":
			r.Subject, err = d.string()
		case "event":
			s, err = d.string()
			r.Event = Event(s)
		case "policy":
			r.Policy, err = d.string()
		case "policySha256":
			r.PolicySHA256, err = d.string()
		case "locale":
			s, err = d.string()
			r.Locale = Locale(s)
		case "granted":
			r.Granted = []string{}
			err = d.array(func() error {
				if len(r.Granted) == 64 {
					return d.fail("more than 64 categories")
				}
				g, err := d.string()
				r.Granted = append(r.Granted, g)
				return err
			})
		case "time":
			var ms int64
			ms, err = d.int()
			r.Time = time.UnixMilli(ms).UTC()
		case "method":
			r.Method, err = d.string()
		case "gpc":
			r.GPC, err = d.bool()
		case "prev":
			r.Prev, err = d.string()
		case "permission":
			r.Permission, err = d.string()
			got--
		case "answer":
			r.Answer, err = d.string()
			got--
		default:
			return d.fail("unknown field " + strconv.Quote(key) + " in a receipt")
		}
		got++
		return err
	})
	if err == nil && got != len(receiptFields) {
		err = d.fail("a receipt needs all of id, subject, event, policy, policySha256, locale, granted, time, method, gpc, prev")
	}
	return r, err
}

package consent

import (
	"strconv"
	"strings"
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
// A receipt made while the browser sent Do Not Track, on a site that honours
// it, has "dnt":true after "gpc". A permission_answered receipt has
// "permission" and "answer" after those; a separate_answered receipt has
// "separate", "answer" and "statementSha256" there instead.
// A signed receipt ends with "key" and "sig" after "prev":
//
//	…,"prev":"5b3a…89ab","key":"BHc…","sig":"Mz4…"}
//
// The browser makes a receipt unlinked ("prev":""), links it (LinkReceiptJSON)
// once its predecessor's hash is known, adds its key and signs the result
// (ReceiptSignedJSON: that text, ending in "key", is exactly what the
// signature covers), then appends the signature (ReceiptWithSigJSON).
//
// This encoding is the only one: the server accepts a receipt only in exactly
// the bytes AppendReceiptJSON gives for it, and a batch, {"receipts":[…]}, only
// as EncodeReceipts writes it (no whitespace, no escape that is not needed),
// so the bytes the browser holds, signed and hashed are the bytes the server
// chains and signs. The encoder is written by hand, not with encoding/json,
// because the browser module links it and encoding/json would cost every
// visitor hundreds of KB; the decoder is the server's (server/wire).
// testdata/receipts pins the form.

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
	if r.DNT {
		b = append(b, `,"dnt":true`...)
	}
	if r.Separate != "" || r.StatementSHA256 != "" {
		b = append(b, `,"separate":`...)
		b = appendJSONString(b, r.Separate)
		b = append(b, `,"answer":`...)
		b = appendJSONString(b, r.Answer)
		b = append(b, `,"statementSha256":`...)
		b = appendJSONString(b, r.StatementSHA256)
	} else if r.Permission != "" || r.Answer != "" {
		b = append(b, `,"permission":`...)
		b = appendJSONString(b, r.Permission)
		b = append(b, `,"answer":`...)
		b = appendJSONString(b, r.Answer)
	}
	b = append(b, `,"prev":`...)
	b = appendJSONString(b, r.Prev)
	if r.Key != "" {
		b = append(b, `,"key":`...)
		b = appendJSONString(b, r.Key)
	}
	if r.Sig != "" {
		b = append(b, `,"sig":`...)
		b = appendJSONString(b, r.Sig)
	}
	return append(b, '}')
}

// ReceiptSignedJSON returns the text a receipt's signature covers: wire, a
// linked receipt's wire form without key and signature, with "key" set to
// key. It is AppendReceiptJSON of the receipt with Key and without Sig.
func ReceiptSignedJSON(wire, key string) string {
	return wire[:len(wire)-1] + `,"key":"` + key + `"}`
}

// ReceiptWithSigJSON returns signed (ReceiptSignedJSON's text) with "sig"
// set to sig: the receipt's complete wire form.
func ReceiptWithSigJSON(signed, sig string) string {
	return signed[:len(signed)-1] + `,"sig":"` + sig + `"}`
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
		// Invalid UTF-8 becomes U+FFFD, written as itself: what a decoder
		// reads back encodes to the same bytes.
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// AppendJSONString appends s as a JSON string, as receipts write strings:
// the browser module's one JSON string encoder (it links no encoding/json).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
)

func testReceipt() consent.Receipt {
	return consent.Receipt{
		ID: "Q9cF0lXn3bJt8m2Y5aQ1rA", Subject: "q83vEjRWeJq83vEjRWeJqw", Event: consent.EventConsentGiven,
		Policy: "2025-06-01", PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{"analytics", "marketing"},
		Time: time.UnixMilli(1767225600123).UTC(), Method: "banner", GPC: true, Prev: strings.Repeat("c", 64),
	}
}

// sign signs r as the browser does (Sign).
func sign(t testing.TB, key *ecdsa.PrivateKey, r consent.Receipt) consent.Receipt {
	t.Helper()
	r, err := Sign(key, r)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// What the encoder writes decodes to the same receipts, the golden batch
// included.
func TestDecodeBatchRoundTrip(t *testing.T) {
	r := testReceipt()
	r.Method = "ba\"n\\ner\n\t\x01 中文 \u2028"
	perm := testReceipt()
	perm.ID, perm.Event, perm.Permission, perm.Answer = "Pp9-_aaaaaaaaaaaaaaaaa", consent.EventPermissionAnswered, "camera", consent.AnswerAllowed
	signed := sign(t, newKey(t), testReceipt())
	unlinked := testReceipt()
	unlinked.Prev, unlinked.Granted = "", []string{}
	dnt := testReceipt()
	dnt.ID, dnt.DNT = "Dd9-_aaaaaaaaaaaaaaaaa", true
	sep := testReceipt()
	sep.ID, sep.Event, sep.Separate, sep.Answer, sep.StatementSHA256 = "Se9-_aaaaaaaaaaaaaaaaa", consent.EventSeparateAnswered, "location", consent.AnswerWithdrawn, strings.Repeat("5", 64)
	in := []consent.Receipt{r, perm, signed, unlinked, dnt, sep}
	got, err := DecodeBatch(consent.EncodeReceipts(in))
	if err != nil || !reflect.DeepEqual(got, in) {
		t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, in)
	}
	golden, err := os.ReadFile("../../testdata/receipts/batch.json")
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := DecodeBatch(bytes.TrimSuffix(golden, []byte("\n"))); err != nil || len(rs) != 4 {
		t.Fatalf("the golden batch: %d receipts, %v", len(rs), err)
	}
	golden, err = os.ReadFile("../../testdata/receipts/separate.json")
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := DecodeBatch(bytes.TrimSuffix(golden, []byte("\n"))); err != nil || len(rs) != 2 || rs[1].Answer != consent.AnswerWithdrawn || rs[0].Separate != "location" {
		t.Fatalf("the golden separate-consent batch: %+v, %v", rs, err)
	}
	if rs, err := DecodeBatch([]byte(`{"receipts":[]}`)); err != nil || len(rs) != 0 {
		t.Fatalf("an empty batch: %v, %v", rs, err)
	}
}

// Only the canonical form is accepted: anything a lenient decoder would
// read as the same receipt, or as a slightly different one, is refused with
// a message that says where.
func TestDecodeBatchRefuses(t *testing.T) {
	good := string(consent.EncodeReceipts([]consent.Receipt{testReceipt()}))
	one := good[len(`{"receipts":[`) : len(good)-2]
	for name, body := range map[string]string{
		"empty":              ``,
		"not an object":      `[]`,
		"no receipts":        `{}`,
		"null receipts":      `{"receipts":null}`,
		"unknown top field":  `{"receipts":[],"x":1}`,
		"space in the batch": `{"receipts": [` + one + `]}`,
		"space at the end":   good + "\n",
		"space in a receipt": strings.Replace(good, `"gpc":true`, `"gpc": true`, 1),
		"needless escape":    strings.Replace(good, `"banner"`, `"ban\u006eer"`, 1),
		"escaped slash":      strings.Replace(good, `"2025-06-01"`, `"2025\/06-01"`, 1),
		// A lone surrogate a lenient decoder pairs with the next escape.
		"lone surrogate":        strings.Replace(good, `"banner"`, `"banner\ud800\u0041"`, 1),
		"invalid UTF-8":         strings.Replace(good, `"banner"`, "\"ban\xffner\"", 1),
		"fields reordered":      strings.Replace(good, `"event":"consent_given","policy":"2025-06-01"`, `"policy":"2025-06-01","event":"consent_given"`, 1),
		"field in capitals":     strings.Replace(good, `"gpc":true`, `"GPC":true`, 1),
		"unknown field":         strings.Replace(good, `"gpc":true`, `"gpc":true,"name":"张三"`, 1),
		"missing field":         strings.Replace(good, `,"gpc":true`, ``, 1),
		"empty permission":      strings.Replace(good, `"gpc":true`, `"gpc":true,"permission":"","answer":""`, 1),
		"separate without hash": strings.Replace(good, `"gpc":true`, `"gpc":true,"separate":"location","answer":"granted"`, 1),
		"separate reordered":    strings.Replace(good, `"gpc":true`, `"gpc":true,"answer":"granted","separate":"location","statementSha256":""`, 1),
		"dnt false written":     strings.Replace(good, `"gpc":true`, `"gpc":true,"dnt":false`, 1),
		"null granted":          strings.Replace(good, `"granted":["analytics","marketing"]`, `"granted":null`, 1),
		"prev not a string":     strings.Replace(good, `"prev":"`+strings.Repeat("c", 64)+`"`, `"prev":null`, 1),
		"duplicate field":       strings.Replace(good, `"gpc":true`, `"gpc":false,"gpc":true`, 1),
		"wrong type":            strings.Replace(good, `"gpc":true`, `"gpc":"yes"`, 1),
		"float time":            strings.Replace(good, `"time":1767225600123`, `"time":1.5e12`, 1),
		"time with exponent":    strings.Replace(good, `"time":1767225600123`, `"time":1767225600123e0`, 1),
		"huge time":             strings.Replace(good, `"time":1767225600123`, `"time":99999999999999999999`, 1),
		"leading zero":          strings.Replace(good, `"time":1767225600123`, `"time":01767225600123`, 1),
		"truncated":             good[:len(good)-3],
		"trailing data":         good + `{}`,
		"bad escape":            strings.Replace(good, `"banner"`, `"ban\qner"`, 1),
		"raw control":           strings.Replace(good, `"banner"`, "\"ban\x01ner\"", 1),
		"nested":                strings.Replace(good, `"gpc":true`, `"gpc":{"a":[[[]]]}`, 1),
		"too many":              `{"receipts":[` + strings.Repeat(one+",", consent.MaxReceiptsPerBatch) + one + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			rs, err := DecodeBatch([]byte(body))
			if err == nil || !errors.Is(err, consent.ErrInvalid) || rs != nil {
				t.Fatalf("DecodeBatch = %d receipts, %v; want an ErrInvalid", len(rs), err)
			}
		})
	}
	_, err := DecodeBatch([]byte(strings.Replace(good, `"banner"`, `"ban\u006eer"`, 1)))
	if !strings.Contains(err.Error(), "canonical") || !strings.Contains(err.Error(), `reads "\\u006eer`) {
		t.Errorf("the message does not say what is wrong and where: %v", err)
	}
}

// A signature checks only against the exact receipt and key it was made
// with.
func TestVerify(t *testing.T) {
	key := newKey(t)
	r := sign(t, key, testReceipt())
	if err := Verify(r); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	if err := Verify(testReceipt()); err != nil {
		t.Fatalf("an unsigned receipt: %v", err)
	}
	other := sign(t, newKey(t), testReceipt())
	for name, mutate := range map[string]func(*consent.Receipt){
		"event changed":     func(r *consent.Receipt) { r.Event = consent.EventWithdrawn },
		"granted changed":   func(r *consent.Receipt) { r.Granted = []string{"analytics"} },
		"time changed":      func(r *consent.Receipt) { r.Time = r.Time.Add(time.Millisecond) },
		"another key":       func(r *consent.Receipt) { r.Key = other.Key },
		"another signature": func(r *consent.Receipt) { r.Sig = other.Sig },
		"zero signature":    func(r *consent.Receipt) { r.Sig = strings.Repeat("A", 86) },
		"key off the curve": func(r *consent.Receipt) { r.Key = "B" + strings.Repeat("A", 86) },
		"key with stray bits": func(r *consent.Receipt) {
			r.Key = r.Key[:86] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", r.Key[86])^1])
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := r
			mutate(&bad)
			if err := Verify(bad); err == nil || !errors.Is(err, consent.ErrInvalid) {
				t.Fatalf("Verify = %v, want an ErrInvalid", err)
			}
		})
	}
}

// Whatever DecodeBatch accepts is exactly what the encoder writes for what
// it returns: nothing is signed or chained but the bytes that were sent.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(consent.EncodeReceipts([]consent.Receipt{testReceipt()}))
	f.Add(consent.EncodeReceipts([]consent.Receipt{sign(f, newKey(f), testReceipt())}))
	f.Add([]byte(`{"receipts":[]}`))
	f.Add([]byte(`{"receipts":[{"id":"\ud83d\ude00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := DecodeBatch(data)
		if err != nil {
			if !errors.Is(err, consent.ErrInvalid) {
				t.Fatalf("an error that is not ErrInvalid: %v", err)
			}
			return
		}
		if again := consent.EncodeReceipts(rs); !bytes.Equal(again, data) {
			t.Fatalf("accepted a batch that is not canonical:\n got %q\nre-encoded %q", data, again)
		}
		for _, r := range rs {
			Verify(r) // never panics
		}
	})
}

// The hand-written decoder of the canonical form and the encoding/json one
// agree: on every input both accept, alike, or both refuse.
func FuzzDecodersAgree(f *testing.F) {
	key := newKey(f)
	r := testReceipt()
	f.Add(consent.EncodeReceipts([]consent.Receipt{r}))
	f.Add(consent.EncodeReceipts([]consent.Receipt{sign(f, key, r), r}))
	p := r
	p.Event, p.Permission, p.Answer, p.DNT, p.GPC, p.Granted = consent.EventPermissionAnswered, "camera", "granted", true, true, nil
	p.Prev, p.ID = strings.Repeat("ab", 32), "a\"b\\c\nd\te\x01\u2028é"
	f.Add(consent.EncodeReceipts([]consent.Receipt{p, sign(f, key, p)}))
	p.Time = time.UnixMilli(-12345678901234567)
	f.Add(consent.EncodeReceipts([]consent.Receipt{p}))
	f.Add([]byte(`{"receipts":[]}`))
	f.Add([]byte(`{"receipts":[{"id":"\u0041"}]}`))
	f.Add(consent.AppendReceiptJSON(nil, p))
	f.Add(consent.AppendReceiptJSON(nil, sign(f, key, r)))
	f.Fuzz(func(t *testing.T, data []byte) {
		fast, fastOK := canonicalBatch(data)
		slow, err := decodeBatchJSON(data)
		if fastOK != (err == nil) {
			t.Fatalf("hand-written decoder ok %v, encoding/json's error %v, on %q", fastOK, err, data)
		}
		if fastOK && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("the decoders differ on %q:\n%#v\n%#v", data, fast, slow)
		}
		// A stored receipt is read back alike too.
		one, oneOK := canonicalReceipt(data)
		two, err := decodeReceiptJSON(data)
		if oneOK && (err != nil || !reflect.DeepEqual(one, two)) {
			t.Fatalf("the receipt decoders differ on %q: %v\n%#v\n%#v", data, err, one, two)
		}
	})
}

// The decoders of a batch of ten signed receipts; go test -bench Decode.
func BenchmarkDecodeBatch(b *testing.B) {
	key := newKey(b)
	rs := make([]consent.Receipt, 10)
	for i := range rs {
		rs[i] = sign(b, key, testReceipt())
	}
	body := consent.EncodeReceipts(rs)
	for _, d := range []struct {
		name   string
		decode func([]byte) ([]consent.Receipt, error)
	}{{"hand-written", DecodeBatch}, {"encoding-json", decodeBatchJSON}} {
		b.Run(d.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Verifying one signed receipt; go test -bench Verify.
func BenchmarkVerify(b *testing.B) {
	r := sign(b, newKey(b), testReceipt())
	for b.Loop() {
		if err := Verify(r); err != nil {
			b.Fatal(err)
		}
	}
}

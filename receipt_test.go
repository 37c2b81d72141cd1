package consent

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testReceipt() Receipt {
	return Receipt{
		ID: "Q9cF0lXn3bJt8m2Y5aQ1rA", Subject: "q83vEjRWeJq83vEjRWeJqw", Event: EventConsentGiven,
		Policy: "2025-01-01", PolicySHA256: hash, Locale: ZhCN, Granted: []string{"analytics", "marketing"},
		Time: time.UnixMilli(1767225600123).UTC(), Method: "banner", GPC: true, Prev: strings.Repeat("c", 64),
	}
}

// The golden file pins the wire format.
func TestReceiptWireGolden(t *testing.T) {
	r2 := testReceipt()
	r2.ID, r2.Event, r2.Granted, r2.GPC, r2.Locale, r2.Method = "Zz9-_aaaaaaaaaaaaaaaaa", EventWithdrawn, []string{}, false, En, "preferences"
	r2.Prev = "5b3a1e0f9c2d4b6a8e7f1029384756abcdef0123456789abcdef0123456789ab"
	r3 := testReceipt()
	r3.ID, r3.Event, r3.Method, r3.Permission, r3.Answer = "Pp9-_aaaaaaaaaaaaaaaaa", EventPermissionAnswered, "prompt", "camera", AnswerAllowed
	golden(t, "receipts/batch.json", string(EncodeReceipts([]Receipt{testReceipt(), r2, r3}))+"\n")
}

func TestReceiptRoundTrip(t *testing.T) {
	r := testReceipt()
	r.Method = "ba\"n\\ner\n\t\x01 中文 \xff" // escapes, control bytes, invalid UTF-8
	got, err := DecodeReceipts(EncodeReceipts([]Receipt{r}))
	if err != nil {
		t.Fatal(err)
	}
	want := r
	want.Method = strings.ToValidUTF8(r.Method, "\uFFFD")
	if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestLinkReceiptJSON(t *testing.T) {
	r := testReceipt()
	r.Prev = ""
	unlinked := string(AppendReceiptJSON(nil, r))
	r.Prev = strings.Repeat("d", 64)
	want := string(AppendReceiptJSON(nil, r))
	if got := LinkReceiptJSON(unlinked, r.Prev); got != want {
		t.Errorf("linked:\n got %s\nwant %s", got, want)
	}
	if got := LinkReceiptJSON(want, strings.Repeat("e", 64)); got != want {
		t.Errorf("linking a linked receipt changed it: %s", got)
	}
	if got := LinkReceiptJSON(unlinked, ""); got != unlinked {
		t.Errorf("linking to nothing changed it: %s", got)
	}
}

func TestDecodeEmptyBatch(t *testing.T) {
	rs, err := DecodeReceipts([]byte(` {"receipts" : [ ] } `))
	if err != nil || len(rs) != 0 {
		t.Fatalf("empty batch: %v, %v", rs, err)
	}
}

func TestDecodeReceiptsRefuses(t *testing.T) {
	good := string(EncodeReceipts([]Receipt{testReceipt()}))
	for name, body := range map[string]string{
		"empty":             ``,
		"not an object":     `[]`,
		"no receipts":       `{}`,
		"unknown top field": `{"receipts":[],"x":1}`,
		"unknown field":     strings.Replace(good, `"gpc":true`, `"gpc":true,"name":"张三"`, 1),
		"missing field":     strings.Replace(good, `,"gpc":true`, ``, 1),
		"prev not a string": strings.Replace(good, `"prev":"`+strings.Repeat("c", 64)+`"`, `"prev":null`, 1),
		"duplicate field":   strings.Replace(good, `"gpc":true`, `"gpc":true,"gpc":false`, 1),
		"wrong type":        strings.Replace(good, `"gpc":true`, `"gpc":"yes"`, 1),
		"negative time":     strings.Replace(good, `"time":1767225600123`, `"time":-1`, 1),
		"float time":        strings.Replace(good, `"time":1767225600123`, `"time":1.5e12`, 1),
		"huge time":         strings.Replace(good, `"time":1767225600123`, `"time":99999999999999999999`, 1),
		"truncated":         good[:len(good)-3],
		"trailing data":     good + `{}`,
		"bad escape":        strings.Replace(good, `"banner"`, `"ban\qner"`, 1),
		"raw control":       strings.Replace(good, `"banner"`, "\"ban\x01ner\"", 1),
		"long string":       strings.Replace(good, `"banner"`, `"`+strings.Repeat("a", 300)+`"`, 1),
		"nested":            strings.Replace(good, `"gpc":true`, `"gpc":{"a":[[[]]]}`, 1),
		"permission twice":  strings.Replace(good, `"gpc":true`, `"gpc":true,"permission":"camera","permission":"camera"`, 1),
		"too many":          `{"receipts":[` + strings.Repeat(good[13:len(good)-2]+",", MaxReceiptsPerBatch) + good[13:len(good)-2] + `]}`,
	} {
		t.Run(name, func(t *testing.T) {
			rs, err := DecodeReceipts([]byte(body))
			if err == nil || !errors.Is(err, ErrInvalid) || rs != nil {
				t.Fatalf("DecodeReceipts = %d receipts, %v; want an ErrInvalid", len(rs), err)
			}
		})
	}
}

func TestReceiptValidate(t *testing.T) {
	site, m := testSite(), testManifest()
	now := time.UnixMilli(1767225600123).Add(time.Hour)
	if err := testReceipt().Validate(site, m, now); err != nil {
		t.Fatalf("valid receipt: %v", err)
	}
	perm := testReceipt()
	perm.Event, perm.Method, perm.Permission, perm.Answer = EventPermissionAnswered, "prompt", "microphone", AnswerRefused
	if err := perm.Validate(site, m, now); err != nil {
		t.Fatalf("valid permission receipt: %v", err)
	}
	for name, mutate := range map[string]func(*Receipt){
		"bad id":                 func(r *Receipt) { r.ID = "1" },
		"bad subject":            func(r *Receipt) { r.Subject = "someone@example.com" },
		"unknown event":          func(r *Receipt) { r.Event = "clicked" },
		"unknown method":         func(r *Receipt) { r.Method = "telepathy" },
		"unknown locale":         func(r *Receipt) { r.Locale = "fr" },
		"unknown policy":         func(r *Receipt) { r.Policy = "1999-01-01" },
		"wrong policy hash":      func(r *Receipt) { r.PolicySHA256 = strings.Repeat("1", 64) },
		"unknown category":       func(r *Receipt) { r.Granted = []string{"telemetry"} },
		"required category":      func(r *Receipt) { r.Granted = []string{"necessary"} },
		"duplicate grant":        func(r *Receipt) { r.Granted = []string{"analytics", "analytics"} },
		"from the future":        func(r *Receipt) { r.Time = now.Add(48 * time.Hour) },
		"before 2020":            func(r *Receipt) { r.Time = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC) },
		"prev not a hash":        func(r *Receipt) { r.Prev = "previous" },
		"permission on a choice": func(r *Receipt) { r.Permission, r.Answer = "camera", AnswerAllowed },
		"answer alone":           func(r *Receipt) { r.Answer = AnswerAllowed },
		"permission without one": func(r *Receipt) { r.Event = EventPermissionAnswered },
		"unknown permission": func(r *Receipt) {
			r.Event, r.Permission, r.Answer = EventPermissionAnswered, "telepathy", AnswerAllowed
		},
		"unknown answer": func(r *Receipt) { r.Event, r.Permission, r.Answer = EventPermissionAnswered, "camera", "maybe" },
	} {
		t.Run(name, func(t *testing.T) {
			r := testReceipt()
			mutate(&r)
			if err := r.Validate(site, m, now); err == nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate = %v, want an ErrInvalid", err)
			}
		})
	}
}

func FuzzDecodeReceipts(f *testing.F) {
	f.Add(EncodeReceipts([]Receipt{testReceipt()}))
	f.Add([]byte(`{"receipts":[]}`))
	f.Add([]byte(`{"receipts":[{"id":"\ud83d\ude00"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := DecodeReceipts(data)
		if err != nil {
			return
		}
		// What decodes encodes to a batch that decodes the same.
		again, err := DecodeReceipts(EncodeReceipts(rs))
		if err != nil || !reflect.DeepEqual(again, rs) {
			t.Fatalf("re-encoding changed the batch: %v\n%+v\n%+v", err, rs, again)
		}
	})
}

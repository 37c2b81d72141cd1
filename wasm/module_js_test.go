//go:build js && wasm

package main

import (
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// The consent cookie written through document.cookie reads back as the same
// state, and clearing it removes it.
func TestConsentCookieRoundTrip(t *testing.T) {
	site := testSite()
	s := consent.State{ID: newID(), Policy: "2022-01-01", Granted: []string{"analytics"},
		Given: time.Unix(1767225600, 0).UTC(), Updated: time.Unix(1767312000, 0).UTC()}
	if err := writeConsentCookie(site, s); err != nil {
		t.Fatal(err)
	}
	raw, err := readCookie(site.CookieName())
	if err != nil {
		t.Fatal(err)
	}
	got, err := consent.DecodeCookie(raw)
	if err != nil {
		t.Fatalf("read back %q: %v", raw, err)
	}
	if got.ID != s.ID || !slices.Equal(got.Granted, s.Granted) || !got.Updated.Equal(s.Updated) {
		t.Fatalf("read back %+v, want %+v", got, s)
	}
	if err := clearConsentCookie(site); err != nil {
		t.Fatal(err)
	}
	if raw, _ := readCookie(site.CookieName()); raw != "" {
		t.Fatalf("after clearing, the cookie is %q", raw)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		id := newID()
		if !consent.ValidConsentID(id) || seen[id] {
			t.Fatalf("newID() = %q (valid %v, seen %v)", id, consent.ValidConsentID(id), seen[id])
		}
		seen[id] = true
	}
}

func TestBase64URL(t *testing.T) {
	for n := 0; n <= 40; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*37 + n*11)
		}
		if got, want := base64URL(b), base64.RawURLEncoding.EncodeToString(b); got != want {
			t.Errorf("base64URL(% x) = %q, want %q", b, got, want)
		}
	}
}

func TestPromiseAndAwait(t *testing.T) {
	p, err := promise(func() (any, error) { return 42, nil })
	if err != nil {
		t.Fatal(err)
	}
	v, err := await(p)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := v.Int(); n != 42 {
		t.Fatalf("resolved to %v", v)
	}
	p, _ = promise(func() (any, error) { return nil, errors.New("refused") })
	if _, err := await(p); err == nil || err.Error() != "Error: refused" {
		t.Fatalf("rejection = %v, want Error: refused", err)
	}
	p, _ = promise(func() (any, error) { panic("boom") })
	if _, err := await(p); err == nil {
		t.Fatal("a panic inside a promise did not reject it")
	}
}

// A panic in a callback is recovered and reported, not thrown into the page.
func TestCallbackRecovers(t *testing.T) {
	fn, err := callback("test", func(safejs.Value, []safejs.Value) any { panic("boom") })
	if err != nil {
		t.Fatal(err)
	}
	defer fn.Release()
	if _, err := fn.Value().Invoke(); err != nil {
		t.Fatalf("the panic escaped into JavaScript: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	c, err := loadConfig(parse(t, `{"site":{"name":{"zh-CN":"亿洽","en":"Yiqia"},"cookie":{"maxAgeDays":30},`+
		`"categories":[{"id":"necessary","required":true},{"id":"analytics","cookies":[{"name":"_ga"}]}]},`+
		`"policies":{"versions":[{"id":"2022-01-01","sha256":"ab","changes":[]},{"id":"2023-06-01","changes":[{"kind":"recipients","summary":{"zh-CN":"推送","en":"push"}}]}]},"views":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.site.Optional(); !slices.Equal(got, []string{"analytics"}) || c.site.Categories[1].Cookies[0].Name != "_ga" {
		t.Errorf("site read as %+v", c.site)
	}
	if kind, _ := c.policies.NoticeFor("2022-01-01"); kind != consent.NoticeMaterial || c.policies.Current().ID != "2023-06-01" {
		t.Errorf("policies read as %+v", c.policies)
	}
	for _, bad := range []string{`"text"`, `{"site":{}}`, `[]`, `null`} {
		if _, err := loadConfig(parse(t, bad)); err == nil {
			t.Errorf("loadConfig(%s) accepted it", bad)
		}
	}
}

func parse(t *testing.T, s string) safejs.Value {
	t.Helper()
	v, err := call("JSON", "parse", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

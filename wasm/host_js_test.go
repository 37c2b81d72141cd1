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

func testSite() *consent.Site {
	t := consent.Text{ZhCN: "统计", En: "Analytics"}
	return &consent.Site{Name: t, Cookie: consent.CookieConfig{MaxAgeDays: 30}, Categories: []consent.Category{
		{ID: "necessary", Required: true, Title: t, Purpose: t},
		{ID: "analytics", Title: t, Purpose: t, Cookies: []consent.Item{{Name: "_ga_*", Provider: "G", Purpose: t, Lifetime: t}}},
	}}
}

// testModule is a host's delivery state for the test site.
func testModule(t *testing.T) *module {
	t.Helper()
	cfg := &config{}
	cfg.core.Site = *testSite()
	cfg.site, cfg.policies = &cfg.core.Site, &cfg.core.Policies
	cfg.core.Policies.Versions = []consent.Version{{ID: "2022-01-01"}}
	return &module{cfg: cfg, now: time.Now}
}

// emit makes a receipt as the core does (core.Core.emit) and puts it in the
// outbox: the subject is s's consent id, else the outbox's pending one.
func (m *module) emit(ev consent.Event, s consent.State, method string, at time.Time) {
	v := m.cfg.policies.Current()
	r := consent.Receipt{ID: newID(), Event: ev, Method: method, Subject: s.ID, Policy: v.ID, PolicySHA256: v.SHA256,
		Locale: consent.ZhCN, Granted: s.Granted, Time: at}
	m.out.mu.Lock()
	pending := m.out.subject
	m.out.mu.Unlock()
	if r.Subject == "" {
		if pending == "" {
			pending = newID()
		}
		r.Subject = pending
	}
	m.emitReceipt(entryOf(r), pending)
}

// firstID is what the core does on a first choice: it takes the pending
// subject as the consent id (the next receipt says it is taken).
func (m *module) firstID() string {
	m.out.mu.Lock()
	id := m.out.subject
	m.out.mu.Unlock()
	if id == "" {
		return newID()
	}
	m.out.mu.Lock()
	m.out.subject = ""
	m.out.mu.Unlock()
	m.addLines(string(appendLine(nil, lineSubject, entry{})), nil)
	return id
}

// entryOf is r as the outbox keeps it.
func entryOf(r consent.Receipt) entry {
	return entry{id: r.ID, subject: r.Subject, wire: string(consent.AppendReceiptJSON(nil, r))}
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
		`"policies":{"versions":[{"id":"2022-01-01","sha256":"ab","changes":[]},{"id":"2023-06-01","changes":[{"kind":"recipients","summary":{"zh-CN":"推送","en":"push"}}]}]},"views":{}}`), time.Now())
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
		if _, err := loadConfig(parse(t, bad), time.Now()); err == nil {
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

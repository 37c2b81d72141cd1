//go:build js && wasm

package main

import (
	"testing"
	"time"

	"github.com/hack-pad/safejs"

	"workly.ai/consent"
)

// testModule is a module for testSite with analytics granted, and a
// hand-over whose Trusted Types policy and frame check pass values through
// (the loader's refuse undeclared sources: tested in Chromium, build/e2e).
func testModule(t *testing.T) *module {
	t.Helper()
	m := &module{cfg: &config{site: *testSite()}, now: time.Now}
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01"}}
	m.state = consent.State{ID: newID(), Policy: "2022-01-01", Granted: []string{"analytics"}}
	api, _ := call("Object", "create", safejs.Null())
	tt, _ := call("Object", "create", safejs.Null())
	str, _ := global("String")
	tt.Set("createScriptURL", str)
	tt.Set("createScript", str)
	handover.tt, handover.frame = tt, str
	m.api = api
	return m
}

// A granted gated script runs with its attributes and its nonce; a refused
// or unknown one does not.
func TestReleaseCarriesNonce(t *testing.T) {
	m := testModule(t)
	body, _ := call("document", "querySelector", "body")
	add := func(cat, code string) safejs.Value {
		s, _ := call("document", "createElement", "script")
		s.Set("type", "text/plain")
		s.Call("setAttribute", "data-consent", cat)
		s.Call("setAttribute", "nonce", "n0nce")
		s.Call("setAttribute", "data-extra", "kept")
		s.Set("text", code)
		body.Call("append", s)
		return s
	}
	add("analytics", "window.gatedRan = (window.gatedRan || 0) + 1")
	add("marketing", "window.refusedRan = true")
	add("nope", "window.unknownRan = true")
	if err := m.release(); err != nil {
		t.Fatal(err)
	}
	var r jsReader
	w := safejs.Global()
	if n := r.int(w, "gatedRan"); n != 1 {
		t.Fatalf("the granted script ran %d times", n)
	}
	if r.bool(w, "refusedRan") || r.bool(w, "unknownRan") {
		t.Fatal("a refused or unknown script ran")
	}
	ran, _ := call("document", "querySelector", `script[data-extra="kept"]:not([type="text/plain"])`)
	if ran.IsNull() || r.str(ran, "nonce") != "n0nce" {
		t.Fatalf("the running script lost its attributes or nonce")
	}
	// Releasing again runs nothing twice.
	if err := m.release(); err != nil {
		t.Fatal(err)
	}
	if n := r.int(w, "gatedRan"); n != 1 {
		t.Fatalf("after a second release the script ran %d times", n)
	}
}

// Leaving the page with the minor-change note shown records continued use
// from inside the pagehide callback, which must not wait on anything: a
// callback that blocks (here, on IndexedDB's promise) deadlocks the module.
func TestContinuedUseDoesNotBlock(t *testing.T) {
	m := testModule(t)
	// A refused category with a database: clearing it awaits a promise.
	m.cfg.site.Categories = append(m.cfg.site.Categories, consent.Category{ID: "marketing", IndexedDB: []consent.Item{{Name: "x"}}})
	m.cfg.policies.Versions = []consent.Version{{ID: "2022-01-01"}, {ID: "2023-01-01", Changes: []consent.Change{{Kind: consent.KindMinor}}}}
	m.state = consent.State{ID: newID(), Policy: "2022-01-01", Granted: []string{"analytics"},
		Given: time.Unix(1767225600, 0), Updated: time.Unix(1767225600, 0)}
	m.minorShown = true
	loc, _ := global("location")
	m.api.Set("_base", (&jsReader{}).str(loc, "href"))
	if err := m.startReceipts(); err != nil {
		t.Fatal(err)
	}
	ctor, _ := global("Event")
	ev, _ := ctor.New("pagehide")
	done := make(chan struct{})
	go func() {
		call("window", "dispatchEvent", ev) // runs the listener synchronously
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the pagehide handler blocked")
	}
	raw, _ := readCookie(m.cfg.site.CookieName())
	s, err := consent.DecodeCookie(raw)
	if err != nil || s.Policy != "2023-01-01" || !s.Has("analytics") {
		t.Fatalf("continued use recorded as %q (%v)", raw, err)
	}
	clearConsentCookie(&m.cfg.site)
}

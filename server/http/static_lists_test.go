package http

import (
	"net/http"
	"testing"
	"testing/fstest"
)

// The two lists are served at /policies/LIST (the current version's),
// /policies/VERSION/LIST and /en/policies/…, beside the version's own page,
// as HTML that entry points revalidate.
func TestStaticServesLists(t *testing.T) {
	files := map[string]string{
		"policies/2024-03-01.html":                 "version page",
		"policies/2024-03-01/collected.html":       "collected 2024-03-01",
		"policies/2024-03-01/sharing.html":         "sharing 2024-03-01",
		"policies/collected.html":                  "collected current",
		"policies/sharing.html":                    "sharing current",
		"en/policies/2024-03-01/sharing.html":      "sharing 2024-03-01 en",
		"en/policies/collected.html":               "collected current en",
		"policies/diff/2022-01-01/2024-03-01.html": "diff",
	}
	fsys := fstest.MapFS{}
	for name, body := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(body)}
	}
	h, err := Static(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/policies/2024-03-01":                 "version page",
		"/policies/2024-03-01/collected":       "collected 2024-03-01",
		"/policies/2024-03-01/sharing":         "sharing 2024-03-01",
		"/policies/collected":                  "collected current",
		"/policies/sharing":                    "sharing current",
		"/en/policies/2024-03-01/sharing":      "sharing 2024-03-01 en",
		"/en/policies/collected":               "collected current en",
		"/policies/diff/2022-01-01/2024-03-01": "diff",
	} {
		w := get(h, "GET", path)
		if w.Code != http.StatusOK || w.Body.String() != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, w.Code, w.Body.String(), want)
		}
		if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "text/html; charset=utf-8" || cc != "no-cache" {
			t.Errorf("GET %s: Content-Type %q, Cache-Control %q", path, ct, cc)
		}
	}
	for _, path := range []string{"/policies/2024-03-01/../collected", "/policies/1999-01-01/collected", "/policies/2024-03-01/shared"} {
		if w := get(h, "GET", path); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}
}

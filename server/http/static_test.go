package http

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/andybalholm/brotli"

	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

// builtSite is a small built site in the layout go run ./build writes.
func builtSite(t *testing.T) fstest.MapFS {
	t.Helper()
	page := []byte(`<!doctype html><title>首页</title><script src="/loader.js" defer></script>` + strings.Repeat(" ", 200))
	loader := []byte(strings.Repeat("console.log('loader');", 50))
	wasm := bytes.Repeat([]byte{0, 'a', 's', 'm'}, 500)
	return fstest.MapFS{
		"index.html":                        {Data: page},
		"index.html.gz":                     {Data: gz(t, page)},
		"index.html.br":                     {Data: br(t, page)},
		"app/index.html":                    {Data: page},
		"loader.js":                         {Data: loader},
		"loader.js.br":                      {Data: br(t, loader)},
		"loader.js.gz":                      {Data: gz(t, loader)},
		"assets/consent.0123456789.wasm":    {Data: wasm},
		"assets/consent.0123456789.wasm.br": {Data: br(t, wasm)},
		"v1/policies.json":                  {Data: []byte(`{"versions":[]}`)},
		".manifest.json":                    {Data: []byte(`{"secret":"build internals"}`)},
		"policies/feed.atom":                {Data: testFeed},
	}
}

func gz(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func br(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := brotli.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func newTestServer(t *testing.T) http.Handler {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	store, err := sqlite.Open(t.TempDir()+"/consent.db", proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	s, err := New(builtSite(t), store, slog.New(slog.NewTextHandler(io.Discard, nil)), Ingest{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

func get(h http.Handler, method, target string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://example.test/", nil)
	r.URL.Path = target // as given: NewRequest would clean it
	r.RequestURI = target
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStaticServing(t *testing.T) {
	h := newTestServer(t)
	site := builtSite(t)
	for _, tc := range []struct {
		name, method, path string
		header             []string
		status             int
		wantHeader         map[string]string
		wantBody           []byte
	}{
		{name: "entry point revalidates", method: "GET", path: "/", status: 200,
			wantHeader: map[string]string{"Cache-Control": "no-cache", "Content-Type": "text/html; charset=utf-8", "Vary": "Accept-Encoding", "Content-Encoding": ""},
			wantBody:   site["index.html"].Data},
		{name: "directory index", method: "GET", path: "/app/", status: 200, wantBody: site["app/index.html"].Data},
		{name: "directory without slash redirects", method: "GET", path: "/app", status: 301,
			wantHeader: map[string]string{"Location": "/app/"}},
		{name: "brotli preferred", method: "GET", path: "/loader.js", header: []string{"Accept-Encoding", "gzip, deflate, br"}, status: 200,
			wantHeader: map[string]string{"Content-Encoding": "br", "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache"},
			wantBody:   site["loader.js.br"].Data},
		{name: "gzip when brotli refused", method: "GET", path: "/loader.js", header: []string{"Accept-Encoding", "br;q=0, gzip"}, status: 200,
			wantHeader: map[string]string{"Content-Encoding": "gzip"}, wantBody: site["loader.js.gz"].Data},
		{name: "identity without Accept-Encoding", method: "GET", path: "/loader.js", status: 200,
			wantHeader: map[string]string{"Content-Encoding": ""}, wantBody: site["loader.js"].Data},
		{name: "hashed asset is immutable wasm", method: "GET", path: "/assets/consent.0123456789.wasm", header: []string{"Accept-Encoding", "br"}, status: 200,
			wantHeader: map[string]string{"Content-Type": "application/wasm", "Cache-Control": "public, max-age=31536000, immutable", "Content-Encoding": "br"}},
		{name: "manifest without extension", method: "GET", path: "/v1/policies", status: 200,
			wantHeader: map[string]string{"Content-Type": "application/json"}, wantBody: site["v1/policies.json"].Data},
		{name: "HEAD has no body", method: "HEAD", path: "/", status: 200, wantBody: []byte{}},
		{name: "security headers", method: "GET", path: "/", status: 200,
			wantHeader: map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": ContentSecurityPolicy}},
		{name: "POST is refused", method: "POST", path: "/", status: 405},
		{name: "unknown file", method: "GET", path: "/nope.js", status: 404},
		{name: "dot file", method: "GET", path: "/.manifest.json", status: 404},
		{name: "precompressed sibling by name", method: "GET", path: "/loader.js.br", status: 404},
		{name: "traversal", method: "GET", path: "/../server.go", status: 404},
		{name: "dot segment", method: "GET", path: "/app/../index.html", status: 404},
		{name: "encoded traversal stays a path", method: "GET", path: "/%2e%2e/etc/passwd", status: 404},
		{name: "double slash", method: "GET", path: "//index.html", status: 404},
		{name: "backslash", method: "GET", path: "/app\\index.html", status: 404},
		{name: "NUL", method: "GET", path: "/index.html\x00.js", status: 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := get(h, tc.method, tc.path, tc.header...)
			if w.Code != tc.status {
				t.Fatalf("%s %q: status %d, want %d; body %q", tc.method, tc.path, w.Code, tc.status, w.Body.String())
			}
			for k, v := range tc.wantHeader {
				if got := w.Header().Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if tc.wantBody != nil && !bytes.Equal(w.Body.Bytes(), tc.wantBody) {
				t.Errorf("body differs (%d bytes, want %d)", w.Body.Len(), len(tc.wantBody))
			}
			if tc.status == 404 && !strings.Contains(w.Body.String(), "页面不存在") {
				t.Errorf("404 without the not-found page: %q", w.Body.String())
			}
		})
	}
}

// A strong ETag per encoding: revalidation answers 304 without a body, and
// the ETag of the brotli body differs from the identity one.
func TestStaticRevalidation(t *testing.T) {
	h := newTestServer(t)
	first := get(h, "GET", "/loader.js", "Accept-Encoding", "br")
	etag := first.Header().Get("ETag")
	if !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
		t.Fatalf("ETag %q is not strong", etag)
	}
	if plain := get(h, "GET", "/loader.js").Header().Get("ETag"); plain == etag {
		t.Errorf("identity and brotli bodies share ETag %s", etag)
	}
	again := get(h, "GET", "/loader.js", "Accept-Encoding", "br", "If-None-Match", etag)
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation: %d with %d bytes, want 304 and none", again.Code, again.Body.Len())
	}
	ranged := get(h, "GET", "/loader.js", "Range", "bytes=0-9")
	if ranged.Code != http.StatusPartialContent || ranged.Body.String() != "console.lo" {
		t.Errorf("range: %d %q", ranged.Code, ranged.Body.String())
	}
}

var testFeed = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:consent.test,2022-01-01:policies</id><title>t</title>
<updated>2025-06-01T00:00:00Z</updated><author><name>n</name></author></feed>`)

// The feed carries Last-Modified, its own <updated>, and answers
// If-Modified-Since with 304 when nothing is newer; If-None-Match, when
// sent, decides alone.
func TestFeedLastModified(t *testing.T) {
	h := newTestServer(t)
	first := get(h, "GET", "/policies/feed.atom")
	if first.Code != http.StatusOK || first.Header().Get("Content-Type") != "application/atom+xml" {
		t.Fatalf("feed: %d %s", first.Code, first.Header().Get("Content-Type"))
	}
	if lm := first.Header().Get("Last-Modified"); lm != "Sun, 01 Jun 2025 00:00:00 GMT" {
		t.Fatalf("Last-Modified %q", lm)
	}
	for _, c := range []struct {
		name   string
		header []string
		want   int
	}{
		{"same time", []string{"If-Modified-Since", "Sun, 01 Jun 2025 00:00:00 GMT"}, http.StatusNotModified},
		{"later", []string{"If-Modified-Since", "Mon, 02 Jun 2025 00:00:00 GMT"}, http.StatusNotModified},
		{"earlier", []string{"If-Modified-Since", "Sat, 31 May 2025 23:59:59 GMT"}, http.StatusOK},
		{"malformed", []string{"If-Modified-Since", "yesterday"}, http.StatusOK},
		{"a stale etag wins over the date", []string{"If-Modified-Since", "Mon, 02 Jun 2025 00:00:00 GMT", "If-None-Match", `"stale"`}, http.StatusOK},
	} {
		if got := get(h, "GET", "/policies/feed.atom", c.header...); got.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, got.Code, c.want)
		}
	}
	// Files without a time of their own ignore If-Modified-Since.
	if got := get(h, "GET", "/loader.js", "If-Modified-Since", "Mon, 02 Jun 2100 00:00:00 GMT"); got.Code != http.StatusOK || got.Header().Get("Last-Modified") != "" {
		t.Errorf("loader.js: %d, Last-Modified %q", got.Code, got.Header().Get("Last-Modified"))
	}
}

func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		header         string
		haveBr, haveGz bool
		want           string
	}{
		{"gzip, deflate, br, zstd", true, true, "br"},
		{"gzip", true, true, "gzip"},
		{"br;q=0, gzip;q=0.5", true, true, "gzip"},
		{"*", true, true, "br"},
		{"*;q=0", true, true, ""},
		{"identity", true, true, ""},
		{"br", false, true, ""},
		{"", true, true, ""},
		{"BR", true, false, "br"},
	} {
		if got := negotiate(tc.header, tc.haveBr, tc.haveGz); got != tc.want {
			t.Errorf("negotiate(%q, br=%v, gz=%v) = %q, want %q", tc.header, tc.haveBr, tc.haveGz, got, tc.want)
		}
	}
}

func TestHealthz(t *testing.T) {
	h := newTestServer(t)
	w := get(h, "GET", "/healthz")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"ok"`) {
		t.Fatalf("healthz: %d %s", w.Code, w.Body.String())
	}
}

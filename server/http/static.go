package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// asset is one file served from memory, with its precompressed siblings and
// the header values of each, computed once.
type asset struct {
	data, gz, br []byte
	etag         string // strong, of the uncompressed bytes; a suffix marks each encoding
	contentType  string
	immutable    bool // content-hashed name: cache for a year
	// lastModified, when not zero, is sent as Last-Modified and answers
	// If-Modified-Since: for an Atom feed, its own <updated> time.
	lastModified time.Time

	lastModifiedH []string

	contentTypeH, cacheH   []string
	identity, brotli, gzip variant
}

// variant is one encoding of an asset as sent: its body and header values.
type variant struct {
	body                   []byte
	etag, length, encoding []string
}

var varyH = []string{"Accept-Encoding"}

func (a *asset) prepare() {
	a.contentTypeH = []string{a.contentType}
	a.cacheH = []string{"no-cache"}
	if a.immutable {
		a.cacheH = []string{"public, max-age=31536000, immutable"}
	}
	mk := func(body []byte, suffix, enc string) variant {
		v := variant{body: body, etag: []string{a.etag + suffix + `"`}, length: []string{strconv.Itoa(len(body))}}
		if enc != "" {
			v.encoding = []string{enc}
		}
		return v
	}
	if !a.lastModified.IsZero() {
		a.lastModifiedH = []string{a.lastModified.UTC().Format(http.TimeFormat)}
	}
	a.identity = mk(a.data, "", "")
	a.brotli = mk(a.br, "-br", "br")
	a.gzip = mk(a.gz, "-gz", "gzip")
}

// static serves the built site from memory.
//
// Two cache classes: names under /assets/ carry a content hash and are
// "public, max-age=31536000, immutable"; entry points (HTML, loader.js, the
// manifest) are "no-cache" with a strong ETag, so browsers revalidate them
// cheaply. A .br or .gz sibling is sent when Accept-Encoding allows, with
// "Vary: Accept-Encoding". Paths are matched exactly against the files:
// anything else, including dot files and path tricks, is a 404.
type static struct {
	files map[string]*asset // by clean URL path without the leading "/"
}

// loadStatic reads every file of fsys into memory.
func loadStatic(fsys fs.FS) (*static, error) {
	s := &static{files: map[string]*asset{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil // dot files (the build's manifest) are not served
		}
		if d.IsDir() || strings.HasSuffix(p, ".gz") || strings.HasSuffix(p, ".br") {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		a := &asset{
			data:        data,
			etag:        `"` + hex.EncodeToString(sum[:12]),
			contentType: typeByName(p),
			immutable:   strings.HasPrefix(p, "assets/"),
		}
		if path.Ext(p) == ".atom" {
			if a.lastModified, err = feedUpdated(data); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		a.gz, _ = fs.ReadFile(fsys, p+".gz")
		a.br, _ = fs.ReadFile(fsys, p+".br")
		a.prepare()
		s.files[p] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load assets: %w", err)
	}
	return s, nil
}

func typeByName(p string) string {
	switch path.Ext(p) {
	case ".wasm":
		return "application/wasm"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".atom":
		return "application/atom+xml"
	case ".md", ".txt", ".ts":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// lookup maps a request path to a file: "/" and "/dir/" to their index.html,
// "/policies/2022-01-01" to policies/2022-01-01.html, and "/v1/policies" to
// v1/policies.json. A path that is not already clean
// (dot segments, doubled slashes, backslashes) matches nothing.
func (s *static) lookup(urlPath string) (name string, a *asset, redirect string) {
	if !strings.HasPrefix(urlPath, "/") || strings.ContainsAny(urlPath, "\\\x00") {
		return "", nil, ""
	}
	clean := path.Clean(urlPath)
	if strings.HasSuffix(urlPath, "/") && clean != "/" {
		clean += "/"
	}
	if clean != urlPath {
		return "", nil, ""
	}
	name = strings.TrimPrefix(urlPath, "/")
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	if a := s.files[name]; a != nil {
		return name, a, ""
	}
	if a := s.files[name+".json"]; a != nil && strings.HasPrefix(name, "v1/") {
		return name + ".json", a, ""
	}
	if a := s.files[name+".html"]; a != nil && !strings.HasSuffix(name, "/index.html") {
		return name + ".html", a, ""
	}
	if s.files[name+"/index.html"] != nil {
		return "", nil, urlPath + "/"
	}
	return "", nil, ""
}

// Static returns a handler that serves the built files of fsys from memory,
// as the server does, but without the site's security headers: the
// benchmarks serve the module and its peers with it, alike.
func Static(fsys fs.FS) (http.Handler, error) {
	st, err := loadStatic(fsys)
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !st.serve(w, r) {
			notFound(w)
		}
	}), nil
}

// serve answers GET and HEAD for a file, or reports false.
func (s *static) serve(w http.ResponseWriter, r *http.Request) bool {
	_, a, redirect := s.lookup(r.URL.Path)
	if redirect != "" {
		http.Redirect(w, r, redirect, http.StatusMovedPermanently)
		return true
	}
	if a == nil {
		return false
	}
	h := w.Header()
	h["Content-Type"] = a.contentTypeH
	h["Cache-Control"] = a.cacheH
	v := &a.identity
	if a.gz != nil || a.br != nil {
		h["Vary"] = varyH
		switch negotiate(r.Header.Get("Accept-Encoding"), a.br != nil, a.gz != nil) {
		case "br":
			v = &a.brotli
		case "gzip":
			v = &a.gzip
		}
		if v.encoding != nil {
			h["Content-Encoding"] = v.encoding
		}
	}
	h["Etag"] = v.etag
	if a.lastModifiedH != nil {
		h["Last-Modified"] = a.lastModifiedH
	}
	if r.Header.Get("Range") != "" || r.Header.Get("If-Range") != "" {
		// ServeContent answers ranges (206) and their preconditions.
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(v.body))
		return true
	}
	// The common case, answered directly: revalidation, HEAD, GET.
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, v.etag[0]) || inm == "" && notModifiedSince(r, a.lastModified) {
		delete(h, "Content-Type")
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	h["Content-Length"] = v.length
	h["Accept-Ranges"] = acceptRangesH
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return true
	}
	w.Write(v.body)
	return true
}

var acceptRangesH = []string{"bytes"}

// notModifiedSince reports whether r's If-Modified-Since is at or after
// modified (to the second, as HTTP dates go). Without a time of its own, an
// asset is never "not modified since"; RFC 9110 has If-None-Match take
// precedence, which the caller does by asking only when it is absent.
func notModifiedSince(r *http.Request, modified time.Time) bool {
	ims := r.Header.Get("If-Modified-Since")
	if modified.IsZero() || ims == "" {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(t)
}

// feedUpdated returns an Atom feed's own <updated> time.
func feedUpdated(data []byte) (time.Time, error) {
	var f struct {
		Updated string `xml:"http://www.w3.org/2005/Atom updated"`
	}
	if err := xml.Unmarshal(data, &f); err != nil {
		return time.Time{}, fmt.Errorf("read the feed: %w", err)
	}
	t, err := time.Parse(time.RFC3339, f.Updated)
	if err != nil {
		return time.Time{}, fmt.Errorf("the feed's <updated>: %w", err)
	}
	return t, nil
}

// etagMatch reports whether an If-None-Match header lists etag (or is "*").
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// negotiate picks "br", "gzip" or "" (identity) from an Accept-Encoding
// header, honouring q=0.
func negotiate(header string, haveBr, haveGz bool) string {
	q := map[string]float64{}
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		weight := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				weight = f
			}
		}
		q[strings.ToLower(strings.TrimSpace(name))] = weight
	}
	accepts := func(enc string) bool {
		if w, ok := q[enc]; ok {
			return w > 0
		}
		w, ok := q["*"]
		return ok && w > 0
	}
	switch {
	case haveBr && accepts("br"):
		return "br"
	case haveGz && accepts("gzip"):
		return "gzip"
	}
	return ""
}

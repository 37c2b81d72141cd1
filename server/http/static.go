package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// asset is one file served from memory, with its precompressed siblings.
type asset struct {
	data, gz, br []byte
	etag         string // strong, of the uncompressed bytes; a suffix marks each encoding
	contentType  string
	immutable    bool // content-hashed name: cache for a year
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
		a.gz, _ = fs.ReadFile(fsys, p+".gz")
		a.br, _ = fs.ReadFile(fsys, p+".br")
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
	case ".md", ".txt":
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
	h.Set("Content-Type", a.contentType)
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body, etag := a.data, a.etag
	if a.gz != nil || a.br != nil {
		h.Set("Vary", "Accept-Encoding")
		switch enc := negotiate(r.Header.Get("Accept-Encoding"), a.br != nil, a.gz != nil); enc {
		case "br":
			body, etag = a.br, a.etag+"-br"
			h.Set("Content-Encoding", "br")
		case "gzip":
			body, etag = a.gz, a.etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag+`"`)
	// ServeContent answers If-None-Match with 304, Range with 206, and HEAD.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	return true
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

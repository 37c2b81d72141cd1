// Package http is the server's HTTP side: the static site, the policy
// manifest, health and, later, receipt ingest. It knows stores only through
// consent.ReceiptStore.
package http

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"workly.ai/consent"
)

// ContentSecurityPolicy is sent with every response. The demo pages run under
// it, and so can any page that embeds the module: scripts only from the
// origin (the loader and the wasm glue), WebAssembly compilation allowed, no
// inline scripts or styles, and Trusted Types enforced, with the module's own
// policy "consent" the only one allowed.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'self'; require-trusted-types-for 'script'; trusted-types consent"

// Server answers the module's HTTP endpoints.
type Server struct {
	static   *static
	store    consent.ReceiptStore
	log      *slog.Logger
	ingest   Ingest
	allowed  map[string]bool
	clients  *clientQuota
	shared   *sharedQuota
	disk     *diskWatermark
	site     *consent.Site     // from the built v1/site.json; nil before a build
	policies *consent.Manifest // from the built v1/policies.json
	metrics  *metrics
	// boundKeys are the bindings of subjects to keys seen in the store.
	boundKeys boundKeys
}

// New returns a server for the built site in assets, storing receipts in store.
func New(assets fs.FS, store consent.ReceiptStore, log *slog.Logger, ingest Ingest) (*Server, error) {
	st, err := loadStatic(assets)
	if err != nil {
		return nil, err
	}
	site, policies, err := loadSiteFiles(assets)
	if err != nil {
		return nil, err
	}
	switch {
	case site == nil:
		log.Warn("no built assets: run go run ./build first")
	case ingest.CookieKey == nil:
		log.Warn("no -cookie-key: no consent cookie is vouched for, so every page asks again")
	case site.Cookie.PublicKey != ingest.CookieKey.PublicKey():
		return nil, fmt.Errorf("the cookie key's public half is not the one the site was built with (cookie.publicKey %s): browsers would believe no cookie it vouches for", site.Cookie.PublicKey)
	}
	s := &Server{static: st, store: store, log: log, ingest: ingest, site: site, policies: policies,
		allowed: map[string]bool{}, metrics: newMetrics(),
		clients: newClientQuota(newRate(ingest.Rate, ingest.Burst), maxTrackedClients),
		shared:  newSharedQuota(ingest.SubjectPerDay, newRate(ingest.GlobalRate, 0)),
		disk:    &diskWatermark{min: ingest.MinFree, free: ingest.FreeSpace, log: log}}
	for _, o := range ingest.Origins {
		s.allowed[o] = true
	}
	return s, nil
}

// Handler returns the public HTTP handler: the site, the receipts and
// health (GET /healthz, GET /livez), not the metrics (AdminHandler).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /livez", livez)
	mux.HandleFunc("GET /policies/diff", s.diffForm)
	mux.HandleFunc("POST /v1/receipts", s.receipts)
	mux.HandleFunc("OPTIONS /v1/receipts", s.receipts)
	mux.HandleFunc("POST /v1/cookie", s.consentCookie)
	mux.HandleFunc("GET /v1/policies/at", s.policyAt)
	mux.HandleFunc("POST /v1/discovered", s.discovered)
	mux.HandleFunc("OPTIONS /v1/discovered", s.discovered)
	mux.HandleFunc("GET /v1/key", s.key)
	mux.HandleFunc("GET /v1/chain/{seq}", s.chainLink)
	mux.HandleFunc("GET /v1/checkpoint", s.checkpoint)
	mux.HandleFunc("/", s.files)
	return securityHeaders(oddPaths(s.reserveForHealth(mux)))
}

// AdminHandler returns the handler of the operator's listener, not to be
// reachable from the internet: GET /metrics (Prometheus), GET /healthz and
// GET /livez.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /livez", livez)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	return mux
}

// oddPaths answers 404 for a path that is not clean (dot segments, doubled
// slashes), where ServeMux would redirect to the cleaned path.
func oddPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if clean != p {
			notFound(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

var (
	cspH      = []string{ContentSecurityPolicy}
	nosniffH  = []string{"nosniff"}
	referrerH = []string{"strict-origin-when-cross-origin"}
)

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Security-Policy"] = cspH
		h["X-Content-Type-Options"] = nosniffH
		h["Referrer-Policy"] = referrerH
		next.ServeHTTP(w, r)
	})
}

func (s *Server) files(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if s.static.serve(w, r) {
		return
	}
	notFound(w)
}

// notFound answers a small page that works without scripts.
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusNotFound)
	w.Write([]byte(`<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>页面不存在 · Not found</title>` +
		`<h1>页面不存在</h1><p>Not found.</p><p><a href="/">返回首页</a> · <a href="/policies/">隐私政策</a></p></html>`))
}

// diffForm answers the archive's comparison form (?from=A&to=B), which works
// without JavaScript, with a redirect to the pre-rendered comparison, older
// version first whichever order they were chosen in. Unknown versions get 404.
func (s *Server) diffForm(w http.ResponseWriter, r *http.Request) {
	from, to := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if consent.ValidVersionID(from) && consent.ValidVersionID(to) {
		for _, pair := range [][2]string{{from, to}, {to, from}} {
			target := consent.DiffURL(pair[0], pair[1])
			if _, a, _ := s.static.lookup(target); a != nil {
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
		}
		if _, a, _ := s.static.lookup(consent.PolicyURL(from)); from == to && a != nil {
			http.Redirect(w, r, consent.PolicyURL(from), http.StatusSeeOther)
			return
		}
	}
	notFound(w)
}

// healthz answers readiness: 200 {"status":"ok"} while receipts can be
// stored, else 503 {"status":"unavailable","reason":…}: the store does not
// answer its ping within 2 s, or its disk is below the watermark.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	reason := s.disk.lowReason(s.now())
	if reason == "" {
		if err := s.store.Ping(ctx); err != nil {
			s.log.Error("health: store unreachable", "err", err)
			reason = "the receipt store is unreachable"
		}
	}
	answer, code := map[string]string{"status": "ok"}, http.StatusOK
	if reason != "" {
		answer, code = map[string]string{"status": "unavailable", "reason": reason}, http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(answer)
}

// livez answers liveness: 200 whenever the process serves requests, whether
// or not it can store receipts (restart on livez, route on healthz).
func livez(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(`{"status":"ok"}` + "\n"))
}

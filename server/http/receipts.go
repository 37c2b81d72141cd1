package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"workly.ai/consent"
)

// MaxReceiptBody is the largest body POST /v1/receipts reads: browsers refuse
// keepalive requests and beacons past 64 KiB anyway.
const MaxReceiptBody = 64 << 10

// Ingest configures POST /v1/receipts.
type Ingest struct {
	// Origins are the origins (scheme://host[:port]) besides the server's own
	// whose pages may post receipts; they get CORS headers.
	Origins []string
	// Rate is how many posts per second one client address may make, with a
	// burst of twice that; 0 means no limit.
	Rate float64
	// Now is the server's clock; defaults to time.Now.
	Now func() time.Time
	// PublicKey is the key the store signs the chain with, served at
	// GET /v1/key so that anyone holding receipts can check them.
	PublicKey ed25519.PublicKey
	// Discovered keeps the counts of POST /v1/discovered, which is on only
	// when site.json sets "discovery" and this is not nil.
	Discovered DiscoveryStore
}

// receipts answers POST /v1/receipts: a batch {"receipts":[…]} as JSON or as
// the text/plain of navigator.sendBeacon. Only once they are durably stored
// it answers 200 with {"received": n, "stored": new, "acks": [...]}, the
// server's signed acknowledgement of each (consent.Ack); a receipt already
// stored counts as received, not as an error, so clients may resend, and its
// acknowledgement is the one it got the first time. Errors are JSON
// {"error": "..."} with a 4xx status, or 503 with Retry-After while the store
// is unreachable (consent.ErrUnavailable) or failed: nothing is acknowledged
// then, and resending is safe.
func (s *Server) receipts(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" && !s.sameOrigin(r, origin) {
		if !s.allowed[origin] {
			s.reject(w, "origin", http.StatusForbidden, "origin "+origin+" may not post receipts")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if !s.limiter.allow(clientAddr(r), s.now()) {
		w.Header().Set("Retry-After", "1")
		s.reject(w, "rate", http.StatusTooManyRequests, "too many requests: slow down")
		return
	}
	if s.site == nil || s.policies == nil {
		s.reject(w, "unbuilt", http.StatusServiceUnavailable, "the site is not built: receipts cannot be checked")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/plain" {
		s.reject(w, "content_type", http.StatusUnsupportedMediaType, "send application/json or text/plain")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReceiptBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.reject(w, "too_large", http.StatusRequestEntityTooLarge, "body larger than 64 KiB: send smaller batches")
			return
		}
		s.reject(w, "read", http.StatusBadRequest, "reading the body failed")
		return
	}
	rs, err := consent.DecodeReceipts(body)
	if err != nil {
		s.reject(w, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	now := s.now()
	for _, rec := range rs {
		if err := rec.Validate(s.site, s.policies, now); err != nil {
			s.reject(w, "invalid", http.StatusUnprocessableEntity, err.Error())
			return
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	s.metrics.batch.Observe(float64(len(rs)))
	start := time.Now()
	acks, stored, err := s.store.Put(ctx, rs)
	if err != nil {
		s.log.Error("store receipts", "err", err, "receipts", len(rs))
		w.Header().Set("Retry-After", "1")
		if errors.Is(err, consent.ErrUnavailable) {
			s.reject(w, "store_unavailable", http.StatusServiceUnavailable, "the receipt store is unreachable, so the receipts were not acknowledged: send them again")
			return
		}
		s.reject(w, "store", http.StatusServiceUnavailable, "the receipts could not be stored: try again")
		return
	}
	s.metrics.commit.Observe(time.Since(start).Seconds())
	s.metrics.accepted.Add(float64(len(rs)))
	for _, rec := range rs {
		s.metrics.lag.Observe(max(0, now.Sub(rec.Time).Seconds()))
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(struct {
		Received int           `json:"received"`
		Stored   int           `json:"stored"`
		Acks     []consent.Ack `json:"acks"`
	}{len(rs), stored, acks})
}

// reject answers an error and counts it by reason.
func (s *Server) reject(w http.ResponseWriter, reason string, status int, msg string) {
	s.metrics.rejected.WithLabelValues(reason).Inc()
	jsonError(w, status, msg)
}

func (s *Server) now() time.Time {
	if s.ingest.Now != nil {
		return s.ingest.Now()
	}
	return time.Now()
}

// sameOrigin reports whether origin is the server's own, as the request
// reached it.
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// limiter is a token bucket per client address.
type limiter struct {
	rate    float64 // tokens per second; 0: no limit
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *limiter) allow(client string, now time.Time) bool {
	if l.rate <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil || len(l.buckets) > 100000 {
		l.buckets = map[string]*bucket{} // forget everyone rather than grow without bound
	}
	b := l.buckets[client]
	if b == nil {
		b = &bucket{tokens: 2 * l.rate, last: now}
		l.buckets[client] = b
	}
	b.tokens = min(2*l.rate, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// loadSiteFiles reads the site configuration and policy manifest the build
// wrote beside the assets (v1/site.json, v1/policies.json); nil when absent.
func loadSiteFiles(assets fs.FS) (*consent.Site, *consent.Manifest, error) {
	siteData, err1 := fs.ReadFile(assets, "v1/site.json")
	polData, err2 := fs.ReadFile(assets, "v1/policies.json")
	if errors.Is(err1, fs.ErrNotExist) || errors.Is(err2, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err := errors.Join(err1, err2); err != nil {
		return nil, nil, err
	}
	var site consent.Site
	var m consent.Manifest
	if err := json.Unmarshal(siteData, &site); err != nil {
		return nil, nil, errors.New("v1/site.json: " + err.Error())
	}
	if err := json.Unmarshal(polData, &m); err != nil {
		return nil, nil, errors.New("v1/policies.json: " + err.Error())
	}
	if err := errors.Join(site.Validate(), m.Validate()); err != nil {
		return nil, nil, errors.New("built configuration: " + err.Error())
	}
	return &site, &m, nil
}

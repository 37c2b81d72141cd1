package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/cookiekey"
	"workly.ai/consent/server/wire"
)

// MaxReceiptBody is the largest body POST /v1/receipts reads: browsers refuse
// keepalive requests and beacons past 64 KiB anyway.
const MaxReceiptBody = 64 << 10

// Ingest configures POST /v1/receipts.
type Ingest struct {
	// Origins are the origins (scheme://host[:port]) besides the server's own
	// whose pages may post receipts; they get CORS headers.
	Origins []string
	// Rate is how many receipts per second one client may send (an IPv4
	// address, or an IPv6 /64; behind TrustedProxies, the address they name),
	// with a burst of Burst receipts (twice Rate when 0); 0 means no limit.
	// A post is let through while its client has quota left, and all its
	// receipts are counted.
	Rate  float64
	Burst int
	// SubjectPerDay is how many receipts one subject (consent id) may have
	// stored per UTC day by the server's clock, from all clients together;
	// 0 means no limit.
	SubjectPerDay int
	// GlobalRate is how many receipts per second the server stores from all
	// clients together, with a burst of twice that; 0 means no limit.
	GlobalRate float64
	// TrustedProxies are the networks of the load balancers in front of the
	// server: a request from one names its client in X-Forwarded-For (the
	// rightmost address not in them) and its scheme in X-Forwarded-Proto.
	// From any other peer those headers are ignored.
	TrustedProxies []netip.Prefix
	// MinFree is how many bytes must stay free on the store's disk, as
	// FreeSpace reports them (read at most once a second): below it receipts
	// are answered 503 and /healthz is 503. Zero, or a nil FreeSpace, does
	// not watch the disk.
	MinFree   uint64
	FreeSpace func() (uint64, error)
	// Now is the server's clock; defaults to time.Now.
	Now func() time.Time
	// PublicKey is the key the store signs the chain with, served at
	// GET /v1/key so that anyone holding receipts can check them.
	PublicKey ed25519.PublicKey
	// Discovered keeps the counts of POST /v1/discovered, which is on only
	// when site.json sets "discovery" and this is not nil.
	Discovered DiscoveryStore
	// CookieKey vouches for consent cookies (vouchCookie, POST /v1/cookie);
	// its public half must be the built site's cookie.publicKey. Without
	// it the server vouches for none, and every page asks again.
	CookieKey *cookiekey.Key
}

// receipts answers POST /v1/receipts: a batch {"receipts":[…]} as JSON or as
// the text/plain of navigator.sendBeacon. Only once they are durably stored
// it answers 200 with {"received": n, "stored": new, "acks": [...]}, the
// server's signed acknowledgement of each (consent.Ack); a receipt already
// stored counts as received, not as an error, so clients may resend, and its
// acknowledgement is the one it got the first time. Errors are JSON
// {"error": "..."} with a 4xx status: 429 with Retry-After when a quota
// (Ingest.Rate, SubjectPerDay, GlobalRate) is used up; or 503 with
// Retry-After while the store is unreachable (consent.ErrUnavailable) or
// failed, or its disk is below Ingest.MinFree: nothing is acknowledged then,
// and resending is safe. The body must be in the canonical wire form (400
// otherwise, see wire.DecodeBatch); each receipt's values valid (422,
// consent.Receipt.Validate), its signature good and its key one its subject
// is bound to (403, see checkKeys).
func (s *Server) receipts(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin != "" && !s.sameOrigin(r, origin) {
		if !s.allowed[origin] {
			s.reject(w, "origin", http.StatusForbidden, "origin "+origin+" may not post receipts")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true") // the enrolment cookie (keys.go)
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
	if s.site == nil || s.policies == nil {
		s.reject(w, "unbuilt", http.StatusServiceUnavailable, "the site is not built: receipts cannot be checked")
		return
	}
	if low := s.disk.lowReason(s.now()); low != "" {
		w.Header().Set("Retry-After", "60")
		s.reject(w, "disk_full", http.StatusServiceUnavailable, "the server cannot store receipts now, so none were acknowledged: send them again later")
		return
	}
	// A client already over its quota is refused before its body is read.
	client := keyOf(s.clientAddr(r))
	if ok, wait := s.clients.take(client, s.now(), 0); !ok {
		s.tooMany(w, "client_quota", wait, "this client sent more receipts than its quota allows: slow down")
		return
	}
	body, ok := s.readBody(w, r, MaxReceiptBody, "body larger than 64 KiB: send smaller batches")
	if !ok {
		return
	}
	rs, err := wire.DecodeBatch(body)
	now := s.now()
	// Counted before they are checked: refused receipts cost the client too.
	if ok, wait := s.clients.take(client, now, max(1, len(rs))); !ok {
		s.tooMany(w, "client_quota", wait, "this client sent more receipts than its quota allows: slow down")
		return
	}
	if err != nil {
		s.reject(w, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	for _, rec := range rs {
		if err := rec.Validate(s.site, s.policies, now); err != nil {
			s.reject(w, "invalid", http.StatusUnprocessableEntity, err.Error())
			return
		}
		if err := wire.Verify(rec); err != nil {
			s.reject(w, "signature", http.StatusForbidden, err.Error())
			return
		}
	}
	perSubject := map[string]int{}
	for _, rec := range rs {
		perSubject[rec.Subject]++
	}
	switch refused, wait := s.shared.take(perSubject, now); refused {
	case "subject":
		s.tooMany(w, "subject_quota", wait, "a subject in this batch has had its quota of receipts for today")
		return
	case "global":
		s.tooMany(w, "global_quota", wait, "the server is receiving more receipts than it stores: slow down")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if !s.checkKeys(ctx, w, r, rs) {
		return
	}
	s.metrics.batch.Observe(float64(len(rs)))
	start := time.Now()
	acks, stored, err := s.store.Put(ctx, rs)
	if errors.Is(err, consent.ErrConflict) {
		s.reject(w, "conflict", http.StatusConflict, err.Error())
		return
	}
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
		if lag := max(0, now.Sub(rec.Time).Seconds()); lag <= maxOutboxLag {
			s.metrics.lag.Observe(lag)
		} else {
			s.metrics.lagBeyond.Inc()
		}
	}
	s.vouchCookie(w, r, rs)
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

// tooMany answers 429 with when to try again (whole seconds, at least 1).
func (s *Server) tooMany(w http.ResponseWriter, reason string, wait time.Duration, msg string) {
	w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	s.reject(w, reason, http.StatusTooManyRequests, msg)
}

func (s *Server) now() time.Time {
	if s.ingest.Now != nil {
		return s.ingest.Now()
	}
	return time.Now()
}

// readBody reads a post's body as a browser sends it (application/json, or
// sendBeacon's text/plain), at most limit bytes. When it cannot, it has
// answered (415, 413 with tooBig, 400) and reports false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, tooBig string) ([]byte, bool) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "text/plain" {
		s.reject(w, "content_type", http.StatusUnsupportedMediaType, "send application/json or text/plain")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			s.reject(w, "too_large", http.StatusRequestEntityTooLarge, tooBig)
		} else {
			s.reject(w, "read", http.StatusBadRequest, "reading the body failed")
		}
		return nil, false
	}
	return body, true
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
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

package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"workly.ai/consent/server/discovery"
)

// DiscoveryStore keeps the counts of POST /v1/discovered (Ingest.Discovered).
type DiscoveryStore = discovery.Store

// discovered answers POST /v1/discovered: a batch of names the listener
// found undeclared in a visitor's browser, {"names":[{"kind","name"}…]}
// (discovery.Decode), as JSON or as sendBeacon's text/plain, at most
// discovery.MaxBody bytes. It counts each name once for today and answers
// 200 {"counted": n}. It is off (404) unless site.json sets "discovery":
// true and the server has a store for the counts. Origins and errors are
// those of POST /v1/receipts: 400 malformed or anything besides kinds and
// names, 403 origin, 413, 415, 429 (a post counts as one receipt against
// its client's quota), 503 store unavailable.
func (s *Server) discovered(w http.ResponseWriter, r *http.Request) {
	if s.site == nil || !s.site.Discovery || s.ingest.Discovered == nil {
		jsonError(w, http.StatusNotFound, "discovery is off: site.json does not switch it on")
		return
	}
	origin := r.Header.Get("Origin")
	if origin != "" && !s.sameOrigin(r, origin) {
		if !s.allowed[origin] {
			s.reject(w, "origin", http.StatusForbidden, "origin "+origin+" may not post")
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
	// A post counts as one receipt against its client's quota (Ingest.Rate).
	if ok, wait := s.clients.take(keyOf(s.clientAddr(r)), s.now(), 1); !ok {
		s.tooMany(w, "client_quota", wait, "this client sent more than its quota allows: slow down")
		return
	}
	body, ok := s.readBody(w, r, discovery.MaxBody, "body larger than 8 KiB")
	if !ok {
		return
	}
	names, err := discovery.Decode(body)
	if err != nil {
		s.reject(w, "malformed", http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	if err := s.ingest.Discovered.Record(ctx, s.now(), names); err != nil {
		s.log.Error("record discovered names", "err", err, "names", len(names))
		w.Header().Set("Retry-After", "60")
		s.reject(w, "store", http.StatusServiceUnavailable, "the names could not be counted: try again later")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]int{"counted": len(names)})
}

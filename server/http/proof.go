package http

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
)

// Anyone holding a receipt and its acknowledgement (a person's download from
// the preferences centre, say) can check it against the server without
// trusting an export: the acknowledgement's hash must be
// SHA-256(hash(seq−1) || SHA-256(the receipt's wire form) || be64(received)),
// hashes as raw bytes, and its signature an Ed25519 signature of
// proof.CheckpointMessage(seq, hash, received) by the key GET /v1/key
// serves. GET /v1/chain/{seq} serves any link's hash and signature: hashes
// and signatures only, never a receipt. GET /v1/checkpoint serves the
// newest link's: a signed statement of how long the chain is, to keep and
// check the store against later (consentd verify -against).

// key answers GET /v1/key: {"alg":"Ed25519","publicKey":"<hex>"}.
func (s *Server) key(w http.ResponseWriter, r *http.Request) {
	if len(s.ingest.PublicKey) == 0 {
		jsonError(w, http.StatusNotFound, "this server has no signing key")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	json.NewEncoder(w).Encode(map[string]string{"alg": "Ed25519", "publicKey": hex.EncodeToString(s.ingest.PublicKey)})
}

var errFound = errors.New("found")

// chainLink answers GET /v1/chain/{seq}: {"seq":n,"hash":"…","sig":"…"}.
func (s *Server) chainLink(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		jsonError(w, http.StatusBadRequest, "want /v1/chain/N with N a sequence number from 1")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var link consent.Ack
	err = s.store.Entries(ctx, seq, func(_ []byte, a consent.Ack) error {
		link = a
		return errFound
	})
	switch {
	case errors.Is(err, errFound) && link.Seq == seq:
	case err == nil || errors.Is(err, errFound):
		jsonError(w, http.StatusNotFound, "no link "+strconv.FormatInt(seq, 10)+" in the chain")
		return
	default:
		s.log.Error("read the chain", "err", err, "seq", seq)
		jsonError(w, http.StatusServiceUnavailable, "the chain could not be read: try again")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable") // a link never changes
	json.NewEncoder(w).Encode(proof.CheckpointOf(link))
}

// checkpoint answers GET /v1/checkpoint: the newest link's
// {"seq","hash","received","sig"}; 404 while the chain is empty.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	head, err := s.store.Head(ctx)
	if err != nil {
		s.log.Error("read the chain's head", "err", err)
		jsonError(w, http.StatusServiceUnavailable, "the chain could not be read: try again")
		return
	}
	if head.Seq == 0 {
		jsonError(w, http.StatusNotFound, "no receipt stored yet: no checkpoint")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	json.NewEncoder(w).Encode(proof.CheckpointOf(head))
}

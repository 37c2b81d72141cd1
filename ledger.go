package consent

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// The server keeps every stored receipt in one global hash chain and signs
// each link, so that the proof cannot be edited afterwards without it showing:
//
//	hash(n) = SHA-256(hash(n-1) || body(n))     (hash(0) is empty)
//	sig(n)  = Ed25519(server key, hash(n))
//
// where body(n) is the receipt's wire form (AppendReceiptJSON) and hashes are
// the 32 raw bytes, written as hex. Every store computes the chain the same
// way; consentd verify recomputes it.

// Ack is the server's acknowledgement of one stored receipt: its place in the
// global chain, the chain hash there and the server's signature of it. The
// browser keeps it as the person's proof.
type Ack struct {
	ID   string `json:"id"`
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Sig  string `json:"sig"`
}

// ChainHash returns hash(n) from hash(n-1) (hex, "" for the first) and
// body(n).
func ChainHash(prev string, body []byte) string {
	h := sha256.New()
	if p, err := hex.DecodeString(prev); err == nil {
		h.Write(p)
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// SignHash signs a chain hash with the server's key; the signature is base64.
func SignHash(key ed25519.PrivateKey, hash string) string {
	raw, _ := hex.DecodeString(hash)
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw))
}

// VerifyLink checks one link of the chain: that hash is ChainHash(prev, body)
// and sig the server's signature of it. The error says which.
func VerifyLink(pub ed25519.PublicKey, seq int64, prev string, body []byte, hash, sig string) error {
	where := "record " + strconv.FormatInt(seq, 10)
	if ChainHash(prev, body) != hash {
		return receiptError(where + ": the chain hash does not match the stored receipt (changed or reordered)")
	}
	raw, _ := hex.DecodeString(hash)
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.Verify(pub, raw, s) {
		return receiptError(where + ": the signature does not verify")
	}
	return nil
}

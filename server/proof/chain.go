package proof

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"workly.ai/consent"
)

// The global chain, link n (from 1) for the n-th receipt stored:
//
//	leaf(n) = SHA-256(body(n))
//	hash(n) = SHA-256(hash(n-1) || leaf(n) || be64(received(n)))    hash(0) is empty
//	sig(n)  = Ed25519(key, CheckpointMessage(n, hash(n), received(n)))
//
// body(n) is the receipt's wire form, received(n) the server's clock when it
// stored it (Unix milliseconds), be64 an 8-byte big-endian integer, and
// hashes the 32 raw bytes (written as hex). Chaining the body's hash rather
// than the body lets a body be replaced by a tombstone (Tombstone) while the
// chain still verifies; chaining the server's time makes it part of the
// proof. Each link's signature is a checkpoint: the server's signed statement
// that its chain had n links, ending in hash(n), at received(n).

// CheckpointDomain starts every message the server signs, so that a
// signature over it can mean nothing else.
const CheckpointDomain = "consent checkpoint v1\n"

// Checkpoint is a signed statement of the chain's length and head: link
// Seq's hash and server time, and the server's signature of them. Every
// acknowledgement is the checkpoint of its own link; GET /v1/checkpoint
// serves the newest.
type Checkpoint struct {
	Seq      int64  `json:"seq"`
	Hash     string `json:"hash"`
	Received int64  `json:"received"` // Unix milliseconds, the server's clock
	Sig      string `json:"sig"`
}

// CheckpointOf is the checkpoint an acknowledgement carries.
func CheckpointOf(a consent.Ack) Checkpoint {
	return Checkpoint{Seq: a.Seq, Hash: a.Hash, Received: a.Received, Sig: a.Sig}
}

// SignFunc signs link seq: it returns the base64 Ed25519 signature of
// CheckpointMessage(seq, hash, received). Stores sign with one (Signer).
type SignFunc func(seq int64, hash string, received int64) string

// LeafHash is SHA-256 of a receipt's wire form, raw.
func LeafHash(body []byte) []byte {
	sum := sha256.Sum256(body)
	return sum[:]
}

// ChainHash returns hash(n), in hex, from hash(n-1) (hex, "" for the first
// link), leaf(n) (LeafHash) and received(n).
func ChainHash(prev string, leaf []byte, received int64) string {
	h := sha256.New()
	if p, err := hex.DecodeString(prev); err == nil {
		h.Write(p)
	}
	h.Write(leaf)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(received)))
	return hex.EncodeToString(h.Sum(nil))
}

// CheckpointMessage is the byte string the server signs for link seq:
// CheckpointDomain || be64(seq) || hash's 32 bytes || be64(received). A
// hash that is not 64 hex digits gives a message no signature verifies for.
func CheckpointMessage(seq int64, hash string, received int64) []byte {
	raw, err := hex.DecodeString(hash)
	if err != nil || len(raw) != sha256.Size {
		return nil
	}
	m := append([]byte(CheckpointDomain), binary.BigEndian.AppendUint64(nil, uint64(seq))...)
	m = append(m, raw...)
	return binary.BigEndian.AppendUint64(m, uint64(received))
}

// Signer returns the SignFunc of key.
func Signer(key ed25519.PrivateKey) SignFunc {
	return func(seq int64, hash string, received int64) string {
		return base64.StdEncoding.EncodeToString(ed25519.Sign(key, CheckpointMessage(seq, hash, received)))
	}
}

// Verify checks c's signature with pub.
func (c Checkpoint) Verify(pub ed25519.PublicKey) error {
	msg := CheckpointMessage(c.Seq, c.Hash, c.Received)
	s, err := base64.StdEncoding.DecodeString(c.Sig)
	if msg == nil || err != nil || !ed25519.Verify(pub, msg, s) {
		return fmt.Errorf("checkpoint %d: the signature does not verify with the public key", c.Seq)
	}
	return nil
}

// VerifyLink checks one link of the chain: that a.Hash is hash(n) of body
// after prev (hash(n-1)) and a.Sig the server's signature of it. A
// tombstoned body (Tombstone) checks with the leaf hash it keeps. The error
// says which, and where.
func VerifyLink(pub ed25519.PublicKey, prev string, body []byte, a consent.Ack) error {
	where := "record " + strconv.FormatInt(a.Seq, 10)
	if ChainHash(prev, StoredLeaf(body), a.Received) != a.Hash {
		return fmt.Errorf("%s: the chain hash does not match the stored receipt (changed or reordered)", where)
	}
	if err := CheckpointOf(a).Verify(pub); err != nil {
		return fmt.Errorf("%s: the signature does not verify", where)
	}
	return nil
}

// StoredLeaf is leaf(n) of a stored body: LeafHash of a receipt, or the
// hash a tombstone keeps.
func StoredLeaf(body []byte) []byte {
	if leaf, _, ok := ParseTombstone(body); ok {
		return leaf
	}
	return LeafHash(body)
}

// ReceiptHash is the SHA-256 (hex) of a receipt's wire form: what the same
// subject's next receipt carries as Prev.
func ReceiptHash(r consent.Receipt) string {
	return hex.EncodeToString(LeafHash(consent.AppendReceiptJSON(nil, r)))
}

// A tombstone is what stands in a store for a receipt body that was
// redacted (spam, say): {"tombstone":{"sha256":"<leaf hash>","reason":"…"}}.
// The chain covers the body's hash, not the body, so the link still
// verifies; verification counts tombstones, and no receipt's wire form
// begins like one.
type tombstone struct {
	T struct {
		SHA256 string `json:"sha256"`
		Reason string `json:"reason"`
	} `json:"tombstone"`
}

var tombstonePrefix = []byte(`{"tombstone":`)

// Tombstone returns the tombstone that replaces body, with reason.
func Tombstone(body []byte, reason string) []byte {
	var t tombstone
	t.T.SHA256, t.T.Reason = hex.EncodeToString(LeafHash(body)), reason
	out, _ := json.Marshal(t)
	return out
}

// ParseTombstone reports whether body is a tombstone, and returns the leaf
// hash of the body it replaced and why.
func ParseTombstone(body []byte) (leaf []byte, reason string, ok bool) {
	if !bytes.HasPrefix(body, tombstonePrefix) {
		return nil, "", false
	}
	var t tombstone
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, "", false
	}
	leaf, err := hex.DecodeString(t.T.SHA256)
	if err != nil || len(leaf) != sha256.Size {
		return nil, "", false
	}
	return leaf, t.T.Reason, true
}

// SameContent reports whether a receipt sent again as body is the one stored
// as stored (its body, or the tombstone that replaced it).
func SameContent(stored, body []byte) bool {
	if leaf, _, ok := ParseTombstone(stored); ok {
		return bytes.Equal(leaf, LeafHash(body))
	}
	return bytes.Equal(stored, body)
}

// ChainFormulaMigration is the schema migration that marks a store's chain
// as of this formula; it changes no table. A store whose chain was begun
// with the earlier one (hash(n) = SHA-256(hash(n-1) || body(n)), the bare
// hash signed) is refused with ErrOldChain.
const ChainFormulaMigration = "SELECT 1 -- the chain covers each body's hash and the server's time"

// ErrOldChain is why a store begun with the earlier chain formula is refused.
var ErrOldChain = errors.New("the store's chain was begun by an older consentd, whose links did not cover the server's time: " +
	"check it and export it with that version (consentd verify, consentd export), then start this one on a new store")

// A Redactor is a store that can replace a stored receipt's body by its
// tombstone (Tombstone): for spam, or a receipt that must not be kept. The
// chain still verifies, and verification counts the tombstones; the
// receipt's id stays taken, and a resend of the same content gets its first
// acknowledgement.
type Redactor interface {
	// Redact replaces the body of receipt id, and its subject, and returns
	// its sequence number. A receipt not stored is an error wrapping
	// consent.ErrNotFound; one already redacted is left as it is.
	Redact(ctx context.Context, id, reason string) (seq int64, err error)
}

// Package proof is what makes stored receipts proof: the server's signing
// key, verifying the global chain, and exporting receipts.
package proof

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"workly.ai/consent"
)

// CreateKey makes a new Ed25519 signing key and writes it to path (PEM,
// PKCS #8, readable by its owner only). It refuses to replace a key: every
// receipt signed with it would become unverifiable.
func CreateKey(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create key: %s exists; it signs the stored receipts, so it is never replaced", path)
		}
		return nil, fmt.Errorf("create key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, fmt.Errorf("create key: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("create key: %w", err)
	}
	return key, nil
}

// LoadKey reads a key written by CreateKey.
func LoadKey(path string) (ed25519.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("load key: %s is not a PEM private key (make one with consentd keygen)", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("load key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("load key: %s is not an Ed25519 key", path)
	}
	return key, nil
}

// ChainHash returns hash(n) of the global chain from hash(n-1) (hex, "" for
// the first) and body(n): SHA-256(hash(n-1) || body(n)), in hex.
func ChainHash(prev string, body []byte) string {
	h := sha256.New()
	if p, err := hex.DecodeString(prev); err == nil {
		h.Write(p)
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ReceiptHash is the SHA-256 (hex) of a receipt's wire form: what the same
// subject's next receipt carries as Prev.
func ReceiptHash(r consent.Receipt) string {
	sum := sha256.Sum256(consent.AppendReceiptJSON(nil, r))
	return hex.EncodeToString(sum[:])
}

// Signer returns the function a store signs chain hashes with: base64
// Ed25519 signatures of the hash's bytes.
func Signer(key ed25519.PrivateKey) func(hash string) string {
	return func(hash string) string {
		raw, _ := hex.DecodeString(hash)
		return base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw))
	}
}

// VerifyLink checks one link of the chain: that hash is
// ChainHash(prev, body) and sig the server's signature of it. The
// error says which, and where.
func VerifyLink(pub ed25519.PublicKey, seq int64, prev string, body []byte, hash, sig string) error {
	where := "record " + strconv.FormatInt(seq, 10)
	if ChainHash(prev, body) != hash {
		return fmt.Errorf("%s: the chain hash does not match the stored receipt (changed or reordered)", where)
	}
	raw, _ := hex.DecodeString(hash)
	s, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !ed25519.Verify(pub, raw, s) {
		return fmt.Errorf("%s: the signature does not verify", where)
	}
	return nil
}

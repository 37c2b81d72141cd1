// Package cookiekey is the server's cookie key: the ECDSA P-256 key with
// which consentd vouches for a consent cookie (its proof, see
// consent.CookieProofText), and whose public half the build bakes into the
// loader and the module so that they can check a cookie before they release
// anything. It signs nothing else.
package cookiekey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"workly.ai/consent"
)

// Key is a cookie key.
type Key struct{ priv *ecdsa.PrivateKey }

// PubSuffix names the file beside a key file that holds its public half
// (PublicKey's text and a newline).
const PubSuffix = ".pub"

// Generate makes a new key at path (PKCS#8 PEM, mode 0600) and its public
// half at path+PubSuffix. It never replaces an existing key.
func Generate(path string) (*Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	k := &Key{priv}
	if err := os.WriteFile(path+PubSuffix, []byte(k.PublicKey()+"\n"), 0o644); err != nil {
		return nil, err
	}
	return k, nil
}

// Load reads the key Generate wrote at path.
func Load(path string) (*Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: not a PEM private key", path)
	}
	any, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := any.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%s: not an ECDSA P-256 key", path)
	}
	return &Key{priv}, nil
}

// LoadOrGenerate loads the key at path, or makes it there when there is none.
func LoadOrGenerate(path string) (*Key, error) {
	k, err := Load(path)
	if errors.Is(err, os.ErrNotExist) {
		return Generate(path)
	}
	return k, err
}

// ReadPublic reads the public half Generate wrote beside the key at path.
func ReadPublic(path string) (string, error) {
	data, err := os.ReadFile(path + PubSuffix)
	if err != nil {
		return "", err
	}
	pub := strings.TrimSpace(string(data))
	if _, err := parsePublic(pub); err != nil {
		return "", fmt.Errorf("%s%s: %w", path, PubSuffix, err)
	}
	return pub, nil
}

// PublicKey is the public half as site.json's cookie.publicKey takes it:
// the uncompressed point (65 bytes), base64url without padding.
func (k *Key) PublicKey() string {
	raw, _ := k.priv.PublicKey.Bytes()
	return base64.RawURLEncoding.EncodeToString(raw)
}

// Vouch returns the cookie value of s with the server's proof, valid until
// exp.
func (k *Key) Vouch(s consent.State, exp time.Time) (string, error) {
	text, err := consent.CookieProofText(s, exp)
	if err != nil {
		return "", err
	}
	return k.Sign(text)
}

// Sign returns text with its proof appended ("~" and the signature): text
// must be a cookie value up to its expiry, as CookieProofText writes it.
// Tests sign values as written (unsorted categories, say) with it.
func (k *Key) Sign(text string) (string, error) {
	sum := sha256.Sum256([]byte(text))
	r, ss, err := ecdsa.Sign(rand.Reader, k.priv, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	return text + "~" + base64.RawURLEncoding.EncodeToString(sig), nil
}

// ErrNoProof is Verify's answer for a well-formed cookie without a proof.
var ErrNoProof = errors.New("the consent cookie carries no proof from the server")

// Verify decodes cookie value v and checks its proof against k: it returns
// ErrNoProof for a cookie without one, an error wrapping consent.ErrInvalid
// for a malformed one, and an error for a proof that does not verify. It
// does not look at the expiry.
func (k *Key) Verify(v string) (consent.State, error) {
	s, err := consent.DecodeCookie(v)
	if err != nil {
		return consent.State{}, err
	}
	if s.Proof == "" {
		return s, ErrNoProof
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(s.Proof)
	if err != nil || len(sig) != 64 {
		return consent.State{}, errors.New("the consent cookie's proof is not a signature")
	}
	sum := sha256.Sum256([]byte(consent.ProofText(v)))
	if !ecdsa.Verify(&k.priv.PublicKey, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return consent.State{}, errors.New("the consent cookie's proof does not verify: the server did not issue it")
	}
	return s, nil
}

func parsePublic(pub string) (*ecdsa.PublicKey, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(pub)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
}

// ValidPublic reports whether pub is a public key as PublicKey writes it.
func ValidPublic(pub string) bool {
	_, err := parsePublic(pub)
	return err == nil
}

// Dev is where the development cookie key lives in the module at root: the
// build makes it and bakes its public half in when site.json names no
// cookie.publicKey, and go run ./build serve and the test tiers start
// consentd with it. It is under .cache, never committed.
func Dev(root string) string {
	return filepath.Join(root, ".cache", "consentd", "cookie.key")
}

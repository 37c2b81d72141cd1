package wire

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"workly.ai/consent"
)

// Sign returns r signed with key as a browser's module signs it (see
// Verify): Key set to key's public point, Sig the ECDSA P-256 SHA-256
// signature, r‖s, of the wire form with "key" and without "sig". It is for
// the tools and tests that post receipts as a browser would (the bench, the
// test tiers); the server never signs a person's receipt.
func Sign(key *ecdsa.PrivateKey, r consent.Receipt) (consent.Receipt, error) {
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		return r, err
	}
	r.Key, r.Sig = base64.RawURLEncoding.EncodeToString(pub), ""
	sum := sha256.Sum256(consent.AppendReceiptJSON(nil, r))
	sr, ss, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		return r, err
	}
	var sig [64]byte
	sr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	r.Sig = base64.RawURLEncoding.EncodeToString(sig[:])
	return r, nil
}

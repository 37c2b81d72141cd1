package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"workly.ai/consent"
)

// receiptSigner signs the bench's receipts as a browser's module does
// (ECDSA P-256 SHA-256 of the wire form with "key" and without "sig", r‖s),
// so that the ingest figures include the server's check of every signature.
type receiptSigner struct {
	key *ecdsa.PrivateKey
	pub string
}

func newReceiptSigner() (*receiptSigner, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		return nil, err
	}
	return &receiptSigner{key: k, pub: base64.RawURLEncoding.EncodeToString(raw)}, nil
}

func (b *receiptSigner) sign(r consent.Receipt) (consent.Receipt, error) {
	r.Key, r.Sig = b.pub, ""
	sum := sha256.Sum256(consent.AppendReceiptJSON(nil, r))
	sr, ss, err := ecdsa.Sign(rand.Reader, b.key, sum[:])
	if err != nil {
		return r, err
	}
	var sig [64]byte
	sr.FillBytes(sig[:32])
	ss.FillBytes(sig[32:])
	r.Sig = base64.RawURLEncoding.EncodeToString(sig[:])
	return r, nil
}

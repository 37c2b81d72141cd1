package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
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

func (b *receiptSigner) sign(r consent.Receipt) (consent.Receipt, error) { return wire.Sign(b.key, r) }

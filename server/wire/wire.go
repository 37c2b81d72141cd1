// Package wire reads receipts as browsers post them, for the server: only in
// their one canonical form (consent.AppendReceiptJSON), so that the bytes a
// browser signed and holds as its receipt's "wire" are the bytes the server
// chains and signs; and it checks the browser's signature of each.
//
// It lives on the server side, not in the domain package, because it uses
// encoding/json and crypto/ecdsa, which the browser module must not link
// (its receipts are made by the domain's encoder and signed by WebCrypto).
package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"sync"
	"time"

	"workly.ai/consent"
)

// receiptJSON is a receipt as it is written: times in Unix milliseconds.
type receiptJSON struct {
	ID           string         `json:"id"`
	Subject      string         `json:"subject"`
	Event        consent.Event  `json:"event"`
	Policy       string         `json:"policy"`
	PolicySHA256 string         `json:"policySha256"`
	Locale       consent.Locale `json:"locale"`
	Granted      []string       `json:"granted"`
	Time         int64          `json:"time"`
	Method       string         `json:"method"`
	GPC          bool           `json:"gpc"`
	DNT          bool           `json:"dnt"`
	Permission   string         `json:"permission"`
	Answer       string         `json:"answer"`
	Separate     string         `json:"separate"`
	Statement    string         `json:"statementSha256"`
	Prev         string         `json:"prev"`
	Key          string         `json:"key"`
	Sig          string         `json:"sig"`
}

// maxTimeDigits bounds "time": Unix milliseconds stay within 16 digits until
// the year 318857.
const maxTimeDigits = 16

// DecodeReceipt decodes one receipt's JSON: an object with no field it does
// not know, each of the right type. It does not require the canonical form
// (a stored receipt is read back with it); DecodeBatch does. Errors wrap
// consent.ErrInvalid.
func DecodeReceipt(data []byte) (consent.Receipt, error) {
	if r, ok := canonicalReceipt(data); ok {
		return r, nil
	}
	return decodeReceiptJSON(data)
}

// decodeReceiptJSON is DecodeReceipt with encoding/json, for any form.
func decodeReceiptJSON(data []byte) (consent.Receipt, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	d.UseNumber()
	var raw struct {
		receiptJSON
		Time json.Number `json:"time"`
	}
	if err := d.Decode(&raw); err != nil {
		return consent.Receipt{}, invalid("receipt: " + err.Error())
	}
	if d.More() {
		return consent.Receipt{}, invalid("receipt: data after the receipt")
	}
	ms, err := strconv.ParseInt(raw.Time.String(), 10, 64)
	if err != nil || len(raw.Time.String()) > maxTimeDigits+1 {
		return consent.Receipt{}, invalid("receipt: time is not a whole number of milliseconds")
	}
	j := raw.receiptJSON
	return consent.Receipt{ID: j.ID, Subject: j.Subject, Event: j.Event, Policy: j.Policy, PolicySHA256: j.PolicySHA256,
		Locale: j.Locale, Granted: j.Granted, Time: time.UnixMilli(ms).UTC(), Method: j.Method, GPC: j.GPC, DNT: j.DNT,
		Permission: j.Permission, Answer: j.Answer, Separate: j.Separate, StatementSHA256: j.Statement, Prev: j.Prev, Key: j.Key, Sig: j.Sig}, nil
}

// DecodeBatch decodes a batch {"receipts":[…]} as the browser posts it, and
// only in its canonical form: the body must be byte for byte what
// consent.EncodeReceipts writes for the receipts it holds, so no whitespace,
// no escape that is not needed (`ban\u006eer`), no lone surrogate, no field
// out of order, missing or given twice. Each receipt's wire form is then
// consent.AppendReceiptJSON of the receipt returned: the exact bytes to
// store, chain and check the signature of. At most
// consent.MaxReceiptsPerBatch receipts. It checks the form only;
// consent.Receipt.Validate checks the values and Verify the signature.
// Errors wrap consent.ErrInvalid and say which receipt and where.
func DecodeBatch(body []byte) ([]consent.Receipt, error) {
	if rs, ok := canonicalBatch(body); ok {
		return rs, nil
	}
	return decodeBatchJSON(body)
}

// decodeBatchJSON is DecodeBatch with encoding/json: what it accepts,
// canonicalBatch does too, alike; it is kept for what canonicalBatch
// refuses, to say why.
func decodeBatchJSON(body []byte) ([]consent.Receipt, error) {
	var batch struct {
		Receipts []json.RawMessage `json:"receipts"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&batch); err != nil {
		return nil, invalid(`receipts: want {"receipts":[…]}: ` + err.Error())
	}
	if len(batch.Receipts) > consent.MaxReceiptsPerBatch {
		return nil, invalid("receipts: more than " + strconv.Itoa(consent.MaxReceiptsPerBatch) + " in a batch")
	}
	rs := make([]consent.Receipt, 0, len(batch.Receipts))
	for i, raw := range batch.Receipts {
		r, err := decodeReceiptJSON(raw)
		if err != nil {
			return nil, invalid("receipts[" + strconv.Itoa(i) + "]: " + err.Error())
		}
		if want := consent.AppendReceiptJSON(nil, r); !bytes.Equal(raw, want) {
			return nil, invalid("receipts[" + strconv.Itoa(i) + "] (" + strconv.Quote(r.ID) + ") is not in the canonical wire form: " + difference(raw, want))
		}
		rs = append(rs, r)
	}
	if want := consent.EncodeReceipts(rs); !bytes.Equal(body, want) {
		return nil, invalid("receipts: the batch is not in the canonical form (no whitespace, nothing around it): " + difference(body, want))
	}
	return rs, nil
}

// difference says where got first differs from want.
func difference(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	near := func(b []byte) string { return strconv.Quote(string(b[i:min(len(b), i+24)])) }
	return "at byte " + strconv.Itoa(i) + " it reads " + near(got) + " where the canonical form has " + near(want)
}

// ErrSignature is the error of a receipt whose signature does not check
// against its key (forged, or edited after signing).
var ErrSignature = errors.New("the signature does not match the receipt and its key")

// Verify checks a signed receipt's signature: Sig, by Key, of
// consent.AppendReceiptJSON(r) without "sig". It returns ErrSignature when it
// does not check, another error when Key or Sig cannot be read as a P-256
// key and signature (both wrap consent.ErrInvalid), and nil for an unsigned
// receipt (no key and no signature).
func Verify(r consent.Receipt) error {
	if r.Key == "" && r.Sig == "" {
		return nil
	}
	pub, err := ParseKey(r.Key)
	if err != nil {
		return err
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(r.Sig)
	if err != nil || len(sig) != 64 {
		return invalid("receipt " + r.ID + ": sig is not a P-256 signature (64 bytes r‖s, base64url)")
	}
	unsigned := r
	unsigned.Sig = ""
	sum := sha256.Sum256(consent.AppendReceiptJSON(nil, unsigned))
	if !ecdsa.Verify(pub, sum[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return fmt.Errorf("receipt %s: %w: %w", r.ID, ErrSignature, consent.ErrInvalid)
	}
	return nil
}

// ParseKey reads a receipt's Key: an uncompressed P-256 point (65 bytes),
// base64url without padding. Errors wrap consent.ErrInvalid.
func ParseKey(key string) (*ecdsa.PublicKey, error) {
	if pub := parsedKeys.get(key); pub != nil {
		return pub, nil
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(key)
	if err == nil && len(raw) == 65 {
		if pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw); err == nil {
			parsedKeys.put(key, pub)
			return pub, nil
		}
	}
	return nil, invalid("key is not a P-256 public key (65 bytes uncompressed, base64url)")
}

// parsedKeys are the keys ParseKey read last (a browser signs all its
// receipts with one), so that each is decoded and checked on the curve once.
// It forgets all once it holds maxParsedKeys.
var parsedKeys keyCache

const maxParsedKeys = 4096

type keyCache struct {
	mu sync.Mutex
	m  map[string]*ecdsa.PublicKey
}

func (c *keyCache) get(key string) *ecdsa.PublicKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[key]
}

func (c *keyCache) put(key string, pub *ecdsa.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxParsedKeys {
		c.m = map[string]*ecdsa.PublicKey{}
	}
	c.m[key] = pub
}

type invalidError string

func (e invalidError) Error() string { return string(e) }
func (e invalidError) Unwrap() error { return consent.ErrInvalid }

func invalid(msg string) error { return invalidError(msg) }

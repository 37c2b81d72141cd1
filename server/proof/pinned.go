package proof

import (
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strconv"

	"workly.ai/consent"
)

// PublicKeyJSON is GET /v1/key's answer, also what consentd keygen writes
// beside the key (KEY.pub): {"alg":"Ed25519","publicKey":"<hex>"}.
func PublicKeyJSON(pub ed25519.PublicKey) []byte {
	out, _ := json.Marshal(map[string]string{"alg": "Ed25519", "publicKey": hex.EncodeToString(pub)})
	return append(out, '\n')
}

// ParsePublicKey reads the public key an auditor pins: the key in hex, or a
// file holding it in hex, as GET /v1/key's JSON answer, or as a PEM public
// key. A private key is refused: checking needs none.
func ParsePublicKey(arg string) (ed25519.PublicKey, error) {
	if k, ok := hexKey([]byte(arg)); ok {
		return k, nil
	}
	data, err := os.ReadFile(arg)
	if err != nil {
		return nil, fmt.Errorf("public key: %q is neither 64 hex digits nor a readable file: %w", arg, err)
	}
	if k, ok := hexKey(bytes.TrimSpace(data)); ok {
		return k, nil
	}
	var answer struct{ Alg, PublicKey string }
	if json.Unmarshal(data, &answer) == nil && answer.PublicKey != "" {
		if k, ok := hexKey([]byte(answer.PublicKey)); ok && (answer.Alg == "" || answer.Alg == "Ed25519") {
			return k, nil
		}
		return nil, fmt.Errorf("public key: %s: publicKey is not an Ed25519 key in hex", arg)
	}
	if block, _ := pem.Decode(data); block != nil {
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if pub, ok := k.(ed25519.PublicKey); err == nil && ok {
				return pub, nil
			}
			return nil, fmt.Errorf("public key: %s is not an Ed25519 public key", arg)
		case "PRIVATE KEY":
			return nil, fmt.Errorf("public key: %s is a private key: give the public key instead (GET /v1/key, or the .pub file consentd keygen writes)", arg)
		}
	}
	return nil, fmt.Errorf("public key: %s holds no public key (want hex, GET /v1/key's answer, or PEM)", arg)
}

func hexKey(b []byte) (ed25519.PublicKey, bool) {
	if len(b) != 2*ed25519.PublicKeySize {
		return nil, false
	}
	k, err := hex.DecodeString(string(b))
	return k, err == nil
}

// ReadExpectations reads what a verification is checked against from one
// file: a checkpoint ({"seq","hash","received","sig"}, as GET
// /v1/checkpoint answers) or several, one a line (an auditor's log of them,
// or a server's DATA/consent.checkpoint), the preferences centre's download
// ({"server","check","receipts":[…]}) or the JSON array of
// consent.history(), each receipt with its wire form and its ack (receipts
// still waiting, ack null, are skipped). Each expectation's Source names
// the file and the receipt.
func ReadExpectations(path string) ([]Expectation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type record struct {
		ID   string       `json:"id"`
		Wire *string      `json:"wire"`
		Ack  *consent.Ack `json:"ack"`
	}
	var doc struct {
		Checkpoint
		Receipts []record `json:"receipts"`
	}
	var list []record
	trimmed := bytes.TrimSpace(data)
	switch {
	case bytes.HasPrefix(trimmed, []byte("[")):
		if err := json.Unmarshal(data, &list); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	case json.Unmarshal(data, &doc) != nil:
		return checkpointLines(path, data)
	case doc.Receipts != nil:
		list = doc.Receipts
	case doc.Seq > 0 && doc.Sig != "":
		return []Expectation{{Checkpoint: doc.Checkpoint, Source: path}}, nil
	}
	if list == nil {
		return nil, fmt.Errorf("%s: neither a checkpoint ({seq, hash, received, sig}), a download of the preferences centre nor the array of consent.history()", path)
	}
	var out []Expectation
	for i, r := range list {
		if r.Ack == nil {
			continue
		}
		if r.Wire == nil {
			return nil, fmt.Errorf("%s: receipt %d has no wire form", path, i+1)
		}
		out = append(out, Expectation{Checkpoint: CheckpointOf(*r.Ack), ID: r.Ack.ID, Wire: []byte(*r.Wire),
			Source: path + ", receipt " + strconv.Itoa(i+1) + " (" + r.Ack.ID + ")"})
	}
	return out, nil
}

// checkpointLines reads a checkpoint from every line of data that is not
// blank.
func checkpointLines(path string, data []byte) ([]Expectation, error) {
	var out []Expectation
	for i, line := range bytes.Split(data, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		var cp Checkpoint
		if err := json.Unmarshal(line, &cp); err != nil || cp.Seq == 0 {
			return nil, fmt.Errorf("%s:%d: not a checkpoint ({seq, hash, received, sig})", path, i+1)
		}
		out = append(out, Expectation{Checkpoint: cp, Source: path + ":" + strconv.Itoa(i+1)})
	}
	if out == nil {
		return nil, fmt.Errorf("%s: empty", path)
	}
	return out, nil
}

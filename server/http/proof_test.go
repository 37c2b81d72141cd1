package http

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
	"workly.ai/consent/server/wire"
)

// A person holding a receipt and its acknowledgement checks it with the
// server's public key and the previous link of the chain, nothing else.
func TestReceiptCheckableFromKeyAndChain(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "consent.db"), proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	h := ingestServerWith(t, Ingest{PublicKey: pub}, store)
	w := post(h, receiptBody(id1, id2))
	var answer struct{ Acks []consent.Ack }
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || len(answer.Acks) != 2 {
		t.Fatalf("post: %d %s", w.Code, w.Body)
	}
	get := func(path string, v any) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "http://consent.test"+path, nil))
		if v != nil {
			json.Unmarshal(w.Body.Bytes(), v)
		}
		return w.Code
	}
	var k struct{ Alg, PublicKey string }
	if get("/v1/key", &k) != 200 || k.Alg != "Ed25519" || k.PublicKey != hex.EncodeToString(pub) {
		t.Fatalf("/v1/key: %+v", k)
	}
	var prev struct {
		Seq       int64
		Hash, Sig string
	}
	second := answer.Acks[1]
	if get("/v1/chain/1", &prev) != 200 || prev.Seq != 1 || prev.Hash != answer.Acks[0].Hash {
		t.Fatalf("/v1/chain/1: %+v, want the first ack %+v", prev, answer.Acks[0])
	}
	rs, _ := wire.DecodeBatch([]byte(receiptBody(id2)))
	wire := consent.AppendReceiptJSON(nil, rs[0])
	// The check, as a person would write it.
	raw, _ := hex.DecodeString(prev.Hash)
	sum := sha256Sum(append(raw, wire...))
	sig, _ := base64.StdEncoding.DecodeString(second.Sig)
	if hex.EncodeToString(sum) != second.Hash || !ed25519.Verify(pub, sum, sig) {
		t.Fatal("the second receipt does not check against the first link and the key")
	}
	for path, want := range map[string]int{"/v1/chain/3": 404, "/v1/chain/0": 400, "/v1/chain/x": 400, "/v1/chain/-1": 400} {
		if got := get(path, nil); got != want {
			t.Errorf("GET %s: %d, want %d", path, got, want)
		}
	}
}

func sha256Sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

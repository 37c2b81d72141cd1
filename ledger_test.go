package consent

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
)

func TestChain(t *testing.T) {
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	bodies := [][]byte{[]byte(`{"a":1}`), []byte(`{"b":2}`), []byte(`{"c":3}`)}
	var hashes, sigs []string
	prev := ""
	for _, b := range bodies {
		h := ChainHash(prev, b)
		hashes, sigs, prev = append(hashes, h), append(sigs, SignHash(key, h)), h
	}
	prev = ""
	for i, b := range bodies {
		if err := VerifyLink(pub, int64(i+1), prev, b, hashes[i], sigs[i]); err != nil {
			t.Fatalf("link %d: %v", i+1, err)
		}
		prev = hashes[i]
	}
	// One changed byte, a reordering, another key: each is caught.
	changed := []byte(`{"b":3}`)
	if err := VerifyLink(pub, 2, hashes[0], changed, hashes[1], sigs[1]); err == nil || !strings.Contains(err.Error(), "record 2") || !errors.Is(err, ErrInvalid) {
		t.Errorf("changed body: %v", err)
	}
	if err := VerifyLink(pub, 2, "", bodies[1], hashes[1], sigs[1]); err == nil {
		t.Error("a link verified against the wrong predecessor")
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := VerifyLink(other, 1, "", bodies[0], hashes[0], sigs[0]); err == nil || !strings.Contains(err.Error(), "signature") {
		t.Errorf("other key: %v", err)
	}
}

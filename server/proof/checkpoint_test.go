package proof_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "workly.ai/consent/server/proof"
)

func signed(key ed25519.PrivateKey, seq int64) Checkpoint {
	hash := strings.Repeat("ab", 32)
	return Checkpoint{Seq: seq, Hash: hash, Received: 1000 * seq, Sig: Signer(key)(seq, hash, 1000*seq)}
}

// The checkpoint file keeps the newest checkpoint saved, across reopening,
// never goes back, survives one torn slot, and refuses a file none of whose
// checkpoints verify (the key replaced).
func TestCheckpointFile(t *testing.T) {
	pub, key, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "consent.checkpoint")
	f, err := OpenCheckpointFile(path, pub)
	if err != nil || f.Last().Seq != 0 {
		t.Fatalf("a new file: %+v, %v", f, err)
	}
	for _, seq := range []int64{3, 7, 5} {
		if err := f.Save(signed(key, seq)); err != nil {
			t.Fatal(err)
		}
	}
	if f.Last().Seq != 7 {
		t.Fatalf("Last = %d after saving 3, 7, 5; want 7", f.Last().Seq)
	}
	f.Close()
	if f, err = OpenCheckpointFile(path, pub); err != nil || f.Last() != signed(key, 7) {
		t.Fatalf("reopened: %+v, %v", f.Last(), err)
	}
	f.Save(signed(key, 9))
	f.Close()
	// Tear the slot the newest went to: the other one still holds 7.
	data, _ := os.ReadFile(path)
	slot := strings.Index(string(data), `"seq":9`) / 256
	copy(data[slot*256+10:], "garbage")
	os.WriteFile(path, data, 0o644)
	if f, err = OpenCheckpointFile(path, pub); err != nil || f.Last().Seq != 7 {
		t.Fatalf("after a torn slot: %+v, %v; want 7", f.Last(), err)
	}
	f.Close()
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := OpenCheckpointFile(path, other); err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("a file of another key: %v", err)
	}
}

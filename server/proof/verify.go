package proof

import (
	"context"
	"crypto/ed25519"
	"fmt"

	"workly.ai/consent"
)

// Verify recomputes the store's global chain from its first link and checks
// every signature with pub. It returns how many links it checked; the error
// names the first bad record (its sequence number and receipt id).
func Verify(ctx context.Context, store consent.ReceiptStore, pub ed25519.PublicKey, progress func(n int64)) (int64, error) {
	var n int64
	prev := ""
	err := store.Entries(ctx, 1, func(body []byte, a consent.Ack) error {
		n++
		if a.Seq != n {
			return fmt.Errorf("record %d is missing: the chain jumps to %d", n, a.Seq)
		}
		if err := VerifyLink(pub, a.Seq, prev, body, a.Hash, a.Sig); err != nil {
			return fmt.Errorf("%w (receipt %s)", err, a.ID)
		}
		prev = a.Hash
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
		return nil
	})
	return n, err
}

package proof

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"workly.ai/consent"
)

// A CheckpointFile keeps the newest checkpoint a server acknowledged,
// outside the receipt database, so that a server can refuse to start on a
// store that has lost receipts it acknowledged (a SQLite WAL tail lost, a
// database restored from an older backup, rows deleted).
//
// The file holds two slots of slotSize bytes, each one JSON Checkpoint
// padded with spaces and ended by a newline; saves alternate between them
// and are fsynced, so that a save torn by a crash leaves the other slot
// whole. A slot counts only if its signature verifies.
type CheckpointFile struct {
	path string
	pub  ed25519.PublicKey
	mu   sync.Mutex
	f    *os.File
	last Checkpoint // the newest saved
	slot int64      // where the next save goes
}

const slotSize = 256

// OpenCheckpointFile opens (creating if needed) the checkpoint file at path,
// whose checkpoints are signed by pub, and reads the newest one.
func OpenCheckpointFile(path string, pub ed25519.PublicKey) (*CheckpointFile, error) {
	c := &CheckpointFile{path: path, pub: pub}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	c.f = f
	if errors.Is(statErr, fs.ErrNotExist) {
		// Make the new file's name durable too.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	buf := make([]byte, 2*slotSize)
	n, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("checkpoint file %s: %w", path, err)
	}
	for i := 0; i < 2; i++ {
		if (i+1)*slotSize > n {
			break
		}
		var cp Checkpoint
		if json.Unmarshal(bytes.TrimSpace(buf[i*slotSize:(i+1)*slotSize]), &cp) != nil || cp.Verify(pub) != nil {
			continue
		}
		if cp.Seq > c.last.Seq {
			c.last, c.slot = cp, int64(1-i)
		}
	}
	if n > 0 && c.last.Seq == 0 {
		f.Close()
		return nil, fmt.Errorf("checkpoint file %s: no checkpoint in it verifies with the signing key: was the key replaced?", path)
	}
	return c, nil
}

// Last returns the newest checkpoint saved (Seq 0 when none).
func (c *CheckpointFile) Last() Checkpoint {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Save durably records cp unless a checkpoint as new is saved already.
func (c *CheckpointFile) Save(cp Checkpoint) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cp.Seq <= c.last.Seq {
		return nil
	}
	line, _ := json.Marshal(cp)
	if len(line) >= slotSize {
		return fmt.Errorf("checkpoint file: checkpoint too long")
	}
	slot := bytes.Repeat([]byte{' '}, slotSize)
	copy(slot, line)
	slot[slotSize-1] = '\n'
	if _, err := c.f.WriteAt(slot, c.slot*slotSize); err != nil {
		return fmt.Errorf("checkpoint file %s: %w", c.path, err)
	}
	if err := datasync(c.f); err != nil {
		return fmt.Errorf("checkpoint file %s: %w", c.path, err)
	}
	c.last, c.slot = cp, 1-c.slot
	return nil
}

// Close closes the file.
func (c *CheckpointFile) Close() error { return c.f.Close() }

// CheckAgainst checks that store still holds what cp says it held: a link
// at cp.Seq with cp.Hash. Its errors say what is missing or different, and
// wrap ErrNotVerified.
func CheckAgainst(ctx context.Context, store consent.ReceiptStore, cp Checkpoint, source string) error {
	if cp.Seq == 0 {
		return nil
	}
	var link consent.Ack
	err := store.Entries(ctx, cp.Seq, func(_ []byte, a consent.Ack) error {
		link = a
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return fmt.Errorf("read the store: %w", err)
	}
	switch {
	case link.Seq != cp.Seq:
		head, err := store.Head(ctx)
		if err != nil {
			return fmt.Errorf("read the store: %w", err)
		}
		if head.Seq >= cp.Seq {
			return fmt.Errorf("%w: record %d, which %s signed at %s, is missing from the store", ErrNotVerified, cp.Seq, source, millis(cp.Received))
		}
		return fmt.Errorf("%w: the store is behind %s: the server signed %d records at %s, the store ends at record %d (receipts acknowledged to people are gone: restore them, or the sequence numbers they hold would be signed again for others)",
			ErrNotVerified, source, cp.Seq, millis(cp.Received), head.Seq)
	case link.Hash != cp.Hash:
		return fmt.Errorf("%w: the store differs from %s at record %d: signed hash %s at %s, stored %s",
			ErrNotVerified, source, cp.Seq, cp.Hash, millis(cp.Received), link.Hash)
	}
	return nil
}

var errFound = errors.New("found")

// Witness returns store with every acknowledgement witnessed by file: Put
// returns only once the newest checkpoint among its acks (or a newer one)
// is saved there. Saves of concurrent Puts are shared: one fsync serves all
// the Puts of a group commit that finished by then. A save that fails fails
// the Put with consent.ErrUnavailable: the receipts are stored, and a resend
// gets their acknowledgements.
func Witness(store consent.ReceiptStore, file *CheckpointFile) consent.ReceiptStore {
	return &witnessed{ReceiptStore: store, file: file}
}

type witnessed struct {
	consent.ReceiptStore
	file   *CheckpointFile
	mu     sync.Mutex // guards newest
	newest Checkpoint // the newest ack any Put returned
	saving sync.Mutex // one save at a time: a Put that waited finds its ack covered, or saves the newest
}

func (w *witnessed) String() string { return fmt.Sprint(w.ReceiptStore) }

func (w *witnessed) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	acks, n, err := w.ReceiptStore.Put(ctx, rs)
	if err != nil || len(acks) == 0 {
		return acks, n, err
	}
	var top int64
	w.mu.Lock()
	for _, a := range acks {
		top = max(top, a.Seq)
		if a.Seq > w.newest.Seq {
			w.newest = CheckpointOf(a)
		}
	}
	w.mu.Unlock()
	w.saving.Lock()
	defer w.saving.Unlock()
	if w.file.Last().Seq >= top {
		return acks, n, nil
	}
	w.mu.Lock()
	newest := w.newest
	w.mu.Unlock()
	if err := w.file.Save(newest); err != nil {
		return nil, 0, fmt.Errorf("put receipts: %w: %w", consent.ErrUnavailable, err)
	}
	return acks, n, nil
}

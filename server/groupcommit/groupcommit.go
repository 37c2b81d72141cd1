// Package groupcommit is what the receipt stores share around their
// transactions: one committer goroutine that gathers the receipts of
// concurrent Puts into one write, so that throughput does not fall to one
// durable commit per request, and signing a group's chain links on every
// core.
package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
)

// MaxGroup bounds how many receipts one write takes.
const MaxGroup = 4096

// Result is what a write answers one Put: an Ack for each of its receipts,
// in order, and how many were new; or Err, which fails that Put alone (a
// receipt in conflict with a stored one, consent.ErrConflict).
type Result struct {
	Acks   []consent.Ack
	Stored int
	Err    error
}

// Write stores a group of Puts' receipts in one transaction and returns each
// Put's Result, in order; an error fails every Put of the group.
type Write func(group [][]consent.Receipt) ([]Result, error)

// Committer runs one goroutine that calls a Write for the Puts waiting at
// each moment.
type Committer struct {
	write  Write
	puts   chan request
	closed chan struct{}
	once   sync.Once
	done   sync.WaitGroup
}

type request struct {
	rs    []consent.Receipt
	reply chan reply
}

type reply struct {
	Result
	err error
}

// Start starts a committer that writes with write.
func Start(write Write) *Committer {
	c := &Committer{write: write, puts: make(chan request), closed: make(chan struct{})}
	c.done.Add(1)
	go c.run()
	return c
}

// Put hands rs to the committer and returns once their group's write has
// committed or failed. A ctx that ends before the hand-over (the committer
// busy for that long) is an error wrapping consent.ErrUnavailable; once
// handed over, the receipts are committed or not whatever ctx does, so Put
// waits for the answer.
func (c *Committer) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	req := request{rs: rs, reply: make(chan reply, 1)}
	select {
	case c.puts <- req:
	case <-c.closed:
		return nil, 0, errors.New("put receipts: store closed")
	case <-ctx.Done():
		return nil, 0, fmt.Errorf("put receipts: %w: waiting for the store: %w", consent.ErrUnavailable, ctx.Err())
	}
	res := <-req.reply
	if res.err == nil && res.Result.Err != nil {
		return nil, 0, res.Result.Err
	}
	return res.Acks, res.Stored, res.err
}

// Close stops the committer after the write under way; Puts after it fail.
// It may be called more than once.
func (c *Committer) Close() {
	c.once.Do(func() { close(c.closed) })
	c.done.Wait()
}

func (c *Committer) run() {
	defer c.done.Done()
	for {
		var group []request
		select {
		case req := <-c.puts:
			group = append(group, req)
		case <-c.closed:
			return
		}
		n := len(group[0].rs)
	gather:
		for n < MaxGroup {
			select {
			case req := <-c.puts:
				group = append(group, req)
				n += len(req.rs)
			default:
				break gather
			}
		}
		batch := make([][]consent.Receipt, len(group))
		for i, req := range group {
			batch[i] = req.rs
		}
		results, err := c.write(batch)
		for i, req := range group {
			if err != nil {
				req.reply <- reply{err: err}
			} else {
				req.reply <- reply{Result: results[i]}
			}
		}
	}
}

// SignAll signs every link with sign (proof.SignFunc), on as many goroutines as there are
// cores: signing is the costly part of a write, and each link's signature
// stands alone once the chain's order is fixed.
func SignAll(links []*consent.Ack, sign func(seq int64, hash string, received int64) string) {
	workers := min(runtime.GOMAXPROCS(0), len(links))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(links); i += workers {
				l := links[i]
				l.Sig = sign(l.Seq, l.Hash, l.Received)
			}
		}(w)
	}
	wg.Wait()
}

// Stored is a receipt a store holds already: its stored body (or the
// tombstone that replaced it) and its Ack.
type Stored struct {
	Body []byte
	Ack  *consent.Ack
}

// Check encodes each of one Put's receipts (consent.AppendReceiptJSON) and
// returns their bodies, in order, unless one is in conflict: it has the id of
// a stored receipt (lookup) or of an earlier one of rs, with other content.
// Then the error wraps consent.ErrConflict and names it; other errors are
// lookup's.
func Check(rs []consent.Receipt, lookup func(id string) (Stored, bool, error)) ([][]byte, error) {
	bodies := make([][]byte, len(rs))
	var mine map[string][]byte
	for j, r := range rs {
		body := consent.AppendReceiptJSON(nil, r)
		bodies[j] = body
		k, ok, err := lookup(r.ID)
		if err != nil {
			return nil, err
		}
		if !ok && len(rs) > 1 {
			if mine == nil {
				mine = map[string][]byte{}
			}
			if b, seen := mine[r.ID]; seen {
				k, ok = Stored{Body: b}, true
			}
			mine[r.ID] = body
		}
		if ok && !proof.SameContent(k.Body, body) {
			return nil, fmt.Errorf("receipt %s: %w: a receipt with this id is stored with other content (ids are unique: make a new receipt)", r.ID, consent.ErrConflict)
		}
	}
	return bodies, nil
}

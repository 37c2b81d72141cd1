package proof

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
)

// Expectation is something the store must still hold, from outside it: a
// checkpoint someone kept, or one of a person's acknowledged receipts.
type Expectation struct {
	Checkpoint
	ID     string // the receipt's id, when known
	Wire   []byte // the receipt's wire form, when known
	Source string // where it comes from, for messages ("history.json, receipt 3")
}

// Report is what Verify found.
type Report struct {
	Links      int64       // links read
	Head       consent.Ack // the newest link read
	Tombstones int64       // bodies redacted (Tombstone); their links verify
	Problems   []string    // every bad record and every unmet expectation, in order
}

// maxProblems bounds how many problems a Report lists (it counts them all).
const maxProblems = 100

// ErrNotVerified is what Verify returns when it found problems; the Report
// lists them.
var ErrNotVerified = errors.New("the store does not verify")

// Verify recomputes the store's global chain from its first link, checks
// every signature with pub, and checks that the store holds each of
// against: its checkpoint's signature verifies with pub and the store's link
// at its Seq has its hash (so nothing up to there is missing or changed), and
// the receipt stored there is its ID and Wire when given. It reads past
// damaged records (Entries failing mid-way resumes after them). It returns
// ErrNotVerified, wrapped with the first problem, when anything failed;
// Report lists the problems, each naming the record (its sequence number and
// receipt id) or the expectation's Source. progress, if not nil, is told
// every 10,000 links.
func Verify(ctx context.Context, store consent.ReceiptStore, pub ed25519.PublicKey, against []Expectation, progress func(n int64)) (Report, error) {
	var rep Report
	var problems int
	problem := func(msg string) {
		problems++
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, msg)
		}
	}
	bySeq := map[int64][]Expectation{}
	for _, e := range against {
		if err := e.Checkpoint.Verify(pub); err != nil {
			problem(fmt.Sprintf("%s: %v: it was not signed by this key", e.Source, err))
			continue
		}
		bySeq[e.Seq] = append(bySeq[e.Seq], e)
	}
	prev := ""
	var want int64 = 1
	err := Entries(ctx, store, 1, func(body []byte, a consent.Ack) error {
		rep.Links++
		if a.Seq != want {
			problem(fmt.Sprintf("records %d to %d are missing: the chain jumps to %d", want, a.Seq-1, a.Seq))
			prev = "" // the next link cannot be checked against a missing one
		}
		want = a.Seq + 1
		if prev != "" || a.Seq == 1 {
			if err := VerifyLink(pub, prev, body, a); err != nil {
				problem(fmt.Sprintf("%v (receipt %s)", err, a.ID))
			}
		} else if err := CheckpointOf(a).Verify(pub); err != nil {
			problem(fmt.Sprintf("record %d: the signature does not verify (receipt %s)", a.Seq, a.ID))
		}
		if _, _, ok := ParseTombstone(body); ok {
			rep.Tombstones++
		}
		for _, e := range bySeq[a.Seq] {
			switch {
			case e.Hash != a.Hash:
				problem(fmt.Sprintf("record %d differs from %s: it signed hash %s at %s, the store has %s (receipt %s)",
					a.Seq, e.Source, e.Hash, millis(e.Received), a.Hash, a.ID))
			case e.ID != "" && e.ID != a.ID:
				problem(fmt.Sprintf("record %d differs from %s: receipt %s there, the store has %s", a.Seq, e.Source, e.ID, a.ID))
			case e.Wire != nil && !SameContent(body, e.Wire):
				problem(fmt.Sprintf("record %d differs from %s: the stored receipt %s is not the one the person holds", a.Seq, e.Source, a.ID))
			}
		}
		delete(bySeq, a.Seq)
		prev, rep.Head = a.Hash, a
		if progress != nil && rep.Links%10000 == 0 {
			progress(rep.Links)
		}
		return nil
	}, func(first, last int64, err error) {
		problem(fmt.Sprintf("records %d to %d could not be read: %v", first, last, err))
		prev, want = "", last+1
	})
	if err != nil {
		return rep, err
	}
	var missing []Expectation
	for _, es := range bySeq {
		missing = append(missing, es...)
	}
	slices.SortFunc(missing, func(a, b Expectation) int {
		return cmp.Or(cmp.Compare(a.Seq, b.Seq), strings.Compare(a.Source, b.Source))
	})
	for _, e := range missing {
		problem(fmt.Sprintf("the store is shorter than %s: it ends at record %d, but the server signed %d records at %s",
			e.Source, rep.Head.Seq, e.Seq, millis(e.Received)))
	}
	if problems > len(rep.Problems) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("… %d problems in all", problems))
	}
	if problems > 0 {
		return rep, fmt.Errorf("%w: %s", ErrNotVerified, rep.Problems[0])
	}
	return rep, nil
}

// millis formats a server time (Unix milliseconds) for messages.
func millis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// maxSkips bounds how many unreadable records in a row Entries skips when
// it cannot tell where the store ends.
const maxSkips = 10000

// Entries calls fn with each stored receipt from sequence number from on,
// as store.Entries does, but reads past damage: when reading fails mid-way
// (a damaged page), it skips to the next record it can read, and calls
// damaged with the first and last sequence numbers it could not read and
// the error. An error from fn, or ctx's, stops it and is returned; so does
// a store that cannot be reached (consent.ErrUnavailable).
func Entries(ctx context.Context, store consent.ReceiptStore, from int64, fn func(body []byte, a consent.Ack) error, damaged func(first, last int64, err error)) error {
	next := from
	var badFrom int64
	var badErr, fnErr error
	last := int64(-1) // the head's sequence number, once known
	for {
		err := store.Entries(ctx, next, func(body []byte, a consent.Ack) error {
			if badFrom > 0 {
				damaged(badFrom, a.Seq-1, badErr)
				badFrom = 0
			}
			next = a.Seq + 1
			if err := fn(body, a); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
		switch {
		case fnErr != nil:
			return fnErr
		case err == nil && badFrom > 0:
			damaged(badFrom, next-1, badErr)
			return nil
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return err
		case errors.Is(err, consent.ErrUnavailable):
			return err // the store went away: not damage
		}
		if badFrom == 0 {
			badFrom, badErr = next, err
			if head, herr := store.Head(ctx); herr == nil {
				last = head.Seq
			}
		}
		if next++; last >= 0 && next > last || next-badFrom > maxSkips {
			damaged(badFrom, next-1, badErr)
			return nil
		}
	}
}

// Summary is a Report in a few lines, for people.
func (r Report) Summary() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(r.Links, 10) + " receipts")
	if r.Tombstones > 0 {
		b.WriteString(", " + strconv.FormatInt(r.Tombstones, 10) + " of them redacted (tombstones)")
	}
	if r.Head.Seq > 0 {
		b.WriteString(fmt.Sprintf("; head: record %d, hash %s, %s", r.Head.Seq, r.Head.Hash, millis(r.Head.Received)))
	}
	return b.String()
}

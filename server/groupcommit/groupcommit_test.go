package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"workly.ai/consent"
)

// Puts waiting at the same moment share one write, each gets its own
// result, a failed write fails each of its Puts, and Close waits for the
// write under way and refuses Puts after it.
func TestCommitterGroupsPuts(t *testing.T) { synctest.Test(t, testCommitterGroupsPuts) }

func testCommitterGroupsPuts(t *testing.T) {
	var mu sync.Mutex
	var groups []int
	release, started := make(chan struct{}), make(chan struct{}, 1)
	c := Start(func(group [][]consent.Receipt) ([]Result, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release // hold the first write so that the others queue up
		mu.Lock()
		groups = append(groups, len(group))
		mu.Unlock()
		out := make([]Result, len(group))
		for i, rs := range group {
			if rs[0].ID == "fail" {
				return nil, errors.New("disk full")
			}
			out[i] = Result{Acks: []consent.Ack{{ID: rs[0].ID}}, Stored: 1}
		}
		return out, nil
	})
	put := func(id string) (string, error) {
		acks, _, err := c.Put(context.Background(), []consent.Receipt{{ID: id}})
		if err != nil {
			return "", err
		}
		return acks[0].ID, nil
	}
	var wg sync.WaitGroup
	got := make([]string, 9)
	for i := range got {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got[i], _ = put(string(rune('a' + i)))
		}(i)
		if i == 0 {
			<-started // the first write starts alone
		}
	}
	synctest.Wait() // the other eight queue up behind it
	close(release)
	wg.Wait()
	for i, id := range got {
		if id != string(rune('a'+i)) {
			t.Errorf("put %d got the ack of %q", i, id)
		}
	}
	total := 0
	for _, n := range groups {
		total += n
	}
	if total != 9 || len(groups) != 2 || groups[0] != 1 {
		t.Errorf("writes of %v Puts, want the first alone and the eight waiting gathered ([1 8])", groups)
	}
	if _, err := put("fail"); err == nil {
		t.Error("a failed write did not fail its Put")
	}
	c.Close()
	c.Close()
	if _, err := put("late"); err == nil {
		t.Error("a Put after Close succeeded")
	}
}

// A Put whose context ends while the committer is busy says the store is
// unavailable.
func TestPutWaitingTooLong(t *testing.T) { synctest.Test(t, testPutWaitingTooLong) }

func testPutWaitingTooLong(t *testing.T) {
	block := make(chan struct{})
	c := Start(func(group [][]consent.Receipt) ([]Result, error) {
		<-block
		return make([]Result, len(group)), nil
	})
	defer func() { close(block); c.Close() }()
	go c.Put(context.Background(), []consent.Receipt{{ID: "busy"}})
	synctest.Wait() // the committer is busy with it
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.Put(ctx, []consent.Receipt{{ID: "late"}}); !errors.Is(err, consent.ErrUnavailable) {
		t.Fatalf("Put = %v, want ErrUnavailable", err)
	}
}

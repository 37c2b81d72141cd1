package http

import (
	"container/list"
	"hash/maphash"
	"sync"
	"time"
)

// Quotas bound how many receipts the server stores, counted in receipts
// (not posts), at three levels: per client, per subject per day, and in all.
// Each is a fixed amount of memory however many clients or subjects there
// are, and none forgets a client that used its quota up.
//
// A post is let through while its client (or the whole server) has quota
// left, and all its receipts are then counted, so a quota goes into debt by
// at most one post: a batch larger than a burst is never refused for its
// size alone.

// rate is a generic cell rate (GCRA) limit: n receipts take n·per of
// "theoretical arrival time" (tat, Unix nanoseconds); a post is let through
// while the tat is less than burst ahead of now.
type rate struct {
	per   int64 // nanoseconds per receipt
	burst int64 // nanoseconds of receipts that may be ahead of now
}

// newRate is a limit of perSecond receipts a second with a burst of burst
// receipts (twice perSecond when burst is 0); the zero rate, when perSecond
// is 0, lets everything through.
func newRate(perSecond float64, burst int) rate {
	if perSecond <= 0 {
		return rate{}
	}
	per := int64(float64(time.Second) / perSecond)
	if burst <= 0 {
		burst = max(1, int(2*perSecond))
	}
	return rate{per: max(1, per), burst: max(1, per) * int64(burst)}
}

func (r rate) limited() bool { return r.per > 0 }

// take counts n receipts at now against tat. It returns the new tat, or
// ok false and how long to wait before the next post can be let through.
func (r rate) take(tat, now int64, n int) (next int64, ok bool, wait time.Duration) {
	start := max(tat, now)
	if ahead := start - now; ahead >= r.burst {
		return tat, false, time.Duration(ahead - r.burst + 1)
	}
	return start + int64(n)*r.per, true, 0
}

// sketch is a count-min sketch over comparable keys whose cells only grow:
// get never returns less than the largest value raise was given for the
// key since the last reset, and more only when every one of the key's cells
// is shared with a larger key.
type sketch[K comparable] struct {
	seeds [sketchRows]maphash.Seed
	cells [sketchRows][]int64
}

const sketchRows = 4

func newSketch[K comparable](width int) *sketch[K] {
	s := &sketch[K]{}
	for i := range s.seeds {
		s.seeds[i] = maphash.MakeSeed()
		s.cells[i] = make([]int64, width)
	}
	return s
}

func (s *sketch[K]) index(row int, k K) int {
	return int(maphash.Comparable(s.seeds[row], k) % uint64(len(s.cells[row])))
}

func (s *sketch[K]) get(k K) int64 {
	v := s.cells[0][s.index(0, k)]
	for row := 1; row < sketchRows; row++ {
		v = min(v, s.cells[row][s.index(row, k)])
	}
	return v
}

// raise makes every cell of k at least v.
func (s *sketch[K]) raise(k K, v int64) {
	for row := range sketchRows {
		c := &s.cells[row][s.index(row, k)]
		*c = max(*c, v)
	}
}

func (s *sketch[K]) reset() {
	for row := range s.cells {
		clear(s.cells[row])
	}
}

// maxTrackedClients is how many clients the client quota tracks exactly;
// clients beyond are kept, with what they owe, in a sketch.
const maxTrackedClients = 100_000

// clientQuota is the quota of each client: the most recently seen
// maxTrackedClients exactly, in least-recently-used order. A client pushed
// out while it still owes (its tat ahead of now) leaves its tat in a sketch,
// where a client that comes back finds it: a flood of new addresses cannot
// give a client a fresh quota, at the cost that an innocent client whose
// every sketch cell is shared with one in debt waits as long as that one.
type clientQuota struct {
	rate     rate
	capacity int
	mu       sync.Mutex
	recent   *list.List // of *client, the most recent first
	byKey    map[clientKey]*list.Element
	evicted  *sketch[clientKey]
}

type client struct {
	key clientKey
	tat int64
}

func newClientQuota(r rate, capacity int) *clientQuota {
	q := &clientQuota{rate: r, capacity: capacity}
	if r.limited() {
		q.recent, q.byKey, q.evicted = list.New(), map[clientKey]*list.Element{}, newSketch[clientKey](1<<14)
	}
	return q
}

// take counts n receipts from the client key.
func (q *clientQuota) take(key clientKey, now time.Time, n int) (ok bool, wait time.Duration) {
	if !q.rate.limited() {
		return true, 0
	}
	t := now.UnixNano()
	q.mu.Lock()
	defer q.mu.Unlock()
	e := q.byKey[key]
	if e != nil {
		q.recent.MoveToFront(e)
	} else {
		if q.recent.Len() >= q.capacity {
			oldest := q.recent.Remove(q.recent.Back()).(*client)
			delete(q.byKey, oldest.key)
			if oldest.tat > t {
				q.evicted.raise(oldest.key, oldest.tat)
			}
		}
		e = q.recent.PushFront(&client{key: key, tat: q.evicted.get(key)})
		q.byKey[key] = e
	}
	c := e.Value.(*client)
	c.tat, ok, wait = q.rate.take(c.tat, t, n)
	return ok, wait
}

// sharedQuota is the quota per subject per day and the global one, taken
// together so that a post refused by one is not counted by the other.
type sharedQuota struct {
	perSubject int64 // receipts per subject per UTC day; 0: no limit
	global     rate
	mu         sync.Mutex
	day        int64 // the UTC day (days since 1970) subjects counts
	subjects   *sketch[string]
	tat        int64
}

// subjectSketchWidth sizes the subject counts: 4 rows of 2^17 cells (4 MB).
// A subject is refused wrongly only when each of its 4 cells is shared with
// one that reached the limit that day; with a million subjects a day, a
// cell holds ~8 on average.
const subjectSketchWidth = 1 << 17

func newSharedQuota(perSubject int, global rate) *sharedQuota {
	q := &sharedQuota{perSubject: int64(max(0, perSubject)), global: global}
	if q.perSubject > 0 {
		q.subjects = newSketch[string](subjectSketchWidth)
	}
	return q
}

// take counts a post's receipts, counts[subject] of each subject. It returns
// which quota refused it ("subject" or "global", "" when let through) and
// how long to wait.
func (q *sharedQuota) take(counts map[string]int, now time.Time) (refused string, wait time.Duration) {
	if q.perSubject == 0 && !q.global.limited() {
		return "", 0
	}
	t := now.UnixNano()
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.perSubject > 0 {
		day := now.UTC().Unix() / 86400
		if day != q.day {
			q.day = day
			q.subjects.reset()
		}
		for subject := range counts {
			if q.subjects.get(subject) >= q.perSubject {
				return "subject", time.Unix((day+1)*86400, 0).Sub(now)
			}
		}
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	if q.global.limited() {
		tat, ok, wait := q.global.take(q.tat, t, n)
		if !ok {
			return "global", wait
		}
		q.tat = tat
	}
	if q.perSubject > 0 {
		for subject, c := range counts {
			q.subjects.raise(subject, q.subjects.get(subject)+int64(c))
		}
	}
	return "", 0
}

// Package stats keeps the console's figures: per-day counters of the
// receipts in the chain, how far each policy version has reached, and an
// index of each person's receipts. It maintains them incrementally, tailing
// the store's chain with Entries from the last sequence number it applied,
// into a SQLite file of its own (never the receipt database), and can
// rebuild them from the chain whenever they are lost.
//
// Reading a figure costs a few indexed queries over these counters, never
// a scan of the receipts: a page shows at most a few hundred rows whatever
// the size of the chain. Days are UTC days of the receipt's time (the
// browser's clock), as policy versions take effect at 00:00 UTC.
package stats

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"workly.ai/consent"
	"workly.ai/consent/server/wire"
)

// ErrOtherChain means the figures were made from another chain than the
// store's (the store was replaced): they must be rebuilt.
var ErrOtherChain = errors.New("the figures are of another chain than the store's: rebuild them (consentd stats-rebuild)")

// schema is the figures' tables. Counters are keyed by UTC day; reach has a
// row per policy version and person seen since it took effect.
const schema = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS events (day TEXT, policy TEXT, event TEXT, n INTEGER NOT NULL, gpc INTEGER NOT NULL, dnt INTEGER NOT NULL,
	PRIMARY KEY (day, policy, event)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS granted (day TEXT, policy TEXT, category TEXT, n INTEGER NOT NULL,
	PRIMARY KEY (day, policy, category)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS permissions (day TEXT, permission TEXT, answer TEXT, n INTEGER NOT NULL,
	PRIMARY KEY (day, permission, answer)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reach (policy TEXT, subject TEXT, acked INTEGER NOT NULL,
	PRIMARY KEY (policy, subject)) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reach_totals (policy TEXT PRIMARY KEY, seen INTEGER NOT NULL, acked INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS by_subject (subject TEXT, seq INTEGER, PRIMARY KEY (subject, seq)) STRICT, WITHOUT ROWID;
`

// SeparatePrefix starts the permission column of the answers to a
// separate consent: "separate:" and the item's id.
const SeparatePrefix = "separate:"

// FileName is the figures' file in the data directory.
const FileName = "stats.db"

// Stats is the figures of one chain.
type Stats struct {
	db       *sql.DB
	store    consent.ReceiptStore
	policies *consent.Manifest

	mu sync.Mutex // one catch-up at a time
}

// Open opens (creating if needed) the figures at path for store, whose
// receipts name versions of policies.
func Open(path string, store consent.ReceiptStore, policies *consent.Manifest) (*Stats, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open stats: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open stats: %w", err)
	}
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("open stats %s: %w", path, err)
	}
	if policies == nil {
		policies = &consent.Manifest{}
	}
	return &Stats{db: db, store: store, policies: policies}, nil
}

// Close closes the figures' file.
func (s *Stats) Close() error { return s.db.Close() }

// Position returns the sequence number of the last receipt applied, 0 for
// none.
func (s *Stats) Position(ctx context.Context) (int64, error) {
	seq, _, err := s.position(ctx, s.db)
	return seq, err
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Stats) position(ctx context.Context, q querier) (seq int64, hash string, err error) {
	var v string
	err = q.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'seq'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("stats position: %w", err)
	}
	seq, _ = strconv.ParseInt(v, 10, 64)
	err = q.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'hash'`).Scan(&hash)
	return seq, hash, err
}

// batchSize is how many receipts one transaction of the figures applies:
// progress survives an interrupted catch-up in steps of this size.
var batchSize int64 = 5000

var errBatchFull = errors.New("batch full")

// CatchUp applies every receipt stored since the last one applied, in
// transactions of batchSize receipts, each also recording how far it got,
// so that every receipt is counted exactly once even across crashes. It
// returns how many it applied. When ctx ends it stops after the batch under
// way; what it applied is kept. It returns ErrOtherChain when the receipt at
// its position is not the one it applied.
func (s *Stats) CatchUp(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var total int64
	for {
		n, err := s.applyBatch(ctx)
		total += n
		if err != nil || n < batchSize {
			return total, err
		}
		if ctx.Err() != nil {
			return total, nil
		}
	}
}

func (s *Stats) applyBatch(ctx context.Context) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("stats: %w", err)
	}
	defer tx.Rollback()
	seq, hash, err := s.position(ctx, tx)
	if err != nil {
		return 0, err
	}
	b, err := newBatch(ctx, tx, s.policies)
	if err != nil {
		return 0, err
	}
	from := seq + 1
	if seq > 0 {
		from = seq // to check that the link applied last is still there, the same
	}
	var applied int64
	atPosition := seq == 0
	err = s.store.Entries(ctx, from, func(body []byte, a consent.Ack) error {
		if a.Seq == seq && !atPosition {
			if a.Hash != hash {
				return ErrOtherChain
			}
			atPosition = true
			return nil
		}
		if a.Seq <= seq {
			return ErrOtherChain
		}
		r, err := wire.DecodeReceipt(body)
		if err != nil {
			return fmt.Errorf("stats: record %d: %w", a.Seq, err)
		}
		if err := b.add(ctx, r, a.Seq); err != nil {
			return err
		}
		applied++
		seq, hash = a.Seq, a.Hash
		if applied == batchSize {
			return errBatchFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errBatchFull) {
		return 0, err
	}
	if !atPosition {
		return 0, ErrOtherChain // the store no longer has the receipt applied last
	}
	if applied == 0 {
		return 0, nil
	}
	if err := b.flush(ctx); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('seq', ?), ('hash', ?)
		ON CONFLICT (k) DO UPDATE SET v = excluded.v`, strconv.FormatInt(seq, 10), hash); err != nil {
		return 0, fmt.Errorf("stats: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("stats: %w", err)
	}
	return applied, nil
}

// Run catches up every interval until ctx ends, logging errors with logf.
func (s *Stats) Run(ctx context.Context, interval time.Duration, logf func(err error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.CatchUp(ctx); err != nil && ctx.Err() == nil {
			logf(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Rebuild deletes the figures, in one transaction, and applies the whole
// chain again. A server catching up on the same file meanwhile is safe:
// each batch reads the position and applies after it in one immediate
// (write-locked) transaction, so no receipt is counted twice.
func (s *Stats) Rebuild(ctx context.Context) (int64, error) {
	s.mu.Lock()
	err := func() error {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, t := range []string{"meta", "events", "granted", "permissions", "reach", "reach_totals", "by_subject"} {
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	s.mu.Unlock()
	if err != nil {
		return 0, fmt.Errorf("stats rebuild: %w", err)
	}
	return s.CatchUp(ctx)
}

// choiceEvents are the events that record a decision about the categories:
// the share granting each category is of these.
var choiceEvents = map[consent.Event]bool{consent.EventConsentGiven: true, consent.EventConsentRefused: true,
	consent.EventWithdrawn: true, consent.EventAcknowledged: true}

// acceptingEvents are those by which a person accepts the policy version
// they name: a choice made under it, an acknowledgement, continued use.
var acceptingEvents = map[consent.Event]bool{consent.EventConsentGiven: true, consent.EventConsentRefused: true,
	consent.EventWithdrawn: true, consent.EventAcknowledged: true, consent.EventContinuedUse: true}

type dayKey struct{ day, policy, what string }
type permKey struct{ day, permission, answer string }

// batch is the counters of one transaction, added up in memory and written
// at flush; reach and the per-person index are written as they come.
type batch struct {
	tx                         *sql.Tx
	policies                   *consent.Manifest
	bySubject, reachNew, reach *sql.Stmt
	events                     map[dayKey][3]int64 // n, gpc, dnt
	granted                    map[dayKey]int64
	perms                      map[permKey]int64
	seen, ackd                 map[string]int64
}

func newBatch(ctx context.Context, tx *sql.Tx, m *consent.Manifest) (*batch, error) {
	b := &batch{tx: tx, policies: m, events: map[dayKey][3]int64{}, granted: map[dayKey]int64{},
		perms: map[permKey]int64{}, seen: map[string]int64{}, ackd: map[string]int64{}}
	var err error
	for _, st := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&b.bySubject, `INSERT OR IGNORE INTO by_subject (subject, seq) VALUES (?, ?)`},
		{&b.reachNew, `INSERT OR IGNORE INTO reach (policy, subject, acked) VALUES (?, ?, 0)`},
		{&b.reach, `UPDATE reach SET acked = 1 WHERE policy = ? AND subject = ? AND acked = 0`},
	} {
		if *st.dst, err = tx.PrepareContext(ctx, st.sql); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
	}
	return b, nil
}

func (b *batch) add(ctx context.Context, r consent.Receipt, seq int64) error {
	day := r.Time.UTC().Format(time.DateOnly)
	k := dayKey{day, r.Policy, string(r.Event)}
	c := b.events[k]
	c[0]++
	if r.GPC {
		c[1]++
	}
	if r.DNT {
		c[2]++
	}
	b.events[k] = c
	if choiceEvents[r.Event] {
		for _, g := range r.Granted {
			b.granted[dayKey{day, r.Policy, g}]++
		}
	}
	switch r.Event {
	case consent.EventPermissionAnswered:
		b.perms[permKey{day, r.Permission, r.Answer}]++
	case consent.EventSeparateAnswered:
		b.perms[permKey{day, SeparatePrefix + r.Separate, r.Answer}]++
	}
	if _, err := b.bySubject.ExecContext(ctx, r.Subject, seq); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	// Reach: the person is seen by every version in force at or before the
	// receipt's time, and has accepted the version the receipt names and
	// every earlier one (a later version's notice lists every change since
	// the one acknowledged, so accepting it accepts theirs).
	named := len(b.policies.Versions)
	for i, v := range b.policies.Versions {
		if v.ID == r.Policy {
			named = i
		}
	}
	for i, v := range b.policies.Versions {
		if v.Effective.After(r.Time) {
			break
		}
		res, err := b.reachNew.ExecContext(ctx, v.ID, r.Subject)
		if err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			b.seen[v.ID]++
		}
		if i <= named && named < len(b.policies.Versions) && acceptingEvents[r.Event] {
			res, err := b.reach.ExecContext(ctx, v.ID, r.Subject)
			if err != nil {
				return fmt.Errorf("stats: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				b.ackd[v.ID]++
			}
		}
	}
	return nil
}

func (b *batch) flush(ctx context.Context) error {
	exec := func(q string, args ...any) error {
		if _, err := b.tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		return nil
	}
	for k, c := range b.events {
		if err := exec(`INSERT INTO events (day, policy, event, n, gpc, dnt) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n, gpc = gpc + excluded.gpc, dnt = dnt + excluded.dnt`,
			k.day, k.policy, k.what, c[0], c[1], c[2]); err != nil {
			return err
		}
	}
	for k, n := range b.granted {
		if err := exec(`INSERT INTO granted (day, policy, category, n) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n`, k.day, k.policy, k.what, n); err != nil {
			return err
		}
	}
	for k, n := range b.perms {
		if err := exec(`INSERT INTO permissions (day, permission, answer, n) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET n = n + excluded.n`, k.day, k.permission, k.answer, n); err != nil {
			return err
		}
	}
	ids := map[string]bool{}
	for id := range b.seen {
		ids[id] = true
	}
	for id := range b.ackd {
		ids[id] = true
	}
	for id := range ids {
		if err := exec(`INSERT INTO reach_totals (policy, seen, acked) VALUES (?, ?, ?)
			ON CONFLICT DO UPDATE SET seen = seen + excluded.seen, acked = acked + excluded.acked`, id, b.seen[id], b.ackd[id]); err != nil {
			return err
		}
	}
	return nil
}

// Day is one UTC day's figures.
type Day struct {
	Day     string                  // YYYY-MM-DD
	Events  map[consent.Event]int64 // receipts by event
	All     int64                   // receipts
	GPC     int64                   // receipts sent with Global Privacy Control
	DNT     int64                   // receipts sent with Do Not Track, where the site honours it
	Choices int64                   // receipts of choiceEvents
	Granted map[string]int64        // choices granting each category
}

// Days returns the figures of the last limit days that have receipts, oldest
// first, of one policy version or of all ("").
func (s *Stats) Days(ctx context.Context, policy string, limit int) ([]Day, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT day, event, sum(n), sum(gpc), sum(dnt) FROM events
		WHERE day IN (SELECT DISTINCT day FROM events WHERE ?1 = '' OR policy = ?1 ORDER BY day DESC LIMIT ?2)
		AND (?1 = '' OR policy = ?1) GROUP BY day, event`, policy, limit)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	byDay := map[string]*Day{}
	get := func(d string) *Day {
		if byDay[d] == nil {
			byDay[d] = &Day{Day: d, Events: map[consent.Event]int64{}, Granted: map[string]int64{}}
		}
		return byDay[d]
	}
	for rows.Next() {
		var day, ev string
		var n, gpc, dnt int64
		if err := rows.Scan(&day, &ev, &n, &gpc, &dnt); err != nil {
			rows.Close()
			return nil, fmt.Errorf("stats: %w", err)
		}
		d := get(day)
		d.Events[consent.Event(ev)] += n
		d.All += n
		d.GPC += gpc
		d.DNT += dnt
		if choiceEvents[consent.Event(ev)] {
			d.Choices += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Day, 0, len(byDay))
	for _, d := range byDay {
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	if len(out) == 0 {
		return out, nil
	}
	at := map[string]int{}
	for i, d := range out {
		at[d.Day] = i
	}
	rows, err = s.db.QueryContext(ctx, `SELECT day, category, sum(n) FROM granted WHERE day >= ?1 AND (?2 = '' OR policy = ?2)
		GROUP BY day, category`, out[0].Day, policy)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var day, cat string
		var n int64
		if err := rows.Scan(&day, &cat, &n); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if i, ok := at[day]; ok {
			out[i].Granted[cat] += n
		}
	}
	return out, rows.Err()
}

// Reach is one policy version's figures since it took effect.
type Reach struct {
	Version   consent.Version
	Displayed int64 // notice_displayed receipts naming it
	Acks      int64 // acknowledged receipts naming it
	Continued int64 // continued_use receipts naming it
	Seen      int64 // people with a receipt at or after its effective date
	Accepted  int64 // of those, people who accepted it or a later version: a choice made under it, an acknowledgement or continued use
}

// Reaches returns every policy version's reach, oldest first.
func (s *Stats) Reaches(ctx context.Context) ([]Reach, error) {
	var out []Reach
	for _, v := range s.policies.Versions {
		r := Reach{Version: v}
		err := s.db.QueryRowContext(ctx, `SELECT
			coalesce((SELECT sum(n) FROM events WHERE policy = ?1 AND event = 'notice_displayed'), 0),
			coalesce((SELECT sum(n) FROM events WHERE policy = ?1 AND event = 'acknowledged'), 0),
			coalesce((SELECT sum(n) FROM events WHERE policy = ?1 AND event = 'continued_use'), 0),
			coalesce((SELECT seen FROM reach_totals WHERE policy = ?1), 0),
			coalesce((SELECT acked FROM reach_totals WHERE policy = ?1), 0)`, v.ID).
			Scan(&r.Displayed, &r.Acks, &r.Continued, &r.Seen, &r.Accepted)
		if err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// PermissionCount is how often one permission got one answer.
type PermissionCount struct {
	Permission, Answer string
	N                  int64
}

// Permissions returns every permission's answers, all days together, in
// permission and answer order.
func (s *Stats) Permissions(ctx context.Context) ([]PermissionCount, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT permission, answer, sum(n) FROM permissions GROUP BY permission, answer ORDER BY permission, answer`)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	var out []PermissionCount
	for rows.Next() {
		var p PermissionCount
		if err := rows.Scan(&p.Permission, &p.Answer, &p.N); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SubjectReceipts returns the sequence numbers of every receipt of the
// person with consent id subject, in chain order: at most limit.
func (s *Stats) SubjectReceipts(ctx context.Context, subject string, limit int) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq FROM by_subject WHERE subject = ? ORDER BY seq LIMIT ?`, subject, limit)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			return nil, err
		}
		out = append(out, seq)
	}
	return out, rows.Err()
}

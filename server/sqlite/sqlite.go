// Package sqlite is the default receipt store: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), in WAL mode with synchronous=FULL so that a
// receipt acknowledged is a receipt on disk, even after a crash.
//
// Writes go through one committer goroutine that gathers the receipts of
// every Put waiting at that moment into one transaction (group commit): one
// fsync serves many requests, so throughput grows with concurrency instead of
// being one fsync per receipt.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"workly.ai/consent"
	"workly.ai/consent/server/groupcommit"
	"workly.ai/consent/server/proof"
)

var _ consent.ReceiptStore = (*DB)(nil)

// DB is a receipt store in one SQLite file.
type DB struct {
	db   *sql.DB
	keys *sql.DB // binds subjects' keys without an fsync of its own (keys.go)
	path string
	Now  func() time.Time // when a receipt was received; defaults to time.Now
	sign func(hash string) string

	committer *groupcommit.Committer

	// The head of the global chain; only the committer touches them.
	lastSeq  int64
	lastHash string
}

// migrations are applied in order; PRAGMA user_version records how many ran.
// Append only.
var migrations = []string{
	`CREATE TABLE receipts (
		id       TEXT PRIMARY KEY,
		subject  TEXT NOT NULL,
		event    TEXT NOT NULL,
		policy   TEXT NOT NULL,
		time     INTEGER NOT NULL, -- Unix milliseconds, the browser's clock
		received INTEGER NOT NULL, -- Unix milliseconds, the server's clock
		body     TEXT NOT NULL     -- the receipt as JSON
	) STRICT;
	CREATE INDEX receipts_subject ON receipts(subject, time);`,
	// The global chain: one link per receipt, in the order stored.
	`CREATE TABLE chain (
		seq  INTEGER PRIMARY KEY,
		id   TEXT NOT NULL UNIQUE REFERENCES receipts(id),
		hash TEXT NOT NULL, -- hex ChainHash(previous hash, body)
		sig  TEXT NOT NULL  -- base64 Ed25519 signature of hash
	) STRICT;`,
	// Which browser keys may sign each subject's receipts (keys.go).
	`CREATE TABLE subject_keys (
		subject TEXT NOT NULL,
		origin  TEXT NOT NULL, -- "" when the request named none
		key     TEXT NOT NULL, -- the receipts' "key": a P-256 public key
		token   TEXT NOT NULL, -- hex SHA-256 of the subject's enrolment token
		PRIMARY KEY (subject, key) -- an origin gains a key when its browser lost the last
	) STRICT;`,
}

// Open opens (creating if needed) the store at path and brings its schema up
// to date. It links the global chain with proof.ChainHash and signs each link
// with sign (proof.Signer).
func Open(path string, sign func(hash string) string) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// One writer at a time with immediate transactions: deferred ones fail with
	// SQLITE_BUSY under concurrency despite the busy timeout.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &DB{db: db, path: path, Now: time.Now, sign: sign}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.QueryRow("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").Scan(&s.lastSeq, &s.lastHash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if s.keys, err = openKeys(path); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.committer = groupcommit.Start(s.write)
	return s, nil
}

// String names the store's file.
func (s *DB) String() string { return "SQLite " + s.path }

func (s *DB) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this server (%d): upgrade the server", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// Put stores rs durably: it returns once the transaction that holds them has
// committed. See consent.ReceiptStore.
func (s *DB) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	return s.committer.Put(ctx, rs)
}

// write stores the receipts of every request of group in one transaction,
// each new one linked into the chain and signed, and returns each request's
// acknowledgements.
func (s *DB) write(group [][]consent.Receipt) ([]groupcommit.Result, error) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer tx.Rollback()
	insert, err := tx.PrepareContext(ctx, `INSERT INTO receipts (id, subject, event, policy, time, received, body)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer insert.Close()
	link, err := tx.PrepareContext(ctx, `INSERT INTO chain (seq, id, hash, sig) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer link.Close()
	lookup, err := tx.PrepareContext(ctx, `SELECT seq, hash, sig FROM chain WHERE id = ?`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer lookup.Close()

	received := s.Now().UnixMilli()
	seq, last := s.lastSeq, s.lastHash
	results := make([]groupcommit.Result, len(group))
	pending := make([][]*consent.Ack, len(group)) // the acks, some unsigned until signed below
	// Insert and link in order; a receipt already stored gets its first ack.
	fresh := map[string]*consent.Ack{} // new in this transaction, by id
	var links []*consent.Ack
	for i, rs := range group {
		for _, r := range rs {
			body := consent.AppendReceiptJSON(nil, r)
			res, err := insert.ExecContext(ctx, r.ID, r.Subject, string(r.Event), r.Policy, r.Time.UnixMilli(), received, string(body))
			if err != nil {
				return nil, fmt.Errorf("put receipts: %w", err)
			}
			var ack *consent.Ack
			switch n, _ := res.RowsAffected(); {
			case n == 1:
				seq++
				last = proof.ChainHash(last, body)
				ack = &consent.Ack{ID: r.ID, Seq: seq, Hash: last}
				fresh[r.ID] = ack
				links = append(links, ack)
				results[i].Stored++
			case fresh[r.ID] != nil:
				ack = fresh[r.ID]
			default:
				ack = &consent.Ack{ID: r.ID}
				if err := lookup.QueryRowContext(ctx, r.ID).Scan(&ack.Seq, &ack.Hash, &ack.Sig); err != nil {
					return nil, fmt.Errorf("put receipts: %w", err)
				}
			}
			pending[i] = append(pending[i], ack)
		}
	}
	groupcommit.SignAll(links, s.sign)
	for _, l := range links {
		if _, err := link.ExecContext(ctx, l.Seq, l.ID, l.Hash, l.Sig); err != nil {
			return nil, fmt.Errorf("put receipts: %w", err)
		}
	}
	for i, acks := range pending {
		for _, a := range acks {
			results[i].Acks = append(results[i].Acks, *a)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	s.lastSeq, s.lastHash = seq, last
	return results, nil
}

// Entries calls fn for each receipt in chain order from seq from on. See
// consent.ReceiptStore.
func (s *DB) Entries(ctx context.Context, from int64, fn func(body []byte, a consent.Ack) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT c.seq, c.id, c.hash, c.sig, r.body FROM chain c JOIN receipts r ON r.id = c.id
		WHERE c.seq >= ? ORDER BY c.seq`, from)
	if err != nil {
		return fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a consent.Ack
		var body string
		if err := rows.Scan(&a.Seq, &a.ID, &a.Hash, &a.Sig, &body); err != nil {
			return fmt.Errorf("read receipts: %w", err)
		}
		if err := fn([]byte(body), a); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Count returns how many receipts are stored.
func (s *DB) Count(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM receipts").Scan(&n)
	return n, err
}

// Ping reports whether the file can be read.
func (s *DB) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Close stops the committer, after the transaction under way, and closes the
// file.
func (s *DB) Close() error {
	s.committer.Close()
	return errors.Join(s.keys.Close(), s.db.Close())
}

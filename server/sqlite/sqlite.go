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
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"workly.ai/consent"
)

var _ consent.ReceiptStore = (*DB)(nil)

// DB is a receipt store in one SQLite file.
type DB struct {
	db  *sql.DB
	Now func() time.Time // when a receipt was received; defaults to time.Now

	puts   chan putRequest
	closed chan struct{}
}

// putRequest is one Put waiting for the committer.
type putRequest struct {
	rs    []consent.Receipt
	reply chan putResult
}

type putResult struct {
	stored int
	err    error
}

// maxGroup bounds how many receipts one transaction takes.
const maxGroup = 4096

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
}

// Open opens (creating if needed) the store at path and brings its schema up
// to date.
func Open(path string) (*DB, error) {
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
	s := &DB{db: db, Now: time.Now, puts: make(chan putRequest), closed: make(chan struct{})}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	go s.commit()
	return s, nil
}

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
func (s *DB) Put(ctx context.Context, rs []consent.Receipt) (int, error) {
	req := putRequest{rs: rs, reply: make(chan putResult, 1)}
	select {
	case s.puts <- req:
	case <-s.closed:
		return 0, fmt.Errorf("put receipts: store closed")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	// Once handed over, the receipts are committed or not whatever the
	// caller's context does: wait for the answer.
	res := <-req.reply
	return res.stored, res.err
}

// commit is the committer: it takes the Puts waiting at each moment and
// writes them in one transaction.
func (s *DB) commit() {
	for {
		var group []putRequest
		select {
		case req := <-s.puts:
			group = append(group, req)
		case <-s.closed:
			return
		}
		n := len(group[0].rs)
	gather:
		for n < maxGroup {
			select {
			case req := <-s.puts:
				group = append(group, req)
				n += len(req.rs)
			default:
				break gather
			}
		}
		stored, err := s.write(group)
		for i, req := range group {
			if err != nil {
				req.reply <- putResult{err: err}
			} else {
				req.reply <- putResult{stored: stored[i]}
			}
		}
	}
}

// write stores the receipts of every request of group in one transaction and
// returns how many of each were new.
func (s *DB) write(group []putRequest) ([]int, error) {
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO receipts (id, subject, event, policy, time, received, body)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer stmt.Close()
	received := s.Now().UnixMilli()
	stored := make([]int, len(group))
	for i, req := range group {
		for _, r := range req.rs {
			body := consent.AppendReceiptJSON(nil, r)
			res, err := stmt.ExecContext(ctx, r.ID, r.Subject, string(r.Event), r.Policy, r.Time.UnixMilli(), received, string(body))
			if err != nil {
				return nil, fmt.Errorf("put receipts: %w", err)
			}
			n, _ := res.RowsAffected()
			stored[i] += int(n)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	return stored, nil
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
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return s.db.Close()
}

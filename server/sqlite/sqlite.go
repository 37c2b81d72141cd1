// Package sqlite is the default receipt store: one SQLite file, pure Go
// (modernc.org/sqlite, no cgo), in WAL mode with synchronous=FULL so that a
// receipt acknowledged is a receipt on disk, even after a crash.
package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
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
	s := &DB{db: db, Now: time.Now}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
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

// Put stores rs in one transaction. See consent.ReceiptStore.
func (s *DB) Put(ctx context.Context, rs []consent.Receipt) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("put receipts: %w", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO receipts (id, subject, event, policy, time, received, body)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("put receipts: %w", err)
	}
	defer stmt.Close()
	received := s.Now().UnixMilli()
	stored := 0
	for _, r := range rs {
		body, err := json.Marshal(r)
		if err != nil {
			return 0, fmt.Errorf("put receipts: %w", err)
		}
		res, err := stmt.ExecContext(ctx, r.ID, r.Subject, string(r.Event), r.Policy, r.Time.UnixMilli(), received, string(body))
		if err != nil {
			return 0, fmt.Errorf("put receipts: %w", err)
		}
		n, _ := res.RowsAffected()
		stored += int(n)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("put receipts: %w", err)
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

// Close closes the store.
func (s *DB) Close() error { return s.db.Close() }

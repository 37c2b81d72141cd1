package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"workly.ai/consent"
)

// openKeys opens the handle Bind writes with: the same file with
// synchronous=NORMAL, so that a binding is appended to the WAL without an
// fsync of its own. It becomes durable with the next commit of receipts
// (synchronous=FULL syncs the WAL, and every frame before): the request that
// binds a key stores its receipt right after, and is acknowledged only once
// that has committed. Without this, a flood of new consents would cost one
// fsync each.
func openKeys(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"+
		"&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Keys returns the keys bound to subject, oldest first. See
// consent.SubjectKeys.
func (s *DB) Keys(ctx context.Context, subject string) ([]consent.KeyBinding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT origin, key, token FROM subject_keys WHERE subject = ? ORDER BY rowid`, subject)
	if err != nil {
		return nil, fmt.Errorf("read subject keys: %w", err)
	}
	defer rows.Close()
	var out []consent.KeyBinding
	for rows.Next() {
		b := consent.KeyBinding{Subject: subject}
		if err := rows.Scan(&b.Origin, &b.Key, &b.Token); err != nil {
			return nil, fmt.Errorf("read subject keys: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// Bind adds b if the subject has no key, or if b names the subject's token,
// in one immediate transaction (SQLite has one writer at a
// time, so the check and the insert are atomic), on the keys handle: durable
// with the next commit of receipts (see openKeys). See consent.SubjectKeys.
func (s *DB) Bind(ctx context.Context, b consent.KeyBinding) ([]consent.KeyBinding, error) {
	tx, err := s.keys.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("bind key: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO subject_keys (subject, origin, key, token)
		SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM subject_keys WHERE subject = ?1)
			OR ?4 = (SELECT token FROM subject_keys WHERE subject = ?1 ORDER BY rowid LIMIT 1)
		ON CONFLICT DO NOTHING`,
		b.Subject, b.Origin, b.Key, b.Token); err != nil {
		return nil, fmt.Errorf("bind key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("bind key: %w", err)
	}
	return s.Keys(ctx, b.Subject)
}

package postgres

import (
	"context"
	"fmt"

	"workly.ai/consent"
)

// subjectLock is the first key of the advisory locks (the two-key form, a
// key space apart from the chain's and the migrations') that serialise
// Binds for one subject: the second is the hash of the subject.
const subjectLock int32 = 0x636B6579

// Keys returns the keys bound to subject, oldest first. See
// consent.SubjectKeys.
func (s *DB) Keys(ctx context.Context, subject string) ([]consent.KeyBinding, error) {
	rows, err := s.pool.Query(ctx, `SELECT origin, key, token FROM subject_keys WHERE subject = $1 ORDER BY n`, subject)
	if err != nil {
		return nil, fmt.Errorf("read subject keys: %w", classify(err))
	}
	defer rows.Close()
	var out []consent.KeyBinding
	for rows.Next() {
		b := consent.KeyBinding{Subject: subject}
		if err := rows.Scan(&b.Origin, &b.Key, &b.Token); err != nil {
			return nil, fmt.Errorf("read subject keys: %w", classify(err))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read subject keys: %w", classify(err))
	}
	return out, nil
}

// Bind adds b if the subject has no key, or has none for b.Origin and the
// token b names. Its transaction holds an advisory lock on the subject, so
// two servers binding a first key for one subject at once cannot both win,
// and commits without waiting for the WAL flush: the binding is durable with
// the next synchronous commit, the receipts' that follow it. See
// consent.SubjectKeys.
func (s *DB) Bind(ctx context.Context, b consent.KeyBinding) ([]consent.KeyBinding, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("bind key: %w", classify(err))
	}
	defer tx.Rollback(context.Background())
	// No WAL flush of its own: the receipts' commit that follows flushes the
	// WAL past it, and is what the request waits for (as in server/sqlite).
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
		return nil, fmt.Errorf("bind key: %w", classify(err))
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext($2))", subjectLock, b.Subject); err != nil {
		return nil, fmt.Errorf("bind key: %w", classify(err))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO subject_keys (subject, origin, key, token)
		SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM subject_keys WHERE subject = $1)
			OR $4 = (SELECT token FROM subject_keys WHERE subject = $1 ORDER BY n LIMIT 1)
		ON CONFLICT DO NOTHING`,
		b.Subject, b.Origin, b.Key, b.Token); err != nil {
		return nil, fmt.Errorf("bind key: %w", classify(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("bind key: %w", classify(err))
	}
	return s.Keys(ctx, b.Subject)
}

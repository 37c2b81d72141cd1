package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"workly.ai/consent/server/discovery"
)

var _ discovery.Store = (*Discovered)(nil)

// discoveredLock ("consent" in ASCII, then 3) serialises the writers of the
// listener's counts across servers, so that the cap per day holds exactly.
// Posts are rare (once a day per browser), so waiting costs nothing.
const discoveredLock int64 = 0x636F6E73656E7403

// Discovered keeps the listener's counts (package discovery) in the table
// discovered of a PostgreSQL database that several servers share, apart
// from the receipts and their chain.
type Discovered struct {
	pool *pgxpool.Pool
	// MaxPerDay caps the distinct names counted on one day; the names
	// beyond it are counted under discovery.Other, per kind. Default 1000.
	MaxPerDay int
	// KeepDays is how many days of counts are kept. Default 90.
	KeepDays int
}

// OpenDiscovered connects to the database of dsn (read as Open reads it)
// and creates the table when it is missing.
func OpenDiscovered(ctx context.Context, dsn string) (*Discovered, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open discovered: %w", err)
	}
	d := &Discovered{pool: pool, MaxPerDay: 1000, KeepDays: 90}
	err = d.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS discovered (
			day   text NOT NULL,   -- 2006-01-02, UTC
			kind  text NOT NULL,
			name  text NOT NULL,   -- '' counts the names beyond the day's cap
			count bigint NOT NULL,
			first bigint NOT NULL, -- Unix milliseconds
			last  bigint NOT NULL,
			PRIMARY KEY (day, kind, name))`)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("open discovered %s: %w", target(cfg), classify(err))
	}
	return d, nil
}

// inTx runs fn in a transaction holding discoveredLock.
func (d *Discovered) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, discoveredLock); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Record counts each name once at now, in one transaction.
func (d *Discovered) Record(ctx context.Context, now time.Time, names []discovery.Name) error {
	now = now.UTC()
	day, ms := now.Format(time.DateOnly), now.UnixMilli()
	for _, n := range names {
		if n.Name == discovery.Other {
			return errors.New("record discovered: an empty name")
		}
	}
	err := d.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM discovered WHERE day < $1`,
			now.AddDate(0, 0, -max(d.KeepDays, 1)+1).Format(time.DateOnly)); err != nil {
			return err
		}
		var distinct int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM discovered WHERE day = $1 AND name <> ''`, day).Scan(&distinct); err != nil {
			return err
		}
		for _, n := range names {
			tag, err := tx.Exec(ctx, `UPDATE discovered SET count = count + 1, last = $1 WHERE day = $2 AND kind = $3 AND name = $4`,
				ms, day, string(n.Kind), n.Name)
			if err != nil {
				return err
			}
			if tag.RowsAffected() > 0 {
				continue
			}
			name := n.Name
			if distinct >= d.MaxPerDay {
				name = discovery.Other
			} else {
				distinct++
			}
			if _, err := tx.Exec(ctx, `INSERT INTO discovered (day, kind, name, count, first, last) VALUES ($1, $2, $3, 1, $4, $4)
				ON CONFLICT (day, kind, name) DO UPDATE SET count = discovered.count + 1, last = excluded.last`,
				day, string(n.Kind), name, ms); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record discovered: %w", classify(err))
	}
	return nil
}

// Counts returns every count, newest day first, then by count, largest
// first, then by kind and name.
func (d *Discovered) Counts(ctx context.Context) ([]discovery.Count, error) {
	rows, err := d.pool.Query(ctx, `SELECT day, kind, name, count, first, last FROM discovered
		ORDER BY day DESC, count DESC, kind COLLATE "C", name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("read discovered: %w", classify(err))
	}
	defer rows.Close()
	var out []discovery.Count
	for rows.Next() {
		var c discovery.Count
		var kind string
		var first, last int64
		if err := rows.Scan(&c.Day, &kind, &c.Name, &c.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("read discovered: %w", err)
		}
		c.Kind = discovery.Kind(kind)
		c.First, c.Last = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read discovered: %w", classify(err))
	}
	return out, nil
}

// Close closes the pool.
func (d *Discovered) Close() error {
	d.pool.Close()
	return nil
}

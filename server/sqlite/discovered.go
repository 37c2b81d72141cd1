package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"workly.ai/consent/server/discovery"
)

var _ discovery.Store = (*Discovered)(nil)

// Discovered keeps the listener's counts (package discovery) in a SQLite
// file of their own, apart from the receipts and their chain: one row per
// day, kind and name.
type Discovered struct {
	db *sql.DB
	// MaxPerDay caps the distinct names counted on one day; the names
	// beyond it are counted under discovery.Other, per kind. Default 1000.
	MaxPerDay int
	// KeepDays is how many days of counts are kept; older ones are
	// deleted as new ones are recorded. Default 90.
	KeepDays int
}

// OpenDiscovered opens (creating if needed) the counts at path.
func OpenDiscovered(path string) (*Discovered, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open discovered: %w", err)
	}
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open discovered: %w", err)
	}
	db.SetMaxOpenConns(1) // one writer; the counts are small and posts rare (once a day per browser)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS discovered (
		day   TEXT NOT NULL,    -- 2006-01-02, UTC
		kind  TEXT NOT NULL,
		name  TEXT NOT NULL,    -- '' counts the names beyond the day's cap
		count INTEGER NOT NULL,
		first INTEGER NOT NULL, -- Unix milliseconds
		last  INTEGER NOT NULL,
		PRIMARY KEY (day, kind, name)
	) STRICT, WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("open discovered %s: %w", path, err)
	}
	return &Discovered{db: db, MaxPerDay: 1000, KeepDays: 90}, nil
}

// OpenDiscoveredReadOnly opens existing counts for reading;
// fs.ErrNotExist when there are none.
func OpenDiscoveredReadOnly(path string) (*Discovered, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	return OpenDiscovered(path)
}

// Record counts each name once at now, in one transaction.
func (d *Discovered) Record(ctx context.Context, now time.Time, names []discovery.Name) error {
	now = now.UTC()
	day, ms := now.Format(time.DateOnly), now.UnixMilli()
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("record discovered: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM discovered WHERE day < ?`,
		now.AddDate(0, 0, -max(d.KeepDays, 1)+1).Format(time.DateOnly)); err != nil {
		return fmt.Errorf("record discovered: %w", err)
	}
	var distinct int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM discovered WHERE day = ? AND name <> ''`, day).Scan(&distinct); err != nil {
		return fmt.Errorf("record discovered: %w", err)
	}
	for _, n := range names {
		if n.Name == discovery.Other {
			return errors.New("record discovered: an empty name")
		}
		res, err := tx.ExecContext(ctx, `UPDATE discovered SET count = count + 1, last = ? WHERE day = ? AND kind = ? AND name = ?`,
			ms, day, string(n.Kind), n.Name)
		if err != nil {
			return fmt.Errorf("record discovered: %w", err)
		}
		if updated, _ := res.RowsAffected(); updated > 0 {
			continue
		}
		name := n.Name
		if distinct >= d.MaxPerDay {
			name = discovery.Other
		} else {
			distinct++
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO discovered (day, kind, name, count, first, last) VALUES (?, ?, ?, 1, ?, ?)
			ON CONFLICT (day, kind, name) DO UPDATE SET count = count + 1, last = excluded.last`,
			day, string(n.Kind), name, ms, ms); err != nil {
			return fmt.Errorf("record discovered: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record discovered: %w", err)
	}
	return nil
}

// Counts returns every count, newest day first, then by count, largest
// first, then by kind and name.
func (d *Discovered) Counts(ctx context.Context) ([]discovery.Count, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT day, kind, name, count, first, last FROM discovered
		ORDER BY day DESC, count DESC, kind, name`)
	if err != nil {
		return nil, fmt.Errorf("read discovered: %w", err)
	}
	defer rows.Close()
	var out []discovery.Count
	for rows.Next() {
		var c discovery.Count
		var first, last int64
		if err := rows.Scan(&c.Day, &c.Kind, &c.Name, &c.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("read discovered: %w", err)
		}
		c.First, c.Last = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Close closes the file.
func (d *Discovered) Close() error { return d.db.Close() }

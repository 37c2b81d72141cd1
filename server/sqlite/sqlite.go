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
	"strings"
	"syscall"
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
	sign proof.SignFunc

	committer *groupcommit.Committer
	lock      *os.File // held while the store is open to write

	// The head of the global chain; only the committer touches them.
	lastSeq  int64
	lastHash string
	// The committer's statements, prepared once, by query (stmt).
	stmts map[string]*sql.Stmt
}

// formulaVersion is the schema version from which the chain has the formula
// of proof.ChainHash (ChainFormulaMigration's place, from 1).
const formulaVersion = 4

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
		hash TEXT NOT NULL, -- hex proof.ChainHash(previous hash, leaf, received)
		sig  TEXT NOT NULL  -- base64 Ed25519 signature of the link's checkpoint
	) STRICT;`,
	// Which browser keys may sign each subject's receipts (keys.go).
	`CREATE TABLE subject_keys (
		subject TEXT NOT NULL,
		origin  TEXT NOT NULL, -- "" when the request named none
		key     TEXT NOT NULL, -- the receipts' "key": a P-256 public key
		token   TEXT NOT NULL, -- hex SHA-256 of the subject's enrolment token
		PRIMARY KEY (subject, key) -- an origin gains a key when its browser lost the last
	) STRICT;`,
	// Links cover the body's hash and the server's time (proof.ChainHash):
	// no table changes, but a chain of the earlier formula cannot go on.
	proof.ChainFormulaMigration,
}

// Open opens (creating if needed) the store at path and brings its schema up
// to date. It links the global chain with proof.ChainHash and signs each link
// with sign (proof.Signer). With sign nil the store is open to read only (verify,
// export): Put fails. Open to write, it first takes an exclusive lock on
// path+".lock", so that a second server on the same file stops at once and
// says so, and checks the file's integrity (PRAGMA quick_check): a damaged
// store is refused, with what SQLite found.
func Open(path string, sign proof.SignFunc) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	var lock *os.File
	if sign != nil {
		var err error
		if lock, err = lockFile(path + ".lock"); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
	}
	s, err := open(path, sign)
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// lockFile takes an exclusive flock on path, without waiting.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("another consentd is using this store (it holds %s): stop it first, or give this one another -data", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

func open(path string, sign proof.SignFunc) (*DB, error) {
	// One writer at a time with immediate transactions: deferred ones fail with
	// SQLITE_BUSY under concurrency despite the busy timeout.
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &DB{db: db, path: path, Now: time.Now, sign: sign}
	if sign != nil {
		if err := s.quickCheck(); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", path, err)
		}
	}
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

// quickCheck runs PRAGMA quick_check: the file's pages, records and
// indexes are well-formed (it reads the whole file once).
func (s *DB) quickCheck() error {
	rows, err := s.db.Query("PRAGMA quick_check")
	if err != nil {
		return fmt.Errorf("the store is damaged: %w: restore it from a backup (consentd export reads past damage)", err)
	}
	defer rows.Close()
	var found []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return err
		}
		if msg != "ok" && len(found) < 5 {
			found = append(found, msg)
		}
	}
	if err := rows.Err(); err != nil {
		found = append(found, err.Error())
	}
	if len(found) > 0 {
		return fmt.Errorf("the store is damaged (PRAGMA quick_check: %s): restore it from a backup (consentd export reads past damage)", strings.Join(found, "; "))
	}
	return nil
}

func (s *DB) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this server (%d): upgrade the server", version, len(migrations))
	}
	if version >= 2 && version < formulaVersion {
		var links int64
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM chain").Scan(&links); err != nil {
			return err
		}
		if links > 0 {
			return proof.ErrOldChain
		}
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
// acknowledgements. A request with a receipt in conflict with a stored one
// (same id, other content) is refused alone: none of its receipts is
// stored, and its Result's Err wraps consent.ErrConflict.
func (s *DB) write(group [][]consent.Receipt) ([]groupcommit.Result, error) {
	if s.sign == nil {
		return nil, errors.New("put receipts: the store was opened to read only")
	}
	ctx := context.Background()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer tx.Rollback()
	insert, err := s.stmt(ctx, tx, `INSERT INTO receipts (id, subject, event, policy, time, received, body)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer insert.Close()
	link, err := s.stmt(ctx, tx, `INSERT INTO chain (seq, id, hash, sig) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	defer link.Close()
	// What is stored already of the group's receipts, read at once.
	known := map[string]groupcommit.Stored{}
	if err := s.readStored(ctx, tx, group, known); err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	stored := func(id string) (groupcommit.Stored, bool, error) {
		k, ok := known[id]
		return k, ok, nil
	}

	received := s.Now().UnixMilli()
	seq, last := s.lastSeq, s.lastHash
	results := make([]groupcommit.Result, len(group))
	var links []*consent.Ack
	for i, rs := range group {
		bodies, err := groupcommit.Check(rs, stored)
		if err != nil {
			if !errors.Is(err, consent.ErrConflict) {
				return nil, fmt.Errorf("put receipts: %w", err)
			}
			results[i].Err = err
			continue
		}
		// Insert and link in order; a receipt already stored gets its first ack.
		for j, r := range rs {
			if k, ok := known[r.ID]; ok {
				results[i].Acks = append(results[i].Acks, *k.Ack)
				continue
			}
			if _, err := insert.ExecContext(ctx, r.ID, r.Subject, string(r.Event), r.Policy, r.Time.UnixMilli(), received, string(bodies[j])); err != nil {
				return nil, fmt.Errorf("put receipts: %w", err)
			}
			seq++
			last = proof.ChainHash(last, proof.LeafHash(bodies[j]), received)
			ack := &consent.Ack{ID: r.ID, Seq: seq, Hash: last, Received: received}
			known[r.ID] = groupcommit.Stored{Body: bodies[j], Ack: ack}
			links = append(links, ack)
			results[i].Stored++
			results[i].Acks = append(results[i].Acks, consent.Ack{}) // filled once signed
		}
	}
	groupcommit.SignAll(links, s.sign)
	for _, l := range links {
		if _, err := link.ExecContext(ctx, l.Seq, l.ID, l.Hash, l.Sig); err != nil {
			return nil, fmt.Errorf("put receipts: %w", err)
		}
	}
	for i, rs := range group {
		if results[i].Err == nil {
			for j, r := range rs {
				results[i].Acks[j] = *known[r.ID].Ack
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	s.lastSeq, s.lastHash = seq, last
	return results, nil
}

// stmt returns query prepared (once, on the store) for tx. Only the
// committer calls it.
func (s *DB) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, ok := s.stmts[query]
	if !ok {
		var err error
		if st, err = s.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if s.stmts == nil {
			s.stmts = map[string]*sql.Stmt{}
		}
		s.stmts[query] = st
	}
	return tx.StmtContext(ctx, st), nil
}

// readStored adds to known every receipt of group already stored, by id.
func (s *DB) readStored(ctx context.Context, tx *sql.Tx, group [][]consent.Receipt, known map[string]groupcommit.Stored) error {
	var ids []any
	for _, rs := range group {
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
	}
	const chunk = 64 // well below SQLite's limit on parameters; one statement per size up to it
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		query, err := s.stmt(ctx, tx, `SELECT r.id, r.body, c.seq, c.hash, c.sig, r.received FROM receipts r JOIN chain c ON c.id = r.id
			WHERE r.id IN (?`+strings.Repeat(",?", n-1)+`)`)
		if err != nil {
			return err
		}
		rows, err := query.QueryContext(ctx, ids[:n]...)
		if err != nil {
			return err
		}
		for rows.Next() {
			a := new(consent.Ack)
			var body string
			if err := rows.Scan(&a.ID, &body, &a.Seq, &a.Hash, &a.Sig, &a.Received); err != nil {
				rows.Close()
				return err
			}
			known[a.ID] = groupcommit.Stored{Body: []byte(body), Ack: a}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// Entries calls fn for each receipt in chain order from seq from on. See
// consent.ReceiptStore.
func (s *DB) Entries(ctx context.Context, from int64, fn func(body []byte, a consent.Ack) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT c.seq, c.id, c.hash, c.sig, r.received, r.body FROM chain c JOIN receipts r ON r.id = c.id
		WHERE c.seq >= ? ORDER BY c.seq`, from)
	if err != nil {
		return fmt.Errorf("read receipts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a consent.Ack
		var body string
		if err := rows.Scan(&a.Seq, &a.ID, &a.Hash, &a.Sig, &a.Received, &body); err != nil {
			return fmt.Errorf("read receipts: %w", err)
		}
		if err := fn([]byte(body), a); err != nil {
			return err
		}
	}
	return rows.Err()
}

var _ proof.Redactor = (*DB)(nil)

// Redact replaces receipt id's body by its tombstone, and its subject by "".
// See proof.Redactor.
func (s *DB) Redact(ctx context.Context, id, reason string) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("redact: %w", err)
	}
	defer tx.Rollback()
	var seq int64
	var body string
	err = tx.QueryRowContext(ctx, `SELECT c.seq, r.body FROM receipts r JOIN chain c ON c.id = r.id WHERE r.id = ?`, id).Scan(&seq, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("redact: receipt %s: %w", id, consent.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("redact: %w", err)
	}
	if _, _, done := proof.ParseTombstone([]byte(body)); done {
		return seq, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE receipts SET body = ?, subject = '' WHERE id = ?`, string(proof.Tombstone([]byte(body), reason)), id); err != nil {
		return 0, fmt.Errorf("redact: %w", err)
	}
	return seq, tx.Commit()
}

// Head returns the newest link's Ack. See consent.ReceiptStore.
func (s *DB) Head(ctx context.Context) (consent.Ack, error) {
	var a consent.Ack
	err := s.db.QueryRowContext(ctx, `SELECT c.seq, c.id, c.hash, c.sig, r.received FROM chain c JOIN receipts r ON r.id = c.id
		ORDER BY c.seq DESC LIMIT 1`).Scan(&a.Seq, &a.ID, &a.Hash, &a.Sig, &a.Received)
	if errors.Is(err, sql.ErrNoRows) {
		return consent.Ack{}, nil
	}
	if err != nil {
		return a, fmt.Errorf("read the chain's head: %w", err)
	}
	return a, nil
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
	for _, st := range s.stmts {
		st.Close()
	}
	err := errors.Join(s.keys.Close(), s.db.Close())
	if s.lock != nil {
		s.lock.Close()
	}
	return err
}

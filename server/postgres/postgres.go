// Package postgres is the receipt store for several server processes: the
// ingest servers run behind one load balancer and share one PostgreSQL
// database (github.com/jackc/pgx/v5), so that there is one source of proof.
//
// # One chain across processes
//
// The global chain is a sequence: each link's hash covers the previous one.
// Every process appends to it, so appending is serialised in the database:
// each write transaction first takes a transaction-level advisory lock
// (pg_advisory_xact_lock), then reads the head of the chain, links and signs
// its receipts after it, inserts them and commits, which releases the lock.
// PostgreSQL makes a commit visible before it releases the committing
// transaction's locks, so the next holder always reads the head just written.
// The chain's sequence number is its primary key besides: should anything
// ever write without the lock, a second link at the same place fails instead
// of forking the chain.
//
// Within a process, as in the SQLite store, one committer goroutine gathers
// the receipts of every Put waiting at that moment into one transaction
// (group commit), inserted with COPY. So the lock is taken once per group,
// not per receipt: the chain's throughput is one group per lock hold (a few
// round trips, the signatures, one WAL flush), and groups grow with load.
//
// # When the database goes away
//
// Errors that mean the database cannot be reached (no connection, connection
// lost, timeout, server shutting down) wrap consent.ErrUnavailable. A receipt
// is acknowledged only once its transaction has committed, so nothing
// acknowledged is lost; a commit whose answer was lost is reported as an
// error, and the client's resend is then answered with the first
// acknowledgement. The pool reconnects by itself when the database is back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"workly.ai/consent"
	"workly.ai/consent/server/groupcommit"
	"workly.ai/consent/server/proof"
)

var _ consent.ReceiptStore = (*DB)(nil)

// Advisory lock keys ("consent" in ASCII, then 1 or 2): appending to the
// chain, and migrating the schema.
const (
	chainLock   int64 = 0x636F6E73656E7401
	migrateLock int64 = 0x636F6E73656E7402
)

// Defaults for what the DSN does not set.
const (
	// DefaultConnectTimeout bounds one connection attempt (connect_timeout).
	DefaultConnectTimeout = 5 * time.Second
	// DefaultWriteTimeout bounds one group's transaction, lock wait included.
	DefaultWriteTimeout = 10 * time.Second
	// idleInTransaction makes the server end a transaction whose client went
	// silent (idle_in_transaction_session_timeout), so that a process cut off
	// from the database cannot hold the chain's lock for long.
	idleInTransaction = "30s"
)

// maxGroup bounds how many receipts one transaction takes.

// DB is a receipt store in a PostgreSQL database.
type DB struct {
	pool *pgxpool.Pool
	name string           // host:port/database, for messages
	Now  func() time.Time // when a receipt was received; defaults to time.Now
	sign func(hash string) string
	// WriteTimeout bounds one group's transaction; DefaultWriteTimeout.
	WriteTimeout time.Duration

	committer *groupcommit.Committer
	closeOnce sync.Once
}

// migrations are applied in order, each once; the table
// consent_schema_migrations records which ran. Append only.
var migrations = []string{
	`CREATE TABLE receipts (
		id       text PRIMARY KEY,
		subject  text NOT NULL,
		event    text NOT NULL,
		policy   text NOT NULL,
		time     bigint NOT NULL, -- Unix milliseconds, the browser's clock
		received bigint NOT NULL, -- Unix milliseconds, the server's clock
		body     text NOT NULL    -- the receipt's wire form, byte for byte
	);
	CREATE INDEX receipts_subject ON receipts (subject, time);`,
	// The global chain: one link per receipt, in the order stored.
	`CREATE TABLE chain (
		seq  bigint PRIMARY KEY,
		id   text NOT NULL UNIQUE REFERENCES receipts (id),
		hash text NOT NULL, -- hex ChainHash(previous hash, body)
		sig  text NOT NULL  -- base64 Ed25519 signature of hash
	);`,
	// Which browser keys may sign each subject's receipts (keys.go).
	`CREATE TABLE subject_keys (
		n       bigint GENERATED ALWAYS AS IDENTITY,
		subject text NOT NULL,
		origin  text NOT NULL, -- '' when the request named none
		key     text NOT NULL, -- the receipts' "key": a P-256 public key
		token   text NOT NULL, -- hex SHA-256 of the subject's enrolment token
		PRIMARY KEY (subject, key) -- an origin gains a key when its browser lost the last
	);`,
}

// Open connects to the database named by dsn, a PostgreSQL URL
// (postgres://user@host:5432/db?sslmode=…; the password may come from
// PGPASSWORD or ~/.pgpass), and brings its schema up to date. Pool settings
// come from the URL (pool_max_conns, pool_max_conn_lifetime, …, pgxpool's
// defaults otherwise); connect_timeout defaults to DefaultConnectTimeout.
// It links the global chain with proof.ChainHash and signs each link with
// sign (proof.Signer). A malformed DSN is an error that says so; an
// unreachable database one that wraps consent.ErrUnavailable.
func Open(ctx context.Context, dsn string, sign func(hash string) string) (*DB, error) {
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &DB{pool: pool, name: target(cfg), Now: time.Now, sign: sign, WriteTimeout: DefaultWriteTimeout}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		if !errors.Is(err, errNewerSchema) {
			err = classify(err)
		}
		return nil, fmt.Errorf("open store %s: %w", s.name, err)
	}
	s.committer = groupcommit.Start(s.write)
	return s, nil
}

// ParseDSN checks dsn and returns the pool configuration Open uses. Its
// errors never contain the password.
func ParseDSN(dsn string) (*pgxpool.Config, error) {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, fmt.Errorf("open store: the DSN must be a PostgreSQL URL, postgres://user@host:5432/database")
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: malformed PostgreSQL DSN: %w", err)
	}
	cc := cfg.ConnConfig
	if !strings.Contains(dsn, "connect_timeout=") {
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "consentd"
	}
	if _, ok := cc.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = idleInTransaction
	}
	if !strings.Contains(dsn, "pool_health_check_period=") {
		cfg.HealthCheckPeriod = 15 * time.Second
	}
	return cfg, nil
}

// target names the database for messages: host, port and name, no user.
func target(cfg *pgxpool.Config) string {
	return fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
}

var errNewerSchema = errors.New("the database's schema is newer than this server")

// String names the database (host:port/name, no user or password).
func (s *DB) String() string { return "PostgreSQL " + s.name }

// migrate applies the migrations not yet applied, all in one transaction
// under an advisory lock, so that servers starting at once apply each once.
func (s *DB) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS consent_schema_migrations (
		version integer PRIMARY KEY,
		applied timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM consent_schema_migrations").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("%w: version %d, this server knows %d: upgrade the server", errNewerSchema, version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO consent_schema_migrations (version) VALUES ($1)", i+1); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// Put stores rs durably: it returns once the transaction that holds them has
// committed. See consent.ReceiptStore. Errors because the database cannot be
// reached wrap consent.ErrUnavailable.
func (s *DB) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	return s.committer.Put(ctx, rs)
}

// write stores the receipts of every request of group in one transaction,
// each new one linked into the chain after its head and signed, and returns
// each request's acknowledgements.
func (s *DB) write(group [][]consent.Receipt) ([]groupcommit.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.WriteTimeout)
	defer cancel()
	results, err := s.writeTx(ctx, group)
	if err = classify(err); errors.Is(err, consent.ErrUnavailable) && ctx.Err() == nil {
		// Once more, on another connection: the pool may have handed out one
		// that died with the database. Always safe, even when the commit's
		// answer was what got lost: receipts already stored are found and
		// given their first acknowledgement.
		results, err = s.writeTx(ctx, group)
		err = classify(err)
	}
	if err != nil {
		return nil, fmt.Errorf("put receipts: %w", err)
	}
	return results, nil
}

func (s *DB) writeTx(ctx context.Context, group [][]consent.Receipt) ([]groupcommit.Result, error) {
	// Each receipt once, in the order first sent.
	var ids []string
	first := map[string]consent.Receipt{}
	for _, rs := range group {
		for _, r := range rs {
			if _, ok := first[r.ID]; !ok {
				first[r.ID] = r
				ids = append(ids, r.ID)
			}
		}
	}

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())
	// One round trip: take the chain's lock, then (each statement seeing
	// what committed before it) read the head and the receipts already
	// stored. Nothing is appended without the lock, so what is not stored
	// now cannot be stored by another process before this commits.
	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock($1)", chainLock)
	b.Queue("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1")
	b.Queue("SELECT id, seq, hash, sig FROM chain WHERE id = ANY($1)", ids)
	br := tx.SendBatch(ctx, b)
	var seq int64
	var last string
	acks := map[string]*consent.Ack{}
	err = func() error {
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := br.QueryRow().Scan(&seq, &last); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		for rows.Next() {
			a := new(consent.Ack)
			if err := rows.Scan(&a.ID, &a.Seq, &a.Hash, &a.Sig); err != nil {
				rows.Close()
				return err
			}
			acks[a.ID] = a
		}
		return rows.Err()
	}()
	if err != nil {
		return nil, err
	}

	received := s.Now().UnixMilli()
	var links []*consent.Ack
	var newReceipts [][]any
	for _, id := range ids {
		if acks[id] != nil {
			continue
		}
		r := first[id]
		body := consent.AppendReceiptJSON(nil, r)
		seq++
		last = proof.ChainHash(last, body)
		a := &consent.Ack{ID: id, Seq: seq, Hash: last}
		acks[id] = a
		links = append(links, a)
		newReceipts = append(newReceipts, []any{r.ID, r.Subject, string(r.Event), r.Policy, r.Time.UnixMilli(), received, string(body)})
	}
	if len(links) > 0 {
		groupcommit.SignAll(links, s.sign)
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"receipts"}, []string{"id", "subject", "event", "policy", "time", "received", "body"},
			pgx.CopyFromRows(newReceipts)); err != nil {
			return nil, err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"chain"}, []string{"seq", "id", "hash", "sig"},
			pgx.CopyFromSlice(len(links), func(i int) ([]any, error) {
				l := links[i]
				return []any{l.Seq, l.ID, l.Hash, l.Sig}, nil
			})); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	results := make([]groupcommit.Result, len(group))
	counted := map[string]bool{}
	fresh := map[string]bool{}
	for _, l := range links {
		fresh[l.ID] = true
	}
	for i, rs := range group {
		results[i].Acks = make([]consent.Ack, len(rs))
		for j, r := range rs {
			results[i].Acks[j] = *acks[r.ID]
			if fresh[r.ID] && !counted[r.ID] {
				counted[r.ID] = true
				results[i].Stored++
			}
		}
	}
	return results, nil
}

// Entries calls fn for each receipt in chain order from seq from on. See
// consent.ReceiptStore.
func (s *DB) Entries(ctx context.Context, from int64, fn func(body []byte, a consent.Ack) error) error {
	rows, err := s.pool.Query(ctx, `SELECT c.seq, c.id, c.hash, c.sig, r.body FROM chain c JOIN receipts r ON r.id = c.id
		WHERE c.seq >= $1 ORDER BY c.seq`, from)
	if err != nil {
		return fmt.Errorf("read receipts: %w", classify(err))
	}
	defer rows.Close()
	for rows.Next() {
		var a consent.Ack
		var body string
		if err := rows.Scan(&a.Seq, &a.ID, &a.Hash, &a.Sig, &body); err != nil {
			return fmt.Errorf("read receipts: %w", classify(err))
		}
		if err := fn([]byte(body), a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read receipts: %w", classify(err))
	}
	return nil
}

// Count returns how many receipts are stored.
func (s *DB) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM receipts").Scan(&n); err != nil {
		return 0, fmt.Errorf("count receipts: %w", classify(err))
	}
	return n, nil
}

// Ping reports whether the database can be reached; its error wraps
// consent.ErrUnavailable.
func (s *DB) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping store: %w", classify(err))
	}
	return nil
}

// Close stops the committer, after the transaction under way, and closes the
// pool.
func (s *DB) Close() error {
	s.closeOnce.Do(func() {
		s.committer.Close()
		s.pool.Close()
	})
	return nil
}

// classify wraps err with consent.ErrUnavailable when it means that the
// database cannot be reached for now: no connection could be made, the
// connection was lost or timed out, or the server is shutting down or out of
// connections. An error the server gave to a statement is returned as is.
func classify(err error) error {
	if err == nil || errors.Is(err, consent.ErrUnavailable) {
		return err
	}
	var connect *pgconn.ConnectError
	var pg *pgconn.PgError
	switch {
	case errors.As(err, &connect):
	case errors.As(err, &pg):
		// Class 08: connection exception; 57P0x: shutting down or starting;
		// 53: out of resources (too many connections).
		if !strings.HasPrefix(pg.Code, "08") && !strings.HasPrefix(pg.Code, "57P") && !strings.HasPrefix(pg.Code, "53") {
			return err
		}
	case errors.Is(err, context.Canceled):
		return err
	}
	return fmt.Errorf("%w: %w", consent.ErrUnavailable, err)
}

package postgres

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"workly.ai/consent"
	"workly.ai/consent/server/postgres/pgtest"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/storetest"
)

var testPub, testKey, _ = ed25519.GenerateKey(nil)
var sign = proof.Signer(testKey)

func open(t *testing.T, dsn string) *DB {
	t.Helper()
	db, err := Open(t.Context(), dsn, sign)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// The conformance suite, each case on a new database; several stores on one
// database stand for several server processes.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{SeveralWriters: true, New: func(t *testing.T) storetest.Place {
		dsn := pgtest.Database(t)
		return storetest.Place{
			Open: func(t *testing.T, sign proof.SignFunc) consent.ReceiptStore {
				db, err := Open(t.Context(), dsn, sign)
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			Tamper: func(t *testing.T, id, old, new string) {
				pgtest.Exec(t, dsn, "UPDATE receipts SET body = replace(body, $1, $2) WHERE id = $3", old, new, id)
			},
			Truncate: func(t *testing.T, seq int64) {
				pgtest.Exec(t, dsn, "DELETE FROM chain WHERE seq > $1", seq)
				pgtest.Exec(t, dsn, "DELETE FROM receipts r WHERE NOT EXISTS (SELECT 1 FROM chain c WHERE c.id = r.id)")
			},
		}
	}})
}

// Servers starting at once on a new database apply each migration once, and
// starting again changes nothing.
func TestMigrationsOnceAndIdempotent(t *testing.T) {
	dsn := pgtest.Database(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(t.Context(), dsn, sign)
			if err != nil {
				errs <- err
				return
			}
			db.Close()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	db := open(t, dsn)
	if _, _, err := db.Put(t.Context(), []consent.Receipt{storetest.Receipt(1)}); err != nil {
		t.Fatal(err)
	}
	var versions, latest int
	if err := db.pool.QueryRow(t.Context(), "SELECT count(*), max(version) FROM consent_schema_migrations").Scan(&versions, &latest); err != nil {
		t.Fatal(err)
	}
	if versions != len(migrations) || latest != len(migrations) {
		t.Fatalf("%d migrations recorded, the last %d; want each of %d once", versions, latest, len(migrations))
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.Database(t)
	open(t, dsn).Close()
	pgtest.Exec(t, dsn, "INSERT INTO consent_schema_migrations (version) VALUES (99)")
	_, err := Open(t.Context(), dsn, sign)
	if err == nil || !strings.Contains(err.Error(), "newer") || errors.Is(err, consent.ErrUnavailable) {
		t.Fatalf("Open of a newer schema = %v", err)
	}
}

// A DSN that cannot be right is refused at once, saying what is wrong, and
// never echoes the password.
func TestOpenRefusesMalformedDSN(t *testing.T) {
	for _, c := range []struct{ name, dsn, want string }{
		{"empty", "", "PostgreSQL URL"},
		{"not postgres", "mysql://u:hunter2@db/consent", "PostgreSQL URL"},
		{"a path", "data/consent.db", "PostgreSQL URL"},
		{"bad port", "postgres://u:hunter2@db:port/consent", "malformed"},
		{"bad pool size", "postgres://u:hunter2@db/consent?pool_max_conns=many", "malformed"},
		{"bad timeout", "postgres://u:hunter2@db/consent?connect_timeout=soon", "malformed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := Open(t.Context(), c.dsn, sign)
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("Open(%q) = %v; want an error about a %s, without the password", c.dsn, err, c.want)
			}
			if time.Since(start) > time.Second {
				t.Fatalf("took %s: a malformed DSN needs no connection attempt", time.Since(start))
			}
		})
	}
}

// A database that cannot be reached at start is an error that says so
// (consent.ErrUnavailable), within the connect timeout.
func TestOpenUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	_, err = Open(t.Context(), "postgres://consent@"+addr+"/consent?sslmode=disable", sign)
	if !errors.Is(err, consent.ErrUnavailable) {
		t.Fatalf("Open of an unreachable database = %v, want ErrUnavailable", err)
	}
}

// The database goes away while writers are posting (every connection cut,
// new ones refused) and comes back: meanwhile Put and Ping fail with
// consent.ErrUnavailable, promptly; afterwards the same store stores again
// without being reopened, every receipt it acknowledged is there once, and
// the chain verifies.
func TestDatabaseGoesAwayAndComesBack(t *testing.T) {
	proxy, dsn := pgtest.NewProxy(t, pgtest.Database(t))
	db := open(t, dsn)
	db.WriteTimeout = 2 * time.Second

	var mu sync.Mutex
	acked := map[string]consent.Ack{}
	sent := map[string]bool{}
	var unavailable, other []error
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				rs := []consent.Receipt{storetest.Receipt(1000000*w + 2*i), storetest.Receipt(1000000*w + 2*i + 1)}
				acks, _, err := db.Put(context.Background(), rs)
				mu.Lock()
				for _, r := range rs {
					sent[r.ID] = true
				}
				switch {
				case err == nil:
					for _, a := range acks {
						acked[a.ID] = a
					}
				case errors.Is(err, consent.ErrUnavailable):
					unavailable = append(unavailable, err)
				default:
					other = append(other, err)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond)
	proxy.Cut()
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	_, _, err := db.Put(t.Context(), []consent.Receipt{storetest.Receipt(99999999)})
	if !errors.Is(err, consent.ErrUnavailable) || time.Since(start) > 3*time.Second {
		t.Fatalf("Put while the database is away = %v after %s; want ErrUnavailable, promptly", err, time.Since(start))
	}
	if err := db.Ping(t.Context()); !errors.Is(err, consent.ErrUnavailable) {
		t.Fatalf("Ping while the database is away = %v; want ErrUnavailable", err)
	}
	proxy.Restore()
	deadline := time.Now().Add(10 * time.Second)
	for db.Ping(t.Context()) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the store did not recover within 10 s of the database coming back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(other) > 0 {
		t.Errorf("%d errors not reported as unavailability, the first: %v", len(other), other[0])
	}
	if len(unavailable) == 0 {
		t.Fatal("no Put failed while the database was away: the cut did not happen")
	}
	before := len(acked)
	// A client resends what was not acknowledged; the store answers without
	// having been reopened.
	var resend []consent.Receipt
	for id := range sent {
		if _, ok := acked[id]; !ok {
			var i int
			fmt.Sscanf(id, "r%d", &i)
			resend = append(resend, storetest.Receipt(i))
		}
	}
	for len(resend) > 0 {
		n := min(len(resend), 200)
		acks, _, err := db.Put(t.Context(), resend[:n])
		if err != nil {
			t.Fatalf("resend after recovery: %v", err)
		}
		for _, a := range acks {
			acked[a.ID] = a
		}
		resend = resend[n:]
	}
	stored := map[string]consent.Ack{}
	if err := db.Entries(t.Context(), 1, func(_ []byte, a consent.Ack) error { stored[a.ID] = a; return nil }); err != nil {
		t.Fatal(err)
	}
	for id, a := range acked {
		if stored[id] != a {
			t.Fatalf("receipt %s acknowledged as %+v, stored as %+v", id, a, stored[id])
		}
	}
	if len(stored) != len(sent) {
		t.Fatalf("%d receipts stored, %d sent", len(stored), len(sent))
	}
	rep, err := proof.Verify(t.Context(), db, testPub, nil, nil)
	n := rep.Links
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged before the resend, %d Puts failed as unavailable, chain of %d verifies", before, len(unavailable), n)
}

// A server paused while it holds the chain's lock (here: a connection that
// took it and went silent, idle in its transaction, with the settings a
// server's connections have) holds up the others only briefly: PostgreSQL
// ends its transaction well within the others' write timeout, so their
// receipts are stored, not refused.
func TestPausedLockHolderStallsBriefly(t *testing.T) {
	dsn := pgtest.Database(t)
	db := open(t, dsn)
	cfg, err := ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	paused, err := pgx.ConnectConfig(t.Context(), cfg.ConnConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer paused.Close(context.Background())
	tx, err := paused.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "SELECT pg_advisory_xact_lock($1)", chainLock); err != nil {
		t.Fatal(err)
	}
	// Another server's write waits for the lock, then commits.
	start := time.Now()
	acks, n, err := db.Put(t.Context(), []consent.Receipt{storetest.Receipt(1)})
	if err != nil || n != 1 || len(acks) != 1 {
		t.Fatalf("Put while another holds the chain's lock, paused: %v (after %s); want it stored", err, time.Since(start))
	}
	t.Logf("stored after %s behind a paused lock holder (write timeout %s)", time.Since(start).Round(time.Millisecond), db.WriteTimeout)
	if err := tx.Commit(t.Context()); err == nil {
		t.Fatal("the paused holder's transaction was not ended")
	}
}

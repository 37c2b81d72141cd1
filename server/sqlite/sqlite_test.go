package sqlite

import (
	"crypto/ed25519"
	"errors"
	"path/filepath"
	"testing"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/storetest"
)

// The conformance suite, each case on a new file.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{New: func(t *testing.T) storetest.Place {
		path := filepath.Join(t.TempDir(), "consent.db")
		return storetest.Place{
			Open: func(t *testing.T, sign proof.SignFunc) consent.ReceiptStore {
				db, err := Open(path, sign)
				if err != nil {
					t.Fatal(err)
				}
				return db
			},
			Tamper: func(t *testing.T, id, old, new string) {
				db, err := Open(path, nil) // to read only: no lock, as another process
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				res, err := db.db.Exec(`UPDATE receipts SET body = replace(body, ?, ?) WHERE id = ?`, old, new, id)
				if n, _ := res.RowsAffected(); err != nil || n != 1 {
					t.Fatalf("tamper: %d rows, %v", n, err)
				}
			},
			Truncate: func(t *testing.T, seq int64) {
				db, err := Open(path, nil) // to read only: no lock, as another process
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				if _, err := db.db.Exec(`DELETE FROM chain WHERE seq > ?; DELETE FROM receipts WHERE id NOT IN (SELECT id FROM chain)`, seq); err != nil {
					t.Fatalf("truncate: %v", err)
				}
			},
		}
	}})
}

var _, testKey, _ = ed25519.GenerateKey(nil)
var sign = proof.Signer(testKey)

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path, sign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, sign); err == nil {
		t.Fatal("Open accepted a schema newer than the server")
	}
}

// A store whose chain was begun with the earlier formula (schema version 2,
// links present) is refused, saying what to do.
func TestOpenRefusesChainOfTheEarlierFormula(t *testing.T) {
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := Open(path, sign)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.Put(t.Context(), []consent.Receipt{storetest.Receipt(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.Exec("PRAGMA user_version = 2"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, sign); !errors.Is(err, proof.ErrOldChain) {
		t.Fatalf("Open of a chain of the earlier formula = %v", err)
	}
}

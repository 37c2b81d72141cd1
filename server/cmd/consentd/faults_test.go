package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/postgres/pgtest"
	"workly.ai/consent/server/proof"
)

// serving opens the SQLite store of data as a server does (openServing,
// with its checkpoint file), for a test to write through.
func serving(t *testing.T, data string, key ed25519.PrivateKey) (consent.ReceiptStore, *proof.CheckpointFile) {
	t.Helper()
	cps, err := proof.OpenCheckpointFile(filepath.Join(data, "consent.checkpoint"), key.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	s, err := openServing(context.Background(), "", data, key, cps)
	if err != nil {
		cps.Close()
		t.Fatal(err)
	}
	return s, cps
}

func testReceipt(i int) consent.Receipt {
	return consent.Receipt{ID: fmt.Sprintf("f%021d", i), Subject: "q83vEjRWeJq83vEjRWeJqw", Event: consent.EventWithdrawn,
		Policy: "2025-06-01", PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{},
		Time: time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC), Method: "preferences"}
}

// putAll stores receipts from to to, one Put each, and returns their acks.
func putAll(t *testing.T, s consent.ReceiptStore, from, to int) []consent.Ack {
	t.Helper()
	var acks []consent.Ack
	for i := from; i <= to; i++ {
		a, _, err := s.Put(context.Background(), []consent.Receipt{testReceipt(i)})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, a...)
	}
	return acks
}

func newKey(t *testing.T) (string, ed25519.PrivateKey) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signing.key")
	key, err := proof.CreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, key
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A SQLite store whose WAL tail was lost (the database file copied without
// its -wal after acknowledgements) is refused at start, saying what was
// lost, where it would have handed out acknowledged sequence numbers again.
func TestRefusesStoreBehindItsCheckpoint(t *testing.T) {
	keyFile, key := newKey(t)
	data := t.TempDir()
	db := filepath.Join(data, "consent.db")
	s, cps := serving(t, data, key)
	putAll(t, s, 1, 5)
	// Move what is committed so far into the database file, then write more
	// that stays in the WAL.
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	putAll(t, s, 6, 9)
	copyFile(t, db, db+".lost-tail")
	s.Close()
	cps.Close()
	for _, f := range []string{db + "-wal", db + "-shm"} {
		os.Remove(f)
	}
	if err := os.Rename(db+".lost-tail", db); err != nil {
		t.Fatal(err)
	}

	err = run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", keyFile, "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "behind this server's last checkpoint") ||
		!strings.Contains(err.Error(), "signed 9 records") || !strings.Contains(err.Error(), "ends at record 5") {
		t.Fatalf("run on a store that lost its WAL tail = %v; want a refusal naming 9 and 5", err)
	}
	t.Log(err)
}

// A store signed with another key than -key is refused at start.
func TestRefusesStoreOfAnotherKey(t *testing.T) {
	_, key := newKey(t)
	otherFile, _ := newKey(t)
	data := t.TempDir()
	s, cps := serving(t, data, key)
	putAll(t, s, 1, 2)
	s.Close()
	cps.Close()
	os.Remove(filepath.Join(data, "consent.checkpoint")) // or it would be refused for that first
	err := run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", otherFile, "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "not signed with this key") {
		t.Fatalf("run with another key = %v", err)
	}
}

// Serving needs -key, outside -data.
func TestKeyCustody(t *testing.T) {
	data := t.TempDir()
	err := run([]string{"-addr", "127.0.0.1:0", "-data", data, "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "-key FILE is required") {
		t.Fatalf("run without -key = %v", err)
	}
	err = run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", filepath.Join(data, "keys", "signing.key"), "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "inside -data") {
		t.Fatalf("run with the key in the data directory = %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "keys")); err == nil {
		t.Fatal("a key was made inside -data")
	}
}

// A second server on the same SQLite directory stops at once, saying so.
func TestSecondServerOnOneDirectory(t *testing.T) {
	keyFile, key := newKey(t)
	data := t.TempDir()
	s, cps := serving(t, data, key)
	defer cps.Close()
	defer s.Close()
	err := run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", keyFile, "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "another consentd is using this store") {
		t.Fatalf("a second server on one directory = %v", err)
	}
}

// A store whose file is damaged is refused at start with what SQLite found.
func TestRefusesDamagedStore(t *testing.T) {
	keyFile, key := newKey(t)
	data := t.TempDir()
	s, cps := serving(t, data, key)
	putAll(t, s, 1, 300)
	s.Close()
	cps.Close()
	db := filepath.Join(data, "consent.db")
	f, err := os.OpenFile(db, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The b-tree page header of page 3: its page type becomes invalid.
	if _, err := f.WriteAt([]byte{0x55, 0x55, 0x55, 0x55}, 2*4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", keyFile, "-assets", site(t)}, nil)
	if err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("run on a damaged store = %v", err)
	}
	t.Log(err)
}

func site(t *testing.T) string {
	dir, _ := builtSite(t)
	return dir
}

// consentd verify checks against the pinned public key only; given a
// checkpoint or a person's downloaded receipts, it finds the newest records
// deleted, which a plain verification cannot; it finds a chain re-signed
// with another key; it refuses a private key where the public one goes.
func TestVerifyCommand(t *testing.T) {
	keyFile, key := newKey(t)
	pub := key.Public().(ed25519.PublicKey)
	data := t.TempDir()
	s, cps := serving(t, data, key)
	acks := putAll(t, s, 1, 9)
	head, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	cps.Close()
	dir := t.TempDir()
	write := func(name string, v any) string {
		data, _ := json.Marshal(v)
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	checkpoint := write("checkpoint.json", proof.CheckpointOf(head))
	type record struct {
		Wire string       `json:"wire"`
		Ack  *consent.Ack `json:"ack"`
	}
	var history []record
	for i := 7; i <= 9; i++ {
		history = append(history, record{string(consent.AppendReceiptJSON(nil, testReceipt(i))), &acks[i-1]})
	}
	history = append(history, record{Wire: `{"id":"waiting"}`}) // not acknowledged yet: skipped
	download := write("download.json", map[string]any{"server": "https://x/v1/receipts", "check": "…", "receipts": history})
	array := write("history.json", history[:1])
	keyJSON := filepath.Join(dir, "key.json")
	os.WriteFile(keyJSON, proof.PublicKeyJSON(pub), 0o644)

	verifyOut := func(args ...string) (string, error) {
		r, w, _ := os.Pipe()
		stdout, stderr := os.Stdout, os.Stderr
		os.Stdout, os.Stderr = w, w
		err := verify(append([]string{"-data", data}, args...))
		os.Stdout, os.Stderr = stdout, stderr
		w.Close()
		out, _ := io.ReadAll(r)
		return string(out), err
	}
	serverCheckpoint := filepath.Join(data, "consent.checkpoint")
	if out, err := verifyOut("-pub", hex.EncodeToString(pub), "-against", checkpoint, download, array, serverCheckpoint); err != nil || !strings.Contains(out, "ok: 9 receipts") {
		t.Fatalf("verify of an intact store: %v\n%s", err, out)
	}
	if out, err := verifyOut("-key", keyFile); err == nil {
		t.Fatalf("verify with the private key's flag: %s", out)
	}
	if _, err := verifyOut("-pub", keyFile); err == nil || !strings.Contains(err.Error(), "private key") {
		t.Fatalf("verify -pub PRIVATE = %v", err)
	}

	// Delete every record above 7.
	raw, err := sql.Open("sqlite", filepath.Join(data, "consent.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM chain WHERE seq > 7; DELETE FROM receipts WHERE id NOT IN (SELECT id FROM chain)`); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyOut("-pub", keyJSON); err != nil || !strings.Contains(out, "ok: 7 receipts") {
		t.Fatalf("plain verify after truncation: %v\n%s", err, out)
	}
	// A redaction is no problem: it is counted.
	if err := redact([]string{"-data", data, "-id", testReceipt(3).ID, "-reason", "spam"}); err != nil {
		t.Fatal(err)
	}
	if out, err := verifyOut("-pub", keyJSON); err != nil || !strings.Contains(out, "ok: 7 receipts, 1 of them redacted") {
		t.Fatalf("verify after a redaction: %v\n%s", err, out)
	}
	out, err := verifyOut("-pub", keyJSON, "-against", checkpoint, download, serverCheckpoint)
	if err == nil || !strings.Contains(out, "shorter than "+checkpoint) || !strings.Contains(out, "shorter than "+download+", receipt 3") ||
		!strings.Contains(out, "shorter than "+serverCheckpoint+":") ||
		!strings.Contains(out, "ends at record 7") {
		t.Fatalf("verify -against after truncation: %v\n%s", err, out)
	}
	t.Log(out)

	// Rewrite record 5 (a withdrawal becomes a consent) and re-sign the
	// whole chain with another key, as someone holding the data directory
	// and a key of their own could.
	_, forger, _ := ed25519.GenerateKey(nil)
	if _, err := raw.Exec(`UPDATE receipts SET body = replace(body, '"withdrawn"', '"consent_given"') WHERE id = ?`, testReceipt(5).ID); err != nil {
		t.Fatal(err)
	}
	resign(t, raw, proof.Signer(forger))
	if out, err := verifyOut("-pub", hex.EncodeToString(forger.Public().(ed25519.PublicKey))); err != nil {
		t.Fatalf("the forged chain does not even verify with the forger's key: %v\n%s", err, out)
	}
	out, err = verifyOut("-pub", keyJSON)
	if err == nil || !strings.Contains(out, "record 1: the signature does not verify") {
		t.Fatalf("verify of a re-signed chain against the pinned key: %v\n%s", err, out)
	}
}

// resign recomputes every link of the chain in raw and signs it with sign.
func resign(t *testing.T, raw *sql.DB, sign proof.SignFunc) {
	t.Helper()
	rows, err := raw.Query(`SELECT c.seq, r.body, r.received FROM chain c JOIN receipts r ON r.id = c.id ORDER BY c.seq`)
	if err != nil {
		t.Fatal(err)
	}
	type link struct {
		seq, received int64
		body          string
	}
	var links []link
	for rows.Next() {
		var l link
		rows.Scan(&l.seq, &l.body, &l.received)
		links = append(links, l)
	}
	rows.Close()
	prev := ""
	for _, l := range links {
		h := proof.ChainHash(prev, proof.StoredLeaf([]byte(l.body)), l.received)
		if _, err := raw.Exec(`UPDATE chain SET hash = ?, sig = ? WHERE seq = ?`, h, sign(l.seq, h, l.received), l.seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

// With PostgreSQL down when it starts, the server serves the site, answers
// receipts 503 and health 503, and once the database is back it stores them,
// without a restart.
func TestServesWhileDatabaseDownAtStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary")
	}
	proxy, dsn := pgtest.NewProxy(t, pgtest.Database(t))
	bin := filepath.Join(t.TempDir(), "consentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	site, policy := builtSite(t)
	keyFile, _ := newKey(t)
	proxy.Cut()
	cmd, addr := startBinary(t, bin, "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-db", dsn, "-key", keyFile, "-assets", site, "-rate", "0")
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	get := func(path string) int {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	post := func() (int, string) {
		r := testReceipt(1)
		r.Policy, r.PolicySHA256, r.Time = policy.ID, policy.SHA256, time.Now()
		resp, err := http.Post("http://"+addr+"/v1/receipts", "text/plain", bytes.NewReader(consent.EncodeReceipts([]consent.Receipt{r})))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&answer)
		return resp.StatusCode, answer.Error
	}
	if code := get("/"); code != 200 {
		t.Fatalf("the site while the database is down: %d", code)
	}
	if code, msg := post(); code != 503 || !strings.Contains(msg, "unreachable") {
		t.Fatalf("a post while the database is down: %d %q", code, msg)
	}
	if code := get("/healthz"); code != 503 {
		t.Fatalf("health while the database is down: %d", code)
	}
	proxy.Restore()
	deadline := time.Now().Add(40 * time.Second)
	for get("/healthz") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not healthy 40 s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, msg := post(); code != 200 {
		t.Fatalf("a post once the database is back: %d %s", code, msg)
	}
}

package proof_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"workly.ai/consent"
	. "workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

func TestKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.key")
	key, err := CreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadKey(path)
	if err != nil || !loaded.Equal(key) {
		t.Fatalf("LoadKey = %v, %v", loaded, err)
	}
	if _, err := CreateKey(path); err == nil || !strings.Contains(err.Error(), "never replaced") {
		t.Fatalf("CreateKey over an existing key: %v", err)
	}
	if _, err := LoadKey(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("LoadKey of a missing file")
	}
}

// store fills a store with n receipts: events alternate between given and
// withdrawn, a day apart from 2026-01-01.
func store(t *testing.T, n int) (*sqlite.DB, ed25519.PrivateKey, string) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	path := filepath.Join(t.TempDir(), "consent.db")
	db, err := sqlite.Open(path, Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for i := 0; i < n; i++ {
		ev := consent.EventConsentGiven
		if i%2 == 1 {
			ev = consent.EventWithdrawn
		}
		r := consent.Receipt{ID: fmt.Sprintf("r%021d", i), Subject: "q83vEjRWeJq83vEjRWeJqw", Event: ev, Policy: "2025-06-01",
			PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{"analytics"},
			Time: time.Date(2026, 1, 1+i, 12, 0, 0, 0, time.UTC), Method: "banner"}
		if _, _, err := db.Put(context.Background(), []consent.Receipt{r}); err != nil {
			t.Fatal(err)
		}
	}
	return db, key, path
}

func TestVerify(t *testing.T) {
	db, key, path := store(t, 6)
	pub := key.Public().(ed25519.PublicKey)
	if rep, err := Verify(context.Background(), db, pub, nil, nil); err != nil || rep.Links != 6 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
	// Change one byte of the fourth receipt, through another connection.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE receipts SET body = replace(body, '"banner"', '"bannes"') WHERE id = ?`, fmt.Sprintf("r%021d", 3)); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(context.Background(), db, pub, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "record 4") || !strings.Contains(err.Error(), fmt.Sprintf("r%021d", 3)) {
		t.Fatalf("Verify after tampering = %v, want record 4 named", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := Verify(context.Background(), db, other, nil, nil); err == nil {
		t.Fatal("Verify with another key succeeded")
	}
}

func TestExport(t *testing.T) {
	db, _, _ := store(t, 6)
	var jsonl bytes.Buffer
	n, err := Export(context.Background(), db, &jsonl, "jsonl", Filter{}, Options{}, nil)
	if err != nil || n != 6 || strings.Count(jsonl.String(), "\n") != 6 || !strings.Contains(jsonl.String(), `"ack":{"id":"r000000000000000000000","seq":1,`) {
		t.Fatalf("jsonl: %d, %v\n%s", n, err, jsonl.String())
	}
	for _, line := range strings.Split(strings.TrimSuffix(jsonl.String(), "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Fatalf("jsonl: a line is not JSON: %s", line)
		}
	}
	var out bytes.Buffer
	f := Filter{From: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC), Event: consent.EventWithdrawn}
	n, err = Export(context.Background(), db, &out, "csv", f, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// Withdrawals are the odd receipts; from 2 to 5 January: receipts 1 and 3.
	if n != 2 || len(rows) != 3 || rows[1][1] != fmt.Sprintf("r%021d", 1) || rows[2][1] != fmt.Sprintf("r%021d", 3) || rows[0][0] != "seq" {
		t.Fatalf("csv: %d rows %v", n, rows)
	}
	if _, err := Export(context.Background(), db, &out, "xml", Filter{}, Options{}, nil); err == nil {
		t.Fatal("unknown format accepted")
	}

	// Kantara v1.1: its MUST fields, and the receipt kept byte for byte.
	txt := consent.Text{ZhCN: "统计", En: "Analytics"}
	site := &consent.Site{Name: consent.Text{ZhCN: "亿洽", En: "Yiqia"},
		Controller: consent.Controller{Name: "北京青云科技股份有限公司", Address: "北京", Email: "privacy@workly.ai", Phone: "400-8576-886", URL: "https://support.workly.ai/privacy"},
		Categories: []consent.Category{{ID: "analytics", Title: txt, Purpose: txt, Cookies: []consent.Item{{Name: "_ga", Provider: "Google"}}}}}
	var k bytes.Buffer
	if n, err := Export(context.Background(), db, &k, "kantara", Filter{}, Options{Site: site, PublicKey: "ab"}, nil); err != nil || n != 6 {
		t.Fatalf("kantara: %d, %v", n, err)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(k.String(), "\n", 2)[0]), &first); err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"version", "jurisdiction", "consentTimestamp", "collectionMethod", "consentReceiptID", "piiPrincipalId", "piiControllers", "policyUrl", "services", "sensitive", "spiCat"} {
		if _, ok := first[field]; !ok {
			t.Errorf("kantara receipt lacks %s", field)
		}
	}
	purposes := first["services"].([]any)[0].(map[string]any)["purposes"].([]any)
	if p := purposes[0].(map[string]any); p["purposeCategory"].([]any)[0] != "analytics" || p["thirdPartyDisclosure"] != true {
		t.Errorf("purpose %v", p)
	}
	if ext := first["x-consent"].(map[string]any); ext["receipt"].(map[string]any)["id"] != "r000000000000000000000" || ext["ack"].(map[string]any)["seq"] != 1.0 {
		t.Errorf("extension %v", ext)
	}
}

func TestChainHash(t *testing.T) {
	// The first link: SHA-256 of SHA-256("abc") and the time, 8 bytes big-endian.
	leaf := LeafHash([]byte("abc"))
	if hex.EncodeToString(leaf) != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("leaf %x", leaf)
	}
	first := ChainHash("", leaf, 0x0102030405060708)
	want := sha256.Sum256(append(append([]byte(nil), leaf...), 1, 2, 3, 4, 5, 6, 7, 8))
	if first != hex.EncodeToString(want[:]) {
		t.Fatalf("first link %s", first)
	}
	if second := ChainHash(first, leaf, 0x0102030405060708); second == first || len(second) != 64 {
		t.Fatalf("second link %s", second)
	}
	// What is signed: the domain, the sequence number, the hash, the time.
	msg := CheckpointMessage(2, first, 7)
	if string(msg[:len(CheckpointDomain)]) != "consent checkpoint v1\n" || len(msg) != len(CheckpointDomain)+8+32+8 ||
		msg[len(CheckpointDomain)+7] != 2 || msg[len(msg)-1] != 7 || hex.EncodeToString(msg[len(CheckpointDomain)+8:len(msg)-8]) != first {
		t.Fatalf("checkpoint message %x", msg)
	}
	if CheckpointMessage(1, "zz", 0) != nil {
		t.Fatal("a message for a malformed hash")
	}
}

// damage closes db and changes its file: at the receipt body of receipt i
// it writes b (at - page start + offset when page is true: the b-tree page
// header of the page holding it), then reopens it to read.
func damage(t *testing.T, db *sqlite.DB, path string, i int, b []byte, page bool) *sqlite.DB {
	t.Helper()
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := bytes.Index(data, []byte(fmt.Sprintf(`{"id":"r%021d"`, i)))
	if at < 0 {
		t.Fatalf("receipt %d not found in the file", i)
	}
	if page {
		at -= at % 4096
	}
	copy(data[at:], b)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// One flipped byte no longer hides the rest of the store: export writes
// every other receipt and names the damaged one; verify names it too.
func TestExportPastAFlippedByte(t *testing.T) {
	db, key, path := store(t, 300)
	db = damage(t, db, path, 150, []byte("#"), false)
	var out bytes.Buffer
	n, err := Export(context.Background(), db, &out, "jsonl", Filter{}, Options{}, nil)
	if !errors.Is(err, ErrDamaged) || n != 299 || strings.Count(out.String(), "\n") != 299 || !strings.Contains(err.Error(), "record 151") {
		t.Fatalf("export past a flipped byte: %d written, %v", n, err)
	}
	rep, err := Verify(context.Background(), db, key.Public().(ed25519.PublicKey), nil, nil)
	if !errors.Is(err, ErrNotVerified) || rep.Links != 300 || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "record 151") {
		t.Fatalf("verify past a flipped byte: %+v, %v", rep, err)
	}
}

// A damaged page (the store's file broken, not just a record) makes reading
// fail part way: export goes on after it, writes what it can read, and says
// where it could not.
func TestExportPastADamagedPage(t *testing.T) {
	db, key, path := store(t, 300)
	db = damage(t, db, path, 150, bytes.Repeat([]byte{0x55}, 8), true)
	var out bytes.Buffer
	n, err := Export(context.Background(), db, &out, "jsonl", Filter{}, Options{}, nil)
	if !errors.Is(err, ErrDamaged) || n < 250 || n >= 300 || !strings.Contains(err.Error(), fmt.Sprintf("%d records skipped", 300-n)) || !strings.Contains(err.Error(), "records 151 to") {
		t.Fatalf("export past a damaged page: %d written, %v", n, err)
	}
	t.Logf("%d of 300 exported: %v", n, err)
	rep, err := Verify(context.Background(), db, key.Public().(ed25519.PublicKey), nil, nil)
	if !errors.Is(err, ErrNotVerified) || rep.Links != n || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "records 151 to") {
		t.Fatalf("verify past a damaged page: %+v, %v", rep, err)
	}
}

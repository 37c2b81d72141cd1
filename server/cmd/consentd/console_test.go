package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/admin"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
	"workly.ai/consent/server/stats"
)

// consentd admin-token keeps only the secret's hash; stats-rebuild makes the
// figures from the chain, whatever was in the file before.
func TestAdminTokenAndStatsRebuild(t *testing.T) {
	data := t.TempDir()
	if err := adminToken([]string{"-data", data}); err != nil {
		t.Fatal(err)
	}
	hash, err := os.ReadFile(filepath.Join(data, admin.TokenFileName))
	if err != nil || len(strings.TrimSpace(string(hash))) != 64 {
		t.Fatalf("token file %q, %v", hash, err)
	}
	if fi, _ := os.Stat(filepath.Join(data, admin.TokenFileName)); fi.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v", fi.Mode())
	}

	key, err := proof.CreateKey(filepath.Join(data, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(data, "consent.db"), proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	var rs []consent.Receipt
	for i := 0; i < 7; i++ {
		rs = append(rs, consent.Receipt{ID: fmt.Sprintf("r%021d", i), Subject: "AAAAAAAAAAAAAAAAAAAAAA", Event: consent.EventConsentGiven,
			Policy: "2025-06-01", PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{},
			Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Method: "banner"})
	}
	if _, _, err := db.Put(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
	db.Close()
	site := t.TempDir()
	os.MkdirAll(filepath.Join(site, "v1"), 0o755)
	m, _ := json.Marshal(consent.Manifest{Versions: []consent.Version{{ID: "2025-06-01", Effective: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}}})
	os.WriteFile(filepath.Join(site, "v1", "policies.json"), m, 0o644)
	os.WriteFile(filepath.Join(site, "v1", "site.json"), []byte(`{}`), 0o644)
	if err := statsRebuild([]string{"-data", data, "-assets", site}); err != nil {
		t.Fatal(err)
	}
	// Figures gone wrong are made again from the chain, not added to.
	raw, err := sql.Open("sqlite", filepath.Join(data, stats.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE events SET n = 99`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	if err := statsRebuild([]string{"-data", data, "-assets", site}); err != nil {
		t.Fatal(err)
	}
	db, _ = sqlite.Open(filepath.Join(data, "consent.db"), proof.Signer(key))
	defer db.Close()
	st, err := stats.Open(filepath.Join(data, stats.FileName), db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	days, err := st.Days(context.Background(), "", 10)
	if err != nil || len(days) != 1 || days[0].Events[consent.EventConsentGiven] != 7 {
		t.Errorf("figures after rebuild: %+v, %v", days, err)
	}
}

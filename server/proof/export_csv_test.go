package proof_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	. "workly.ai/consent/server/proof"
)

// The receipts' own values reach the CSV escaped: a method is free text the
// browser chose.
func TestCSVExportEscapes(t *testing.T) {
	db, _, _ := store(t, 1)
	// The store keeps what it is given; the server's checks are not the
	// export's defence.
	r := consent.Receipt{ID: "-AAAAAAAAAAAAAAAAAAAAA", Subject: "-83vEjRWeJq83vEjRWeJqw", Event: consent.EventConsentGiven, Policy: "2025-06-01",
		PolicySHA256: strings.Repeat("a", 64), Locale: consent.ZhCN, Granted: []string{"analytics"},
		Time: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), Method: "=1+1"}
	if _, _, err := db.Put(context.Background(), []consent.Receipt{r}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := Export(context.Background(), db, &out, "csv", Filter{}, Options{}, nil); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[2][1] != "'-AAAAAAAAAAAAAAAAAAAAA" || rows[2][9] != "'=1+1" {
		t.Fatalf("rows %q", rows)
	}
	for _, row := range rows {
		for _, cell := range row {
			if cell != "" && bytes.ContainsRune([]byte("=+-@\t\r"), rune(cell[0])) {
				t.Errorf("cell %q begins with a formula character", cell)
			}
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/postgres/pgtest"
	"workly.ai/consent/server/proof"
)

// A server whose site.json switches discovery on counts what browsers post
// (in DATA/discovered.db, or with -db in the shared database), and
// consentd discovered prints it with the catalogue's service.
func TestDiscoveredCountsAndPrints(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { countAndPrint(t, nil, filepath.Join(t.TempDir(), "signing.key")) })
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Database(t)
		keyFile := filepath.Join(t.TempDir(), "signing.key")
		if _, err := proof.CreateKey(keyFile); err != nil {
			t.Fatal(err)
		}
		countAndPrint(t, []string{"-db", dsn}, keyFile)
	})
}

func countAndPrint(t *testing.T, store []string, keyFile string) {
	site := t.TempDir()
	txt := consent.Text{ZhCN: "x", En: "x"}
	s := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365}, Discovery: true,
		Controller: consent.Controller{Name: "c", Address: "a", Email: "e@x", Phone: "1", URL: "https://x"},
		Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt}}}
	m := consent.Manifest{Versions: []consent.Version{{ID: "2025-06-01", Effective: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Title: txt, SHA256: strings.Repeat("a", 64)}}}
	siteJSON, _ := json.Marshal(s)
	manifestJSON, _ := json.Marshal(m)
	os.MkdirAll(filepath.Join(site, "v1"), 0o755)
	for name, data := range map[string][]byte{"index.html": []byte("<!doctype html><title>t</title>"), "v1/site.json": siteJSON, "v1/policies.json": manifestJSON} {
		if err := os.WriteFile(filepath.Join(site, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	if store == nil {
		if err := discovered([]string{"-data", data}, new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "no counts") {
			t.Errorf("before any count: %v", err)
		}
	}
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(append([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", keyFile, "-assets", site}, store...), func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	for _, body := range []string{
		`{"names":[{"kind":"cookie","name":"Hm_lvt_1a2b"},{"kind":"localStorage","name":"tracker.key"}]}`,
		`{"names":[{"kind":"cookie","name":"Hm_lvt_1a2b"}]}`,
		`{"names":[{"kind":"cookie","name":"x","value":"secret"}]}`,
	} {
		resp, err := http.Post("http://"+addr+"/v1/discovered", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if want := map[bool]int{true: 400, false: 200}[strings.Contains(body, "secret")]; resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", body, resp.StatusCode, want)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := discovered(append([]string{"-data", data}, store...), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "DAY") {
		t.Fatalf("output:\n%s", out.String())
	}
	today := time.Now().UTC().Format(time.DateOnly)
	if f := strings.Fields(lines[1]); f[0] != today || f[1] != "cookie" || f[2] != "Hm_lvt_1a2b" || f[3] != "2" || f[len(f)-1] != "baidu-tongji" {
		t.Errorf("first row: %q", lines[1])
	}
	if f := strings.Fields(lines[2]); f[2] != "tracker.key" || f[3] != "1" || strings.Contains(lines[2], "secret") {
		t.Errorf("second row: %q", lines[2])
	}
}

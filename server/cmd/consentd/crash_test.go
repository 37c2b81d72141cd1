package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

// builtSite writes the two files ingest checks receipts against.
func builtSite(t *testing.T) (dir string, policy consent.Version) {
	t.Helper()
	dir = t.TempDir()
	txt := consent.Text{ZhCN: "x", En: "x"}
	site := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365},
		Controller: consent.Controller{Name: "c", Address: "a", Email: "e@x", Phone: "1", URL: "https://x"}, Categories: []consent.Category{
			{ID: "necessary", Required: true, Title: txt, Purpose: txt}, {ID: "analytics", Title: txt, Purpose: txt}}}
	policy = consent.Version{ID: "2025-06-01", Effective: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Title: txt, SHA256: strings.Repeat("a", 64)}
	for name, v := range map[string]any{"v1/site.json": site, "v1/policies.json": consent.Manifest{Versions: []consent.Version{policy}}} {
		data, _ := json.Marshal(v)
		os.MkdirAll(filepath.Join(dir, "v1"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html>"), 0o644)
	return dir, policy
}

// startBinary starts the consentd binary and returns its address.
func startBinary(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "addr=http://"); ok {
				found <- strings.Fields(after)[0]
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("consentd did not start")
		return nil, ""
	}
}

// waitUntil polls cond until it holds, failing the test after 60 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s, still not: %s", what)
		}
	}
}

// Killing the server with SIGKILL in the middle of concurrent posts loses no
// receipt it acknowledged with a 2xx, and the chain still verifies.
func TestKillDuringLoadLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	bin := filepath.Join(t.TempDir(), "consentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	site, policy := builtSite(t)
	data := t.TempDir()
	flags := []string{"-addr", "127.0.0.1:0", "-data", data, "-assets", site, "-rate", "0", "-subject-quota", "0", "-global-rate", "0"}
	cmd, addr := startBinary(t, bin, flags...)

	var mu sync.Mutex
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				var batch []consent.Receipt
				for j := 0; j < 3; j++ {
					batch = append(batch, consent.Receipt{ID: fmt.Sprintf("k%02d%08d%011d", w, i, j), Subject: "q83vEjRWeJq83vEjRWeJqw",
						Event: consent.EventConsentGiven, Policy: policy.ID, PolicySHA256: policy.SHA256, Locale: consent.ZhCN,
						Granted: []string{"analytics"}, Time: time.Now(), Method: "banner"})
				}
				resp, err := client.Post("http://"+addr+"/v1/receipts", "text/plain", bytes.NewReader(consent.EncodeReceipts(batch)))
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					mu.Lock()
					for _, r := range batch {
						acked[r.ID] = true
					}
					mu.Unlock()
				}
			}
		}(w)
	}
	// Kill in the middle of the load: once it has been acknowledging for a while.
	waitUntil(t, "300 receipts acknowledged", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 300 })
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	cancel()
	wg.Wait()

	// Restart on the same files: it recovers, and serves.
	cmd, addr = startBinary(t, bin, flags...)
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after restart: %v %v", resp, err)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()

	key, err := proof.LoadKey(filepath.Join(data, "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(filepath.Join(data, "consent.db"), proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]bool{}
	db.Entries(context.Background(), 1, func(body []byte, a consent.Ack) error { stored[a.ID] = true; return nil })
	missing := 0
	for id := range acked {
		if !stored[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged receipts are missing after SIGKILL", missing, len(acked))
	}
	n, err := proof.Verify(context.Background(), db, key.Public().(ed25519.PublicKey), nil)
	if err != nil {
		t.Fatalf("verify after SIGKILL: %v", err)
	}
	t.Logf("%d acknowledged before SIGKILL, %d stored (more is fine: committed but unanswered), chain of %d verifies", len(acked), len(stored), n)
}

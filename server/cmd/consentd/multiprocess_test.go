package main

import (
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
	"workly.ai/consent/server/postgres"
	"workly.ai/consent/server/postgres/pgtest"
	"workly.ai/consent/server/proof"
)

// Two servers share one PostgreSQL database behind a load balancer; clients
// post to both at once, some batches to both, and one server is killed with
// SIGKILL in the middle (its clients go on with the other, as a load
// balancer would send them). Afterwards every receipt acknowledged with a
// 2xx is stored, with the acknowledgement it was given whichever server gave
// it, and consentd verify and export, pointed at the database, pass.
func TestTwoServersOneDatabaseKillOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the server binary")
	}
	dsn := pgtest.Database(t)
	bin := filepath.Join(t.TempDir(), "consentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	site, policy := builtSite(t)
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	key, err := proof.CreateKey(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	flags := func() []string {
		return []string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-db", dsn, "-key", keyFile, "-assets", site, "-rate", "0", "-subject-quota", "0", "-global-rate", "0"}
	}
	a, addrA := startBinary(t, bin, flags()...)
	b, addrB := startBinary(t, bin, flags()...)
	defer func() { b.Process.Signal(os.Interrupt); b.Wait() }()

	var mu sync.Mutex
	acked := map[string]consent.Ack{}
	var conflicts []string
	aDead := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	client := &http.Client{Timeout: 15 * time.Second}
	// post sends batch to addr and records its acknowledgements; false when
	// it was not acknowledged.
	post := func(addr string, batch []consent.Receipt) bool {
		resp, err := client.Post("http://"+addr+"/v1/receipts", "text/plain", bytes.NewReader(consent.EncodeReceipts(batch)))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return false
		}
		var answer struct{ Acks []consent.Ack }
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil || len(answer.Acks) != len(batch) {
			t.Errorf("a 2xx without an ack per receipt: %v", err)
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		for _, ack := range answer.Acks {
			if prev, ok := acked[ack.ID]; ok && prev != ack {
				conflicts = append(conflicts, fmt.Sprintf("%s: %+v and %+v", ack.ID, prev, ack))
			}
			acked[ack.ID] = ack
		}
		return true
	}
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			mine, other := addrA, addrB
			if w%2 == 1 {
				mine, other = addrB, addrA
			}
			for i := 0; ctx.Err() == nil; i++ {
				var batch []consent.Receipt
				for j := 0; j < 3; j++ {
					batch = append(batch, consent.Receipt{ID: fmt.Sprintf("m%02d%08d%011d", w, i, j), Subject: "q83vEjRWeJq83vEjRWeJqw",
						Event: consent.EventConsentGiven, Policy: policy.ID, PolicySHA256: policy.SHA256, Locale: consent.ZhCN,
						Granted: []string{"analytics"}, Time: time.Now(), Method: "banner"})
				}
				if !post(mine, batch) {
					select {
					case <-aDead: // the balancer sends this client to the server left
						mine = addrB
						post(mine, batch)
					default:
					}
				}
				if i%4 == 0 { // a client's retry that reached the other server
					select {
					case <-aDead:
					default:
						post(other, batch)
					}
				}
			}
		}(w)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	waitUntil(t, "300 receipts acknowledged", func() bool { return count() >= 300 })
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	close(aDead)
	atKill := count()
	// The load goes on against the server left.
	waitUntil(t, "300 more receipts acknowledged after the kill", func() bool { return count() >= atKill+300 })
	cancel()
	wg.Wait()
	if atKill < 100 || len(acked) <= atKill {
		t.Fatalf("%d receipts acknowledged before the kill and %d in all: the load did not run on both sides of it", atKill, len(acked))
	}
	for _, c := range conflicts {
		t.Errorf("acknowledged differently by the two servers: %s", c)
	}
	if resp, err := http.Get("http://" + addrB + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the server left: %v %v", resp, err)
	}

	db, err := postgres.Open(t.Context(), dsn, proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored := map[string]consent.Ack{}
	if err := db.Entries(t.Context(), 1, func(_ []byte, a consent.Ack) error { stored[a.ID] = a; return nil }); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for id, ack := range acked {
		if stored[id] != ack {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged receipts are missing or stored with another acknowledgement", missing, len(acked))
	}
	if n, err := proof.Verify(t.Context(), db, key.Public().(ed25519.PublicKey), nil); err != nil || n != int64(len(stored)) {
		t.Fatalf("verify: %d, %v", n, err)
	}
	out, err := exec.Command(bin, "verify", "-db", dsn, "-key", keyFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("ok: %d receipts", len(stored))) {
		t.Fatalf("consentd verify -db: %v\n%s", err, out)
	}
	export := exec.Command(bin, "export", "-db", dsn, "-key", keyFile, "-assets", site)
	var lines bytes.Buffer
	export.Stdout = &lines
	if err := export.Run(); err != nil || bytes.Count(lines.Bytes(), []byte("\n")) != len(stored) {
		t.Fatalf("consentd export -db: %v, %d lines for %d receipts", err, bytes.Count(lines.Bytes(), []byte("\n")), len(stored))
	}
	t.Logf("%d acknowledged before SIGKILL, %d in all, %d stored (more is fine: committed but unanswered); the chain verifies", atKill, len(acked), len(stored))
}

// With -db, a malformed DSN stops the server at start with an error that
// says so, and without a key it refuses to make one of its own.
func TestServeRefusesBadDB(t *testing.T) {
	data := t.TempDir()
	err := run([]string{"-addr", "127.0.0.1:0", "-data", data, "-db", "postgres://u:hunter2@db:port/x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "DSN") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("run with a malformed -db = %v", err)
	}
	err = run([]string{"-addr", "127.0.0.1:0", "-data", data, "-db", "postgres://db/x"}, nil)
	if err == nil || !strings.Contains(err.Error(), "keygen") {
		t.Fatalf("run with -db and no key = %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "signing.key")); err == nil {
		t.Fatal("a key was made with -db")
	}
}

// While its database is away, the server answers posts 503 with a JSON error
// that says so, and health 503; when the database is back, it stores again
// without a restart, and the receipts refused meanwhile are stored when
// resent.
func TestServerRidesOutDatabaseOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the server binary")
	}
	proxy, dsn := pgtest.NewProxy(t, pgtest.Database(t))
	bin := filepath.Join(t.TempDir(), "consentd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	site, policy := builtSite(t)
	keyFile := filepath.Join(t.TempDir(), "signing.key")
	if _, err := proof.CreateKey(keyFile); err != nil {
		t.Fatal(err)
	}
	cmd, addr := startBinary(t, bin, "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-db", dsn, "-key", keyFile, "-assets", site, "-rate", "0", "-subject-quota", "0", "-global-rate", "0")
	defer func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }()
	receipt := func(i int) []byte {
		return consent.EncodeReceipts([]consent.Receipt{{ID: fmt.Sprintf("o%021d", i), Subject: "q83vEjRWeJq83vEjRWeJqw",
			Event: consent.EventConsentGiven, Policy: policy.ID, PolicySHA256: policy.SHA256, Locale: consent.ZhCN,
			Granted: []string{"analytics"}, Time: time.Now(), Method: "banner"}})
	}
	post := func(i int) (int, string) {
		resp, err := http.Post("http://"+addr+"/v1/receipts", "text/plain", bytes.NewReader(receipt(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var answer struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&answer)
		return resp.StatusCode, answer.Error
	}
	health := func() int {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code, msg := post(1); code != 200 {
		t.Fatalf("post: %d %s", code, msg)
	}
	proxy.Cut()
	if code, msg := post(2); code != 503 || !strings.Contains(msg, "unreachable") {
		t.Fatalf("post while the database is away: %d %q; want 503 saying the store is unreachable", code, msg)
	}
	if code := health(); code != 503 {
		t.Fatalf("healthz while the database is away: %d", code)
	}
	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for health() != 200 {
		if time.Now().After(deadline) {
			t.Fatal("not healthy 15 s after the database came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, i := range []int{2, 3} {
		if code, msg := post(i); code != 200 {
			t.Fatalf("post %d once the database is back: %d %s", i, code, msg)
		}
	}
}

package main

import (
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// consentd serves a built directory given with -assets, and on SIGTERM stops
// accepting, finishes and returns cleanly.
func TestServeAndGracefulShutdown(t *testing.T) {
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<!doctype html><title>t</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-data", data, "-key", filepath.Join(t.TempDir(), "signing.key"), "-assets", site}, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	for _, path := range []string{"/", "/healthz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still answering after shutdown")
	}
	if _, err := os.Stat(filepath.Join(data, "consent.db")); err != nil {
		t.Fatalf("the store was not created in -data: %v", err)
	}
}

func TestRejectsMissingAssetsDir(t *testing.T) {
	err := run([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-key", filepath.Join(t.TempDir(), "k"), "-assets", filepath.Join(t.TempDir(), "nope")}, nil)
	if err == nil {
		t.Fatal("run accepted an -assets directory without a built site")
	}
}

package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseProxies(t *testing.T) {
	got, err := parseProxies(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,::ffff:198.51.100.1,10.1.2.3/16")
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.0.0.0/8 192.0.2.7/32 2001:db8::/32 198.51.100.1/32 10.1.0.0/16]"
	if s := fmt.Sprint(got); s != want {
		t.Fatalf("parsed %s, want %s", s, want)
	}
	for _, bad := range []string{"10.0.0.0/33", "lb.internal", "10.0.0"} {
		if _, err := parseProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("parseProxies(%q): %v, want an error naming it", bad, err)
		}
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"1073741824", 1 << 30, true}, {"512MiB", 512 << 20, true}, {"2GB", 2e9, true}, {"0", 0, true}, {"10 KiB", 10 << 10, true},
		{"1.5GB", 0, false}, {"-1", 0, false}, {"GB", 0, false}, {"99999999999TiB", 0, false},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && uint64(b) != tc.want) {
			t.Errorf("Set(%q) = %d, %v; want %d, ok %v", tc.in, b, err, tc.want, tc.ok)
		}
	}
}

// /metrics is served on -metrics-addr only, and health on both listeners.
func TestMetricsListener(t *testing.T) {
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "index.html"), []byte("<!doctype html><title>t</title>"), 0o644); err != nil {
		t.Fatal(err)
	}
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := free.Addr().String()
	free.Close()
	if err := run([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-key", filepath.Join(t.TempDir(), "signing.key"), "-trusted-proxies", "10.0.0.0/33"}, nil); err == nil || !strings.Contains(err.Error(), "-trusted-proxies") {
		t.Fatalf("a malformed -trusted-proxies: %v", err)
	}
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-key", filepath.Join(t.TempDir(), "signing.key"), "-assets", site, "-metrics-addr", metricsAddr,
			"-trusted-proxies", "10.0.0.0/8", "-max-conns", "64", "-min-free", "1MiB"}, func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	for _, tc := range []struct {
		url    string
		status int
	}{
		{"http://" + addr + "/metrics", 404},
		{"http://" + addr + "/healthz", 200},
		{"http://" + addr + "/livez", 200},
		{"http://" + metricsAddr + "/metrics", 200},
		{"http://" + metricsAddr + "/healthz", 200},
	} {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.url, resp.StatusCode, tc.status)
		}
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("still running 15s after SIGTERM")
	}
}

package http

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawGet sends GET path on c and reads the answer.
func rawGet(t *testing.T, c net.Conn, path string) (*http.Response, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: consent.test\r\n\r\n")); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

// With every connection slot held, health is still answered, on a reserve
// connection that answers nothing else; past the reserve, connections are
// closed at once; a slot given back is used again.
func TestConnectionLimit(t *testing.T) {
	_, store := ingestServer(t, Ingest{})
	s := newIngestServer(t, Ingest{}, store)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const max = 20
	hs := s.HTTPServer()
	go hs.Serve(s.LimitListener(ln, max))
	t.Cleanup(func() { hs.Close() })
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// Hold every slot: each connection kept alive after one answer.
	var held []net.Conn
	for range max {
		c := dial()
		if resp, err := rawGet(t, c, "/livez"); err != nil || resp.StatusCode != 200 {
			t.Fatalf("holding a connection: %v %v", resp, err)
		}
		held = append(held, c)
	}
	resp, err := rawGet(t, dial(), "/")
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !resp.Close {
		t.Fatalf("GET / with every slot held: %v %v; want 503, Retry-After and the connection closed", resp, err)
	}
	resp, err = rawGet(t, dial(), "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz with every slot held: %v %v", resp, err)
	}
	// Hold the reserve too, with connections that send nothing.
	for range HealthReserve {
		held = append(held, dial())
	}
	waitFor(t, "the reserve taken", func() bool {
		return strings.Contains(scrape(t, s), "consent_connections_open "+itoa(max+HealthReserve)+"\n")
	})
	if _, err := rawGet(t, dial(), "/healthz"); err == nil {
		t.Fatal("a connection past the reserve was answered")
	}
	if !strings.Contains(scrape(t, s), "consent_connections_refused_total 1\n") {
		t.Fatal("the refused connection was not counted")
	}
	// The operator's listener answers whatever the public one holds.
	if w := get(s.AdminHandler(), "GET", "/healthz"); w.Code != 200 {
		t.Fatalf("admin /healthz: %d", w.Code)
	}
	for _, c := range held {
		c.Close()
	}
	waitFor(t, "a slot free again", func() bool {
		resp, err := rawGet(t, dial(), "/")
		return err == nil && resp.StatusCode != 503
	})
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("not %s after 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

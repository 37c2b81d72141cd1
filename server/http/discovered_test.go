package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

// discoveryServer is a server whose built site switches discovery on (or
// not), counting in a real SQLite file.
func discoveryServer(t *testing.T, on bool, ingest Ingest) (http.Handler, *sqlite.Discovered) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	dir := t.TempDir()
	store, err := sqlite.Open(filepath.Join(dir, "consent.db"), proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	counts, err := sqlite.OpenDiscovered(filepath.Join(dir, "discovered.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { counts.Close() })
	txt := consent.Text{ZhCN: "x", En: "x"}
	site := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365}, Controller: testController, Discovery: on,
		Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt}}}
	m := consent.Manifest{Versions: []consent.Version{{ID: "2025-06-01", Effective: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Title: txt, SHA256: testPolicy}}}
	siteJSON, _ := json.Marshal(site)
	policiesJSON, _ := json.Marshal(m)
	ingest.Now = func() time.Time { return testNow }
	ingest.Discovered = counts
	s, err := New(fstest.MapFS{"v1/site.json": {Data: siteJSON}, "v1/policies.json": {Data: policiesJSON}},
		store, slog.New(slog.NewTextHandler(io.Discard, nil)), ingest)
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler(), counts
}

func postDiscovered(h http.Handler, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://consent.test/v1/discovered", strings.NewReader(body))
	r.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func countsOf(t *testing.T, d *sqlite.Discovered) map[string]int64 {
	t.Helper()
	cs, err := d.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range cs {
		out[c.Day+" "+string(c.Kind)+" "+c.Name] = c.Count
	}
	return out
}

func TestDiscoveredCounts(t *testing.T) {
	h, counts := discoveryServer(t, true, Ingest{})
	body := `{"names":[{"kind":"cookie","name":"Hm_lvt_abc"},{"kind":"script-host","name":"hm.baidu.com"}]}`
	for i := 0; i < 2; i++ {
		if w := postDiscovered(h, body); w.Code != 200 || !strings.Contains(w.Body.String(), `"counted":2`) {
			t.Fatalf("post %d: %d %s", i, w.Code, w.Body)
		}
	}
	got := countsOf(t, counts)
	if got["2026-11-29 cookie Hm_lvt_abc"] != 2 || got["2026-11-29 script-host hm.baidu.com"] != 2 || len(got) != 2 {
		t.Errorf("counts %v", got)
	}
}

func TestDiscoveredIsOffUnlessSwitchedOn(t *testing.T) {
	h, counts := discoveryServer(t, false, Ingest{})
	if w := postDiscovered(h, `{"names":[{"kind":"cookie","name":"_ga"}]}`); w.Code != 404 {
		t.Errorf("discovery off: %d %s", w.Code, w.Body)
	}
	if got := countsOf(t, counts); len(got) != 0 {
		t.Errorf("counted while off: %v", got)
	}
}

// Hostile and malformed bodies are refused and count nothing.
func TestDiscoveredRefuses(t *testing.T) {
	h, counts := discoveryServer(t, true, Ingest{Origins: []string{"https://www.consent.test"}})
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		want   int
	}{
		{"a value", `{"names":[{"kind":"cookie","name":"_ga","value":"GA1.1.5"}]}`, nil, 400},
		{"a consent id", `{"id":"q83vEjRWeJq83vEjRWeJqw","names":[{"kind":"cookie","name":"_ga"}]}`, nil, 400},
		{"an address", `{"names":[{"kind":"request-host","name":"192.168.1.20"}]}`, nil, 400},
		{"a URL", `{"names":[{"kind":"script-host","name":"https://hm.baidu.com/hm.js?abc"}]}`, nil, 400},
		{"a cookie with its value", `{"names":[{"kind":"cookie","name":"consent=1~q83vEjRWeJq83vEjRWeJqw"}]}`, nil, 400},
		{"an unknown kind", `{"names":[{"kind":"password","name":"x"}]}`, nil, 400},
		{"a long name", `{"names":[{"kind":"localStorage","name":"` + strings.Repeat("x", 200) + `"}]}`, nil, 400},
		{"one good, one bad", `{"names":[{"kind":"cookie","name":"_ga"},{"kind":"cookie","name":""}]}`, nil, 400},
		{"not JSON", `kind=cookie&name=_ga`, nil, 400},
		{"too large", `{"names":[{"kind":"cookie","name":"` + strings.Repeat("x", 9000) + `"}]}`, nil, 413},
		{"wrong type", `{"names":[]}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415},
		{"foreign origin", `{"names":[{"kind":"cookie","name":"_ga"}]}`, []string{"Origin", "https://evil.example"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if w := postDiscovered(h, tc.body, tc.header...); w.Code != tc.want || !strings.Contains(w.Body.String(), `"error"`) {
				t.Errorf("got %d %s, want %d with an error", w.Code, w.Body, tc.want)
			}
		})
	}
	if got := countsOf(t, counts); len(got) != 0 {
		t.Errorf("refused bodies were counted: %v", got)
	}
	// An allowed origin gets CORS, and its beacon counts.
	w := postDiscovered(h, `{"names":[{"kind":"cookie","name":"_ga"}]}`, "Origin", "https://www.consent.test")
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://www.consent.test" {
		t.Errorf("allowed origin: %d %v", w.Code, w.Header())
	}
}

func TestDiscoveredIsRateLimited(t *testing.T) {
	h, _ := discoveryServer(t, true, Ingest{Rate: 1})
	codes := map[int]int{}
	for i := 0; i < 5; i++ {
		codes[postDiscovered(h, `{"names":[{"kind":"cookie","name":"_ga"}]}`).Code]++
	}
	if codes[200] != 2 || codes[429] != 3 {
		t.Errorf("with rate 1 (burst 2) at one instant: %v", codes)
	}
}

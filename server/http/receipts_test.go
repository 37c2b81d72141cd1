package http

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/proof"
	"workly.ai/consent/server/sqlite"
)

var (
	testController = consent.Controller{Name: "北京青云科技股份有限公司", Address: "北京", Email: "privacy@workly.ai", Phone: "400-8576-886", URL: "https://support.workly.ai/privacy"}
	testNow        = time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	testPolicy     = strings.Repeat("a", 64)
	testNextPolicy = strings.Repeat("e", 64)
)

// ingestServer is a server with a built site configuration and a real SQLite
// store in a temporary file.
func ingestServer(t testing.TB, ingest Ingest) (http.Handler, *sqlite.DB) {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(nil)
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "consent.db"), proof.Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return ingestServerWith(t, ingest, store), store
}

// ingestServerWith is ingestServer storing in store.
func ingestServerWith(t testing.TB, ingest Ingest, store consent.ReceiptStore) http.Handler {
	t.Helper()
	return newIngestServer(t, ingest, store).Handler()
}

// newIngestServer is the Server of ingestServerWith, whose clock is testNow
// unless ingest has one.
func newIngestServer(t testing.TB, ingest Ingest, store consent.ReceiptStore) *Server {
	t.Helper()
	txt := consent.Text{ZhCN: "x", En: "x"}
	site := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365, Domain: "consent.test"}, Controller: testController, Categories: []consent.Category{
		{ID: "necessary", Required: true, Title: txt, Purpose: txt},
		{ID: "analytics", Title: txt, Purpose: txt},
	}}
	m := consent.Manifest{Versions: []consent.Version{
		{ID: "2025-06-01", Effective: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Title: txt, SHA256: testPolicy},
		// Published, but in effect only after testNow.
		{ID: "2027-01-01", Effective: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Title: txt, SHA256: testNextPolicy,
			Changes: []consent.Change{{Kind: consent.KindMinor, Summary: txt}}},
	}}
	if ingest.CookieKey != nil {
		site.Cookie.PublicKey = ingest.CookieKey.PublicKey()
	}
	siteJSON, _ := json.Marshal(site)
	policiesJSON, _ := json.Marshal(m)
	if ingest.Now == nil {
		ingest.Now = func() time.Time { return testNow }
	}
	s, err := New(fstest.MapFS{"v1/site.json": {Data: siteJSON}, "v1/policies.json": {Data: policiesJSON}},
		store, slog.New(slog.NewTextHandler(io.Discard, nil)), ingest)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func receiptBody(ids ...string) string {
	var rs []consent.Receipt
	for _, id := range ids {
		rs = append(rs, consent.Receipt{ID: id, Subject: "q83vEjRWeJq83vEjRWeJqw", Event: consent.EventConsentGiven,
			Policy: "2025-06-01", PolicySHA256: testPolicy, Locale: consent.ZhCN, Granted: []string{"analytics"},
			Time: testNow.Add(-time.Minute), Method: "banner"})
	}
	return string(consent.EncodeReceipts(rs))
}

func post(h http.Handler, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://consent.test/v1/receipts", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

const id1, id2 = "AAAAAAAAAAAAAAAAAAAAAA", "BBBBBBBBBBBBBBBBBBBBBB"

// A batch is stored once however often it is sent; sendBeacon's text/plain
// works the same.
func TestIngestStoresOnce(t *testing.T) {
	h, store := ingestServer(t, Ingest{})
	type answer struct {
		Received, Stored int
		Acks             []consent.Ack
	}
	read := func(w *httptest.ResponseRecorder) answer {
		var a answer
		if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != 200 {
			t.Fatalf("%d %s: %v", w.Code, w.Body.String(), err)
		}
		return a
	}
	first := read(post(h, receiptBody(id1, id2)))
	if first.Received != 2 || first.Stored != 2 || len(first.Acks) != 2 || first.Acks[0].ID != id1 || first.Acks[1].Seq != 2 || first.Acks[1].Sig == "" {
		t.Fatalf("first post: %+v", first)
	}
	again := read(post(h, receiptBody(id2, id1), "Content-Type", "text/plain;charset=UTF-8"))
	if again.Received != 2 || again.Stored != 0 || again.Acks[0] != first.Acks[1] || again.Acks[1] != first.Acks[0] {
		t.Fatalf("resend as a beacon: %+v", again)
	}
	if n, _ := store.Count(t.Context()); n != 2 {
		t.Fatalf("stored %d receipts, want 2", n)
	}
}

func TestIngestRefuses(t *testing.T) {
	h, store := ingestServer(t, Ingest{Origins: []string{"https://www.workly.ai"}})
	good := receiptBody(id1)
	for _, tc := range []struct {
		name   string
		body   string
		header []string
		status int
		want   string
	}{
		{"malformed JSON", `{"receipts":[{`, nil, 400, `want {\"receipts\":[…]}`},
		{"unknown field", strings.Replace(good, `"gpc":false`, `"gpc":false,"email":"a@b.c"`, 1), nil, 400, `unknown field \"email\"`},
		{"unknown policy", strings.Replace(good, "2025-06-01", "2030-01-01", 1), nil, 422, "unknown policy version"},
		{"wrong hash", strings.Replace(good, testPolicy, strings.Repeat("b", 64), 1), nil, 422, "policy hash"},
		{"policy not in effect yet", strings.Replace(strings.Replace(good, "2025-06-01", "2027-01-01", 1), testPolicy, testNextPolicy, 1), nil, 422, "not in effect yet by the server's clock"},
		{"too big", `{"receipts":[` + strings.Repeat(" ", MaxReceiptBody) + `]}`, nil, 413, "64 KiB"},
		{"wrong type", good, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json"},
		{"foreign origin", good, []string{"Origin", "https://evil.example"}, 403, "may not post"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, tc.body, tc.header...)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s, want %d with %q", w.Code, w.Body.String(), tc.status, tc.want)
			}
		})
	}
	if n, _ := store.Count(t.Context()); n != 0 {
		t.Fatalf("refused posts stored %d receipts", n)
	}
}

// Allowed origins get CORS, including the preflight; the server's own origin
// needs none.
func TestIngestCORS(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Origins: []string{"https://www.workly.ai"}})
	r := httptest.NewRequest("OPTIONS", "http://consent.test/v1/receipts", nil)
	r.Header.Set("Origin", "https://www.workly.ai")
	r.Header.Set("Access-Control-Request-Method", "POST")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != "https://www.workly.ai" || w.Header().Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
	w = post(h, receiptBody(id1), "Origin", "https://www.workly.ai")
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "https://www.workly.ai" {
		t.Fatalf("cross-origin post: %d %v", w.Code, w.Header())
	}
	w = post(h, receiptBody(id2), "Origin", "http://consent.test")
	if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("same-origin post: %d %v", w.Code, w.Header())
	}
}

// A post counts as one receipt at least, so empty posts are limited too.
func TestIngestRateLimit(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Rate: 2}) // burst of 4 receipts
	codes := map[int]int{}
	for i := 0; i < 6; i++ {
		codes[post(h, `{"receipts":[]}`).Code]++
	}
	if codes[429] != 2 {
		t.Fatalf("status counts %v, want the last 2 of 6 refused", codes)
	}
}

// unreachable is a store whose database has gone away while down is set: a
// fault injector around a real store.
type unreachable struct {
	consent.ReceiptStore
	down bool
}

func (u *unreachable) Put(ctx context.Context, rs []consent.Receipt) ([]consent.Ack, int, error) {
	if u.down {
		return nil, 0, fmt.Errorf("put receipts: %w: dial tcp 127.0.0.1:5432: connection refused", consent.ErrUnavailable)
	}
	return u.ReceiptStore.Put(ctx, rs)
}

func (u *unreachable) Ping(ctx context.Context) error {
	if u.down {
		return fmt.Errorf("ping store: %w", consent.ErrUnavailable)
	}
	return u.ReceiptStore.Ping(ctx)
}

// While the store is unreachable, posts are answered 503 with a JSON error
// that says so and when to retry, and health is 503; once it is back, the
// same post is stored, without a restart.
func TestIngestStoreUnreachable(t *testing.T) {
	_, real := ingestServer(t, Ingest{})
	store := &unreachable{ReceiptStore: real, down: true}
	h := ingestServerWith(t, Ingest{}, store)
	w := post(h, receiptBody(id1))
	var answer struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil || w.Code != 503 || w.Header().Get("Retry-After") == "" ||
		!strings.Contains(answer.Error, "unreachable") || strings.Contains(answer.Error, "5432") {
		t.Fatalf("post while unreachable: %d %v %q; want 503, Retry-After, a JSON error naming no internals", w.Code, w.Header(), w.Body.String())
	}
	health := httptest.NewRecorder()
	h.ServeHTTP(health, httptest.NewRequest("GET", "/healthz", nil))
	if health.Code != 503 {
		t.Fatalf("healthz while unreachable: %d", health.Code)
	}
	if n, _ := real.Count(t.Context()); n != 0 {
		t.Fatalf("stored %d while unreachable", n)
	}
	store.down = false
	if w := post(h, receiptBody(id1)); w.Code != 200 {
		t.Fatalf("post once back: %d %s", w.Code, w.Body.String())
	}
	if n, _ := real.Count(t.Context()); n != 1 {
		t.Fatalf("stored %d once back, want 1", n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// /metrics counts accepted receipts and rejected posts by reason, and how
// long receipts waited in browsers' outboxes.
func TestIngestMetrics(t *testing.T) {
	_, store := ingestServer(t, Ingest{})
	s := newIngestServer(t, Ingest{}, store)
	h := s.Handler()
	post(h, receiptBody(id1, id2))
	post(h, `{"receipts":[{`)
	body := scrape(t, s)
	for _, want := range []string{"consent_receipts_accepted_total 2", `consent_receipt_posts_rejected_total{reason="malformed"} 1`,
		"consent_receipt_commit_seconds_count 1", "consent_receipt_batch_size_sum 2",
		// Both receipts were made a minute before they arrived.
		"consent_receipt_outbox_lag_seconds_sum 120", `consent_receipt_outbox_lag_seconds_bucket{le="32"} 0`,
		`consent_receipt_outbox_lag_seconds_bucket{le="128"} 2`} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Whatever is posted, the handler answers a JSON status it documents, never
// panics, and stores only what it acknowledged.
func FuzzIngest(f *testing.F) {
	f.Add(receiptBody(id1))
	f.Add(`{"receipts":[]}`)
	f.Add(`{"receipts":[{"id":"\u0000"}]}`)
	h, _ := ingestServer(f, Ingest{})
	f.Fuzz(func(t *testing.T, body string) {
		w := post(h, body)
		switch w.Code {
		case 200, 400, 403, 409, 413, 422, 429: // 409: an id the fuzzer sent before with other content
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		var answer map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer is not JSON: %q", w.Body.String())
		}
	})
}

package http

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
)

// postFrom posts body as the client at remote (host:port) would.
func postFrom(h http.Handler, remote, body string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", "http://consent.test/v1/receipts", strings.NewReader(body))
	r.RemoteAddr = remote
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// batch is a post of n receipts with fresh ids, all for subject.
func batch(subject string, n int) string {
	rs := make([]consent.Receipt, n)
	for i := range rs {
		seq++
		rs[i] = consent.Receipt{ID: "abuse" + strings.Repeat("0", 17-len(strconv.Itoa(seq))) + strconv.Itoa(seq), Subject: subject,
			Event: consent.EventConsentGiven, Policy: "2025-06-01", PolicySHA256: testPolicy, Locale: consent.ZhCN,
			Granted: []string{"analytics"}, Time: testNow.Add(-time.Minute), Method: "banner"}
	}
	return string(consent.EncodeReceipts(rs))
}

var seq int

const subjectA, subjectB = "q83vEjRWeJq83vEjRWeJqw", "AAECAwQFBgcICQoLDA0ODw"

// The client quota counts receipts, not posts: a client allowed 5 receipts a
// second (a burst of 10) cannot store 10 posts of 10 receipts at once.
func TestQuotaCountsReceipts(t *testing.T) {
	h, store := ingestServer(t, Ingest{Rate: 5})
	codes := map[int]int{}
	for i := 0; i < 10; i++ {
		codes[postFrom(h, "192.0.2.1:1000", batch(subjectA, 10)).Code]++
	}
	if n, _ := store.Count(t.Context()); n > 20 || codes[429] < 8 {
		t.Fatalf("stored %d receipts with status counts %v; want at most 20 (the burst and one post over it)", n, codes)
	}
}

// An IPv6 /64 is one client: the addresses in it share one quota.
func TestQuotaIPv6ByPrefix(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Rate: 5})
	if w := postFrom(h, "[2001:db8:1:2::1]:1000", batch(subjectA, 10)); w.Code != 200 {
		t.Fatalf("first post: %d %s", w.Code, w.Body.String())
	}
	if w := postFrom(h, "[2001:db8:1:2:ffff::9]:1000", batch(subjectA, 10)); w.Code != 429 {
		t.Fatalf("another address of the same /64: %d, want 429", w.Code)
	}
	if w := postFrom(h, "[2001:db8:1:3::1]:1000", batch(subjectA, 10)); w.Code != 200 {
		t.Fatalf("another /64: %d, want 200", w.Code)
	}
}

// A flood from more new addresses than the limiter tracks does not give a
// client that used up its quota a new one.
func TestQuotaSurvivesFloodOfAddresses(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Rate: 5})
	heavy := "192.0.2.1:1000"
	for i := 0; postFrom(h, heavy, batch(subjectA, 1)).Code != 429; i++ {
		if i > 100 {
			t.Fatal("never refused")
		}
	}
	// Receipts for an unknown policy: refused once counted, so nothing is stored.
	flood := strings.Replace(batch(subjectB, 1), "2025-06-01", "2030-01-01", 1)
	for i := 0; i < 100_010; i++ {
		addr := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":1000"
		if w := postFrom(h, addr, flood); w.Code != 422 {
			t.Fatalf("flood post %d: %d %s", i, w.Code, w.Body.String())
		}
	}
	if w := postFrom(h, heavy, batch(subjectA, 1)); w.Code != 429 {
		t.Fatalf("the heavy client after the flood: %d, want 429", w.Code)
	}
}

// A page served over http is not the origin of the same host over https.
func TestSameOriginComparesScheme(t *testing.T) {
	h, _ := ingestServer(t, Ingest{})
	if w := post(h, batch(subjectA, 1), "Origin", "https://consent.test"); w.Code != 403 {
		t.Fatalf("https origin posting to an http server: %d, want 403", w.Code)
	}
	if w := post(h, batch(subjectA, 1), "Origin", "http://consent.test"); w.Code != 200 {
		t.Fatalf("same origin: %d %s", w.Code, w.Body.String())
	}
}

// /metrics is not on the public handler.
func TestMetricsNotPublic(t *testing.T) {
	h, _ := ingestServer(t, Ingest{})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 404 {
		t.Fatalf("GET /metrics on the public handler: %d, want 404", w.Code)
	}
}

// scrape returns the text of s's /metrics, from its admin handler.
func scrape(t *testing.T, s *Server) string {
	t.Helper()
	w := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("GET /metrics: %d", w.Code)
	}
	return w.Body.String()
}

// A receipt dated long ago is counted apart, and leaves the outbox lag
// histogram (its sum, so its mean) as it was.
func TestBackdatedReceiptKeptOutOfLag(t *testing.T) {
	_, store := ingestServer(t, Ingest{})
	s := newIngestServer(t, Ingest{}, store)
	old := strings.Replace(batch(subjectA, 1), `"time":`+strconv.FormatInt(testNow.Add(-time.Minute).UnixMilli(), 10),
		`"time":`+strconv.FormatInt(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 10), 1)
	if w := post(s.Handler(), old); w.Code != 200 {
		t.Fatalf("backdated receipt: %d %s", w.Code, w.Body.String())
	}
	post(s.Handler(), batch(subjectA, 1))
	body := scrape(t, s)
	for _, want := range []string{"consent_receipt_outbox_lag_seconds_sum 60\n", "consent_receipt_outbox_lag_seconds_count 1\n",
		"consent_receipt_outbox_lag_beyond_total 1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

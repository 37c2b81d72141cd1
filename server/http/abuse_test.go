package http

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
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

// quotaBatch is a post of n receipts with fresh ids, all for subject.
func quotaBatch(subject string, n int) string {
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
		codes[postFrom(h, "192.0.2.1:1000", quotaBatch(subjectA, 10)).Code]++
	}
	if n, _ := store.Count(t.Context()); n > 20 || codes[429] < 8 {
		t.Fatalf("stored %d receipts with status counts %v; want at most 20 (the burst and one post over it)", n, codes)
	}
}

// An IPv6 /64 is one client: the addresses in it share one quota.
func TestQuotaIPv6ByPrefix(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Rate: 5})
	if w := postFrom(h, "[2001:db8:1:2::1]:1000", quotaBatch(subjectA, 10)); w.Code != 200 {
		t.Fatalf("first post: %d %s", w.Code, w.Body.String())
	}
	if w := postFrom(h, "[2001:db8:1:2:ffff::9]:1000", quotaBatch(subjectA, 10)); w.Code != 429 {
		t.Fatalf("another address of the same /64: %d, want 429", w.Code)
	}
	if w := postFrom(h, "[2001:db8:1:3::1]:1000", quotaBatch(subjectA, 10)); w.Code != 200 {
		t.Fatalf("another /64: %d, want 200", w.Code)
	}
}

// A flood from more new addresses than the limiter tracks does not give a
// client that used up its quota a new one.
func TestQuotaSurvivesFloodOfAddresses(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Rate: 5})
	heavy := "192.0.2.1:1000"
	for i := 0; postFrom(h, heavy, quotaBatch(subjectA, 1)).Code != 429; i++ {
		if i > 100 {
			t.Fatal("never refused")
		}
	}
	// Receipts for an unknown policy: refused once counted, so nothing is stored.
	flood := strings.Replace(quotaBatch(subjectB, 1), "2025-06-01", "2030-01-01", 1)
	for i := 0; i < 100_010; i++ {
		addr := "10." + strconv.Itoa(i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ":1000"
		if w := postFrom(h, addr, flood); w.Code != 422 {
			t.Fatalf("flood post %d: %d %s", i, w.Code, w.Body.String())
		}
	}
	if w := postFrom(h, heavy, quotaBatch(subjectA, 1)); w.Code != 429 {
		t.Fatalf("the heavy client after the flood: %d, want 429", w.Code)
	}
	if w := postFrom(h, "198.51.100.1:1000", quotaBatch(subjectA, 1)); w.Code != 200 {
		t.Fatalf("a new client after the flood: %d %s", w.Code, w.Body.String())
	}
}

// Clients pushed out of the exact table keep what they owe; the table and
// the sketch stay their size.
func TestClientQuotaEviction(t *testing.T) {
	q := newClientQuota(newRate(1, 10), 8)
	key := func(i int) clientKey { return keyOf(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})) }
	now := testNow
	for i := range 100 {
		if ok, _ := q.take(key(i), now, 10); !ok {
			t.Fatalf("client %d refused its first post", i)
		}
	}
	if q.recent.Len() != 8 || len(q.byKey) != 8 {
		t.Fatalf("tracking %d clients (%d in the map), want 8", q.recent.Len(), len(q.byKey))
	}
	for i := range 100 {
		if ok, _ := q.take(key(i), now, 1); ok {
			t.Fatalf("client %d let through again at once", i)
		}
	}
	// Ten seconds later every debt is paid, evicted or not.
	for i := range 100 {
		if ok, _ := q.take(key(i), now.Add(10*time.Second), 1); !ok {
			t.Fatalf("client %d still refused once its debt was paid", i)
		}
	}
}

// A page served over http is not the origin of the same host over https.
func TestSameOriginComparesScheme(t *testing.T) {
	h, _ := ingestServer(t, Ingest{})
	if w := post(h, quotaBatch(subjectA, 1), "Origin", "https://consent.test"); w.Code != 403 {
		t.Fatalf("https origin posting to an http server: %d, want 403", w.Code)
	}
	if w := post(h, quotaBatch(subjectA, 1), "Origin", "http://consent.test"); w.Code != 200 {
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
	old := strings.Replace(quotaBatch(subjectA, 1), `"time":`+strconv.FormatInt(testNow.Add(-time.Minute).UnixMilli(), 10),
		`"time":`+strconv.FormatInt(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), 10), 1)
	if w := post(s.Handler(), old); w.Code != 200 {
		t.Fatalf("backdated receipt: %d %s", w.Code, w.Body.String())
	}
	post(s.Handler(), quotaBatch(subjectA, 1))
	body := scrape(t, s)
	for _, want := range []string{"consent_receipt_outbox_lag_seconds_sum 60\n", "consent_receipt_outbox_lag_seconds_count 1\n",
		"consent_receipt_outbox_lag_beyond_total 1\n"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// A refusal for quota is 429 with a JSON error and Retry-After, counted in
// /metrics by which quota refused it.
func TestQuotaRefusals(t *testing.T) {
	clock := testNow
	_, store := ingestServer(t, Ingest{})
	s := newIngestServer(t, Ingest{Rate: 1, Burst: 10, SubjectPerDay: 3, GlobalRate: 5, Now: func() time.Time { return clock }}, store)
	h := s.Handler()
	check := func(w *httptest.ResponseRecorder, status int, retryAfter, msg string) {
		t.Helper()
		if w.Code != status || (retryAfter != "" && w.Header().Get("Retry-After") != retryAfter) ||
			w.Header().Get("Content-Type") != "application/json" || !strings.Contains(w.Body.String(), msg) {
			t.Fatalf("%d Retry-After %q %s; want %d Retry-After %q %q", w.Code, w.Header().Get("Retry-After"), w.Body.String(), status, retryAfter, msg)
		}
	}
	// The client's quota: 10 receipts ahead at most, 1 a second.
	check(postFrom(h, "192.0.2.1:1", quotaBatch(subjectA, 3)), 200, "", `"stored":3`)
	check(postFrom(h, "192.0.2.1:1", quotaBatch(subjectB, 9)), 200, "", `"stored":9`) // 3 ahead, so let through; now 12
	check(postFrom(h, "192.0.2.1:1", quotaBatch(subjectB, 1)), 429, "3", "this client sent more receipts")
	// The subject's quota: subject A has 3 today, from any client.
	check(postFrom(h, "192.0.2.2:1", quotaBatch(subjectA, 1)), 429, "57600", "quota of receipts for today") // 16 h to midnight UTC
	// The global quota: 12 stored, a burst of 10 at 5 a second.
	check(postFrom(h, "192.0.2.3:1", quotaBatch("AAAAAAAAAAAAAAAAAAAAAA", 1)), 429, "1", "more receipts than it stores")
	clock = clock.Add(time.Second)
	check(postFrom(h, "192.0.2.3:1", quotaBatch("AAAAAAAAAAAAAAAAAAAAAA", 1)), 200, "", `"stored":1`)
	// The next day subject A may have receipts again.
	clock = time.Date(2026, 11, 30, 0, 0, 1, 0, time.UTC)
	check(postFrom(h, "192.0.2.2:1", quotaBatch(subjectA, 1)), 200, "", `"stored":1`)
	body := scrape(t, s)
	for _, reason := range []string{"client_quota", "subject_quota", "global_quota"} {
		if want := `consent_receipt_posts_rejected_total{reason="` + reason + `"} 1`; !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if n, _ := store.Count(t.Context()); n != 14 {
		t.Fatalf("stored %d receipts, want 14", n)
	}
}

// Behind a trusted proxy, X-Forwarded-For names the client (the rightmost
// address that is not a trusted proxy) and X-Forwarded-Proto the scheme;
// from anyone else both are ignored.
func TestTrustedProxies(t *testing.T) {
	lb := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	h, _ := ingestServer(t, Ingest{Rate: 5, TrustedProxies: lb})
	for _, tc := range []struct {
		name, peer, xff string
		status          int
	}{
		{"a client through the proxy", "10.1.1.1:1", "198.51.100.7", 200},
		{"the same client, through two proxies", "10.1.1.2:1", "198.51.100.7, 10.9.9.9", 429},
		{"the same client, its own X-Forwarded-For to the left", "10.1.1.1:1", "203.0.113.1, 198.51.100.7", 429},
		{"another client through the proxy", "10.1.1.1:1", "198.51.100.8", 200},
		{"a client through an IPv6 proxy", "[fd00::1]:1", "2001:db8::1", 200},
		{"an untrusted peer forging X-Forwarded-For", "192.0.2.9:1", "198.51.100.99", 200},
		{"the same peer, forging another", "192.0.2.9:1", "198.51.100.100", 429},
		{"a malformed hop: the proxy is the client", "10.2.2.2:1", "198.51.100.101, not-an-address", 200},
		{"the same proxy again", "10.2.2.2:1", "198.51.100.102, garbage", 429},
	} {
		w := postFrom(h, tc.peer, quotaBatch(subjectA, 10), "X-Forwarded-For", tc.xff)
		if w.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body.String(), tc.status)
		}
	}
	h, _ = ingestServer(t, Ingest{TrustedProxies: lb})
	for _, tc := range []struct {
		name, peer, proto string
		status            int
	}{
		{"TLS ended at the proxy", "10.1.1.1:1", "https", 200},
		{"plain http at the proxy", "10.1.1.1:1", "http", 403},
		{"an untrusted peer claiming https", "192.0.2.9:1", "https", 403},
	} {
		w := postFrom(h, tc.peer, quotaBatch(subjectA, 1), "Origin", "https://consent.test", "X-Forwarded-Proto", tc.proto)
		if w.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body.String(), tc.status)
		}
	}
}

// fakeDisk reports the free space a test sets: the fault injected.
type fakeDisk struct{ free uint64 }

func (d *fakeDisk) Free() (uint64, error) { return d.free, nil }

// Below the watermark, receipts are refused with 503 before anything is
// stored and health says why; once there is room (read again a second
// later), they are stored.
func TestDiskWatermark(t *testing.T) {
	clock := testNow
	disk := &fakeDisk{free: 10 << 20}
	_, store := ingestServer(t, Ingest{})
	h := newIngestServer(t, Ingest{MinFree: 64 << 20, FreeSpace: disk.Free, Now: func() time.Time { return clock }}, store).Handler()
	w := post(h, quotaBatch(subjectA, 2))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "none were acknowledged") {
		t.Fatalf("post with the disk nearly full: %d %v %s", w.Code, w.Header(), w.Body.String())
	}
	health := get(h, "GET", "/healthz")
	if health.Code != 503 || !strings.Contains(health.Body.String(), `"reason":"the receipt store's disk is nearly full"`) {
		t.Fatalf("healthz with the disk nearly full: %d %s", health.Code, health.Body.String())
	}
	if live := get(h, "GET", "/livez"); live.Code != 200 {
		t.Fatalf("livez with the disk nearly full: %d", live.Code)
	}
	disk.free = 1 << 30
	if w := post(h, quotaBatch(subjectA, 1)); w.Code != 503 {
		t.Fatalf("free space read again within a second: %d", w.Code)
	}
	clock = clock.Add(time.Second)
	if w := post(h, quotaBatch(subjectA, 1)); w.Code != 200 {
		t.Fatalf("post with room again: %d %s", w.Code, w.Body.String())
	}
	if health := get(h, "GET", "/healthz"); health.Code != 200 {
		t.Fatalf("healthz with room again: %d %s", health.Code, health.Body.String())
	}
	if n, _ := store.Count(t.Context()); n != 1 {
		t.Fatalf("stored %d receipts, want 1", n)
	}
}

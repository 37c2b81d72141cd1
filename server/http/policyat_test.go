package http

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"workly.ai/consent"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

// threeVersions is a built site with versions effective 2022-01-01,
// 2024-03-01 and 2025-06-01.
func threeVersions(t *testing.T) http.Handler {
	t.Helper()
	txt := consent.Text{ZhCN: "x", En: "x"}
	site := consent.Site{Name: txt, Cookie: consent.CookieConfig{MaxAgeDays: 365}, Controller: testController,
		Categories: []consent.Category{{ID: "necessary", Required: true, Title: txt, Purpose: txt}}}
	change := []consent.Change{{Kind: consent.KindMinor, Summary: txt}}
	m := consent.Manifest{Versions: []consent.Version{
		{ID: "2022-01-01", Effective: day("2022-01-01"), Title: txt, SHA256: strings.Repeat("1", 64)},
		{ID: "2024-03-01", Effective: day("2024-03-01"), Title: txt, SHA256: strings.Repeat("2", 64), Changes: change},
		{ID: "2025-06-01", Effective: day("2025-06-01"), Title: txt, SHA256: strings.Repeat("3", 64), Changes: change},
	}}
	siteJSON, _ := json.Marshal(site)
	policiesJSON, _ := json.Marshal(m)
	s, err := New(fstest.MapFS{"v1/site.json": {Data: siteJSON}, "v1/policies.json": {Data: policiesJSON}},
		nil, slog.New(slog.NewTextHandler(io.Discard, nil)), Ingest{})
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler()
}

func TestPolicyAt(t *testing.T) {
	h := threeVersions(t)
	for _, c := range []struct {
		query   string
		code    int
		version string
	}{
		{"date=2021-12-31", http.StatusNotFound, ""},
		{"date=2022-01-01", http.StatusOK, "2022-01-01"},
		{"date=2022-01-02", http.StatusOK, "2022-01-01"},
		{"date=2024-02-29", http.StatusOK, "2022-01-01"},
		{"date=2024-03-01", http.StatusOK, "2024-03-01"},
		{"date=2025-05-31", http.StatusOK, "2024-03-01"},
		{"date=2025-06-01", http.StatusOK, "2025-06-01"},
		{"date=2099-01-01", http.StatusOK, "2025-06-01"},
		{"", http.StatusBadRequest, ""},
		{"date=2024-3-1", http.StatusBadRequest, ""},
		{"date=2024-02-30", http.StatusBadRequest, ""},
		{"date=2024-03-01T00:00:00Z", http.StatusBadRequest, ""},
		{"date=yesterday", http.StatusBadRequest, ""},
	} {
		r := httptest.NewRecorder()
		h.ServeHTTP(r, httptest.NewRequest("GET", "/v1/policies/at?"+c.query, nil))
		if r.Code != c.code {
			t.Errorf("%s: %d, want %d: %s", c.query, r.Code, c.code, r.Body)
			continue
		}
		var got versionAt
		var e struct{ Error string }
		if c.code != http.StatusOK {
			if err := json.Unmarshal(r.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Errorf("%s: error body %q", c.query, r.Body)
			}
			continue
		}
		if err := json.Unmarshal(r.Body.Bytes(), &got); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		want := versionAt{Version: c.version, Effective: c.version, SHA256: map[string]string{
			"2022-01-01": strings.Repeat("1", 64), "2024-03-01": strings.Repeat("2", 64), "2025-06-01": strings.Repeat("3", 64)}[c.version],
			URL: "/policies/" + c.version}
		if got != want {
			t.Errorf("%s: %+v, want %+v", c.query, got, want)
		}
	}
}

package http

import (
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"workly.ai/consent"
)

// POST /v1/cookie sets the consent cookie again from the server, for the
// rest of its lifetime, only when it is well-formed and only for the site's
// own or allowed origins.
func TestConsentCookieRefresh(t *testing.T) {
	h, _ := ingestServer(t, Ingest{Origins: []string{"https://www.consent.test"}})
	updated := testNow.Add(-10 * 24 * time.Hour).Truncate(time.Second)
	valid, err := consent.EncodeCookie(consent.State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2025-06-01", Granted: []string{"analytics"},
		Given: updated.Add(-time.Hour), Updated: updated})
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := consent.EncodeCookie(consent.State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2025-06-01",
		Given: testNow.AddDate(-2, 0, 0), Updated: testNow.AddDate(-2, 0, 0)})
	left := strconv.Itoa(int((365*24*time.Hour - testNow.Sub(updated)) / time.Second))
	for _, tc := range []struct {
		name, cookie, origin string
		status               int
		setCookie, allow     string
	}{
		{"valid", valid, "", 204, "consent=" + valid + "; Path=/; Max-Age=" + left + "; SameSite=Lax; Domain=consent.test", ""},
		{"valid, allowed origin", valid, "https://www.consent.test", 204, "consent=" + valid + "; Path=/; Max-Age=" + left + "; SameSite=Lax; Domain=consent.test", "https://www.consent.test"},
		{"foreign origin", valid, "https://evil.example", 403, "", ""},
		{"malformed", "1~x~y", "", 400, "", ""},
		{"tampered", valid + "~extra", "", 400, "", ""},
		{"expired", expired, "", 204, "", ""},
		{"none", "", "", 204, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://consent.test/v1/cookie", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", "consent="+tc.cookie)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status || w.Header().Get("Set-Cookie") != tc.setCookie {
				t.Fatalf("%d, Set-Cookie %q; want %d, %q", w.Code, w.Header().Get("Set-Cookie"), tc.status, tc.setCookie)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tc.allow || (tc.allow != "" && w.Header().Get("Access-Control-Allow-Credentials") != "true") {
				t.Errorf("CORS: allow origin %q, credentials %q", got, w.Header().Get("Access-Control-Allow-Credentials"))
			}
		})
	}
}

package http

import (
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/cookiekey"
)

// POST /v1/cookie sets the consent cookie again from the server only when
// its proof verifies (unexpired, known version and categories), for the rest
// of the proof's lifetime, only for the site's own or allowed origins, and
// Secure only by the server's own scheme.
func TestConsentCookieRefresh(t *testing.T) {
	key, err := cookiekey.Generate(filepath.Join(t.TempDir(), "cookie.key"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := cookiekey.Generate(filepath.Join(t.TempDir(), "other.key"))
	h, _ := ingestServer(t, Ingest{Origins: []string{"https://www.consent.test"}, CookieKey: key})
	updated := testNow.Add(-10 * 24 * time.Hour).Truncate(time.Second)
	st := consent.State{ID: "q83vEjRWeJq83vEjRWeJqw", Policy: "2025-06-01", Granted: []string{"analytics"}, Given: updated.Add(-time.Hour), Updated: updated}
	exp := updated.Add(365 * 24 * time.Hour)
	valid, err := key.Vouch(st, exp)
	if err != nil {
		t.Fatal(err)
	}
	unsigned, _ := consent.EncodeCookie(st)
	foreign, _ := other.Vouch(st, exp)
	expired, _ := key.Vouch(st, testNow.Add(-time.Hour))
	farFuture, _ := key.Vouch(st, testNow.AddDate(50, 0, 0))
	unknownCat := st
	unknownCat.Granted = []string{"analytics", "tracking"}
	unknown, _ := key.Vouch(unknownCat, exp)
	unknownPolicy := st
	unknownPolicy.Policy = "2023-01-01"
	unpublished, _ := key.Vouch(unknownPolicy, exp)
	left := strconv.Itoa(int(exp.Sub(testNow) / time.Second))
	full := strconv.Itoa(365 * 86400)
	for _, tc := range []struct {
		name, cookie, origin, proto string
		status                      int
		setCookie, allow            string
	}{
		{"valid", valid, "", "", 204, "consent=" + valid + "; Path=/; Max-Age=" + left + "; SameSite=Lax; Domain=consent.test", ""},
		{"valid, allowed origin", valid, "https://www.consent.test", "", 204, "consent=" + valid + "; Path=/; Max-Age=" + left + "; SameSite=Lax; Domain=consent.test", "https://www.consent.test"},
		{"a client's X-Forwarded-Proto is not believed", valid, "", "https", 204, "consent=" + valid + "; Path=/; Max-Age=" + left + "; SameSite=Lax; Domain=consent.test", ""},
		{"far-future proof: at most maxAgeDays from now", farFuture, "", "", 204, "consent=" + farFuture + "; Path=/; Max-Age=" + full + "; SameSite=Lax; Domain=consent.test", ""},
		{"foreign origin", valid, "https://evil.example", "", 403, "", ""},
		{"no proof", unsigned, "", "", 204, "", ""},
		{"another key's proof", foreign, "", "", 403, "", ""},
		{"tampered", strings.Replace(valid, "~analytics~", "~analytics.marketing~", 1), "", "", 403, "", ""},
		{"unknown category", unknown, "", "", 422, "", ""},
		{"unpublished version", unpublished, "", "", 422, "", ""},
		{"malformed", "1~x~y", "", "", 400, "", ""},
		{"expired", expired, "", "", 204, "", ""},
		{"none", "", "", "", 204, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://consent.test/v1/cookie", nil)
			if tc.cookie != "" {
				r.Header.Set("Cookie", "consent="+tc.cookie)
			}
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
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

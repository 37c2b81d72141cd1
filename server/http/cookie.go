package http

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
)

// consentCookie answers POST /v1/cookie: it sets again, from the server, the
// consent cookie the request carries. Some browsers cap the lifetime of
// cookies a script writes (Safari: 7 days) but not of those a server sets,
// so without this a person's choice would be forgotten after a week. The
// value is checked, not trusted: a malformed one gets 400 and nothing is set.
// Its lifetime runs from the choice's last update, as the module's own does,
// with the module's attributes (Path=/, SameSite=Lax, the configured Domain
// when the request's host is in it, Secure over https). No cookie, or an
// expired one: 204 and nothing set. Pages of the allowed origins may call it
// with credentials.
func (s *Server) consentCookie(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && !s.sameOrigin(r, origin) {
		if !s.allowed[origin] {
			jsonError(w, http.StatusForbidden, "origin "+origin+" may not refresh the consent cookie")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	w.Header().Set("Cache-Control", "no-store")
	if s.site == nil {
		jsonError(w, http.StatusServiceUnavailable, "the site is not built")
		return
	}
	c, err := r.Cookie(s.site.CookieName())
	if err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	state, err := consent.DecodeCookie(c.Value)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "the consent cookie is malformed: "+err.Error())
		return
	}
	left := time.Duration(s.site.Cookie.MaxAgeDays)*24*time.Hour - s.now().Sub(state.Updated)
	if left <= 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	attrs := "; Path=/; Max-Age=" + strconv.FormatInt(int64(left/time.Second), 10) + "; SameSite=Lax"
	w.Header().Add("Set-Cookie", s.site.CookieName()+"="+c.Value+attrs+s.siteCookieAttrs(r))
	w.WriteHeader(http.StatusNoContent)
}

// siteCookieAttrs are the attributes every cookie the server sets shares:
// the site's cookie domain when the request's host is in it, and Secure when
// the client reached the server over https (by a trusted proxy's word, see
// scheme: a client's own X-Forwarded-Proto is not believed).
func (s *Server) siteCookieAttrs(r *http.Request) string {
	attrs := ""
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if d := s.site.Cookie.Domain; d != "" && (host == d || strings.HasSuffix(host, "."+d)) {
		attrs += "; Domain=" + d
	}
	if s.scheme(r) == "https" {
		attrs += "; Secure"
	}
	return attrs
}

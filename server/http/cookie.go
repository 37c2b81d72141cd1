package http

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"workly.ai/consent"
	"workly.ai/consent/server/cookiekey"
)

// consentCookie answers POST /v1/cookie: it sets again, from the server, the
// consent cookie the request carries, when the server vouched for it. Some
// browsers cap the lifetime of cookies a script writes (Safari: 7 days) but
// not of those a server sets, so without this a person's choice would be
// forgotten after a week. Only a cookie whose proof verifies with the
// server's cookie key, unexpired, naming a policy version the site publishes
// and only categories it has, is set again: for the rest of its proof's
// lifetime (at most maxAgeDays from now), with the module's attributes
// (Path=/, SameSite=Lax, the configured Domain when the request's host is in
// it, Secure by the server's own scheme). A cookie without a proof, no
// cookie, or an expired one: 204 and nothing set; a malformed one 400, a
// proof that does not verify 403, unknown categories or versions 422, and
// nothing set. Pages of the allowed origins may call it with credentials.
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
	if s.site == nil || s.policies == nil {
		jsonError(w, http.StatusServiceUnavailable, "the site is not built")
		return
	}
	c, err := r.Cookie(s.site.CookieName())
	if err != nil || s.ingest.CookieKey == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	state, err := s.ingest.CookieKey.Verify(c.Value)
	switch {
	case errors.Is(err, cookiekey.ErrNoProof):
		// Written by the module and not yet acknowledged, or by anyone else:
		// the receipts' answer vouches for the person's own (vouchCookie).
		w.WriteHeader(http.StatusNoContent)
		return
	case errors.Is(err, consent.ErrInvalid):
		jsonError(w, http.StatusBadRequest, "the consent cookie is malformed: "+err.Error())
		return
	case err != nil:
		jsonError(w, http.StatusForbidden, err.Error())
		return
	}
	if msg := s.unknownToSite(state); msg != "" {
		jsonError(w, http.StatusUnprocessableEntity, msg)
		return
	}
	now := s.now()
	left := min(state.Expires.Sub(now), s.maxAge())
	if left < time.Second {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.setConsentCookie(w, r, c.Value, left)
	w.WriteHeader(http.StatusNoContent)
}

// vouchCookie sets the consent cookie with the server's proof when the
// request carries the cookie of a choice whose receipt is in rs, which the
// server has just stored (or had stored): the same consent id, policy
// version, categories and time (the cookie's updated, the receipt's time, to
// the second). The proof's lifetime is maxAgeDays from that time, or from
// now when the browser's time is later. Nothing else is vouched for: a
// cookie a page script or a sibling subdomain wrote has no stored receipt.
func (s *Server) vouchCookie(w http.ResponseWriter, r *http.Request, rs []consent.Receipt) {
	k := s.ingest.CookieKey
	c, err := r.Cookie(s.site.CookieName())
	if k == nil || err != nil {
		return
	}
	state, err := consent.DecodeCookie(c.Value)
	if err != nil || s.unknownToSite(state) != "" {
		return
	}
	for _, rec := range rs {
		if !choiceEvents[rec.Event] || rec.Subject != state.ID || rec.Policy != state.Policy ||
			rec.Time.Unix() != state.Updated.Unix() || !slices.Equal(slices.Sorted(slices.Values(rec.Granted)), state.Granted) {
			continue
		}
		now := s.now()
		from := state.Updated
		if from.After(now) {
			from = now
		}
		exp := from.Add(s.maxAge()).Truncate(time.Second)
		if !exp.After(now) {
			return
		}
		v, err := k.Vouch(state, exp)
		if err != nil {
			s.log.Error("vouch for a consent cookie", "err", err)
			return
		}
		s.setConsentCookie(w, r, v, exp.Sub(now))
		return
	}
}

// choiceEvents are the events whose receipt records a new cookie state.
var choiceEvents = map[consent.Event]bool{
	consent.EventConsentGiven: true, consent.EventConsentRefused: true, consent.EventWithdrawn: true,
	consent.EventAcknowledged: true, consent.EventContinuedUse: true,
}

// unknownToSite says what in st the site does not know ("" when nothing): a
// policy version it does not publish, a category that is not one of its
// optional ones.
func (s *Server) unknownToSite(st consent.State) string {
	if _, err := s.policies.Lookup(st.Policy); err != nil {
		return "the consent cookie names a policy version the site does not publish: " + strconv.Quote(st.Policy)
	}
	optional := s.site.Optional()
	for _, g := range st.Granted {
		if !slices.Contains(optional, g) {
			return "the consent cookie grants a category the site does not have: " + strconv.Quote(g)
		}
	}
	return ""
}

func (s *Server) maxAge() time.Duration {
	return time.Duration(s.site.Cookie.MaxAgeDays) * 24 * time.Hour
}

// setConsentCookie sets the consent cookie to value for left.
func (s *Server) setConsentCookie(w http.ResponseWriter, r *http.Request, value string, left time.Duration) {
	attrs := "; Path=/; Max-Age=" + strconv.FormatInt(int64(left/time.Second), 10) + "; SameSite=Lax"
	w.Header().Add("Set-Cookie", s.site.CookieName()+"="+value+attrs+s.siteCookieAttrs(r))
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

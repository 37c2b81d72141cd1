package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"workly.ai/consent"
)

// A consent (a subject) is bound to the browser that made it: to the key its
// first signed receipt names (trust on first use), and later to one more key
// per origin of the site (more after a browser lost its storage), each
// enrolled with the subject's enrolment token.
//
// The token is 128 random bits the server makes when it binds a subject's
// first key. It goes to the browser in an HttpOnly cookie (named after the
// consent cookie, with "_key" appended) on the site's cookie domain, so the
// person's browser sends it from every origin of the site (the official site
// and the web client, on sibling subdomains, have separate IndexedDB and so
// separate keys) while no page script can read it; the server keeps only its
// SHA-256. A receipt signed by a key the subject is not bound to is accepted
// only if the request carries that token: the site's other origins enrol
// their keys so, and so does a browser that lost its key with its storage
// (Safari deletes script-written storage after 7 days without a visit; the
// server's cookies stay). See the README's threat model.

// keyCookie is the name of the enrolment token's cookie.
func (s *Server) keyCookie() string { return s.site.CookieName() + "_key" }

// checkKeys refuses, with 403, a batch holding a receipt whose subject is
// bound to keys and that is not signed by one of them (unsigned, or signed
// by another browser's key without the subject's enrolment token), and binds
// the keys of receipts for subjects that have none (their first) or whose
// request carries the token. It reports whether the batch may be stored; if
// not, it has answered.
func (s *Server) checkKeys(ctx context.Context, w http.ResponseWriter, r *http.Request, rs []consent.Receipt) bool {
	origin := r.Header.Get("Origin")
	bound := map[string][]consent.KeyBinding{}
	for _, rec := range rs {
		if rec.Key != "" && s.boundKeys.has(rec.Subject, rec.Key) {
			continue
		}
		keys, ok := bound[rec.Subject]
		if !ok {
			var err error
			if keys, err = s.store.Keys(ctx, rec.Subject); err != nil {
				s.storeFailed(w, err, len(rs))
				return false
			}
			bound[rec.Subject] = keys
		}
		switch {
		case rec.Key == "" && len(keys) == 0:
			continue // unsigned, for a subject no key holds: accepted as such
		case rec.Key == "":
			s.reject(w, "unsigned", http.StatusForbidden, "receipt "+rec.ID+": consent "+rec.Subject+
				" is bound to the browser that made it: an unsigned receipt for it is refused")
			return false
		case hasKey(keys, rec.Key):
			s.boundKeys.add(rec.Subject, rec.Key)
			continue
		}
		b := consent.KeyBinding{Subject: rec.Subject, Origin: origin, Key: rec.Key}
		var token string
		if len(keys) == 0 {
			token = newToken()
			b.Token = tokenHash(token)
		} else if t := s.enrolmentToken(r, rec.Subject); t != "" {
			b.Token = tokenHash(t)
		} else {
			s.reject(w, "key", http.StatusForbidden, "receipt "+rec.ID+": consent "+rec.Subject+
				" is bound to another browser's key, and this request does not carry its enrolment cookie: refused")
			return false
		}
		keys, err := s.store.Bind(ctx, b)
		if err != nil {
			s.storeFailed(w, err, len(rs))
			return false
		}
		bound[rec.Subject] = keys
		if !hasKey(keys, rec.Key) {
			s.reject(w, "key", http.StatusForbidden, "receipt "+rec.ID+": its key is not bound to its consent "+
				"(the enrolment cookie does not match consent "+rec.Subject+"): refused")
			return false
		}
		s.boundKeys.add(rec.Subject, rec.Key)
		if token != "" {
			s.setKeyCookie(w, r, rec.Subject, token)
		}
	}
	return true
}

// boundKeys remembers bindings (subject, key) the store holds, so that a
// subject's receipts after its first cost no look-up. A binding is never
// changed or removed (consent.KeyBinding), so what it holds stays true,
// whichever server of a shared store made it. It forgets all once it holds
// maxBoundKeys.
type boundKeys struct {
	mu   sync.Mutex
	keys map[[2]string]struct{}
}

const maxBoundKeys = 1 << 16

func (b *boundKeys) has(subject, key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.keys[[2]string{subject, key}]
	return ok
}

func (b *boundKeys) add(subject, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.keys == nil || len(b.keys) >= maxBoundKeys {
		b.keys = make(map[[2]string]struct{})
	}
	b.keys[[2]string{subject, key}] = struct{}{}
}

func hasKey(keys []consent.KeyBinding, key string) bool {
	for _, k := range keys {
		if k.Key == key {
			return true
		}
	}
	return false
}

// enrolmentToken is the token the request's enrolment cookie holds for
// subject, "" if none.
func (s *Server) enrolmentToken(r *http.Request, subject string) string {
	c, err := r.Cookie(s.keyCookie())
	if err != nil {
		return ""
	}
	sub, token, ok := strings.Cut(c.Value, ".")
	if !ok || sub != subject || !consent.ValidConsentID(token) {
		return ""
	}
	return token
}

// setKeyCookie sets the enrolment cookie for subject: HttpOnly, for the
// receipts endpoint only, SameSite=Strict, on the configured cookie domain
// when the request's host is in it, Secure over https, for the consent
// cookie's lifetime.
func (s *Server) setKeyCookie(w http.ResponseWriter, r *http.Request, subject, token string) {
	attrs := "; Path=" + receiptsPath + "; Max-Age=" + strconv.Itoa(s.site.Cookie.MaxAgeDays*24*3600) + "; HttpOnly; SameSite=Strict"
	w.Header().Add("Set-Cookie", s.keyCookie()+"="+subject+"."+token+attrs+s.siteCookieAttrs(r))
}

// receiptsPath is where receipts are posted.
const receiptsPath = "/v1/receipts"

// newToken is 128 random bits, base64url: the form of a consent id.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// storeFailed answers 503 for a store error: nothing was stored.
func (s *Server) storeFailed(w http.ResponseWriter, err error, n int) {
	s.log.Error("store receipts", "err", err, "receipts", n)
	w.Header().Set("Retry-After", "1")
	if errors.Is(err, consent.ErrUnavailable) {
		s.reject(w, "store_unavailable", http.StatusServiceUnavailable, "the receipt store is unreachable, so the receipts were not acknowledged: send them again")
		return
	}
	s.reject(w, "store", http.StatusServiceUnavailable, "the receipts could not be stored: try again")
}

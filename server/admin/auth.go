package admin

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// TokenFileName is the console's secret's file in the data directory. It
// holds only the SHA-256 of the secret, in hex.
const TokenFileName = "admin-token"

// CreateToken makes a new console secret, 256 random bits in base64url,
// writes its SHA-256 to path (mode 0600, replacing any earlier one, so that
// sessions opened with the old secret end) and returns the secret, which is
// shown once and stored nowhere.
//
// A fast hash is enough: a slow one (bcrypt, argon2) protects secrets people
// choose, which are few enough to guess; 256 random bits cannot be guessed
// however fast each guess is, and the hash only keeps a copy of the file
// from being a credential.
func CreateToken(path string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(hashSecret(secret)+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("admin token: %w", err)
	}
	return secret, nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// tokenHash reads the secret's hash; "" and no error when there is none
// (the console is closed).
func tokenHash(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	h := strings.TrimSpace(string(data))
	if len(h) != 64 {
		return "", fmt.Errorf("%s: not a SHA-256 in hex: make a new secret with consentd admin-token", path)
	}
	return h, nil
}

// session is one signed-in browser, kept on the server: the cookie holds
// only a random id, and the server keeps its hash.
type session struct {
	csrf     string    // the token every form posts back
	token    string    // the secret's hash it was opened with: a new secret ends it
	expires  time.Time // absolute
	lastSeen time.Time // for the idle limit
}

// sessions are the open sessions, by the SHA-256 of their id.
type sessions struct {
	mu   sync.Mutex
	byID map[string]*session
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *sessions) open(token string, now time.Time, ttl time.Duration) (id string, sess *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*session{}
	}
	for k, v := range s.byID {
		if !now.Before(v.expires) {
			delete(s.byID, k)
		}
	}
	id = randomToken()
	sess = &session{csrf: randomToken(), token: token, expires: now.Add(ttl), lastSeen: now}
	s.byID[hashSecret(id)] = sess
	return id, sess
}

// get returns the session of id if it is open: not past its expiry, not
// idle longer than idle, and opened with the current secret.
func (s *sessions) get(id, token string, now time.Time, idle time.Duration) *session {
	if id == "" || token == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := hashSecret(id)
	sess := s.byID[key]
	if sess == nil {
		return nil
	}
	if !now.Before(sess.expires) || now.Sub(sess.lastSeen) >= idle || sess.token != token {
		delete(s.byID, key)
		return nil
	}
	sess.lastSeen = now
	return sess
}

func (s *sessions) close(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, hashSecret(id))
}

// loginLimit is how many failed sign-ins one client address may make in
// loginWindow; past it, every sign-in from there, right or wrong, is
// answered 429 until the window has passed.
const (
	loginLimit  = 5
	loginWindow = 15 * time.Minute
	maxClients  = 10000 // addresses tracked at once; past it, every address is limited
)

// limiter counts failed sign-ins by client address.
type limiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

func (l *limiter) prune(now time.Time) {
	for k, ts := range l.failures {
		keep := ts[:0]
		for _, t := range ts {
			if now.Sub(t) < loginWindow {
				keep = append(keep, t)
			}
		}
		if len(keep) == 0 {
			delete(l.failures, k)
		} else {
			l.failures[k] = keep
		}
	}
}

// allowed reports whether client may try to sign in now, and if not, when
// it may again.
func (l *limiter) allowed(client string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	l.prune(now)
	if len(l.failures) >= maxClients {
		return false, loginWindow
	}
	ts := l.failures[client]
	if len(ts) < loginLimit {
		return true, 0
	}
	return false, loginWindow - now.Sub(ts[0])
}

func (l *limiter) fail(client string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures[client] = append(l.failures[client], now)
}

// peerAddr is the address of the connection's peer: the default of
// Config.ClientAddr.
func peerAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// directScheme is "https" for a TLS connection, else "http": the default of
// Config.Scheme.
func directScheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// sameOrigin reports whether a state-changing request comes from a page of
// this server: its Origin (or, without one, its Referer) has the scheme the
// request came by and this host. A request naming neither is refused:
// every browser that could carry the session cookie sends Origin with a
// POST.
func sameOrigin(r *http.Request, scheme string) bool {
	src := r.Header.Get("Origin")
	if src == "" || src == "null" {
		src = r.Header.Get("Referer")
	}
	u, err := url.Parse(src)
	if err != nil || src == "" {
		return false
	}
	return u.Scheme == scheme && strings.EqualFold(u.Host, r.Host)
}

func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

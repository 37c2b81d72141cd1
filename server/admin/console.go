// Package admin is the privacy team's console, served by consentd under
// /admin/: the figures of the consent records as charts with their tables,
// one person's record with each receipt checked against the chain, and
// exports. Every page is rendered on the server and works without
// JavaScript.
//
// It is closed until a secret exists (consentd admin-token writes its
// SHA-256 to DATA/admin-token): until then every path under /admin/ is a
// 404. Signing in with the secret opens a server-side session (a random id
// in an HttpOnly, SameSite=Strict cookie, Secure over HTTPS) that ends after
// SessionTTL, after IdleTTL without a request, on signing out, or when a new
// secret is made. Every POST must come from this server's own pages (Origin,
// or Referer) and, once signed in, carry the session's CSRF token; failed
// sign-ins are limited per client address.
package admin

import (
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"workly.ai/consent"
	"workly.ai/consent/server/discovery"
	"workly.ai/consent/server/stats"
)

// Config is what the console reads.
type Config struct {
	// TokenFile holds the secret's hash (DATA/admin-token).
	TokenFile string
	Stats     *stats.Stats
	Store     consent.ReceiptStore
	PublicKey ed25519.PublicKey
	Site      *consent.Site
	Policies  *consent.Manifest
	// Metrics is the server's registry, for delivery health; may be nil.
	Metrics prometheus.Gatherer
	// Discovered is the listener's counts of what visitors' browsers found
	// undeclared (POST /v1/discovered); nil when the listener is off.
	Discovered discovery.Store
	Log        *slog.Logger
	// Now defaults to time.Now.
	Now func() time.Time
	// SessionTTL (default 8 h) and IdleTTL (default 30 min) end sessions.
	SessionTTL, IdleTTL time.Duration
	// ClientAddr names the client of a request, for the sign-in limit, and
	// Scheme how it reached the server ("https" or "http"), for the origin
	// check and the cookie's Secure; behind proxies, as the server trusts
	// them. The defaults: the connection's peer, and TLS or not.
	ClientAddr func(*http.Request) string
	Scheme     func(*http.Request) string
}

// Console serves the console.
type Console struct {
	c        Config
	sessions sessions
	limiter  limiter
	pages    *template.Template
}

//go:embed templates.html console.css
var files embed.FS

// cookieName is the session cookie's name.
const cookieName = "consent_admin"

// Prefix is where the console is served.
const Prefix = "/admin/"

// New returns the console for c.
func New(c Config) *Console {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.IdleTTL == 0 {
		c.IdleTTL = 30 * time.Minute
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.ClientAddr == nil {
		c.ClientAddr = peerAddr
	}
	if c.Scheme == nil {
		c.Scheme = directScheme
	}
	pages := template.Must(template.New("").Funcs(template.FuncMap{
		"percent": percent,
		"date":    func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"time":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") + " UTC" },
		"short":   func(s string) string { return s[:min(12, len(s))] },
		"ev":      func(d stats.Day, e string) int64 { return d.Events[consent.Event(e)] },
		"granted": func(d stats.Day, c string) int64 { return d.Granted[c] },
	}).ParseFS(files, "templates.html"))
	return &Console{c: c, pages: pages}
}

// Handler serves everything under Prefix.
func (con *Console) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/console.css", con.css)
	mux.HandleFunc("GET /admin/login", con.loginForm)
	mux.HandleFunc("POST /admin/login", con.login)
	mux.Handle("POST /admin/logout", con.signedIn(con.logout))
	mux.Handle("GET /admin/{$}", con.signedIn(con.overview))
	mux.Handle("GET /admin/versions", con.signedIn(con.versions))
	mux.Handle("GET /admin/permissions", con.signedIn(con.permissions))
	mux.Handle("GET /admin/delivery", con.signedIn(con.delivery))
	mux.Handle("GET /admin/discovered", con.signedIn(con.discovered))
	mux.Handle("GET /admin/person", con.signedIn(con.person))
	mux.Handle("POST /admin/person", con.signedIn(con.personPasted))
	mux.Handle("GET /admin/person/receipts.jsonl", con.signedIn(con.personExport))
	mux.Handle("GET /admin/person/export", con.signedIn(con.personExport))
	mux.Handle("GET /admin/export", con.signedIn(con.export))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "+
			"frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		token, err := tokenHash(con.c.TokenFile)
		if err != nil {
			con.c.Log.Error("admin: read the secret's hash", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if token == "" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusNotFound)
			con.render(w, "closed", nil)
			return
		}
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, token)))
	})
}

type tokenKey struct{}
type sessionKey struct{}

func (con *Console) css(w http.ResponseWriter, r *http.Request) {
	data, _ := files.ReadFile("console.css")
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(data)
}

// signedIn runs h for a request with an open session, and checks a POST's
// origin and CSRF token; otherwise it sends the browser to sign in (a GET)
// or answers 403 (a POST).
func (con *Console) signedIn(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		if c, err := r.Cookie(cookieName); err == nil {
			sess = con.sessions.get(c.Value, r.Context().Value(tokenKey{}).(string), con.c.Now(), con.c.IdleTTL)
		}
		if r.Method == http.MethodPost {
			if sess == nil || !sameOrigin(r, con.c.Scheme(r)) || !equalSecret(r.PostFormValue("csrf"), sess.csrf) {
				con.forbidden(w)
				return
			}
		} else if sess == nil {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess)))
	})
}

func (con *Console) forbidden(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	con.render(w, "forbidden", nil)
}

func (con *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	con.render(w, "login", loginPage{})
}

type loginPage struct {
	Error string
}

func (con *Console) login(w http.ResponseWriter, r *http.Request) {
	now := con.c.Now()
	client := con.c.ClientAddr(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !sameOrigin(r, con.c.Scheme(r)) {
		con.forbidden(w)
		return
	}
	if ok, wait := con.limiter.allowed(client, now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		w.WriteHeader(http.StatusTooManyRequests)
		con.render(w, "login", loginPage{Error: "登录失败次数过多，请 " + strconv.Itoa(int(wait.Minutes())+1) +
			" 分钟后再试。 Too many failed sign-ins: try again later."})
		return
	}
	token := r.Context().Value(tokenKey{}).(string)
	if !equalSecret(hashSecret(r.PostFormValue("secret")), token) {
		con.limiter.fail(client, now)
		con.c.Log.Warn("admin: failed sign-in", "client", client)
		w.WriteHeader(http.StatusUnauthorized)
		con.render(w, "login", loginPage{Error: "密钥不正确。 The secret is not right."})
		return
	}
	id, sess := con.sessions.open(token, now, con.c.SessionTTL)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: Prefix, Expires: sess.expires,
		MaxAge: int(con.c.SessionTTL.Seconds()), HttpOnly: true, Secure: con.c.Scheme(r) == "https", SameSite: http.SameSiteStrictMode})
	con.c.Log.Info("admin: signed in", "client", client)
	http.Redirect(w, r, Prefix, http.StatusSeeOther)
}

func (con *Console) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		con.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Prefix, MaxAge: -1, HttpOnly: true,
		Secure: con.c.Scheme(r) == "https", SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// render executes one page; an error here is a bug, logged.
func (con *Console) render(w http.ResponseWriter, name string, data any) {
	if err := con.pages.ExecuteTemplate(w, name, data); err != nil {
		con.c.Log.Error("admin: render", "page", name, "err", err)
	}
}

// Frame is what every signed-in page's layout needs.
type Frame struct {
	Nav      string // the current page
	CSRF     string
	Position int64 // the last receipt the figures include
	Behind   string
}

// catchUp brings the figures up to date before a page reads them, for at
// most two seconds: what it applied is kept, and the page says when it is
// behind.
func (con *Console) catchUp(r *http.Request, nav string) Frame {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	f := Frame{Nav: nav, CSRF: r.Context().Value(sessionKey{}).(*session).csrf}
	_, err := con.c.Stats.CatchUp(ctx)
	switch {
	case ctx.Err() != nil && r.Context().Err() == nil:
		f.Behind = "统计仍在追赶记录链，刷新可看到更多。 The figures are still catching up with the chain: reload for more."
	case errors.Is(err, stats.ErrOtherChain):
		f.Behind = err.Error()
	case err != nil:
		con.c.Log.Error("admin: figures", "err", err)
		f.Behind = "the figures could not be brought up to date: see the server's log"
	}
	f.Position, _ = con.c.Stats.Position(r.Context())
	return f
}

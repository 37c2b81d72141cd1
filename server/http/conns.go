package http

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"
)

// HealthReserve is how many connections beyond the limit LimitListener
// accepts for health checks.
const HealthReserve = 16

// reserveDeadline is how long a connection on the reserve may live: long
// enough for one health check, too short to hold a slot.
const reserveDeadline = 5 * time.Second

type reservedKey struct{}

// LimitListener returns ln serving at most max connections at once, plus
// HealthReserve more on which only GET /healthz and GET /livez are answered
// (anything else 503 with Retry-After), each closed after one answer or
// reserveDeadline: so held connections cannot stop a load balancer's health
// check. A connection arriving when the reserve is taken too is closed at
// once and counted (consent_connections_refused_total). Serve it with
// HTTPServer, which tells the handler which connections are the reserve's.
// max 0 or less is no limit: ln itself.
func (s *Server) LimitListener(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, max), reserve: make(chan struct{}, HealthReserve), m: s.metrics}
}

type limitListener struct {
	net.Listener
	slots, reserve chan struct{}
	m              *metrics
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			l.m.connections.Inc()
			return &limitedConn{Conn: c, slots: l.slots, m: l.m}, nil
		default:
		}
		select {
		case l.reserve <- struct{}{}:
			l.m.connections.Inc()
			c.SetDeadline(time.Now().Add(reserveDeadline))
			return &limitedConn{Conn: c, slots: l.reserve, m: l.m, reserved: true}, nil
		default:
			l.m.connectionsRefused.Inc()
			c.Close()
		}
	}
}

// limitedConn gives its slot back once closed.
type limitedConn struct {
	net.Conn
	slots    chan struct{}
	m        *metrics
	reserved bool
	once     sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { <-c.slots; c.m.connections.Dec() })
	return err
}

// HTTPServer returns an http.Server for the public handler (Handler) on a
// LimitListener: headers must arrive within 5 s, a body within 15 s, an
// answer is written within 30 s, and an idle keep-alive connection is
// closed after 30 s, giving its slot back.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       30 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if lc, ok := c.(*limitedConn); ok && lc.reserved {
				return context.WithValue(ctx, reservedKey{}, true)
			}
			return ctx
		},
	}
}

// reserveForHealth answers only health on a reserve connection.
func (s *Server) reserveForHealth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Context().Value(reservedKey{}) == nil {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Connection", "close")
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/livez") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "1")
		jsonError(w, http.StatusServiceUnavailable, "the server is at its connection limit: try again")
	})
}

package http

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// clientKey names a client for its quota: an IPv4 address, or the /64 of an
// IPv6 address (one household or one network is given a /64, and every
// address in it is theirs), as 16 bytes.
type clientKey [16]byte

func keyOf(a netip.Addr) clientKey {
	a = a.Unmap()
	if a.Is4() {
		return a.As16() // IPv4-mapped, so never equal to a /64 below
	}
	p, _ := a.WithZone("").Prefix(64)
	return p.Addr().As16()
}

// peer is the address the connection came from, or the zero Addr.
func peer(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil {
		return ap.Addr().Unmap()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// trusted reports whether a is one of the proxies whose X-Forwarded-For and
// X-Forwarded-Proto are believed.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.ingest.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr is the address of the client that made r: the connection's
// peer, or, when the peer is a trusted proxy, the rightmost address in
// X-Forwarded-For that is not a trusted proxy (each proxy appends the
// address it was reached from, so entries left of that one are the client's
// word). When every entry is trusted, the leftmost is the client; when the
// entry that would be is not an address, the last trusted hop stands for it.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	a := peer(r)
	if !s.trusted(a) {
		return a
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return a
		}
		a = hop.Unmap()
		if !s.trusted(a) {
			return a
		}
	}
	return a
}

// scheme is "https" or "http", as the client reached the server: behind a
// trusted proxy, as its X-Forwarded-Proto says (the last one, which the
// nearest proxy set).
func (s *Server) scheme(r *http.Request) string {
	if r.TLS != nil {
		return "https"
	}
	if s.trusted(peer(r)) {
		protos := strings.Split(strings.Join(r.Header.Values("X-Forwarded-Proto"), ","), ",")
		if p := strings.ToLower(strings.TrimSpace(protos[len(protos)-1])); p == "https" || p == "http" {
			return p
		}
	}
	return "http"
}

// sameOrigin reports whether origin is the server's own, as the request
// reached it: the same scheme, host and port (a scheme's default port
// written or not).
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Path != "" || u.User != nil {
		return false
	}
	scheme := s.scheme(r)
	return u.Scheme == scheme && withoutDefaultPort(scheme, u.Host) == withoutDefaultPort(scheme, strings.ToLower(r.Host))
}

func withoutDefaultPort(scheme, host string) string {
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}

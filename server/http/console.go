package http

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"workly.ai/consent"
)

// Metrics returns the server's Prometheus registry, for the console's
// delivery figures.
func (s *Server) Metrics() prometheus.Gatherer { return s.metrics.registry }

// Site returns the built site configuration, nil before a build.
func (s *Server) Site() *consent.Site { return s.site }

// Policies returns the built policy manifest, nil before a build.
func (s *Server) Policies() *consent.Manifest { return s.policies }

// ClientAddr returns the address of the client that made r, through the
// trusted proxies (see clientAddr): the console limits sign-ins by it.
func (s *Server) ClientAddr(r *http.Request) string { return s.clientAddr(r).String() }

// Scheme returns "https" or "http", as the client reached the server,
// through the trusted proxies.
func (s *Server) Scheme(r *http.Request) string { return s.scheme(r) }

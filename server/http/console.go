package http

import (
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

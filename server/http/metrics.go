package http

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the server's Prometheus metrics, served at GET /metrics. Each
// server has its own registry, so tests and several servers in one process
// do not collide. No label carries personal data.
type metrics struct {
	registry *prometheus.Registry
	accepted prometheus.Counter
	rejected *prometheus.CounterVec
	commit   prometheus.Histogram
	batch    prometheus.Histogram
	lag      prometheus.Histogram
	// lagBeyond counts receipts older than the lag histogram's range
	// (maxOutboxLag), kept out of it so that one backdated receipt does not
	// move its sum and mean.
	lagBeyond   prometheus.Counter
	connections prometheus.Gauge
	// connectionsRefused counts connections closed at once because every
	// slot, the reserve included, was taken.
	connectionsRefused prometheus.Counter
}

// maxOutboxLag is the upper bound of the lag histogram's last bucket, ~24
// days: receipts older than that are counted, not measured.
var maxOutboxLag = 0.5 * math.Pow(4, 11)

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consent_receipts_accepted_total", Help: "Receipts received and durably stored (resends included).",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "consent_receipt_posts_rejected_total", Help: "Posts to /v1/receipts refused, by reason.",
		}, []string{"reason"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "consent_receipt_commit_seconds", Help: "Time from a post's receipts reaching the store to their commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "consent_receipt_batch_size", Help: "Receipts per post.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200},
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "consent_receipt_outbox_lag_seconds",
			Help: "Time receipts spent in the browser's outbox: from the event (the receipt's time, by the browser's clock) to its commit here. Resends are counted again.",
			// 0.5 s to ~24 days: outages and people who come back weeks later.
			Buckets: prometheus.ExponentialBuckets(0.5, 4, 12),
		}),
		lagBeyond: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consent_receipt_outbox_lag_beyond_total",
			Help: "Receipts whose time is further in the past than the outbox lag histogram's range (~24 days): late, or backdated.",
		}),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "consent_connections_open", Help: "Connections open on the public listener, the reserve for health checks included.",
		}),
		connectionsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "consent_connections_refused_total", Help: "Connections closed at once because the public listener was at its limit.",
		}),
	}
	m.registry.MustRegister(m.accepted, m.rejected, m.commit, m.batch, m.lag, m.lagBeyond, m.connections, m.connectionsRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

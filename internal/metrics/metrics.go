// Package metrics holds mocpcr's Prometheus metrics on a registry of its
// own (no global state), so tests and several servers in one process do
// not collide.
package metrics

import (
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry is the process's metrics.
type Registry struct {
	reg             *prometheus.Registry
	httpRequests    *prometheus.CounterVec
	httpDuration    *prometheus.HistogramVec
	httpInFlight    prometheus.Gauge
	buildInfoLabels prometheus.Labels
}

// New creates the registry with Go runtime, process and HTTP metrics.
func New(version string) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "mocpcr_http_requests_total",
		Help: "HTTP requests by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "mocpcr_http_request_duration_seconds",
		Help:    "HTTP request latency by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})
	r.httpInFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "mocpcr_http_requests_in_flight",
		Help: "HTTP requests being served (server-sent event streams included).",
	})
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "mocpcr_build_info",
		Help:        "Always 1; labels carry the version.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": goVersion},
	})
	build.Set(1)
	r.reg.MustRegister(r.httpRequests, r.httpDuration, r.httpInFlight, build)
	return r
}

// ObserveHTTP records one finished request. route is the mux pattern
// (never the raw path, which would make one series per change id).
func (r *Registry) ObserveHTTP(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	r.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	r.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// InFlight tracks requests being served.
func (r *Registry) InFlight() prometheus.Gauge { return r.httpInFlight }

// CounterFunc exports a monotonically increasing value read from fn at
// scrape time (for counters kept by other packages, such as emails sent).
func (r *Registry) CounterFunc(name, help string, fn func() float64) {
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// GaugeFunc exports a value read from fn at scrape time.
func (r *Registry) GaugeFunc(name, help string, fn func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

// Register adds a collector (for example a histogram owned by the email sender).
func (r *Registry) Register(c prometheus.Collector) { r.reg.MustRegister(c) }

// Handler serves the metrics in Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{})
}

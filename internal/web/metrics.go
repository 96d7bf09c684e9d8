package web

import (
	"net/http"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// withMetrics sits directly around the mux, because the mux records the
// matched pattern on the request it is given and labels must use the
// pattern, not the raw path.
func (s *Server) withMetrics(next http.Handler) http.Handler {
	if s.Metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		s.Metrics.InFlight().Inc()
		defer s.Metrics.InFlight().Dec()
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.Metrics.ObserveHTTP(r.Pattern, r.Method, rec.status, time.Since(start))
	})
}

// serveMetrics serves /metrics on the main address only to admins,
// typically a Prometheus scraper holding an admin's API token.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	u := auth.UserFrom(r.Context())
	if u == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mocpcr metrics"`)
		http.Error(w, "metrics need an admin's API token (Authorization: Bearer ...) or MOCPCR_METRICS_ADDR", http.StatusUnauthorized)
		return
	}
	if !u.Has(auth.RoleAdmin) {
		http.Error(w, "metrics are for admins", http.StatusForbidden)
		return
	}
	s.Metrics.Handler().ServeHTTP(w, r)
}

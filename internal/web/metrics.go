package web

import (
	"net/http"
	"time"
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

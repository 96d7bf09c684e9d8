package web

import (
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// metricsForAdmins serves /metrics on the main address only to admins,
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

package web

import (
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// opsRoutes registers the routes for operations: metrics, dashboard and
// other cross-cutting pages.
func (s *Server) opsRoutes() {
	s.workRoutes()
	// With MOCPCR_METRICS_ADDR set, metrics are served on that address
	// instead (see app.Serve) and not here.
	if s.Metrics != nil && s.Config.MetricsAddr == "" {
		s.handle("GET /metrics", s.metricsForAdmins)
	}
}

// metricsForAdmins serves /metrics on the main address only to admins,
// typically a Prometheus scraper holding an admin's API token.
func (s *Server) metricsForAdmins(w http.ResponseWriter, r *http.Request) {
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

package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// apiGetMetrics answers the metrics as JSON (filters site_id, unit_id,
// from, to).
func (s *Server) apiGetMetrics(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		f, err := s.metricsFilter(r, "site_id", "unit_id")
		if err != nil {
			return nil, err
		}
		return s.Changes.Metrics(ctx, u, f)
	})
}

// apiExportMetrics is apiGetMetrics as CSV.
func (s *Server) apiExportMetrics(w http.ResponseWriter, r *http.Request) {
	s.exportMetrics(w, r, "site_id", "unit_id")
}

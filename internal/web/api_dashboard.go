package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

func (s *Server) apiGetDashboard(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		d, err := s.Changes.Dashboard(ctx, u)
		return map[string]any{"sites": d}, err
	})
}

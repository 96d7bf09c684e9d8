package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

func (s *Server) apiGetMyWork(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		return s.Changes.MyWork(ctx, u)
	})
}

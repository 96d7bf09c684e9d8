package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

func (s *Server) apiUpdateUnit(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, in change.PlaceUpdate) (any, error) {
		return s.Changes.UpdateUnit(ctx, u, id, in)
	})
}

func (s *Server) apiListUnits(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		var site int64
		if v := r.URL.Query().Get("site_id"); v != "" {
			var err error
			if site, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, problem.Invalidf("site_id", "expected a number")
			}
		}
		us, err := s.Changes.Units(ctx, u, site)
		return map[string]any{"units": us}, err
	})
}

func (s *Server) apiCreateUnit(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		SiteID int64  `json:"site_id"`
		Code   string `json:"code"`
		Name   string `json:"name"`
	}) (any, error) {
		unit, err := s.Changes.CreateUnit(ctx, u, in.SiteID, in.Code, in.Name)
		if err != nil {
			return nil, err
		}
		return created(unit, ""), nil
	})
}

package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

func (s *Server) apiListDelegations(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		ds, err := s.Changes.Delegations(ctx, u)
		return map[string]any{"delegations": ds}, err
	})
}

func (s *Server) apiCreateDelegation(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		DelegateID int64  `json:"delegate_id"`
		StartsOn   string `json:"starts_on"`
		EndsOn     string `json:"ends_on"`
		Reason     string `json:"reason"`
	}) (any, error) {
		start, err := requiredDate("starts_on", in.StartsOn)
		if err != nil {
			return nil, err
		}
		end, err := requiredDate("ends_on", in.EndsOn)
		if err != nil {
			return nil, err
		}
		d, err := s.Changes.CreateDelegation(ctx, u, in.DelegateID, start, end, in.Reason)
		if err != nil {
			return nil, err
		}
		return created(d, ""), nil
	})
}

func (s *Server) apiRevokeDelegation(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withID, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		if err := s.Changes.RevokeDelegation(ctx, u, id); err != nil {
			return nil, err
		}
		return apiReply{status: http.StatusNoContent}, nil
	})
}

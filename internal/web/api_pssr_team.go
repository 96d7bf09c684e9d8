package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

// apiGetPSSRTeam lists a change's PSSR team, lead first.
func (s *Server) apiGetPSSRTeam(w http.ResponseWriter, r *http.Request) {
	s.detailPart(w, r, func(d *change.Detail) any { return map[string]any{"pssr_team": d.PSSRTeam} })
}

// apiSetPSSRTeam names the team: {"lead_id", "members": [{"user_id", "scope"}]}.
func (s *Server) apiSetPSSRTeam(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in change.PSSRTeamRequest) (any, error) {
		team, err := s.Changes.SetPSSRTeam(ctx, u, id, in)
		if err != nil {
			return nil, err
		}
		return map[string]any{"pssr_team": team}, nil
	})
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// apiListLinks answers the changes related to one that the user can see,
// and how many others are linked at sites not theirs (never named).
func (s *Server) apiListLinks(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		links, hidden, err := s.Changes.Links(ctx, u, id)
		if err != nil {
			return nil, err
		}
		return struct {
			Links       []change.Link `json:"links"`
			HiddenLinks int           `json:"hidden_links"`
		}{links, hidden}, nil
	})
}

// apiLinkChange links the change to another (depends_on or related_to),
// named by number or id, as the change page's form does.
func (s *Server) apiLinkChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, in struct {
		Kind         change.LinkKind `json:"kind"`
		LinkedChange string          `json:"linked_change"`
	}) (any, error) {
		l, err := s.Changes.LinkChange(ctx, u, id, in.Kind, in.LinkedChange)
		if err != nil {
			return nil, err
		}
		return created(l, fmt.Sprintf("/api/v1/changes/%d/links", id)), nil
	})
}

// apiUnlinkChange removes one link of the change.
func (s *Server) apiUnlinkChange(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		lid, err := strconv.ParseInt(r.PathValue("lid"), 10, 64)
		if err != nil || lid <= 0 {
			return nil, problem.Newf(problem.NotFound, "change %d has no link %q", id, r.PathValue("lid"))
		}
		if err := s.Changes.UnlinkChange(ctx, u, id, lid); err != nil {
			return nil, err
		}
		return apiReply{status: http.StatusNoContent}, nil
	})
}

package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
)

// apiGetAuditTrail is the raw trail with its hashes: the verification
// material, so it follows the audit page's rule (auditors, coordinators,
// admins on their sites). Everyone who may read the change gets the same
// history in plain words as the change page's timeline. It pages by
// entry number (after, limit; next), so a long trail is read a page at a
// time at the same cost.
func (s *Server) apiGetAuditTrail(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		after, err := queryInt(r, "after", 0)
		if err != nil {
			return nil, err
		}
		limit, err := queryInt(r, "limit", change.MaxAuditPage)
		if err != nil {
			return nil, err
		}
		if limit == 0 {
			return nil, problem.Invalidf("limit", "must be between 1 and %d, got 0", change.MaxAuditPage)
		}
		return s.Changes.AuditTrailPage(ctx, u, id, after, int(min(limit, change.MaxAuditPage+1)))
	})
}

func (s *Server) apiVerifyAudit(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, _ noBody) (any, error) {
		rep, err := s.Changes.VerifyAudit(ctx, u)
		if err != nil {
			return nil, err
		}
		return map[string]any{"ok": rep.OK(), "report": rep}, nil
	})
}

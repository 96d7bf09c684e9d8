package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
)

// apiGetAuditTrail is the raw trail with its hashes: the verification
// material, so it follows the audit page's rule (auditors, coordinators,
// admins on their sites). Everyone who may read the change gets the same
// history in plain words as the change page's timeline.
func (s *Server) apiGetAuditTrail(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, withChange, func(ctx context.Context, u *auth.User, id int64, _ noBody) (any, error) {
		es, err := s.Changes.AuditTrail(ctx, u, id)
		return map[string]any{"entries": es}, err
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

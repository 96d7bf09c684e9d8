package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
)

func (s *Server) apiGetReminderSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, _ *auth.User, _ int64, _ noBody) (any, error) {
		return s.Changes.ReminderSettings(ctx)
	})
}

func (s *Server) apiUpdateReminderSettings(w http.ResponseWriter, r *http.Request) {
	changeCall(s, w, r, noID, func(ctx context.Context, u *auth.User, _ int64, in struct {
		PendingAfterDays  int   `json:"pending_after_days"`
		EscalateAfterDays int   `json:"escalate_after_days"`
		ActionDueSoonDays int   `json:"action_due_soon_days"`
		ExpiryWarningDays []int `json:"expiry_warning_days"`
		RunHourUTC        int   `json:"run_hour_utc"`
	}) (any, error) {
		return s.Changes.UpdateReminderSettings(ctx, u, change.ReminderSettings{PendingAfterDays: in.PendingAfterDays,
			EscalateAfterDays: in.EscalateAfterDays, ActionDueSoonDays: in.ActionDueSoonDays, ExpiryWarningDays: in.ExpiryWarningDays,
			RunHourUTC: in.RunHourUTC})
	})
}

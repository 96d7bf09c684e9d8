package web

import (
	"context"
	"net/http"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/problem"
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
		RunHour           *int  `json:"run_hour"`
		// RunHourUTC is the name before the hour became site-local,
		// still accepted from clients written then.
		RunHourUTC *int `json:"run_hour_utc"`
	}) (any, error) {
		hour := in.RunHour
		switch {
		case hour == nil:
			hour = in.RunHourUTC
		case in.RunHourUTC != nil && *in.RunHourUTC != *hour:
			return nil, problem.Invalidf("run_hour_utc", "is the old name of run_hour: send one of them, not both with different hours")
		}
		if hour == nil {
			return nil, problem.Invalidf("run_hour", "is required: the hour of day (0-23, in each site's time zone) reminders go out")
		}
		return s.Changes.UpdateReminderSettings(ctx, u, change.ReminderSettings{PendingAfterDays: in.PendingAfterDays,
			EscalateAfterDays: in.EscalateAfterDays, ActionDueSoonDays: in.ActionDueSoonDays, ExpiryWarningDays: in.ExpiryWarningDays,
			RunHour: *hour})
	})
}

package app

import (
	"context"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
)

// addPeriodicJobs registers the cluster-wide periodic work. The queue runs
// each on one replica only (leader election), and each is safe to repeat:
// reminders are recorded per item, recipient and day, so a second run on
// the same day sends nothing.
func (a *App) addPeriodicJobs() error {
	if err := a.Jobs.AddPeriodic("change.reminders", 15*time.Minute, func(ctx context.Context) error {
		now := a.Changes.Now()
		due, err := a.Changes.ReminderJobDue(ctx, now)
		if err != nil || !due {
			return err
		}
		sent, err := a.Changes.RunReminders(ctx, now)
		if sent > 0 {
			a.Logger.InfoContext(ctx, "reminders sent", "count", sent)
		}
		return err
	}); err != nil {
		return err
	}
	// Daily digests of reminders go out from one hour after the reminder
	// run hour, in each user's (first) site's zone, once per user and day
	// (see notify.Digest.Run).
	digest := notify.Digest{DB: a.DB, Jobs: a.Jobs, BaseURL: a.Config.BaseURL, Zone: a.Changes.UserZone}
	if err := a.Jobs.AddPeriodic("notify.digest", 15*time.Minute, func(ctx context.Context) error {
		rs, err := a.Changes.ReminderSettings(ctx)
		if err != nil {
			return err
		}
		d := digest
		d.Hour = notify.DigestHour(rs.RunHour)
		sent, err := d.Run(ctx, a.Changes.Now())
		if sent > 0 {
			a.Logger.InfoContext(ctx, "daily digests queued", "count", sent)
		}
		return err
	}); err != nil {
		return err
	}
	return a.Jobs.AddPeriodic("auth.purge-sessions", time.Hour, func(ctx context.Context) error {
		n, err := auth.PurgeSessions(ctx, a.DB.SQL, time.Now(), auth.DefaultSessionConfig)
		if n > 0 {
			a.Logger.DebugContext(ctx, "expired sessions purged", "count", n)
		}
		return err
	})
}

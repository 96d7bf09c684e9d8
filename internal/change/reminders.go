package change

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
)

// ReminderSettings say when reminders and escalations go out.
type ReminderSettings struct {
	// PendingAfterDays: reviews and approvals waiting this many days get a daily reminder.
	PendingAfterDays int `json:"pending_after_days"`
	// EscalateAfterDays: this many days after reminders start (or after an
	// action's due date) the manager, or the site's coordinators, are told.
	EscalateAfterDays int `json:"escalate_after_days"`
	// ActionDueSoonDays: actions due within this many days get a reminder.
	ActionDueSoonDays int `json:"action_due_soon_days"`
	// ExpiryWarningDays: days before a temporary change expires to warn
	// its owner (then every day from the expiry date).
	ExpiryWarningDays []int `json:"expiry_warning_days"`
	// RunHour is the hour of day reminders go out, in each site's time
	// zone: a site's reminders are sent from that local hour on.
	RunHour   int       `json:"run_hour"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReminderSettings returns the current settings.
func (s *Service) ReminderSettings(ctx context.Context) (*ReminderSettings, error) {
	rs := &ReminderSettings{}
	var days string
	err := s.DB.Prepared().QueryRowContext(ctx, `SELECT pending_after_days, escalate_after_days, action_due_soon_days, expiry_warning_days,
		run_hour, updated_at FROM reminder_settings WHERE id = 1`).Scan(&rs.PendingAfterDays, &rs.EscalateAfterDays,
		&rs.ActionDueSoonDays, &days, &rs.RunHour, &rs.UpdatedAt)
	if err != nil {
		return nil, fmt.Errorf("load reminder settings: %w", err)
	}
	rs.UpdatedAt = rs.UpdatedAt.UTC()
	rs.ExpiryWarningDays = []int{}
	for _, p := range strings.Split(days, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			rs.ExpiryWarningDays = append(rs.ExpiryWarningDays, n)
		}
	}
	return rs, nil
}

// UpdateReminderSettings replaces the settings (admin only).
func (s *Service) UpdateReminderSettings(ctx context.Context, actor *auth.User, rs ReminderSettings) (*ReminderSettings, error) {
	if !actor.Has(auth.RoleAdmin) {
		return nil, forbidden("only an admin may change reminder settings")
	}
	if rs.PendingAfterDays < 1 || rs.PendingAfterDays > 90 {
		return nil, invalid("pending_after_days", "must be between 1 and 90")
	}
	if rs.EscalateAfterDays < 1 || rs.EscalateAfterDays > 90 {
		return nil, invalid("escalate_after_days", "must be between 1 and 90")
	}
	if rs.ActionDueSoonDays < 0 || rs.ActionDueSoonDays > 60 {
		return nil, invalid("action_due_soon_days", "must be between 0 and 60")
	}
	if rs.RunHour < 0 || rs.RunHour > 23 {
		return nil, invalid("run_hour", "must be an hour between 0 and 23 (in each site's time zone)")
	}
	var parts []string
	for _, d := range rs.ExpiryWarningDays {
		if d < 1 || d > 365 {
			return nil, invalid("expiry_warning_days", "each must be between 1 and 365 days, got %d", d)
		}
		parts = append(parts, strconv.Itoa(d))
	}
	if _, err := s.DB.SQL.ExecContext(ctx, `UPDATE reminder_settings SET pending_after_days=$1, escalate_after_days=$2,
		action_due_soon_days=$3, expiry_warning_days=$4, run_hour=$5, updated_at=$6 WHERE id = 1`,
		rs.PendingAfterDays, rs.EscalateAfterDays, rs.ActionDueSoonDays, strings.Join(parts, ","), rs.RunHour, s.now()); err != nil {
		return nil, err
	}
	return s.ReminderSettings(ctx)
}

// reminder is one notification RunReminders may send.
type reminder struct {
	kind      string
	itemID    int64
	recipient int64
	typ       notify.Type
	changeID  int64
	title     string
	body      string
}

// datedReminder is a reminder due on its site's local date (day): it is
// sent once per thing, recipient and that day.
type datedReminder struct {
	reminder
	day string
}

// siteDay is a site's local calendar at a moment: its date (as a UTC
// midnight, like the dates stored) and whether its reminder hour has come.
type siteDay struct {
	loc   *time.Location
	today time.Time
	due   bool
}

// dateIn is t's date in loc, as a UTC midnight.
func dateIn(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// siteDays reads each site's calendar at now once, for one run.
func (s *Service) siteDays(ctx context.Context, q store.Querier, now time.Time, hour int) func(siteID int64) (siteDay, error) {
	days := map[int64]siteDay{}
	return func(siteID int64) (siteDay, error) {
		if d, ok := days[siteID]; ok {
			return d, nil
		}
		ss, err := siteSettings(ctx, q, siteID)
		if err != nil {
			return siteDay{}, err
		}
		loc := ss.Location()
		d := siteDay{loc: loc, today: dateIn(now, loc), due: now.In(loc).Hour() >= hour}
		days[siteID] = d
		return d, nil
	}
}

// actionSites maps the changes of the actions matching where to their
// sites, in one query.
func actionSites(ctx context.Context, q store.Querier, where string) (map[int64]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT c.id, c.site_id FROM change_actions a JOIN changes c ON c.id = a.change_id WHERE `+where)
	if err != nil {
		return nil, fmt.Errorf("reminders: sites of actions: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, site int64
		if err := rows.Scan(&id, &site); err != nil {
			return nil, err
		}
		out[id] = site
	}
	return out, rows.Err()
}

func daysBetween(from, to time.Time) int {
	return int(dateOnly(to).Sub(dateOnly(from)).Hours() / 24)
}

// RunReminders sends the reminders and escalations due on each site's
// local day at now, for the sites whose reminder hour has come: pending
// reviews and approvals, actions due soon and overdue, temporary changes
// nearing or past expiry, emergency changes past their review deadline. Each (kind, item, recipient, day) is sent at most once:
// the reminders_sent row and the notification commit in one transaction,
// so two workers or replicas running at once still send each reminder
// once. It is deterministic for a given now and database.
func (s *Service) RunReminders(ctx context.Context, now time.Time) (sent int, err error) {
	rs, err := s.ReminderSettings(ctx)
	if err != nil {
		return 0, err
	}
	var due []datedReminder
	q := s.DB.SQL
	at := s.siteDays(ctx, q, now, rs.RunHour)
	add := func(sd siteDay, r reminder) { due = append(due, datedReminder{r, sd.today.Format(time.DateOnly)}) }

	managerOr := func(userID, siteID int64) ([]int64, error) {
		var m sql.NullInt64
		if err := q.QueryRowContext(ctx, `SELECT manager_id FROM users WHERE id = $1`, userID).Scan(&m); err != nil {
			return nil, err
		}
		if m.Valid && m.Int64 != userID {
			return []int64{m.Int64}, nil
		}
		return s.coordinators(ctx, q, siteID)
	}

	// Pending reviews and approvals.
	pending := []struct{ kind, query string }{
		{"review", `SELECT r.id, r.reviewer_id, r.requested_at, c.id, c.number, c.title, c.site_id FROM change_reviews r
			JOIN changes c ON c.id = r.change_id WHERE c.stage = 'review' AND r.round = c.round AND r.decided_at IS NULL
			AND r.requested_at IS NOT NULL AND r.reviewer_id IS NOT NULL ORDER BY r.id`},
		{"approval", `SELECT a.id, a.approver_id, a.requested_at, c.id, c.number, c.title, c.site_id FROM change_approvals a
			JOIN changes c ON c.id = a.change_id WHERE c.stage = 'approval' AND a.round = c.round AND a.decided_at IS NULL
			AND a.requested_at IS NOT NULL ORDER BY a.id`},
	}
	for _, p := range pending {
		rows, err := q.QueryContext(ctx, p.query)
		if err != nil {
			return 0, fmt.Errorf("reminders: %w", err)
		}
		type row struct {
			id, user, changeID, siteID int64
			requested                  time.Time
			number, title              string
		}
		var list []row
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.id, &r.user, &r.requested, &r.changeID, &r.number, &r.title, &r.siteID); err != nil {
				rows.Close()
				return 0, err
			}
			list = append(list, r)
		}
		rows.Close()
		for _, r := range list {
			sd, err := at(r.siteID)
			if err != nil {
				return 0, err
			}
			if !sd.due {
				continue
			}
			since := dateIn(r.requested, sd.loc)
			age := daysBetween(since, sd.today)
			if age < rs.PendingAfterDays {
				continue
			}
			add(sd, reminder{p.kind + "_pending", r.id, r.user, notify.TypeReminder, r.changeID,
				fmt.Sprintf("Reminder: %s %s waiting %d days", r.number, p.kind, age),
				fmt.Sprintf("Your %s of %s (%s) has been waiting since %s.", p.kind, r.number, r.title, since.Format(time.DateOnly))})
			if age >= rs.PendingAfterDays+rs.EscalateAfterDays {
				to, err := managerOr(r.user, r.siteID)
				if err != nil {
					return 0, err
				}
				for _, m := range to {
					add(sd, reminder{p.kind + "_escalation", r.id, m, notify.TypeEscalation, r.changeID,
						fmt.Sprintf("Escalation: %s %s overdue (%d days)", r.number, p.kind, age),
						fmt.Sprintf("A %s of %s (%s) assigned on %s is still waiting.", p.kind, r.number, r.title, since.Format(time.DateOnly))})
				}
			}
		}
	}

	// Actions due soon and overdue.
	const openDue = `a.status = 'open' AND a.due_on IS NOT NULL AND c.stage NOT IN ('closed', 'voided')`
	acts, err := s.listActions(ctx, q, openDue)
	if err != nil {
		return 0, err
	}
	siteOf, err := actionSites(ctx, q, openDue)
	if err != nil {
		return 0, err
	}
	for _, a := range acts {
		site := siteOf[a.ChangeID]
		sd, err := at(site)
		if err != nil {
			return 0, err
		}
		if !sd.due {
			continue
		}
		left := daysBetween(sd.today, *a.DueOn)
		switch {
		case left >= 0 && left <= rs.ActionDueSoonDays:
			add(sd, reminder{"action_due_soon", a.ID, a.OwnerID, notify.TypeActionDueSoon, a.ChangeID,
				fmt.Sprintf("Action due %s on %s: %s", a.DueOn.Format(time.DateOnly), a.ChangeNumber, a.Title), "Your action item is due soon."})
		case left < 0:
			add(sd, reminder{"action_overdue", a.ID, a.OwnerID, notify.TypeActionOverdue, a.ChangeID,
				fmt.Sprintf("Action overdue on %s: %s", a.ChangeNumber, a.Title), fmt.Sprintf("It was due %s.", a.DueOn.Format(time.DateOnly))})
			if -left >= rs.EscalateAfterDays {
				to, err := managerOr(a.OwnerID, site)
				if err != nil {
					return 0, err
				}
				for _, m := range to {
					add(sd, reminder{"action_escalation", a.ID, m, notify.TypeEscalation, a.ChangeID,
						fmt.Sprintf("Escalation: action overdue on %s: %s", a.ChangeNumber, a.Title),
						fmt.Sprintf("%s's action was due %s.", a.OwnerName, a.DueOn.Format(time.DateOnly))})
				}
			}
		}
	}

	// Temporary changes nearing or past expiry; emergency changes past
	// their review deadline.
	temps, err := s.queryChanges(ctx, q, ` WHERE c.duration IN ('temporary', 'emergency') AND c.reverted_at IS NULL
		AND c.stage NOT IN ('closed', 'voided', 'draft') ORDER BY c.id`)
	if err != nil {
		return 0, err
	}
	for _, c := range temps {
		sd, err := at(c.SiteID)
		if err != nil {
			return 0, err
		}
		if !sd.due {
			continue
		}
		live := c.LiveTemporary() || c.Duration == DurationEmergency
		if live && c.ExpiresOn != nil {
			left := daysBetween(sd.today, *c.ExpiresOn)
			if left <= 0 || slices.Contains(rs.ExpiryWarningDays, left) {
				to := []int64{c.InitiatorID}
				title := fmt.Sprintf("%s expires in %d days (%s)", c.Number, left, c.ExpiresOn.Format(time.DateOnly))
				if left <= 0 {
					coords, err := s.coordinators(ctx, q, c.SiteID)
					if err != nil {
						return 0, err
					}
					to = append(to, coords...)
					title = fmt.Sprintf("%s expired on %s: revert it or convert it to permanent", c.Number, c.ExpiresOn.Format(time.DateOnly))
				}
				for _, u := range to {
					add(sd, reminder{"temporary_expiry", c.ID, u, notify.TypeTemporaryExpiring, c.ID, title,
						"Temporary change " + c.Number + " (" + c.Title + ") must be reverted or converted to permanent at expiry."})
				}
			}
		}
		if c.Duration != DurationEmergency || c.ReviewDeadline == nil || !in(c.Stage, StageScreening, StageReview, StageApproval, StageReturned) {
			continue
		}
		// The full review of an emergency change: the people it waits for
		// are reminded on the day before and on the deadline; after it,
		// they are reminded daily and their managers (or the site's
		// coordinators) told, and the initiator and coordinators hear it
		// is overdue.
		deadline := c.ReviewDeadline.Format(time.DateOnly)
		pending, err := s.pendingReviewers(ctx, q, c)
		if err != nil {
			return 0, err
		}
		switch left := daysBetween(sd.today, *c.ReviewDeadline); {
		case left == 0 || left == 1:
			for _, u := range pending {
				add(sd, reminder{"emergency_review_due", c.ID, u, notify.TypeReminder, c.ID,
					fmt.Sprintf("Emergency change %s: full review due %s", c.Number, deadline),
					"It was implemented before full review; your review or approval of " + c.Number + " (" + c.Title + ") is due by " + deadline + "."})
			}
		case left < 0:
			coords, err := s.coordinators(ctx, q, c.SiteID)
			if err != nil {
				return 0, err
			}
			for _, u := range append([]int64{c.InitiatorID}, coords...) {
				add(sd, reminder{"emergency_overdue", c.ID, u, notify.TypeEmergencyOverdue, c.ID,
					fmt.Sprintf("Emergency change %s is past its review deadline (%s)", c.Number, deadline),
					"The full review of " + c.Number + " (" + c.Title + ") was due by " + deadline + "."})
			}
			for _, u := range pending {
				add(sd, reminder{"emergency_review_due", c.ID, u, notify.TypeReminder, c.ID,
					fmt.Sprintf("Overdue: your review of emergency change %s was due %s", c.Number, deadline),
					"The full review of " + c.Number + " (" + c.Title + ") was due by " + deadline + "."})
				to, err := managerOr(u, c.SiteID)
				if err != nil {
					return 0, err
				}
				for _, m := range to {
					add(sd, reminder{"emergency_escalation", c.ID, m, notify.TypeEscalation, c.ID,
						fmt.Sprintf("Escalation: emergency change %s missed its review deadline (%s)", c.Number, deadline),
						"A review or approval of " + c.Number + " (" + c.Title + ") is still waiting; it was due by " + deadline + "."})
				}
			}
		}
	}

	for _, r := range due {
		err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `INSERT INTO reminders_sent (kind, item_id, recipient, day, sent_at) VALUES ($1,$2,$3,$4,$5)
				ON CONFLICT (kind, item_id, recipient, day) DO NOTHING`, r.kind, r.itemID, r.recipient, r.day, now.UTC())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil // already sent today, by us or another worker
			}
			sent++
			return s.notify(ctx, tx, r.typ, &Change{ID: r.changeID}, r.title, r.body, r.recipient)
		})
		if err != nil {
			return sent, fmt.Errorf("send reminder %s %d to user %d: %w", r.kind, r.itemID, r.recipient, err)
		}
	}
	return sent, nil
}

// pendingReviewers are who the current round of c waits for: assigned
// reviewers who have not decided and approvers asked who have not signed.
func (s *Service) pendingReviewers(ctx context.Context, q store.Querier, c Change) ([]int64, error) {
	return userIDs(ctx, q, `SELECT reviewer_id FROM change_reviews WHERE change_id = $1 AND round = $2 AND decided_at IS NULL
		AND reviewer_id IS NOT NULL UNION SELECT approver_id FROM change_approvals WHERE change_id = $1 AND round = $2
		AND decided_at IS NULL AND requested_at IS NOT NULL ORDER BY 1`, c.ID, c.Round)
}

// ReminderJobDue reports whether the periodic reminder job should run at
// now: whether the reminder hour has come on some site (in its zone, UTC
// for a site without one). Running it more often is harmless (each
// reminder is sent once a day, and RunReminders skips the sites whose
// hour has not come); this only saves the queries the rest of the day.
func (s *Service) ReminderJobDue(ctx context.Context, now time.Time) (bool, error) {
	rs, err := s.ReminderSettings(ctx)
	if err != nil {
		return false, err
	}
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT DISTINCT COALESCE(ss.time_zone, 'UTC') FROM sites s
		LEFT JOIN change_site_settings ss ON ss.site_id = s.id`)
	if err != nil {
		return false, fmt.Errorf("reminder zones: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return false, err
		}
		if now.In(zone(name)).Hour() >= rs.RunHour {
			return true, nil
		}
	}
	return false, rows.Err()
}

package notify

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/store"
)

// DeferToDigest holds notification id for userID's next daily digest, for
// an informational email that the sender's daily recipient budget keeps
// from going out on its own (jobs.Options.DeferToDigest). The digest goes
// to everyone with held notifications, whether or not they chose it.
func DeferToDigest(now func() time.Time) func(ctx context.Context, tx *sql.Tx, notificationID, userID int64) (bool, error) {
	return func(ctx context.Context, tx *sql.Tx, notificationID, userID int64) (bool, error) {
		res, err := tx.ExecContext(ctx, `INSERT INTO digest_items (notification_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (notification_id) DO NOTHING`, notificationID, userID, now().UTC())
		if err != nil {
			return false, fmt.Errorf("move notification %d to the digest: %w", notificationID, err)
		}
		n, err := res.RowsAffected()
		return n == 1, err
	}
}

// BudgetCheck warns admins, in the app and by email, once a day when a
// sender mailbox (GRAPH_MAIL_SENDER, or a site's own, each with its own
// budget) has used jobs.BudgetWarnShare of its daily recipient budget. Run it as a periodic job; the time of the last warning is kept
// in settings, so restarts and replicas still warn once a day.
type BudgetCheck struct {
	DB       *store.DB
	Notifier *Notifier
	// Sender and Limit are the mailbox and its budget
	// (GRAPH_MAIL_SENDER, MOCPCR_EMAIL_DAILY_RECIPIENTS).
	Sender string
	Limit  int
	// Now is the clock; tests replace it.
	Now func() time.Time
}

// Run warns about each sender whose warning is due.
func (c BudgetCheck) Run(ctx context.Context) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	t := now().UTC()
	// Only a sender that sent in the last day can be near its budget.
	budgets, err := jobs.SenderBudgets(ctx, c.DB.SQL, c.Sender, nil, c.Limit, t)
	if err != nil {
		return err
	}
	var errs []error
	for _, b := range budgets {
		if b.Share() >= jobs.BudgetWarnShare {
			errs = append(errs, c.warn(ctx, b, t))
		}
	}
	return errors.Join(errs...)
}

// warn tells the admins that b's sender nears its budget, unless they
// were told in the last day.
func (c BudgetCheck) warn(ctx context.Context, b jobs.Budget, t time.Time) error {
	key := "notify.email_budget_warned_at:" + b.Sender
	return c.DB.Tx(ctx, func(tx *sql.Tx) error {
		var last string
		err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("email budget warning: %w", err)
		}
		if lt, perr := time.Parse(time.RFC3339, last); perr == nil && t.Sub(lt) < 24*time.Hour {
			return nil
		}
		admins, err := activeAdmins(ctx, tx)
		if err != nil {
			return fmt.Errorf("email budget warning: %w", err)
		}
		title := fmt.Sprintf("%s has used %d%% of its daily email budget", b.Sender, b.Percent())
		body := fmt.Sprintf("%d of %d recipients in the last 24 hours (MOCPCR_EMAIL_DAILY_RECIPIENTS). Exchange Online blocks a mailbox that sends to more than %d recipients a day. From now on informational emails go into each person's daily digest, and emails that ask someone to act keep the rest of the budget; when it is used up, emails wait until it frees (%s).",
			b.Used, b.Limit, jobs.ExchangeDailyRecipients, b.FreesAt.Format("2006-01-02 15:04 UTC"))
		if len(admins) > 0 {
			if err := c.Notifier.Notify(ctx, tx, Event{Type: TypeEmailBudget, Title: title, Body: body, Link: "/admin/email", Recipients: admins}); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key = $1`, key); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)`, key, t.Format(time.RFC3339), t)
		return err
	})
}

// activeAdmins lists the users with the admin role who are not disabled.
func activeAdmins(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id WHERE r.role = 'admin' AND u.disabled = FALSE`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var admins []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		admins = append(admins, id)
	}
	return admins, rows.Err()
}

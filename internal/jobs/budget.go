package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// Exchange Online's sending limit and mocpcr's budget under it.
const (
	// ExchangeDailyRecipients is what Exchange Online lets one mailbox
	// send to per rolling 24 hours before it blocks the mailbox for a day.
	ExchangeDailyRecipients = 10000
	// DefaultDailyRecipients is the default budget
	// (MOCPCR_EMAIL_DAILY_RECIPIENTS): a tenth below Exchange's limit, for
	// the sends in flight on every replica when the budget is reached and
	// for what people send from the mailbox by hand.
	DefaultDailyRecipients = 9000
	// budgetInformational is the share of the budget informational
	// emails may use; beyond it they move to the daily digest, and the
	// rest is kept for emails that ask someone to act.
	budgetInformational = 0.8
	// BudgetWarnShare is the share of the budget at which admins are
	// warned.
	BudgetWarnShare = 0.8
)

// StatusDigested is an informational email that was not sent on its own
// because its sender neared its daily recipient budget: its notification
// goes out in the recipient's next daily digest.
const StatusDigested = "digested"

// usageHour is the usage bucket an instant belongs to.
func usageHour(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// Budget is a sender mailbox's use of its daily recipient budget.
type Budget struct {
	Sender string `json:"sender"`
	// Used is recipients of the emails Graph accepted in the last 24
	// hours (up to an hour more: the oldest hour is counted whole).
	Used int `json:"used"`
	// Limit is the budget (MOCPCR_EMAIL_DAILY_RECIPIENTS).
	Limit int `json:"limit"`
	// FreesAt is when the oldest counted hour leaves the window; zero
	// when nothing is counted.
	FreesAt time.Time `json:"frees_at,omitzero"`
}

// Share is Used / Limit.
func (b Budget) Share() float64 {
	if b.Limit <= 0 {
		return 0
	}
	return float64(b.Used) / float64(b.Limit)
}

// Percent is Used / Limit in whole per cent, for pages.
func (b Budget) Percent() int { return int(b.Share() * 100) }

// SenderUsage reads sender's use of a budget of limit recipients at now,
// from every replica's counts.
func SenderUsage(ctx context.Context, q store.Querier, sender string, limit int, now time.Time) (Budget, error) {
	b := Budget{Sender: strings.ToLower(sender), Limit: limit}
	rows, err := q.QueryContext(ctx, `SELECT hour, recipients FROM email_sender_usage WHERE sender = $1 AND hour >= $2 ORDER BY hour`,
		b.Sender, usageHour(now.Add(-24*time.Hour)))
	if err != nil {
		return b, fmt.Errorf("read the daily recipient budget of %s: %w", sender, err)
	}
	defer rows.Close()
	for rows.Next() {
		var hour time.Time
		var n int
		if err := rows.Scan(&hour, &n); err != nil {
			return b, fmt.Errorf("read the daily recipient budget of %s: %w", sender, err)
		}
		if n > 0 && b.FreesAt.IsZero() {
			b.FreesAt = hour.UTC().Add(25 * time.Hour)
		}
		b.Used += n
	}
	return b, rows.Err()
}

// SenderBudgets is the use of the budget of every sender mailbox that
// matters at now: the default sender first, then, in order, the senders
// named in also (the sites' own) and any other that sent in the last 24
// hours (a site that has since gone back to the default). Each has its
// own budget of limit recipients.
func SenderBudgets(ctx context.Context, q store.Querier, defaultSender string, also []string, limit int, now time.Time) ([]Budget, error) {
	// The default comes first even unset (a dev setup counts it as "").
	def := senderKey(strings.TrimSpace(defaultSender))
	seen := map[string]bool{def: true}
	senders := []string{def}
	add := func(s string) {
		if k := senderKey(strings.TrimSpace(s)); k != "" && !seen[k] {
			seen[k] = true
			senders = append(senders, k)
		}
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT sender FROM email_sender_usage WHERE hour >= $1 AND recipients > 0`, usageHour(now.Add(-24*time.Hour)))
	if err != nil {
		return nil, fmt.Errorf("senders of the last day: %w", err)
	}
	var recent []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return nil, fmt.Errorf("senders of the last day: %w", err)
		}
		recent = append(recent, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("senders of the last day: %w", err)
	}
	slices.Sort(recent)
	for _, s := range append(slices.Clone(also), recent...) {
		add(s)
	}
	out := make([]Budget, 0, len(senders))
	for _, s := range senders {
		b, err := SenderUsage(ctx, q, s, limit, now)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// Budget is the queue's sender's use of its budget now.
func (q *Queue) Budget(ctx context.Context) (Budget, error) {
	return SenderUsage(ctx, q.db.SQL, q.opt.Sender, q.opt.DailyRecipients, q.opt.Now())
}

// budgetVerdict is what the budget says about sending m now.
type budgetVerdict int

const (
	budgetSend   budgetVerdict = iota
	budgetDigest               // informational, and the sender is near its budget
	budgetHold                 // the budget is used up until it frees
)

// reserveBudget decides whether m may be sent now and, if so, counts its
// recipient at once, before the send: counting after Graph's answer would
// let every send in flight on every replica pass the same last place.
// Emails that ask someone to act may use the whole budget; informational
// ones the first budgetInformational of it, after which they move to the
// digest (when they belong to a notification and a digest is wired) or
// wait. The transaction first touches the current hour's row, which
// serializes the replicas' reservations for one sender (a row lock on
// PostgreSQL, the write lock on SQLite). It returns the hour counted, for
// releaseBudget.
func (q *Queue) reserveBudget(ctx context.Context, m message) (budgetVerdict, Budget, time.Time, error) {
	const recipients = 1
	sender := q.senderOf(m)
	now := q.opt.Now()
	hour := usageHour(now)
	verdict := budgetSend
	var b Budget
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO email_sender_usage (sender, hour, recipients) VALUES ($1, $2, 0)
			ON CONFLICT (sender, hour) DO UPDATE SET recipients = email_sender_usage.recipients`, senderKey(sender), hour); err != nil {
			return err
		}
		var err error
		if b, err = SenderUsage(ctx, tx, sender, q.opt.DailyRecipients, now); err != nil {
			return err
		}
		switch {
		case b.Used+recipients > b.Limit:
			verdict = budgetHold
		case !m.ActionRequired && float64(b.Used+recipients) > budgetInformational*float64(b.Limit):
			verdict = budgetHold
			if m.NotificationID != 0 && m.UserID != 0 && q.opt.DeferToDigest != nil {
				verdict = budgetDigest
			}
		}
		if verdict != budgetSend {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE email_sender_usage SET recipients = recipients + $1 WHERE sender = $2 AND hour = $3`,
			recipients, senderKey(sender), hour)
		return err
	})
	if err != nil {
		return budgetSend, b, time.Time{}, fmt.Errorf("reserve the daily recipient budget: %w", err)
	}
	if verdict != budgetSend {
		hour = time.Time{}
	}
	return verdict, b, hour, nil
}

// releaseBudget gives back a reservation whose email Graph did not
// accept (and cannot have: a request that may have been delivered stays
// counted).
func (q *Queue) releaseBudget(ctx context.Context, sender string, hour time.Time) {
	if hour.IsZero() {
		return
	}
	if _, err := q.db.SQL.ExecContext(ctx, `UPDATE email_sender_usage SET recipients = recipients - 1 WHERE sender = $1 AND hour = $2 AND recipients > 0`,
		senderKey(sender), hour); err != nil {
		q.log.WarnContext(ctx, "could not give back a daily budget reservation; the budget counts one recipient too many for a day", "err", err)
	}
}

// holdText is the delivery log's note on an email the budget holds.
func (q *Queue) holdText(b Budget) string {
	return fmt.Sprintf("held: %s has used %d of its daily budget of %d recipients (MOCPCR_EMAIL_DAILY_RECIPIENTS; Exchange Online blocks a mailbox for a day beyond %d); sent when the budget frees, from %s",
		b.Sender, b.Used, b.Limit, ExchangeDailyRecipients, b.FreesAt.UTC().Format("2006-01-02 15:04 UTC"))
}

// hold leaves m unsent until the budget frees, without using an attempt.
func (q *Queue) hold(ctx context.Context, m message, b Budget) (time.Duration, error) {
	until := b.FreesAt
	if until.IsZero() || !until.After(q.opt.Now()) {
		until = q.opt.Now().Add(time.Minute)
	}
	// Spread over a minute, so that the held emails do not all return in
	// the same instant.
	wait := until.Sub(q.opt.Now()) + time.Duration(float64(time.Minute)*(q.opt.Jitter()-0.75)*2)
	_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_messages SET claimed_by = '', next_attempt_at = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4`,
		q.opt.Now().Add(wait).UTC(), q.holdText(b), m.ID, q.run.id)
	return wait, err
}

// budgetUnknownText is the delivery log's note on an email held because
// the budget could not be read or counted.
const budgetUnknownText = "held: the daily recipient budget could not be read or counted (a database error), so the email is not sent blindly; it is tried again shortly"

// holdBudgetUnknown leaves m unsent for wait, without using an attempt,
// after its budget reservation failed.
func (q *Queue) holdBudgetUnknown(ctx context.Context, m message, wait time.Duration) error {
	_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_messages SET claimed_by = '', next_attempt_at = $1, last_error = $2 WHERE id = $3 AND claimed_by = $4`,
		q.opt.Now().Add(wait).UTC(), budgetUnknownText, m.ID, q.run.id)
	return err
}

// digest moves m's notification to its recipient's daily digest and ends
// the email there.
func (q *Queue) digest(ctx context.Context, m message, b Budget) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE email_messages SET status = $1, claimed_by = '', next_attempt_at = NULL, updated_at = $2, last_error = $3
			WHERE id = $4 AND claimed_by = $5 AND status IN ($6, $7, $8)`,
			StatusDigested, q.opt.Now().UTC(),
			fmt.Sprintf("moved to the daily digest: %s has used %d of its daily budget of %d recipients, and the rest is kept for emails that ask someone to act", b.Sender, b.Used, b.Limit),
			m.ID, q.run.id, StatusQueued, StatusRetrying, StatusWaitingConfig)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			if err == nil {
				err = fmt.Errorf("email %d: %w", m.ID, errNotSendable)
			}
			return err
		}
		_, err = q.opt.DeferToDigest(ctx, tx, m.NotificationID, m.UserID)
		return err
	})
}

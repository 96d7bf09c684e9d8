package notify

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/store"
)

// DigestTypes are the reminder-type notifications a user may receive as
// one daily digest email instead of one email each. None of them asks the
// recipient to act: those emails are never held.
var DigestTypes = []Type{TypeReminder, TypeEscalation, TypeActionDueSoon, TypeActionOverdue, TypeTemporaryExpiring, TypeEmergencyOverdue}

// IsDigestType reports whether t's email may be held for the daily digest.
func IsDigestType(t Type) bool { return slices.Contains(DigestTypes, t) && !IsActionRequired(t) }

// DailyDigest reports whether userID chose the daily digest of reminders.
func DailyDigest(ctx context.Context, q store.Querier, userID int64) (bool, error) {
	var on bool
	err := q.QueryRowContext(ctx, `SELECT daily_digest FROM notification_settings WHERE user_id = $1`, userID).Scan(&on)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read digest preference: %w", err)
	}
	return on, nil
}

// SetDailyDigest turns userID's daily digest of reminders on or off.
// Turning it off does not drop notifications already held: they go out
// in the next digest run.
func SetDailyDigest(ctx context.Context, q store.Querier, userID int64, on bool, now time.Time) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM notification_settings WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("save digest preference: %w", err)
	}
	if _, err := q.ExecContext(ctx, `INSERT INTO notification_settings (user_id, daily_digest, updated_at) VALUES ($1, $2, $3)`,
		userID, on, now.UTC()); err != nil {
		return fmt.Errorf("save digest preference: %w", err)
	}
	return nil
}

// holdForDigest records notification id for userID's next digest when t
// is a digest type and the user chose the digest; it reports whether the
// notification was held (and so must not be emailed now).
func holdForDigest(ctx context.Context, tx *sql.Tx, userID, id int64, t Type, now time.Time) (bool, error) {
	if !IsDigestType(t) {
		return false, nil
	}
	on, err := DailyDigest(ctx, tx, userID)
	if err != nil || !on {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO digest_items (notification_id, user_id, created_at) VALUES ($1, $2, $3)`,
		id, userID, now.UTC()); err != nil {
		return false, fmt.Errorf("hold for digest: %w", err)
	}
	return true, nil
}

// DigestQueue queues an email inside a transaction; *jobs.Queue is one.
type DigestQueue interface {
	EnqueueEmailTx(ctx context.Context, tx *sql.Tx, e jobs.OutgoingEmail) (int64, error)
}

// Digest sends the daily digests.
type Digest struct {
	DB   *store.DB
	Jobs DigestQueue
	// BaseURL makes links absolute.
	BaseURL string
	// Hour is the hour of the day, in each user's zone, from which their
	// digest goes out (DigestHour of the reminder hour).
	Hour int
	// Zone is the time zone a user's day is read in (their first site's);
	// nil, or an error, reads it in UTC.
	Zone func(ctx context.Context, userID int64) (*time.Location, error)
}

// DigestHour is the hour digests go out: one hour after the reminder
// run hour, both in the site's zone, so the day's reminders are in that
// day's digest (reminder hour 23 gives 0, the next day's first hour).
func DigestHour(reminderHour int) int { return (reminderHour + 1) % 24 }

// userDay is the user's local date at now, and whether their digest hour
// has come.
func (d Digest) userDay(ctx context.Context, uid int64, now time.Time) (string, bool) {
	loc := time.UTC
	if d.Zone != nil {
		if l, err := d.Zone(ctx, uid); err == nil && l != nil {
			loc = l
		}
	}
	local := now.In(loc)
	return local.Format(time.DateOnly), local.Hour() >= d.Hour
}

// Run sends every user with held notifications, whose digest hour has
// come in their zone, one digest email for their local day, holding all
// of them, and marks them sent in the same transaction that queues the
// email. A user who already has a digest for that day gets none:
// notifications held after it wait for the next day.
// The (user, day) unique key makes this exactly once even when two
// replicas run it at the same time. It returns how many digests it queued.
// Disabled users get none; their items stay held.
func (d Digest) Run(ctx context.Context, now time.Time) (int, error) {
	rows, err := d.DB.SQL.QueryContext(ctx, `SELECT DISTINCT user_id FROM digest_items WHERE digest_id IS NULL ORDER BY user_id`)
	if err != nil {
		return 0, fmt.Errorf("digest: %w", err)
	}
	var users []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("digest: %w", err)
		}
		users = append(users, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("digest: %w", err)
	}
	sent := 0
	var errs []error
	for _, uid := range users {
		if err := ctx.Err(); err != nil {
			return sent, err
		}
		day, due := d.userDay(ctx, uid, now)
		if !due {
			continue
		}
		err := d.DB.Tx(ctx, func(tx *sql.Tx) error { return d.sendTx(ctx, tx, uid, day, now) })
		switch {
		case err == nil:
			sent++
		case errors.Is(err, errNoDigest):
		default:
			errs = append(errs, fmt.Errorf("digest for user %d: %w", uid, err))
		}
	}
	return sent, errors.Join(errs...)
}

// errNoDigest rolls back a user's digest transaction that has nothing to
// send (already sent today, disabled user, nothing held any more).
var errNoDigest = errors.New("no digest to send")

// DigestItem is one notification in a digest email.
type DigestItem struct {
	Title, Body, Link string
	At                time.Time
}

func (d Digest) sendTx(ctx context.Context, tx *sql.Tx, uid int64, day string, now time.Time) error {
	// Claim the day first: a concurrent run blocks here until this
	// transaction ends, then finds the row and sends nothing.
	var digestID int64
	err := tx.QueryRowContext(ctx, `INSERT INTO email_digests (user_id, day, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, day) DO NOTHING RETURNING id`, uid, day, now.UTC()).Scan(&digestID)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoDigest
	}
	if err != nil {
		return err
	}
	var email, name string
	var disabled bool
	if err := tx.QueryRowContext(ctx, `SELECT email, name, disabled FROM users WHERE id = $1`, uid).Scan(&email, &name, &disabled); err != nil {
		return err
	}
	if disabled {
		return errNoDigest
	}
	rows, err := tx.QueryContext(ctx, `SELECT n.id, n.title, n.body, n.link, n.created_at
		FROM digest_items d JOIN notifications n ON n.id = d.notification_id
		WHERE d.user_id = $1 AND d.digest_id IS NULL ORDER BY n.id`, uid)
	if err != nil {
		return err
	}
	var ids []any
	var items []DigestItem
	for rows.Next() {
		var id int64
		var it DigestItem
		if err := rows.Scan(&id, &it.Title, &it.Body, &it.Link, &it.At); err != nil {
			rows.Close()
			return err
		}
		it.Link = strings.TrimRight(d.BaseURL, "/") + it.Link
		ids = append(ids, id)
		items = append(items, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(items) == 0 {
		return errNoDigest
	}
	html, err := RenderDigest(items, d.BaseURL)
	if err != nil {
		return err
	}
	msgID, err := d.Jobs.EnqueueEmailTx(ctx, tx, jobs.OutgoingEmail{
		UserID: uid, Kind: jobs.KindDigest, To: mail.Address{Name: name, Email: email},
		Subject: DigestSubject(len(items)), HTMLBody: html,
	})
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE email_digests SET email_message_id = $1, item_count = $2 WHERE id = $3`,
		msgID, len(items), digestID); err != nil {
		return err
	}
	marks := make([]string, len(ids))
	for i := range ids {
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	_, err = tx.ExecContext(ctx, `UPDATE digest_items SET digest_id = $1 WHERE notification_id IN (`+strings.Join(marks, ", ")+`)`,
		append([]any{digestID}, ids...)...)
	return err
}

// DigestSubject is the subject of a digest email with n items.
func DigestSubject(n int) string {
	if n == 1 {
		return "mocpcr daily digest: 1 reminder"
	}
	return fmt.Sprintf("mocpcr daily digest: %d reminders", n)
}

var digestTemplate = template.Must(template.New("digest").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f3f4f6;font-family:Segoe UI,Helvetica,Arial,sans-serif;color:#111827">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f4f6;padding:24px 0"><tr><td align="center">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" style="max-width:600px;width:100%;background:#ffffff;border-radius:6px;border:1px solid #e5e7eb">
<tr><td style="padding:16px 24px;border-bottom:1px solid #e5e7eb;font-weight:600;color:#1f2937">mocpcr</td></tr>
<tr><td style="padding:24px">
<h1 style="margin:0 0 12px;font-size:20px;line-height:1.3">{{.Subject}}</h1>
{{range .Items}}<div style="margin:0 0 16px;padding:0 0 12px;border-bottom:1px solid #e5e7eb">
<h2 style="margin:0 0 6px;font-size:16px;line-height:1.3">{{.Title}}</h2>
{{if .Body}}<p style="margin:0 0 6px;font-size:15px;line-height:1.5">{{.Body}}</p>{{end}}
{{if .Link}}<p style="margin:0;font-size:14px"><a href="{{.Link}}" style="color:#1d4ed8">{{.Link}}</a></p>{{end}}
</div>{{end}}
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e7eb;font-size:12px;color:#6b7280;line-height:1.5">
You receive this daily digest because you chose it in your notification settings{{if .PrefsURL}} at <a href="{{.PrefsURL}}" style="color:#1d4ed8">{{.PrefsURL}}</a>{{end}}.
Emails that ask you to act are still sent at once. Every notification is also in your in-app inbox.
</td></tr>
</table></td></tr></table>
</body></html>
`))

// RenderDigest renders the HTML body of a digest email. Every value is
// HTML-escaped; a link that is not http(s) is dropped.
func RenderDigest(items []DigestItem, baseURL string) (string, error) {
	clean := make([]DigestItem, len(items))
	for i, it := range items {
		if !strings.HasPrefix(it.Link, "https://") && !strings.HasPrefix(it.Link, "http://") {
			it.Link = ""
		}
		clean[i] = it
	}
	prefs := ""
	if baseURL != "" {
		prefs = strings.TrimRight(baseURL, "/") + PrefsPath
	}
	var buf bytes.Buffer
	err := digestTemplate.Execute(&buf, struct {
		Subject  string
		Items    []DigestItem
		PrefsURL string
	}{DigestSubject(len(items)), clean, prefs})
	if err != nil {
		return "", fmt.Errorf("render digest: %w", err)
	}
	return buf.String(), nil
}

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
)

// EmailRecord is one row of the delivery log.
type EmailRecord struct {
	ID             int64     `json:"id"`
	NotificationID int64     `json:"notification_id,omitempty"`
	UserID         int64     `json:"user_id,omitempty"`
	Kind           string    `json:"kind"`
	ToEmail        string    `json:"to"`
	ToName         string    `json:"to_name,omitempty"`
	Subject        string    `json:"subject"`
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
	LastError      string    `json:"last_error,omitempty"`
	JobID          int64     `json:"job_id,omitempty"`
	RequestID      string    `json:"request_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// QueuedAt is when the email was queued, or queued again by an admin;
	// an email waiting for the configuration is given up a fixed time
	// after it.
	QueuedAt      time.Time  `json:"queued_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	// MaybeDuplicate is true when an attempt's outcome is unknown and it
	// may have been delivered: its process stopped mid-send (a crash), or
	// the request timed out after it reached Graph. A sent email with it
	// may have reached the recipient twice.
	MaybeDuplicate bool `json:"maybe_duplicate"`
	// Sender is the mailbox the email goes out from when it is not
	// GRAPH_MAIL_SENDER (a site's own sender); empty for the default.
	Sender string `json:"sender,omitempty"`
}

// Retryable reports whether an admin may retry the email now.
func (e EmailRecord) Retryable() bool {
	return e.Status == StatusFailed || e.Status == StatusGivenUp || e.Status == StatusWaitingConfig
}

// WaitingForConfig reports whether the email waits for the email
// configuration to be fixed.
func (e EmailRecord) WaitingForConfig() bool { return e.Status == StatusWaitingConfig }

// Attempt is one delivery attempt.
type Attempt struct {
	Attempt      int       `json:"attempt"`
	StartedAt    time.Time `json:"started_at"`
	FinishedAt   time.Time `json:"finished_at"`
	Outcome      string    `json:"outcome"`
	HTTPStatus   int       `json:"http_status,omitempty"`
	ErrorCode    string    `json:"error_code,omitempty"`
	ErrorMessage string    `json:"error_message,omitempty"`
	RequestID    string    `json:"request_id,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
}

// Statuses lists every delivery status, for filters.
var Statuses = []string{StatusQueued, StatusSending, StatusSent, StatusRetrying, StatusWaitingConfig, StatusFailed, StatusGivenUp, StatusDigested}

// EmailFilter selects delivery log rows, newest first.
type EmailFilter struct {
	// Status is one of Statuses, or empty for all.
	Status string
	// BeforeID pages: only rows with a smaller id.
	BeforeID int64
	// Limit is 1..200; default 50.
	Limit int
	// NotificationID limits to the emails of one notification.
	NotificationID int64
	// Scoped limits to emails whose recipient is a user working only on
	// SiteIDs (a site administrator's view: auth.User.Covers); emails to
	// all-sites users or to no user are left out.
	Scoped  bool
	SiteIDs []int64
}

// scopeSQL is the condition Scoped adds, with the site ids as arguments
// from position next on.
func (f EmailFilter) scopeSQL(next int) (string, []any) {
	if !f.Scoped {
		return "", nil
	}
	if len(f.SiteIDs) == 0 {
		return " AND FALSE", nil
	}
	marks := make([]string, len(f.SiteIDs))
	args := make([]any, len(f.SiteIDs))
	for i, id := range f.SiteIDs {
		marks[i] = fmt.Sprintf("$%d", next+i)
		args[i] = id
	}
	in := strings.Join(marks, ", ")
	return ` AND user_id IN (SELECT u.id FROM users u WHERE NOT u.all_sites
		AND EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id)
		AND NOT EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = u.id AND us.site_id NOT IN (` + in + `)))`, args
}

const emailColumns = `id, notification_id, user_id, kind, to_email, to_name, subject, status, attempts, last_error,
	job_id, request_id, created_at, updated_at, next_attempt_at, sent_at, queued_at, maybe_duplicate, sender`

func scanEmail(sc interface{ Scan(...any) error }) (EmailRecord, error) {
	var e EmailRecord
	var nid, uid, jid sql.NullInt64
	var next, sent, queued sql.NullTime
	err := sc.Scan(&e.ID, &nid, &uid, &e.Kind, &e.ToEmail, &e.ToName, &e.Subject, &e.Status, &e.Attempts, &e.LastError,
		&jid, &e.RequestID, &e.CreatedAt, &e.UpdatedAt, &next, &sent, &queued, &e.MaybeDuplicate, &e.Sender)
	e.NotificationID, e.UserID, e.JobID = nid.Int64, uid.Int64, jid.Int64
	if next.Valid {
		t := next.Time.UTC()
		e.NextAttemptAt = &t
	}
	if sent.Valid {
		t := sent.Time.UTC()
		e.SentAt = &t
	}
	// queued_at is set on every row since it was added (migration 00080);
	// created_at stands in should one lack it.
	e.QueuedAt = e.CreatedAt
	if queued.Valid {
		e.QueuedAt = queued.Time
	}
	e.CreatedAt, e.UpdatedAt, e.QueuedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC(), e.QueuedAt.UTC()
	return e, err
}

// ListEmails returns delivery log rows, newest first.
func ListEmails(ctx context.Context, q store.Querier, f EmailFilter) ([]EmailRecord, error) {
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		return nil, problem.Invalidf("status", "must be one of %s, got %q", strings.Join(Statuses, ", "), f.Status)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	// Each filter is in the text only when set, and the page always has
	// an upper id, so the planner (SQLite's plans before values are
	// bound) sees the range and the index that serves it: a deep page
	// costs what the first does.
	before := f.BeforeID
	if before <= 0 {
		before = math.MaxInt64
	}
	args := []any{before, f.Limit}
	cond := "id < $1"
	if f.Status != "" {
		args = append(args, f.Status)
		cond += fmt.Sprintf(" AND status = $%d", len(args))
	}
	if f.NotificationID != 0 {
		args = append(args, f.NotificationID)
		cond += fmt.Sprintf(" AND notification_id = $%d", len(args))
	}
	scope, scopeArgs := f.scopeSQL(len(args) + 1)
	args = append(args, scopeArgs...)
	rows, err := q.QueryContext(ctx, `SELECT `+emailColumns+` FROM email_messages WHERE `+cond+scope+` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list emails: %w", err)
	}
	defer rows.Close()
	var out []EmailRecord
	for rows.Next() {
		e, err := scanEmail(rows)
		if err != nil {
			return nil, fmt.Errorf("list emails: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// GetEmail returns one delivery log row and its attempts, oldest first.
func GetEmail(ctx context.Context, q store.Querier, id int64) (EmailRecord, []Attempt, error) {
	e, err := scanEmail(q.QueryRowContext(ctx, `SELECT `+emailColumns+` FROM email_messages WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil, store.ErrNotFound
	}
	if err != nil {
		return e, nil, fmt.Errorf("get email %d: %w", id, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT attempt, started_at, finished_at, outcome, http_status, error_code, error_message, request_id, duration_ms
		FROM email_attempts WHERE message_id = $1 ORDER BY id`, id)
	if err != nil {
		return e, nil, fmt.Errorf("get email %d attempts: %w", id, err)
	}
	defer rows.Close()
	var atts []Attempt
	for rows.Next() {
		var a Attempt
		if err := rows.Scan(&a.Attempt, &a.StartedAt, &a.FinishedAt, &a.Outcome, &a.HTTPStatus, &a.ErrorCode, &a.ErrorMessage, &a.RequestID, &a.DurationMS); err != nil {
			return e, nil, fmt.Errorf("get email %d attempts: %w", id, err)
		}
		a.StartedAt, a.FinishedAt = a.StartedAt.UTC(), a.FinishedAt.UTC()
		atts = append(atts, a)
	}
	return e, atts, rows.Err()
}

// Attention is what the email admin pages point out: emails waiting for
// the configuration to be fixed, and emails that failed or were given up.
type Attention struct {
	// WaitingConfig, Failed and GivenUp count the emails in each status.
	WaitingConfig, Failed, GivenUp int64
	// WaitingError is the last error of the newest waiting email, in the
	// setup guide's words; empty when none waits.
	WaitingError string
	// WaitingReasons counts the waiting emails per cause, the most
	// common first (at most maxWaitingReasons; the rest are counted in
	// WaitingOther): one problem, one line, however many emails it holds.
	WaitingReasons []WaitingReason
	// WaitingOther is the waiting emails of causes beyond those listed.
	WaitingOther int64
}

// WaitingReason is one cause that emails wait for the configuration on.
type WaitingReason struct {
	// Emails is how many wait on it.
	Emails int64 `json:"emails"`
	// Error is the newest of their errors, in the guide's words.
	Error string `json:"error"`
}

// maxWaitingReasons bounds the causes the banner lists.
const maxWaitingReasons = 10

// waitReason is the key waiting emails are grouped by: the part of the
// failure that names its cause (token or Graph, status, code and the
// AADSTS number), without the ids and times that differ per request.
func waitReason(me *mail.Error) string {
	source := "graph"
	if strings.HasPrefix(me.Error(), "Graph token request failed") {
		source = "token"
	}
	key := fmt.Sprintf("%s %d %s", source, me.Status, me.Code)
	if m := aadsts.FindString(me.Message); m != "" {
		key += " " + m
	}
	return key
}

var aadsts = regexp.MustCompile(`AADSTS\d+`)

// ReadAttention counts the emails an administrator should act on. It reads
// only those statuses' part of the (status, id) index.
func ReadAttention(ctx context.Context, q store.Querier) (Attention, error) {
	var a Attention
	rows, err := q.QueryContext(ctx, `SELECT status, count(*) FROM email_messages WHERE status IN ($1, $2, $3) GROUP BY status`,
		StatusWaitingConfig, StatusFailed, StatusGivenUp)
	if err != nil {
		return a, fmt.Errorf("count emails to act on: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return a, fmt.Errorf("count emails to act on: %w", err)
		}
		switch status {
		case StatusWaitingConfig:
			a.WaitingConfig = n
		case StatusFailed:
			a.Failed = n
		case StatusGivenUp:
			a.GivenUp = n
		}
	}
	if err := rows.Err(); err != nil {
		return a, fmt.Errorf("count emails to act on: %w", err)
	}
	if a.WaitingConfig > 0 {
		err := q.QueryRowContext(ctx, `SELECT last_error FROM email_messages WHERE status = $1 ORDER BY id DESC LIMIT 1`, StatusWaitingConfig).Scan(&a.WaitingError)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return a, fmt.Errorf("last configuration error: %w", err)
		}
		if err := readWaitingReasons(ctx, q, &a); err != nil {
			return a, err
		}
	}
	return a, nil
}

// readWaitingReasons counts the waiting emails per cause, from the
// partial index on wait_reason, and quotes the newest error of each.
func readWaitingReasons(ctx context.Context, q store.Querier, a *Attention) error {
	rows, err := q.QueryContext(ctx, `SELECT count(*), max(id) FROM email_messages WHERE status = $1 GROUP BY wait_reason ORDER BY count(*) DESC, max(id) DESC`, StatusWaitingConfig)
	if err != nil {
		return fmt.Errorf("waiting emails by cause: %w", err)
	}
	var newest []int64
	var listed int64
	for rows.Next() {
		var n, id int64
		if err := rows.Scan(&n, &id); err != nil {
			rows.Close()
			return fmt.Errorf("waiting emails by cause: %w", err)
		}
		if len(newest) < maxWaitingReasons {
			newest = append(newest, id)
			a.WaitingReasons = append(a.WaitingReasons, WaitingReason{Emails: n})
			listed += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("waiting emails by cause: %w", err)
	}
	for i, id := range newest {
		err := q.QueryRowContext(ctx, `SELECT last_error FROM email_messages WHERE id = $1`, id).Scan(&a.WaitingReasons[i].Error)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("waiting emails by cause: %w", err)
		}
	}
	// The counts are of one moment; the total may have moved since.
	a.WaitingOther = max(0, a.WaitingConfig-listed)
	return nil
}

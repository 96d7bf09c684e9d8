package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/riverqueue/river"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/requestid"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Delivery statuses of an email in the delivery log.
const (
	StatusQueued   = "queued"
	StatusSending  = "sending"
	StatusSent     = "sent"
	StatusRetrying = "retrying"
	// StatusFailed is a permanent failure (400, 403, 404 ...): retrying
	// cannot help until an admin fixes something.
	StatusFailed = "failed"
	// StatusGivenUp is a retryable failure that lasted for MaxAttempts
	// attempts.
	StatusGivenUp = "given_up"
)

// Kinds of email in the delivery log.
const (
	KindNotification = "notification"
	KindTest         = "test"
	KindSystem       = "system"
	// KindDigest is a user's daily digest of reminders.
	KindDigest = "digest"
)

// OutgoingEmail is one email to queue.
type OutgoingEmail struct {
	// NotificationID is the in-app notification the email belongs to; 0
	// for emails that belong to none (test emails).
	NotificationID int64
	// UserID is the recipient's user; 0 for an address without a user.
	UserID   int64
	Kind     string
	To       mail.Address
	Subject  string
	HTMLBody string
}

// sendEmailArgs is the River job: only the delivery log row's id, so the
// job table never holds message content twice, and the id of the HTTP
// request that caused the email, so the worker's log lines can be matched
// with the web log line of that request.
type sendEmailArgs struct {
	MessageID int64  `json:"message_id"`
	RequestID string `json:"request_id,omitempty"`
}

func (sendEmailArgs) Kind() string { return "mocpcr.send_email" }

func (sendEmailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueEmail, MaxAttempts: riverMaxAttempts}
}

// EnqueueEmailTx writes the email to the delivery log and queues its
// delivery job, both inside tx: if tx rolls back, neither exists. It
// returns the delivery log id. The request id in ctx (requestid.From), if
// any, travels with the job into the worker's log lines.
func (q *Queue) EnqueueEmailTx(ctx context.Context, tx *sql.Tx, e OutgoingEmail) (int64, error) {
	if e.To.Email == "" {
		return 0, fmt.Errorf("queue email: recipient address is required")
	}
	if e.Subject == "" {
		return 0, fmt.Errorf("queue email to %s: subject is required", e.To.Email)
	}
	if e.Kind == "" {
		e.Kind = KindNotification
	}
	now := q.opt.Now().UTC()
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO email_messages (notification_id, user_id, kind, to_email, to_name, subject, html_body, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id`,
		nullID(e.NotificationID), nullID(e.UserID), e.Kind, e.To.Email, e.To.Name, e.Subject, e.HTMLBody, StatusQueued, now,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue email to %s: %w", e.To.Email, err)
	}
	if err := q.insertJobTx(ctx, tx, id); err != nil {
		return 0, err
	}
	return id, nil
}

// EnqueueEmail is EnqueueEmailTx in a transaction of its own.
func (q *Queue) EnqueueEmail(ctx context.Context, e OutgoingEmail) (int64, error) {
	var id int64
	err := q.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		id, err = q.EnqueueEmailTx(ctx, tx, e)
		return err
	})
	return id, err
}

func (q *Queue) insertJobTx(ctx context.Context, tx *sql.Tx, messageID int64) error {
	res, err := q.inserter.InsertTx(ctx, tx, sendEmailArgs{MessageID: messageID, RequestID: requestid.From(ctx)}, nil)
	if err != nil {
		return fmt.Errorf("queue email job %d: %w", messageID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE email_messages SET job_id = $1 WHERE id = $2`, res.Job.ID, messageID); err != nil {
		return fmt.Errorf("queue email job %d: %w", messageID, err)
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// emailWorker delivers one email of the delivery log.
type emailWorker struct {
	river.WorkerDefaults[sendEmailArgs]
	q *Queue
}

// Work sends the message. The sequence makes a repeat send after Graph
// accepted a message impossible except in one window:
//
//  1. claim: the row moves to "sending" (attempts+1) only if it is not
//     already sent or finally failed; a sent row is never sent again.
//  2. send through the provider.
//  3. record the outcome ("sent" with Graph's request id, or the error).
//
// The duplicate window: if the process dies after Graph answered 202 and
// before step 3 commits, the row stays "sending"; River's rescuer makes
// the job available again after RescueStuckAfter and the message is sent
// a second time. Closing that window would need Graph to deduplicate
// sends, which sendMail does not do.
func (w *emailWorker) Work(ctx context.Context, job *river.Job[sendEmailArgs]) error {
	q := w.q
	id := job.Args.MessageID
	// Every log line of this job names the request that caused it (empty
	// for emails of periodic jobs); the provider sees it in ctx too.
	reqID := job.Args.RequestID
	if reqID != "" {
		ctx = requestid.With(ctx, reqID)
	}
	if q.opt.Provider == nil {
		// A process without a provider must not burn attempts.
		return river.JobSnooze(time.Minute)
	}
	m, err := q.claim(ctx, id)
	if errors.Is(err, errNotSendable) {
		return river.JobCancel(err)
	}
	if err != nil {
		return err // a database problem: River retries the job
	}
	if m.Status == StatusSent {
		q.log.WarnContext(ctx, "email already sent: refusing to send it again", "email_id", id, "job_id", job.ID, "request_id", reqID)
		return nil
	}

	if err := q.limiter.acquire(ctx); err != nil {
		// Stopping: give the attempt back and run again on next start.
		_ = q.release(context.WithoutCancel(ctx), id)
		return river.JobSnooze(0)
	}
	start := q.opt.Now()
	sendCtx, cancel := context.WithTimeout(ctx, q.opt.SendTimeout)
	res, sendErr := q.opt.Provider.Send(sendCtx, mail.Message{
		To:       []mail.Address{{Name: m.ToName, Email: m.ToEmail}},
		Subject:  m.Subject,
		HTMLBody: m.HTMLBody,
		Headers:  map[string]string{"X-Mocpcr-Email-Id": fmt.Sprint(id)},
	})
	cancel()
	q.limiter.release()
	end := q.opt.Now()
	q.stats.latency(end.Sub(start))
	observe := func(outcome string) {
		if q.opt.ObserveSend != nil {
			q.opt.ObserveSend(outcome, end.Sub(start))
		}
	}

	// The outcome is recorded even when the job's context ends now: a 202
	// not written down is exactly the duplicate window.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer rcancel()
	if sendErr == nil {
		if err := q.recordSent(rctx, m, start, end, res.RequestID); err != nil {
			q.log.ErrorContext(ctx, "email sent but not recorded: it may be sent again", "email_id", id, "request_id", reqID, "err", err)
			return err
		}
		q.stats.sent.Add(1)
		observe(StatusSent)
		q.log.InfoContext(ctx, "email sent", "email_id", id, "request_id", reqID, "graph_request_id", res.RequestID,
			"attempt", m.Attempts, "duration_ms", end.Sub(start).Milliseconds())
		return nil
	}

	me, _ := mail.AsError(sendErr)
	if me == nil {
		me = &mail.Error{Retryable: mail.IsRetryable(sendErr), Message: sendErr.Error(), Text: "email failed: " + sendErr.Error(), Err: sendErr}
		if errors.Is(sendErr, context.DeadlineExceeded) {
			me.Code = "timeout"
		}
	}
	text := me.Error()
	if !me.Retryable {
		q.log.ErrorContext(ctx, text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID)
		if err := q.recordFailure(rctx, m, start, end, me, StatusFailed, time.Time{}); err != nil {
			return err
		}
		q.stats.failed.Add(1)
		observe(StatusFailed)
		return river.JobCancel(errors.New(text))
	}
	if m.Attempts-m.AttemptsBase >= q.opt.MaxAttempts {
		q.log.ErrorContext(ctx, "email given up after "+fmt.Sprint(m.Attempts-m.AttemptsBase)+" attempts: "+text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID)
		if err := q.recordFailure(rctx, m, start, end, me, StatusGivenUp, time.Time{}); err != nil {
			return err
		}
		q.stats.givenUp.Add(1)
		observe(StatusGivenUp)
		return river.JobCancel(errors.New(text))
	}
	delay := q.retryDelay(m.Attempts-m.AttemptsBase, me.RetryAfter)
	q.log.WarnContext(ctx, text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID,
		"attempt", m.Attempts, "retry_in", delay.Round(time.Millisecond).String())
	if err := q.recordFailure(rctx, m, start, end, me, StatusRetrying, end.Add(delay)); err != nil {
		return err
	}
	q.stats.retried.Add(1)
	observe(StatusRetrying)
	// Snooze rather than fail: River's attempt count stays for crashes,
	// the delivery log counts provider attempts against MaxAttempts, and
	// Graph's Retry-After is honoured to the millisecond.
	return river.JobSnooze(delay)
}

// Timeout lets the send timeout, not River's default, bound the job: the
// send plus time to claim and record it (20 s with the default timeout).
func (w *emailWorker) Timeout(*river.Job[sendEmailArgs]) time.Duration {
	return w.q.opt.SendTimeout + w.q.jobSlack()*2/3
}

// retryDelay is exponential backoff with jitter after the n-th failed
// attempt, never shorter than what the provider asked for.
func (q *Queue) retryDelay(n int, retryAfter time.Duration) time.Duration {
	d := float64(q.opt.RetryBase) * math.Pow(2, float64(max(n-1, 0)))
	d = math.Min(d, float64(q.opt.RetryMax)) * q.opt.Jitter()
	return max(time.Duration(d), retryAfter)
}

func defaultJitter() float64 { return 0.75 + rand.Float64()/2 }

var errNotSendable = errors.New("email is no longer sendable")

type message struct {
	ID                       int64
	ToEmail, ToName, Subject string
	HTMLBody                 string
	Status                   string
	Attempts, AttemptsBase   int
}

// claim moves a queued, retrying or interrupted ("sending") message to
// "sending" and counts the attempt. A sent message is returned as is, so
// the worker can refuse to send it again.
func (q *Queue) claim(ctx context.Context, id int64) (message, error) {
	var m message
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			UPDATE email_messages SET status = $1, attempts = attempts + 1, updated_at = $2
			WHERE id = $3 AND status IN ($4, $5, $6)
			RETURNING id, to_email, to_name, subject, html_body, status, attempts, attempts_base`,
			StatusSending, q.opt.Now().UTC(), id, StatusQueued, StatusRetrying, StatusSending,
		).Scan(&m.ID, &m.ToEmail, &m.ToName, &m.Subject, &m.HTMLBody, &m.Status, &m.Attempts, &m.AttemptsBase)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = tx.QueryRowContext(ctx, `SELECT status FROM email_messages WHERE id = $1`, id).Scan(&m.Status)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("email %d: %w (deleted)", id, errNotSendable)
		}
		if err != nil {
			return err
		}
		if m.Status == StatusSent {
			return nil
		}
		return fmt.Errorf("email %d is %s: %w", id, m.Status, errNotSendable)
	})
	if err != nil && !errors.Is(err, errNotSendable) {
		return m, fmt.Errorf("claim email %d: %w", id, err)
	}
	return m, err
}

// release undoes a claim that never reached the provider.
func (q *Queue) release(ctx context.Context, id int64) error {
	_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_messages SET status = $1, attempts = attempts - 1 WHERE id = $2 AND status = $3`,
		StatusQueued, id, StatusSending)
	return err
}

func (q *Queue) recordSent(ctx context.Context, m message, start, end time.Time, requestID string) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, sent_at = $2, updated_at = $2, request_id = $3, last_error = '', next_attempt_at = NULL
			WHERE id = $4`, StatusSent, end.UTC(), requestID, m.ID); err != nil {
			return fmt.Errorf("record sent email %d: %w", m.ID, err)
		}
		return insertAttempt(ctx, tx, m, start, end, StatusSent, &mail.Error{RequestID: requestID})
	})
}

func (q *Queue) recordFailure(ctx context.Context, m message, start, end time.Time, me *mail.Error, status string, next time.Time) error {
	var nextAt any
	if !next.IsZero() {
		nextAt = next.UTC()
	}
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, last_error = $2, updated_at = $3, next_attempt_at = $4, request_id = $5
			WHERE id = $6`, status, me.Error(), end.UTC(), nextAt, me.RequestID, m.ID); err != nil {
			return fmt.Errorf("record failed email %d: %w", m.ID, err)
		}
		return insertAttempt(ctx, tx, m, start, end, status, me)
	})
}

func insertAttempt(ctx context.Context, tx *sql.Tx, m message, start, end time.Time, outcome string, me *mail.Error) error {
	msg := me.Message
	if outcome != StatusSent {
		msg = me.Error()
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO email_attempts (message_id, attempt, started_at, finished_at, outcome, http_status, error_code, error_message, request_id, duration_ms)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, m.Attempts, start.UTC(), end.UTC(), outcome, me.Status, me.Code, msg, me.RequestID, end.Sub(start).Milliseconds())
	if err != nil {
		return fmt.Errorf("record attempt of email %d: %w", m.ID, err)
	}
	return nil
}

// ErrNotRetryable is returned by RetryEmail for an email that is not
// failed or given up.
var ErrNotRetryable = errors.New("only failed or given-up emails can be retried")

// RetryEmail queues a failed or given-up email again now, with a fresh
// set of attempts. Returns store.ErrNotFound for an unknown id.
func (q *Queue) RetryEmail(ctx context.Context, id int64) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM email_messages WHERE id = $1`, id).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("retry email %d: %w", id, err)
		}
		if status != StatusFailed && status != StatusGivenUp {
			return fmt.Errorf("email %d is %s: %w", id, status, ErrNotRetryable)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, attempts_base = attempts, next_attempt_at = NULL, updated_at = $2 WHERE id = $3`,
			StatusQueued, q.opt.Now().UTC(), id); err != nil {
			return fmt.Errorf("retry email %d: %w", id, err)
		}
		return q.insertJobTx(ctx, tx, id)
	})
}

package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

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
	// StatusFailed is a permanent failure of the message itself (400,
	// 413 ...): sending it again cannot help. An admin may still retry it.
	StatusFailed = "failed"
	// StatusGivenUp is a retryable failure that lasted for MaxAttempts
	// attempts, or a configuration problem that was not fixed within
	// Options.ConfigWaitLimit.
	StatusGivenUp = "given_up"
	// StatusWaitingConfig is an email that failed because of the
	// provider's configuration (a token request Entra ID refused, Graph's
	// 403 or 404: mail.Error.Misconfigured). Every email fails the same way
	// until an administrator fixes it, so the failure does not use up the
	// email's attempts: it stays in the queue and is tried again every
	// Options.ConfigRetryInterval, and at once when a process starts.
	StatusWaitingConfig = "waiting_config"
)

// Defaults for emails waiting for the email configuration to be fixed.
const (
	// DefaultConfigRetryInterval is how often such an email is tried again.
	DefaultConfigRetryInterval = 5 * time.Minute
	// DefaultConfigWaitLimit is how long after it was queued (or queued
	// again by an admin) such an email is given up: long enough to span a
	// weekend's wait for the administrator who can fix the secret or the
	// consent, short enough that an email is not sent days after it
	// mattered.
	DefaultConfigWaitLimit = 72 * time.Hour
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
	// ActionRequired marks an email that asks its recipient to act: it
	// goes before informational ones, may use the whole daily recipient
	// budget, and is never moved to the digest. Emails that belong to no
	// notification (test, system, digest) count as action-required.
	ActionRequired bool
	// Sender is the mailbox to send from when it is not the queue's
	// (GRAPH_MAIL_SENDER): a site's own sender; "" for the default.
	Sender string
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
	// Every email passes here: titles and names typed by users are folded
	// to one line before they become a subject or a display name.
	e.Subject, e.To.Name = mail.HeaderText(e.Subject), mail.HeaderText(e.To.Name)
	e.To.Email = strings.TrimSpace(e.To.Email)
	if strings.ContainsFunc(e.To.Email, unicode.IsControl) {
		return 0, fmt.Errorf("queue email: recipient address %q holds a control character", e.To.Email)
	}
	if e.To.Email == "" {
		return 0, fmt.Errorf("queue email: recipient address is required")
	}
	if e.Subject == "" {
		return 0, fmt.Errorf("queue email to %s: subject is required", e.To.Email)
	}
	if e.Kind == "" {
		e.Kind = KindNotification
	}
	e.Sender = strings.TrimSpace(e.Sender)
	if strings.EqualFold(e.Sender, q.opt.Sender) {
		e.Sender = "" // the default, whatever it becomes
	}
	if strings.ContainsFunc(e.Sender, unicode.IsControl) || (e.Sender != "" && !strings.Contains(e.Sender, "@")) {
		return 0, fmt.Errorf("queue email to %s: sender mailbox %q is not an email address", e.To.Email, e.Sender)
	}
	now := q.opt.Now().UTC()
	action := e.ActionRequired || e.Kind != KindNotification
	var id int64
	err := tx.QueryRowContext(ctx, `
		INSERT INTO email_messages (notification_id, user_id, kind, to_email, to_name, subject, html_body, status, created_at, updated_at, queued_at, action_required, sender)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9, $10, $11) RETURNING id`,
		nullID(e.NotificationID), nullID(e.UserID), e.Kind, e.To.Email, e.To.Name, e.Subject, e.HTMLBody, StatusQueued, now, action, e.Sender,
	).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue email to %s: %w", e.To.Email, err)
	}
	if err := q.insertJobPriorityTx(ctx, tx, id, action); err != nil {
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

// insertJobTx queues a new job for an email already in the delivery log,
// with the priority its kind gives it.
func (q *Queue) insertJobTx(ctx context.Context, tx *sql.Tx, messageID int64) error {
	var action bool
	if err := tx.QueryRowContext(ctx, `SELECT action_required FROM email_messages WHERE id = $1`, messageID).Scan(&action); err != nil {
		return fmt.Errorf("queue email job %d: %w", messageID, err)
	}
	return q.insertJobPriorityTx(ctx, tx, messageID, action)
}

// Job priorities: River works higher priorities (smaller numbers) first,
// so a backlog sends what asks someone to act before the rest.
const (
	priorityActionRequired = 1
	priorityInformational  = 2
)

func (q *Queue) insertJobPriorityTx(ctx context.Context, tx *sql.Tx, messageID int64, action bool) error {
	opts := sendEmailArgs{}.InsertOpts()
	opts.Priority = priorityInformational
	if action {
		opts.Priority = priorityActionRequired
	}
	res, err := q.inserter.InsertTx(ctx, tx, sendEmailArgs{MessageID: messageID, RequestID: requestid.From(ctx)}, &opts)
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
//  1. take a send slot of the sender mailbox (or, when the queue is
//     stopping, give the job back without touching the email);
//  2. claim: the row moves to "sending" (attempts+1) only if it is not
//     already sent or finally failed, and only for the email's current
//     job (a retry may replace a snoozed job); a sent row is never sent
//     again.
//  3. send through the provider.
//  4. record the outcome ("sent" with Graph's request id, or the error).
//
// The duplicate window: if the process dies while the request is in
// flight or before step 4 commits, the row stays "sending" and the message
// may already be on its way; it is sent again when its job is rescued. A
// graceful stop (Stop) does not open the window: it
// lets sends in flight finish and be recorded.
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
	// Reserve, then wait for a send slot, then claim. The reservation
	// names this run on the email, so that if this process dies while
	// the job waits, the restart (or another replica) knows the email is
	// free; the claim, taken only once a slot is held, moves it to
	// "sending", so the emails a crash leaves "sending" are exactly those
	// whose request may have reached Graph. A stop that begins while the
	// job waits gives it back unsent: nothing new starts once Stop is
	// called.
	m, err := q.reserve(ctx, id, job.ID)
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
	q.mu.Lock()
	stopping := q.stopping
	q.mu.Unlock()
	// Each sender mailbox (GRAPH_MAIL_SENDER, a site's own) has its own
	// send slots, Retry-After pause and daily budget.
	sender := q.senderOf(m)
	slots := q.slots(sender)
	if err := slots.AcquireUnless(ctx, stopping); err != nil {
		_ = q.unreserve(context.WithoutCancel(ctx), id, time.Time{})
		return river.JobSnooze(0)
	}
	// Graph's Retry-After holds the whole mailbox, whichever replica was
	// told: wait for the pause to end without using up an attempt, spread
	// over a second so that the waiting emails do not all start at once.
	if until := q.pausedUntil(ctx, sender); !until.IsZero() {
		slots.Release()
		wait := until.Sub(q.opt.Now()) + time.Duration(float64(time.Second)*(q.opt.Jitter()-0.75)*2)
		_ = q.unreserve(context.WithoutCancel(ctx), id, q.opt.Now().Add(wait))
		return river.JobSnooze(max(wait, time.Millisecond))
	}
	// The daily recipient budget, across replicas: near it informational
	// emails move to the digest, beyond it everything waits.
	verdict, b, budgetHour, err := q.reserveBudget(ctx, m)
	switch {
	case err != nil:
		// Not sent blindly: a budget that cannot be counted may be the
		// one that is used up, and going over it blocks the mailbox for a
		// day. The email waits, without using an attempt, and is tried
		// again with the first step of the backoff.
		slots.Release()
		wait := time.Duration(float64(q.opt.RetryBase) * q.opt.Jitter())
		if herr := q.holdBudgetUnknown(context.WithoutCancel(ctx), m, wait); herr != nil {
			q.log.WarnContext(ctx, "could not note the held email in the delivery log", "email_id", id, "err", herr)
		}
		q.log.WarnContext(ctx, "email held: the daily recipient budget could not be read or counted, so it is not sent blindly", "email_id", id,
			"request_id", reqID, "err", err, "retry_in", wait.Round(time.Millisecond).String())
		return river.JobSnooze(wait)
	case verdict == budgetDigest:
		slots.Release()
		if err := q.digest(ctx, m, b); err != nil {
			if errors.Is(err, errNotSendable) {
				return river.JobCancel(err)
			}
			return err
		}
		q.log.InfoContext(ctx, "email moved to the daily digest: the sender is near its daily recipient budget", "email_id", id,
			"request_id", reqID, "sender", sender, "used", b.Used, "budget", b.Limit)
		return nil
	case verdict == budgetHold:
		slots.Release()
		wait, err := q.hold(context.WithoutCancel(ctx), m, b)
		if err != nil {
			return err
		}
		q.log.WarnContext(ctx, q.holdText(b), "email_id", id, "request_id", reqID, "retry_in", wait.Round(time.Second).String())
		return river.JobSnooze(wait)
	}
	if m.Attempts, err = q.claim(ctx, id, job.ID); err != nil {
		slots.Release()
		q.releaseBudget(context.WithoutCancel(ctx), sender, budgetHour)
		if errors.Is(err, errNotSendable) {
			return river.JobCancel(err)
		}
		return err
	}

	start := q.opt.Now()
	sendCtx, cancel := context.WithTimeout(ctx, q.opt.SendTimeout)
	// The slot is held already: the provider must not take a second one.
	res, sendErr := q.opt.Provider.Send(slots.WithHeld(sendCtx), mail.Message{
		From:     m.Sender,
		To:       []mail.Address{{Name: m.ToName, Email: m.ToEmail}},
		Subject:  m.Subject,
		HTMLBody: m.HTMLBody,
		Headers:  map[string]string{"X-Mocpcr-Email-Id": fmt.Sprint(id)},
	})
	cancel()
	// A throttling answer pauses the whole mailbox before this send slot
	// is handed on, so that no other worker sends into the window.
	if me, ok := mail.AsError(sendErr); ok {
		if d := throttlePause(me, q.retryDelay(m.Attempts-m.AttemptsBase, 0)); d > 0 {
			pctx, pcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			q.pauseSender(pctx, sender, q.opt.Now().Add(d), me)
			pcancel()
		}
	}
	slots.Release()
	if me, ok := mail.AsError(sendErr); sendErr != nil && (!ok || !me.MaybeDelivered) {
		q.releaseBudget(context.WithoutCancel(ctx), sender, budgetHour)
	}
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
	if me.Misconfigured {
		return q.waitForConfig(ctx, rctx, m, start, end, me, reqID, observe)
	}
	text := me.Error()
	if !me.Retryable {
		q.log.ErrorContext(ctx, text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID,
			"attempt", m.Attempts, "outcome", StatusFailed)
		if err := q.recordFailure(rctx, m, start, end, me, StatusFailed, time.Time{}, false); err != nil {
			return err
		}
		q.stats.failed.Add(1)
		observe(StatusFailed)
		return river.JobCancel(errors.New(text))
	}
	if m.Attempts-m.AttemptsBase >= q.opt.MaxAttempts {
		q.log.ErrorContext(ctx, "email given up after "+fmt.Sprint(m.Attempts-m.AttemptsBase)+" attempts: "+text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID,
			"attempt", m.Attempts, "outcome", StatusGivenUp)
		if err := q.recordFailure(rctx, m, start, end, me, StatusGivenUp, time.Time{}, false); err != nil {
			return err
		}
		q.stats.givenUp.Add(1)
		observe(StatusGivenUp)
		return river.JobCancel(errors.New(text))
	}
	delay := q.retryDelay(m.Attempts-m.AttemptsBase, me.RetryAfter)
	q.log.WarnContext(ctx, text, "email_id", id, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status, "graph_request_id", me.RequestID,
		"attempt", m.Attempts, "outcome", StatusRetrying, "retry_in", delay.Round(time.Millisecond).String())
	if err := q.recordFailure(rctx, m, start, end, me, StatusRetrying, end.Add(delay), false); err != nil {
		return err
	}
	q.stats.retried.Add(1)
	observe(StatusRetrying)
	// Snooze rather than fail: River's attempt count stays for crashes,
	// the delivery log counts provider attempts against MaxAttempts, and
	// Graph's Retry-After is honoured to the millisecond.
	return river.JobSnooze(delay)
}

// waitForConfig handles a failure that lies in the provider's setup: the
// email waits, without using up its attempts, until an administrator has
// fixed the configuration (and restarted, as the setup guide says, which
// tries it again at once; see Start), or until ConfigWaitLimit after it was
// queued, when it is given up with that reason.
func (q *Queue) waitForConfig(ctx, rctx context.Context, m message, start, end time.Time, me *mail.Error, reqID string, observe func(string)) error {
	if waited := end.Sub(m.QueuedAt); waited >= q.opt.ConfigWaitLimit {
		// The guide's message stays first: administrators search for it.
		gaveUp := *me
		gaveUp.Text = me.Error() + " — given up: the email configuration was not fixed within " + waitText(q.opt.ConfigWaitLimit) + " of the email being queued"
		q.log.ErrorContext(ctx, gaveUp.Text, "email_id", m.ID, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status,
			"graph_request_id", me.RequestID, "attempt", m.Attempts, "outcome", StatusGivenUp)
		if err := q.recordFailure(rctx, m, start, end, &gaveUp, StatusGivenUp, time.Time{}, false); err != nil {
			return err
		}
		q.stats.givenUp.Add(1)
		observe(StatusGivenUp)
		return river.JobCancel(errors.New(gaveUp.Text))
	}
	delay := time.Duration(float64(q.opt.ConfigRetryInterval) * q.opt.Jitter())
	// One problem, one ERROR line: the heartbeat writes it for the whole
	// batch of emails it holds (configLog); this email's own line is Debug.
	q.log.DebugContext(ctx, me.Error(), "email_id", m.ID, "request_id", reqID, "to", m.ToEmail, "http_status", me.Status,
		"graph_request_id", me.RequestID, "attempt", m.Attempts, "outcome", StatusWaitingConfig, "retry_in", delay.Round(time.Second).String())
	q.configLog.note(m.ID, me, delay, q.opt.Now())
	if err := q.recordFailure(rctx, m, start, end, me, StatusWaitingConfig, end.Add(delay), true); err != nil {
		return err
	}
	q.stats.waitingConfig.Add(1)
	observe(StatusWaitingConfig)
	// A snooze does not count against River's attempts either.
	return river.JobSnooze(delay)
}

// waitText is a wait limit in words: "3 days", or a duration.
func waitText(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		if n := int(d / (24 * time.Hour)); n > 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	}
	return d.String()
}

// Timeout lets the send timeout, not River's default, bound the job: the
// send plus time to claim and record it (20 s with the default timeout).
func (w *emailWorker) Timeout(*river.Job[sendEmailArgs]) time.Duration {
	return w.q.opt.SendTimeout + w.q.jobSlack()*2/3
}

// retryDelay is the wait after the n-th failed attempt: what the provider
// asked for (Retry-After, plus up to 10 % so that the emails it held do
// not all return in the same instant), or else exponential backoff with
// jitter. Microsoft's guidance is to wait the Retry-After and no more:
// the mailbox is paused for exactly that long (pauseSender), and backing
// off further only delays mail once the window is over.
func (q *Queue) retryDelay(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + time.Duration(float64(retryAfter)*(q.opt.Jitter()-0.75)/5)
	}
	d := float64(q.opt.RetryBase) * math.Pow(2, float64(max(n-1, 0)))
	d = math.Min(d, float64(q.opt.RetryMax)) * q.opt.Jitter()
	return time.Duration(d)
}

func defaultJitter() float64 { return 0.75 + rand.Float64()/2 }

var errNotSendable = errors.New("email is no longer sendable")

type message struct {
	ID                       int64
	NotificationID, UserID   int64
	ActionRequired           bool
	ToEmail, ToName, Subject string
	HTMLBody                 string
	Status                   string
	// Sender is the email's own sender mailbox, "" for the default.
	Sender                 string
	Attempts, AttemptsBase int
	// QueuedAt is when the email was queued, or queued again by an admin.
	QueuedAt time.Time
}

// reserve names this run on a queued, retrying, waiting (for
// configuration) or interrupted ("sending") message, changing nothing
// else, and returns it. A sent message is returned as is, so the worker
// can refuse to send it again. Only the email's current job
// (email_messages.job_id) may reserve it: a job that a retry replaced
// (see wakeTx) is refused, so that two jobs never send one email.
func (q *Queue) reserve(ctx context.Context, id, jobID int64) (message, error) {
	var m message
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		// queued_at, or created_at for a row that lacks it.
		var queuedAt sql.NullTime
		var nid, uid sql.NullInt64
		err := tx.QueryRowContext(ctx, `
			UPDATE email_messages SET claimed_by = $1
			WHERE id = $2 AND status IN ($3, $4, $5, $6) AND (job_id IS NULL OR job_id = $7)
			RETURNING id, to_email, to_name, subject, html_body, status, attempts, attempts_base, queued_at, created_at, notification_id, user_id, action_required, sender`,
			q.run.id, id, StatusQueued, StatusRetrying, StatusSending, StatusWaitingConfig, jobID,
		).Scan(&m.ID, &m.ToEmail, &m.ToName, &m.Subject, &m.HTMLBody, &m.Status, &m.Attempts, &m.AttemptsBase, &queuedAt, &m.QueuedAt, &nid, &uid, &m.ActionRequired, &m.Sender)
		if queuedAt.Valid {
			m.QueuedAt = queuedAt.Time
		}
		m.NotificationID, m.UserID = nid.Int64, uid.Int64
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var current sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT status, job_id FROM email_messages WHERE id = $1`, id).Scan(&m.Status, &current)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("email %d: %w (deleted)", id, errNotSendable)
		}
		if err != nil {
			return err
		}
		if m.Status == StatusSent {
			return nil
		}
		if current.Valid && current.Int64 != jobID {
			return fmt.Errorf("email %d is worked by job %d, not %d: %w", id, current.Int64, jobID, errNotSendable)
		}
		return fmt.Errorf("email %d is %s: %w", id, m.Status, errNotSendable)
	})
	if err != nil && !errors.Is(err, errNotSendable) {
		return m, fmt.Errorf("reserve email %d: %w", id, err)
	}
	return m, err
}

// claim moves a reserved message to "sending" and counts the attempt,
// returning the attempt's number. It is guarded by the reservation and,
// again, by the job: an email another process took over meanwhile (this
// one was thought dead), or that a retry gave a new job while this one
// waited for its slot (see wakeTx), is refused, so that two jobs never
// send one email. Claiming an email that is already "sending" (a job River
// rescued from a dead process) marks it maybe_duplicate.
func (q *Queue) claim(ctx context.Context, id, jobID int64) (int, error) {
	var attempts int
	err := q.db.SQL.QueryRowContext(ctx, `
		UPDATE email_messages SET status = $1, attempts = attempts + 1, updated_at = $2,
			maybe_duplicate = (maybe_duplicate OR status = $1)
		WHERE id = $3 AND claimed_by = $4 AND status IN ($1, $5, $6, $7) AND (job_id IS NULL OR job_id = $8)
		RETURNING attempts`,
		StatusSending, q.opt.Now().UTC(), id, q.run.id, StatusQueued, StatusRetrying, StatusWaitingConfig, jobID).Scan(&attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("email %d was taken over by another process or given a new job: %w", id, errNotSendable)
	}
	if err != nil {
		return 0, fmt.Errorf("claim email %d: %w", id, err)
	}
	return attempts, nil
}

// unreserve gives back a reservation that never reached the provider;
// a non-zero next is shown as the email's next try.
func (q *Queue) unreserve(ctx context.Context, id int64, next time.Time) error {
	if next.IsZero() {
		_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_messages SET claimed_by = '' WHERE id = $1 AND claimed_by = $2 AND status <> $3`,
			id, q.run.id, StatusSending)
		return err
	}
	_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_messages SET claimed_by = '', next_attempt_at = $4 WHERE id = $1 AND claimed_by = $2 AND status <> $3`,
		id, q.run.id, StatusSending, next.UTC())
	return err
}

func (q *Queue) recordSent(ctx context.Context, m message, start, end time.Time, requestID string) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, sent_at = $2, updated_at = $2, request_id = $3, last_error = '', next_attempt_at = NULL, claimed_by = ''
			WHERE id = $4`, StatusSent, end.UTC(), requestID, m.ID); err != nil {
			return fmt.Errorf("record sent email %d: %w", m.ID, err)
		}
		return insertAttempt(ctx, tx, m, start, end, StatusSent, &mail.Error{RequestID: requestID})
	})
}

// recordFailure writes a failed attempt. With uncounted, the attempt is
// recorded but does not use up the email's MaxAttempts (attempts_base
// moves with attempts).
func (q *Queue) recordFailure(ctx context.Context, m message, start, end time.Time, me *mail.Error, status string, next time.Time, uncounted bool) error {
	var nextAt any
	if !next.IsZero() {
		nextAt = next.UTC()
	}
	credit := 0
	if uncounted {
		credit = 1
	}
	// A request that was sent and then timed out or was cancelled may
	// have been accepted: if the email is sent again, it may arrive twice.
	if me.MaybeDelivered {
		q.stats.maybeDuplicate.Add(1)
	}
	reason := ""
	if status == StatusWaitingConfig {
		reason = waitReason(me)
	}
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, last_error = $2, updated_at = $3, next_attempt_at = $4, request_id = $5,
				attempts_base = attempts_base + $6, maybe_duplicate = (maybe_duplicate OR $8), claimed_by = '', wait_reason = $9
			WHERE id = $7`, status, me.Error(), end.UTC(), nextAt, me.RequestID, credit, m.ID, me.MaybeDelivered, reason); err != nil {
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
// failed, given up or waiting for the configuration to be fixed.
var ErrNotRetryable = errors.New("only failed, given-up or waiting-for-configuration emails can be retried")

// RetryEmail queues a failed or given-up email again now, with a fresh
// set of attempts (and a fresh ConfigWaitLimit), or tries an email that is
// waiting for the configuration to be fixed now instead of at its next
// slow retry. Returns store.ErrNotFound for an unknown id, ErrNotRetryable
// for any other status: a sent email is never sent again.
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
		switch status {
		case StatusFailed, StatusGivenUp:
			_, err := q.requeueTx(ctx, tx, id)
			return err
		case StatusWaitingConfig:
			_, err := q.wakeTx(ctx, tx, id)
			return err
		}
		return fmt.Errorf("email %d is %s: %w", id, status, ErrNotRetryable)
	})
}

// requeueTx queues a failed or given-up email again with a fresh set of
// attempts and a new job. It reports false, changing nothing, when the
// email is no longer failed or given up (a concurrent retry got there
// first): a status guard in the UPDATE itself, so a sent email can never
// be queued again.
func (q *Queue) requeueTx(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	now := q.opt.Now().UTC()
	res, err := tx.ExecContext(ctx, `
		UPDATE email_messages SET status = $1, attempts_base = attempts, next_attempt_at = NULL, updated_at = $2, queued_at = $2
		WHERE id = $3 AND status IN ($4, $5)`,
		StatusQueued, now, id, StatusFailed, StatusGivenUp)
	if err != nil {
		return false, fmt.Errorf("retry email %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	return true, q.insertJobTx(ctx, tx, id)
}

// wakeTx gives an email waiting for the configuration a new job that
// runs now, instead of its snoozed one. The new job becomes the email's
// current job (job_id), so the old one, when its time comes, is refused by
// claim and cancels itself: one email never has two jobs that may send
// it. (River's JobRetry cannot do this: it leaves a job that is running
// alone, and a job that has just recorded its wait is still running for a
// moment before River snoozes it.) An email that is not waiting any more,
// being tried right now for instance, is left alone.
func (q *Queue) wakeTx(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE email_messages SET next_attempt_at = NULL WHERE id = $1 AND status = $2`,
		id, StatusWaitingConfig)
	if err != nil {
		return false, fmt.Errorf("retry email %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	return true, q.insertJobTx(ctx, tx, id)
}

// RetryResult says what RetryFailed did.
type RetryResult struct {
	// Requeued is failed and given-up emails queued again with a fresh
	// set of attempts.
	Requeued int `json:"requeued"`
	// WaitingRetried is emails waiting for the configuration to be fixed
	// that are tried again now rather than at their next slow retry.
	WaitingRetried int `json:"waiting_retried"`
	// TokenError is, when the provider asked Microsoft Entra ID for a
	// token first (Graph) and was refused, the answer in the guide's
	// words: the retried emails will wait again. Empty when the token was
	// issued or nothing was asked.
	TokenError string `json:"token_error,omitempty"`
	// TokenChecked is true when Entra ID was asked for a token now.
	TokenChecked bool `json:"token_checked,omitempty"`
	// TokenValid is true when Entra ID was not asked because the
	// provider holds a token that is still valid: the waiting emails did
	// not wait on the token, and Graph's answer to each shows in the log.
	TokenValid bool `json:"token_valid,omitempty"`
	// WaitingOnGraph is how many of the retried waiting emails waited on
	// Graph's answer (a 403 or 404 for the sender mailbox) rather than on
	// the token: only sending them again shows whether that was fixed.
	WaitingOnGraph int64 `json:"waiting_on_graph,omitempty"`
}

// rechecker is a provider that can ask for its credentials afresh,
// forgetting a failure it remembers (the Graph client); asked says
// whether it asked, or held a token that is still valid.
type rechecker interface {
	Recheck(ctx context.Context) (asked bool, err error)
}

// retryBatch is how many emails one transaction of RetryFailed handles, so
// that a long backlog does not hold SQLite's write lock for long.
const retryBatch = 200

// RetryFailed is "Retry all" for an administrator who has fixed the email
// configuration: every failed and given-up email is queued again with a
// fresh set of attempts, and every email waiting for the configuration is
// tried now. Sent emails (and emails queued, sending or retrying) are not
// touched: a sent email is never sent again.
//
// When emails wait for the configuration, the provider is asked for its
// credentials first, even if it remembers a failure from moments ago: the
// administrator has just fixed something, and the result says whether
// Entra ID now issues a token.
func (q *Queue) RetryFailed(ctx context.Context) (RetryResult, error) {
	var res RetryResult
	var err error
	var waiting int
	if err := q.db.SQL.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN wait_reason LIKE 'graph %' THEN 1 END) FROM email_messages WHERE status = $1`, StatusWaitingConfig).Scan(&waiting, &res.WaitingOnGraph); err != nil {
		return res, fmt.Errorf("retry failed emails: %w", err)
	}
	if rc, ok := q.opt.Provider.(rechecker); ok && waiting > 0 {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		asked, cerr := rc.Recheck(cctx)
		cancel()
		res.TokenChecked, res.TokenValid = asked, !asked && cerr == nil
		if cerr != nil {
			res.TokenError = cerr.Error()
		}
	}
	if res.Requeued, err = q.eachEmail(ctx, q.requeueTx, StatusFailed, StatusGivenUp); err != nil {
		return res, err
	}
	res.WaitingRetried, err = q.wakeWaiting(ctx)
	return res, err
}

// wakeWaiting tries every email waiting for the configuration now. Start
// calls it: the setup guide's fix for a wrong or expired secret ends with
// "restart the application server" and "confirm emails are being sent".
func (q *Queue) wakeWaiting(ctx context.Context) (int, error) {
	return q.eachEmail(ctx, q.wakeTx, StatusWaitingConfig)
}

// eachEmail calls do for every email in the given statuses, retryBatch
// per transaction, and counts those it acted on. The id cursor keeps the
// loop finite when an email do requeued fails again before the loop ends.
func (q *Queue) eachEmail(ctx context.Context, do func(context.Context, *sql.Tx, int64) (bool, error), statuses ...string) (int, error) {
	total := 0
	afterID := int64(0)
	for {
		ids, err := q.emailIDs(ctx, afterID, retryBatch, statuses...)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		afterID = ids[len(ids)-1]
		n := 0
		err = q.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, id := range ids {
				ok, err := do(ctx, tx, id)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
		if len(ids) < retryBatch {
			return total, nil
		}
	}
}

// emailIDs returns up to limit ids above afterID of emails in the given
// statuses, oldest first.
func (q *Queue) emailIDs(ctx context.Context, afterID int64, limit int, statuses ...string) ([]int64, error) {
	args := []any{afterID, limit}
	ph := make([]string, len(statuses))
	for i, st := range statuses {
		args = append(args, st)
		ph[i] = fmt.Sprintf("$%d", i+3)
	}
	rows, err := q.db.SQL.QueryContext(ctx, `SELECT id FROM email_messages WHERE id > $1 AND status IN (`+strings.Join(ph, ", ")+`) ORDER BY id LIMIT $2`, args...)
	if err != nil {
		return nil, fmt.Errorf("list emails to retry: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list emails to retry: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

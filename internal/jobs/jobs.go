// Package jobs is mocpcr's durable background work: a River queue in the
// application's own database (the embedded SQLite file or PostgreSQL), the
// email delivery worker with its delivery log, and periodic jobs that run
// once per cluster.
//
// Everything River-specific lives here. Other packages see three things:
// EnqueueEmailTx (inside their own *sql.Tx), AddPeriodic, and Stats.
package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/store"
)

// Queue names. Email has its own queue so that periodic work never takes a
// send slot, and the send slots never exceed the mailbox limit.
const (
	queueEmail    = "email"
	queuePeriodic = "periodic"
)

// Options configure the queue. Zero values take the documented defaults.
type Options struct {
	// Provider delivers email. Required for sending; nil queues email that
	// stays queued until a process with a provider works it.
	Provider mail.Provider
	// Sender is the mailbox email is sent from (GRAPH_MAIL_SENDER); the
	// concurrency limit is per sender mailbox.
	Sender string
	// MaxConcurrentSends caps concurrent sends from the sender mailbox
	// (GRAPH_MAX_CONCURRENT_SENDS) when the Provider has no send slots of
	// its own; a mail.Limited provider (the Graph client) is capped by its
	// slots, shared with every other caller of that provider. Default 4.
	MaxConcurrentSends int
	// MaxAttempts is how many delivery attempts an email gets before it is
	// given up (MOCPCR_EMAIL_MAX_ATTEMPTS). Default 10. Attempts that fail
	// because of the provider's configuration do not count (see
	// StatusWaitingConfig).
	MaxAttempts int
	// ConfigRetryInterval is how often an email waiting for the email
	// configuration to be fixed is tried again, ±25 % jitter. Default
	// DefaultConfigRetryInterval (5 minutes).
	ConfigRetryInterval time.Duration
	// ConfigWaitLimit is how long after it was queued an email waiting for
	// the configuration is given up. Default DefaultConfigWaitLimit (3 days).
	ConfigWaitLimit time.Duration
	// SendTimeout bounds one provider call. Default 30 s.
	SendTimeout time.Duration
	// StopTimeout bounds a graceful stop: how long Stop lets the sends in
	// flight finish and be recorded before it cancels them. Default
	// SendTimeout + 5 s, so that a send is never cut short by a stop
	// before its own timeout would have ended it: a send cancelled after
	// Graph received it is sent again after the restart.
	StopTimeout time.Duration
	// RescueStuckAfter is how long a job may stay running before River's
	// rescuer (which looks every 30 s) assumes its process died and makes
	// it available again. It is raised to at least the job timeout
	// (SendTimeout plus up to 30 s to claim and record the send). Default
	// SendTimeout + 2.5 minutes.
	RescueStuckAfter time.Duration
	// HeartbeatInterval is how often this process records in the
	// database that it lives, and looks for emails that crashed processes
	// left "sending". Default DefaultHeartbeatInterval (2 s).
	HeartbeatInterval time.Duration
	// OrphanAfter is how long a process may stay silent before the emails
	// it was sending are taken over by another (or the restarted) process.
	// A restart on the same machine knows its predecessor is gone and
	// takes them over at once. Default DefaultOrphanAfter (10 s).
	OrphanAfter time.Duration
	// DailyRecipients is the sender's budget of recipients per rolling 24
	// hours, counted across replicas (MOCPCR_EMAIL_DAILY_RECIPIENTS).
	// Default DefaultDailyRecipients (9,000, a tenth under Exchange
	// Online's 10,000).
	DailyRecipients int
	// DeferToDigest, when set, holds a notification for its recipient's
	// next daily digest inside tx, for informational emails that the
	// budget keeps from going out on their own; it reports whether it did.
	// Without it such emails wait for the budget to free.
	DeferToDigest func(ctx context.Context, tx *sql.Tx, notificationID, userID int64) (bool, error)
	// RetryBase and RetryMax shape the exponential backoff between
	// retryable failures: RetryBase·2^(n-1), capped at RetryMax, with ±25 %
	// jitter, and never less than the provider's Retry-After. Defaults 10 s
	// and 30 min.
	RetryBase, RetryMax time.Duration
	// PollInterval is how often workers look for new jobs when no
	// notification tells them. Default 250 ms on SQLite, 1 s on PostgreSQL
	// (where LISTEN/NOTIFY wakes them at once).
	PollInterval time.Duration
	// ClientID names this process among River clients; default River's.
	ClientID string
	Logger   *slog.Logger
	// ObserveSend, when set, is told the outcome (StatusSent,
	// StatusRetrying, StatusWaitingConfig, StatusFailed or StatusGivenUp) and duration of
	// every provider call, for the latency histogram.
	ObserveSend func(outcome string, d time.Duration)
	// Now is the clock for the delivery log; tests replace it.
	Now func() time.Time
	// Jitter returns a factor in [0.75, 1.25); tests replace it.
	Jitter func() float64
}

// runner is the part of a River client that works jobs; its transaction
// type differs per driver, so it is kept behind this interface.
type runner interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	PeriodicJobs() *river.PeriodicJobBundle
}

// Queue is the job queue of one process.
type Queue struct {
	db  *store.DB
	opt Options
	log *slog.Logger

	// inserter takes our own *sql.Tx: on SQLite it is the working client
	// itself; on PostgreSQL an insert-only client over database/sql on
	// the same tables, because app transactions are database/sql.
	inserter *river.Client[*sql.Tx]
	// worker works the jobs: riversqlite on SQLite, riverpgxv5 on PostgreSQL.
	worker runner
	// riverDB is River's own SQLite handle (nil on PostgreSQL).
	riverDB *sql.DB

	pause senderPauses
	// slots caps the sends in flight per sender mailbox: the provider's
	// own (mail.Limited), else the queue's, of MaxConcurrentSends each.
	slots      func(sender string) *mail.Slots
	configLog  configLog
	stats      counters
	queueStats queueStats

	mu       sync.Mutex
	periodic map[string]func(ctx context.Context) error
	started  bool
	// stopping is closed when Stop begins: a job that has not yet taken
	// a send slot gives its email back instead of sending it.
	stopping chan struct{}
	// endRun cancels the context River works on; only Stop calls it.
	endRun context.CancelFunc
	// run names this process in email_runs and in its claims; the
	// heartbeat loop runs until endBeat closes and then closes beatDone.
	run               run
	endBeat, beatDone chan struct{}
}

// sendSlots returns the provider's send slots of each mailbox, so that
// the queue and the provider count the same sends against one limit, or
// else the queue's own n per mailbox.
func sendSlots(p mail.Provider, n int) func(sender string) *mail.Slots {
	if l, ok := p.(mail.Limited); ok {
		return l.SendSlots
	}
	return mail.NewMailboxSlots(n).For
}

// New builds the queue on db and applies River's migrations (after ours,
// which the caller has applied). It starts nothing.
func New(ctx context.Context, db *store.DB, opt Options) (*Queue, error) {
	if opt.MaxConcurrentSends <= 0 {
		opt.MaxConcurrentSends = 4
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.ConfigRetryInterval <= 0 {
		opt.ConfigRetryInterval = DefaultConfigRetryInterval
	}
	if opt.ConfigWaitLimit <= 0 {
		opt.ConfigWaitLimit = DefaultConfigWaitLimit
	}
	if opt.SendTimeout <= 0 {
		opt.SendTimeout = 30 * time.Second
	}
	if opt.StopTimeout <= 0 {
		opt.StopTimeout = opt.SendTimeout + 5*time.Second
	}
	if opt.RescueStuckAfter <= 0 {
		opt.RescueStuckAfter = opt.SendTimeout + 150*time.Second
	}
	// River refuses a rescue time shorter than the job timeout.
	opt.RescueStuckAfter = max(opt.RescueStuckAfter, opt.SendTimeout+min(30*time.Second, opt.SendTimeout))
	if opt.DailyRecipients <= 0 {
		opt.DailyRecipients = DefaultDailyRecipients
	}
	if opt.HeartbeatInterval <= 0 {
		opt.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opt.OrphanAfter <= 0 {
		opt.OrphanAfter = DefaultOrphanAfter
	}
	// A run must beat several times before it may be thought gone.
	opt.OrphanAfter = max(opt.OrphanAfter, 3*opt.HeartbeatInterval)
	if opt.RetryBase <= 0 {
		opt.RetryBase = 10 * time.Second
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 30 * time.Minute
	}
	if opt.PollInterval <= 0 {
		opt.PollInterval = time.Second
		if db.Dialect == store.SQLite {
			opt.PollInterval = 250 * time.Millisecond
		}
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Jitter == nil {
		opt.Jitter = defaultJitter
	}
	q := &Queue{
		db: db, opt: opt, log: opt.Logger,
		slots:    sendSlots(opt.Provider, opt.MaxConcurrentSends),
		periodic: map[string]func(context.Context) error{},
		run:      newRun(),
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &emailWorker{q: q})
	river.AddWorker(workers, &periodicWorker{q: q})
	cfg := &river.Config{
		ID:                opt.ClientID,
		Logger:            riverLogger(opt.Logger),
		FetchPollInterval: opt.PollInterval,
		// A freed send slot is refilled within 5 ms: with 4 slots and a
		// 50 ms provider this gives ~70 emails/s against a ceiling of 80
		// (River's default 100 ms cooldown halved that).
		FetchCooldown:        min(opt.PollInterval, 5*time.Millisecond),
		JobTimeout:           opt.SendTimeout + q.jobSlack(),
		RescueStuckJobsAfter: opt.RescueStuckAfter,
		MaxAttempts:          riverMaxAttempts,
		Queues: map[string]river.QueueConfig{
			// Twice the mailbox cap: the slots keep Graph at the cap,
			// and the extra workers have the next message claimed and
			// waiting, so a freed send slot is refilled in microseconds
			// rather than after the finished job is recorded, completed
			// (batched every few tens of ms on PostgreSQL) and the next
			// one fetched. With exactly cap workers PostgreSQL reached 66
			// emails/s of the 80 a 50 ms provider allows.
			queueEmail:    {MaxWorkers: 2 * q.slots(opt.Sender).Cap()},
			queuePeriodic: {MaxWorkers: 2},
		},
		Workers: workers,
		// Sent and cancelled jobs are kept a day for River's own
		// inspection; the delivery log is the lasting record.
		CompletedJobRetentionPeriod: 24 * time.Hour,
		CancelledJobRetentionPeriod: 7 * 24 * time.Hour,
	}

	switch db.Dialect {
	case store.SQLite:
		// River gets its own handle on the same file with one connection,
		// as riversqlite advises; the app's handle keeps its readers.
		rdb, err := sql.Open("sqlite", store.SQLiteDSN(db.Path))
		if err != nil {
			return nil, fmt.Errorf("open job queue database: %w", err)
		}
		rdb.SetMaxOpenConns(1)
		q.riverDB = rdb
		driver := riversqlite.New(rdb)
		if err := migrateRiver(ctx, driver); err != nil {
			rdb.Close()
			return nil, err
		}
		c, err := river.NewClient(driver, cfg)
		if err != nil {
			rdb.Close()
			return nil, fmt.Errorf("create job queue: %w", err)
		}
		q.inserter, q.worker = c, c
	case store.Postgres:
		if err := migrateRiver(ctx, riverpgxv5.New(db.Pool)); err != nil {
			return nil, err
		}
		w, err := river.NewClient[pgx.Tx](riverpgxv5.New(db.Pool), cfg)
		if err != nil {
			return nil, fmt.Errorf("create job queue: %w", err)
		}
		ins, err := river.NewClient(riverdatabasesql.New(db.SQL), &river.Config{
			Logger:      riverLogger(opt.Logger),
			MaxAttempts: riverMaxAttempts,
		})
		if err != nil {
			return nil, fmt.Errorf("create job inserter: %w", err)
		}
		q.inserter, q.worker = ins, w
	default:
		return nil, fmt.Errorf("job queue: unsupported database %q", db.Dialect)
	}
	return q, nil
}

// jobSlack is the time a job gets beyond SendTimeout to claim and record
// its send: 30 s, or SendTimeout when that is shorter (operators who make
// rescue fast, MOCPCR_JOB_RESCUE_AFTER, get a short send timeout too).
func (q *Queue) jobSlack() time.Duration { return min(30*time.Second, q.opt.SendTimeout) }

// riverMaxAttempts is River's own limit. Provider failures do not count
// against it (they snooze, and the delivery log counts attempts against
// Options.MaxAttempts); it only stops a job that keeps failing for other
// reasons, such as a process killed mid-send again and again.
const riverMaxAttempts = 25

func migrateRiver[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) error {
	m, err := rivermigrate.New[TTx](driver, nil)
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// riverLogger keeps River's chatter out of the info log.
func riverLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelFloor{l.Handler(), slog.LevelWarn})
}

type levelFloor struct {
	slog.Handler
	min slog.Level
}

func (h levelFloor) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
func (h levelFloor) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFloor{h.Handler.WithAttrs(a), h.min}
}
func (h levelFloor) WithGroup(n string) slog.Handler {
	return levelFloor{h.Handler.WithGroup(n), h.min}
}

// Start begins working jobs: queued and retrying email from before a
// restart is picked up, and jobs a dead process left running are rescued
// after Options.RescueStuckAfter. Emails waiting for the email
// configuration to be fixed are tried at once rather than at their next
// slow retry: a restart is how the setup guide has the administrator apply
// a new secret.
//
// ctx bounds only the start itself. The queue works on a context that
// only Stop ends: River cancels every job in flight when the context
// given to its Start ends, and the context a server gets is the one
// SIGTERM cancels; sends cancelled that way had usually reached Graph
// already and went out twice after the restart.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	if q.started {
		q.mu.Unlock()
		return errors.New("start job queue: already started")
	}
	q.started = true
	q.stopping = make(chan struct{})
	runCtx, endRun := context.WithCancel(context.WithoutCancel(ctx))
	q.endRun = endRun
	q.mu.Unlock()
	if q.opt.Provider != nil {
		n, err := q.wakeWaiting(ctx)
		if err != nil {
			// Not fatal: they are still tried at their next slow retry.
			q.log.WarnContext(ctx, "could not retry the emails waiting for the email configuration now; they are tried again within "+q.opt.ConfigRetryInterval.String(), "err", err)
		} else if n > 0 {
			q.log.InfoContext(ctx, "emails waiting for the email configuration to be fixed are tried again now", "emails", n)
		}
	}
	// This run is recorded before it claims anything, and the orphans of
	// a crashed predecessor are queued again before River starts, so
	// they go out with the first jobs rather than after River's rescue
	// time.
	if err := q.register(ctx); err != nil {
		endRun()
		return err
	}
	if n, err := q.takeOverOrphans(ctx); err != nil {
		q.log.WarnContext(ctx, "looking for emails a crashed process left sending", "err", err)
	} else if n > 0 {
		q.log.WarnContext(ctx, "emails a stopped process left sending are sent again now; they may reach their recipients twice", "emails", n)
	}
	q.endBeat, q.beatDone = make(chan struct{}), make(chan struct{})
	go q.heartbeatLoop(q.endBeat, q.beatDone)
	if err := q.worker.Start(runCtx); err != nil {
		close(q.endBeat)
		<-q.beatDone
		endRun()
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// StopTimeout is how long a graceful stop may take (Options.StopTimeout):
// the bound a caller should give Stop.
func (q *Queue) StopTimeout() time.Duration { return q.opt.StopTimeout }

// Stop is a graceful stop: no new send starts (jobs not yet sending give
// their email back, for the next start or another replica), and the sends
// in flight finish and are recorded. If ctx ends first, the sends still in
// flight are cancelled and their jobs run again on the next start; give
// ctx at least StopTimeout so that this happens only to a send that its
// own timeout would have ended anyway.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	started := q.started
	q.started = false
	stopping, endRun := q.stopping, q.endRun
	q.mu.Unlock()
	if !started {
		return nil
	}
	close(stopping)
	defer endRun()
	err := q.worker.Stop(ctx)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		q.log.Warn("job queue: sends still in flight when the stop timeout ended are cancelled; they run again at the next start", "stop_timeout", q.opt.StopTimeout.String())
		hard, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = q.worker.StopAndCancel(hard)
	}
	// The heartbeat ends only now: while sends were in flight this run
	// had to look alive, or another replica would have sent them again.
	close(q.endBeat)
	<-q.beatDone
	uctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if uerr := q.unregister(uctx); uerr != nil {
		q.log.Warn("could not record that this process stopped sending email", "err", uerr)
	}
	return err
}

// Close releases River's own database handle. Call after Stop.
func (q *Queue) Close() error {
	if q.riverDB != nil {
		return q.riverDB.Close()
	}
	return nil
}

// Provider is the mail provider the queue sends through.
func (q *Queue) Provider() mail.Provider { return q.opt.Provider }

// Sender is the default sender mailbox (GRAPH_MAIL_SENDER); an email may
// name its own (a site's sender).
func (q *Queue) Sender() string { return q.opt.Sender }

// senderOf is the mailbox m is sent from: its own, or the default.
func (q *Queue) senderOf(m message) string {
	if m.Sender != "" {
		return m.Sender
	}
	return q.opt.Sender
}

// ConfigWait is how often an email waiting for the email configuration is
// tried again, and how long after it was queued it is given up.
func (q *Queue) ConfigWait() (interval, limit time.Duration) {
	return q.opt.ConfigRetryInterval, q.opt.ConfigWaitLimit
}

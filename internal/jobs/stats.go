package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
)

type counters struct {
	sent, failed, retried, givenUp atomic.Int64
	waitingConfig                  atomic.Int64
	maybeDuplicate                 atomic.Int64
	sends, sendNanos               atomic.Int64
}

func (c *counters) latency(d time.Duration) {
	c.sends.Add(1)
	c.sendNanos.Add(int64(d))
}

// Stats are the email delivery counters of this process since it started,
// plus the queue depth across the cluster, for the metrics endpoint.
type Stats struct {
	// Sent is messages the provider accepted.
	Sent int64
	// Failed is permanent failures (no retry).
	Failed int64
	// Retried is failed attempts that were scheduled to be tried again.
	Retried int64
	// GivenUp is emails that ran out of attempts (or of time waiting for
	// the configuration to be fixed).
	GivenUp int64
	// ConfigFailures is failed attempts that were put to wait for the
	// email configuration to be fixed (this process).
	ConfigFailures int64
	// MaybeDuplicate is emails this process marked "may have been sent
	// twice": taken over from a process that stopped mid-send, or tried
	// again after a request that reached Graph timed out.
	MaybeDuplicate int64
	// QueueDepth is emails queued, sending, waiting to retry or waiting
	// for the configuration (all processes, from the delivery log).
	QueueDepth int64
	// WaitingConfig is the emails of QueueDepth that wait for the email
	// configuration to be fixed (all processes).
	WaitingConfig int64
	// Sends and SendSeconds are the number of provider calls and their
	// total duration: SendSeconds/Sends is the mean send latency.
	Sends       int64
	SendSeconds float64
	// OldestQueued is the age of the oldest email not yet delivered
	// (queued, sending or waiting to retry), 0 when there is none.
	OldestQueued time.Duration
	// BudgetUsed and BudgetLimit are the sender's recipients in the last
	// 24 hours (all replicas) and its daily budget.
	BudgetUsed, BudgetLimit int64
	// TokenRequests and TokenFailures are the provider's token requests
	// and how many of them failed, when the provider reports them (the
	// Graph client does).
	TokenRequests, TokenFailures int64
}

// tokenCounter is implemented by providers that fetch tokens.
type tokenCounter interface{ TokenRequests() int64 }

// queueStatsTTL is how long the queue depth and oldest age are reused, so
// several scrapers (or several metrics read one by one) cost one query.
const queueStatsTTL = time.Second

type queueStats struct {
	mu      sync.Mutex
	at      time.Time
	depth   int64
	waiting int64
	oldest  time.Time // zero when the queue is empty
	budget  Budget
}

// Stats returns the counters; QueueDepth and OldestQueued come from the
// delivery log, read at most once a second (two index lookups).
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	s := Stats{
		Sent:           q.stats.sent.Load(),
		Failed:         q.stats.failed.Load(),
		Retried:        q.stats.retried.Load(),
		GivenUp:        q.stats.givenUp.Load(),
		ConfigFailures: q.stats.waitingConfig.Load(),
		MaybeDuplicate: q.stats.maybeDuplicate.Load(),
		Sends:          q.stats.sends.Load(),
		SendSeconds:    time.Duration(q.stats.sendNanos.Load()).Seconds(),
	}
	switch p := q.opt.Provider.(type) {
	case *graph.Client:
		gs := p.Stats()
		s.TokenRequests, s.TokenFailures = gs.TokenRequests, gs.TokenFailures
	case tokenCounter:
		s.TokenRequests = p.TokenRequests()
	}
	qs := &q.queueStats
	qs.mu.Lock()
	defer qs.mu.Unlock()
	now := time.Now()
	if qs.at.IsZero() || now.Sub(qs.at) >= queueStatsTTL {
		depth, waiting, oldest, err := q.readQueueStats(ctx)
		if err != nil {
			return s, err
		}
		b, err := q.Budget(ctx)
		if err != nil {
			return s, err
		}
		qs.at, qs.depth, qs.waiting, qs.oldest, qs.budget = now, depth, waiting, oldest, b
	}
	s.QueueDepth, s.WaitingConfig = qs.depth, qs.waiting
	s.BudgetUsed, s.BudgetLimit = int64(qs.budget.Used), int64(qs.budget.Limit)
	if !qs.oldest.IsZero() {
		s.OldestQueued = max(0, now.Sub(qs.oldest))
	}
	return s, nil
}

// readQueueStats counts undelivered emails (and those of them waiting for
// the configuration) and finds the oldest one; both walk only the
// undelivered part of the (status, id) index.
func (q *Queue) readQueueStats(ctx context.Context) (depth, waiting int64, oldest time.Time, err error) {
	var minID sql.NullInt64
	err = q.db.SQL.QueryRowContext(ctx, `SELECT count(*), min(id), count(CASE WHEN status = $4 THEN 1 END) FROM email_messages WHERE status IN ($1, $2, $3, $4)`,
		StatusQueued, StatusSending, StatusRetrying, StatusWaitingConfig).Scan(&depth, &minID, &waiting)
	if err != nil {
		return 0, 0, oldest, fmt.Errorf("email queue depth: %w", err)
	}
	if !minID.Valid {
		return depth, waiting, oldest, nil
	}
	err = q.db.SQL.QueryRowContext(ctx, `SELECT created_at FROM email_messages WHERE id = $1`, minID.Int64).Scan(&oldest)
	if errors.Is(err, sql.ErrNoRows) {
		return depth, waiting, time.Time{}, nil // delivered and pruned in between
	}
	if err != nil {
		return 0, 0, oldest, fmt.Errorf("oldest queued email: %w", err)
	}
	return depth, waiting, oldest, nil
}

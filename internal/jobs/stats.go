package jobs

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail/graph"
)

type counters struct {
	sent, failed, retried, givenUp atomic.Int64
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
	// GivenUp is emails that ran out of attempts.
	GivenUp int64
	// QueueDepth is emails queued, sending or waiting to retry (all
	// processes, from the delivery log).
	QueueDepth int64
	// Sends and SendSeconds are the number of provider calls and their
	// total duration: SendSeconds/Sends is the mean send latency.
	Sends       int64
	SendSeconds float64
	// TokenRequests is the provider's token requests, when the provider
	// reports them (the Graph client does).
	TokenRequests int64
}

// tokenCounter is implemented by providers that fetch tokens.
type tokenCounter interface{ TokenRequests() int64 }

// Stats returns the counters; QueueDepth needs one small query.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	s := Stats{
		Sent:        q.stats.sent.Load(),
		Failed:      q.stats.failed.Load(),
		Retried:     q.stats.retried.Load(),
		GivenUp:     q.stats.givenUp.Load(),
		Sends:       q.stats.sends.Load(),
		SendSeconds: time.Duration(q.stats.sendNanos.Load()).Seconds(),
	}
	switch p := q.opt.Provider.(type) {
	case *graph.Client:
		s.TokenRequests = p.Stats().TokenRequests
	case tokenCounter:
		s.TokenRequests = p.TokenRequests()
	}
	err := q.db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM email_messages WHERE status IN ($1, $2, $3)`,
		StatusQueued, StatusSending, StatusRetrying).Scan(&s.QueueDepth)
	if err != nil {
		return s, fmt.Errorf("email queue depth: %w", err)
	}
	return s, nil
}

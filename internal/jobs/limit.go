package jobs

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// Graph allows four concurrent requests per mailbox and throttles beyond
// that. Every Queue in the process that sends from the same mailbox
// shares one limiter, so however many workers or queues exist, no more
// than the configured number of sends run at once.
var (
	limitersMu sync.Mutex
	limiters   = map[string]*limiter{}
)

type limiter struct{ slots chan struct{} }

// mailboxLimiter returns the process-wide limiter of a sender mailbox. The
// first caller sets its size (the configuration is per process, so every
// caller passes the same number).
func mailboxLimiter(sender string, n int) *limiter {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	key := strings.ToLower(sender)
	if l, ok := limiters[key]; ok {
		return l
	}
	l := &limiter{slots: make(chan struct{}, n)}
	limiters[key] = l
	return l
}

// errStopping is acquire's answer once the queue has begun to stop.
var errStopping = errors.New("the job queue is stopping")

// acquire takes a send slot, unless ctx ends or stopping closes first.
func (l *limiter) acquire(ctx context.Context, stopping <-chan struct{}) error {
	select {
	case <-stopping:
		return errStopping
	default:
	}
	select {
	case l.slots <- struct{}{}:
		return nil
	case <-stopping:
		return errStopping
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *limiter) release() { <-l.slots }

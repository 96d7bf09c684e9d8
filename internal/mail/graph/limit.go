package graph

import (
	"context"
	"strings"
	"sync"
)

// Graph allows four concurrent requests per mailbox and answers a fifth
// with 429 MailboxConcurrency. The limit belongs to the mailbox, not to a
// Client, so the semaphore lives in a process-wide registry keyed by
// (Graph endpoint, tenant, lowercase sender): every Client for the same
// mailbox in this process shares it. Other processes (replicas) are not
// counted; their 429s are retried like any throttling.
var mailboxLimits = struct {
	sync.Mutex
	m map[string]*semaphore
}{m: make(map[string]*semaphore)}

// mailboxSemaphore returns the shared semaphore for a mailbox. When Clients
// ask for different caps, the smallest one wins for all of them.
func mailboxSemaphore(endpoint, tenant, sender string, limit int) *semaphore {
	key := strings.ToLower(endpoint + "|" + tenant + "|" + sender)
	mailboxLimits.Lock()
	defer mailboxLimits.Unlock()
	s, ok := mailboxLimits.m[key]
	if !ok {
		s = &semaphore{limit: limit}
		mailboxLimits.m[key] = s
		return s
	}
	s.lower(limit)
	return s
}

// semaphore is a counting semaphore whose limit can be lowered, with
// context-aware, first-come first-served acquisition.
type semaphore struct {
	mu      sync.Mutex
	limit   int
	used    int
	waiters []chan struct{}
}

func (s *semaphore) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.used < s.limit && len(s.waiters) == 0 {
		s.used++
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	s.waiters = append(s.waiters, ready)
	s.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		select {
		case <-ready:
			// Granted while we were giving up: hand the slot on.
			s.used--
			s.grant()
		default:
			for i, w := range s.waiters {
				if w == ready {
					s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
					break
				}
			}
		}
		return ctx.Err()
	}
}

func (s *semaphore) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used--
	s.grant()
}

func (s *semaphore) lower(limit int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limit = min(s.limit, limit)
}

// grant wakes waiters while there is room; s.mu must be held.
func (s *semaphore) grant() {
	for s.used < s.limit && len(s.waiters) > 0 {
		s.used++
		close(s.waiters[0])
		s.waiters = s.waiters[1:]
	}
}

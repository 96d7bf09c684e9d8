package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// unreadGen counts changes to unread state this process made or heard
// of: a notification written (Notify), marked read or unread, or a hub
// signal (on PostgreSQL a commit on any replica; on SQLite a new row seen
// while someone has a live stream open). Cached badge counts remember the
// count they were loaded under and are reloaded when it moved.
var unreadGen atomic.Uint64

func unreadChanged() { unreadGen.Add(1) }

// UnreadCache serves the page header's unread badge from memory for a
// short time. Every page used to count the user's unread notifications;
// a busy user's pages now cost that query once per TTL, or once per
// change to their notifications made through this process.
//
// The trade-off: a count is reloaded at once after this process writes a
// notification or marks one read, and after a hub signal. Left stale
// for up to the TTL: a notification written by another process (the
// CLI, or another replica on SQLite where no live stream is open), and a
// page rendered between a notification's insert and its transaction's
// commit on this process. The live badge (server-sent events) corrects
// an open page anyway. The inbox and the unread-count API stay exact.
type UnreadCache struct {
	ttl time.Duration
	// Clock is the cache's own clock (real time; tests replace it).
	Clock func() time.Time

	mu sync.Mutex
	m  map[int64]unreadEntry
}

type unreadEntry struct {
	n       int
	gen     uint64
	expires time.Time
}

// maxUnreadEntries bounds memory: past it the cache starts over.
const maxUnreadEntries = 50000

// NewUnreadCache returns a cache trusting counts for ttl.
func NewUnreadCache(ttl time.Duration) *UnreadCache {
	return &UnreadCache{ttl: ttl, Clock: time.Now, m: map[int64]unreadEntry{}}
}

// Count is UnreadCount served from the cache when fresh.
func (c *UnreadCache) Count(ctx context.Context, q store.Querier, userID int64) (int, error) {
	gen := unreadGen.Load()
	now := c.Clock()
	c.mu.Lock()
	e, ok := c.m[userID]
	c.mu.Unlock()
	if ok && e.gen == gen && now.Before(e.expires) {
		return e.n, nil
	}
	n, err := UnreadCount(ctx, q, userID)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	if len(c.m) >= maxUnreadEntries {
		clear(c.m)
	}
	c.m[userID] = unreadEntry{n: n, gen: gen, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return n, nil
}

package notify

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// UnreadCache serves the page header's unread badge from memory for a
// short time. Every page used to count the user's unread notifications;
// a busy user's pages now cost that query once per TTL, or once per
// change to their notifications made through this process.
//
// The trade-off: a count is reloaded at once after any transaction this
// process commits (Watch: a notification written, one marked read) and
// after a hub signal (Hub.OnPublish: on PostgreSQL, a commit on any
// replica). Because the counts are dropped on commit, not when the row is
// written, a page rendered between a notification's insert and its
// commit does not keep the old count. Left stale for up to the TTL: a
// notification written by another process (the CLI, or another replica
// on SQLite where no live stream is open). The live badge (server-sent
// events) corrects an open page anyway. The inbox and the unread-count
// API stay exact.
type UnreadCache struct {
	ttl time.Duration
	// Clock is the cache's own clock (real time; tests replace it).
	Clock func() time.Time

	// gen counts the changes to unread state the cache heard of
	// (Changed); an entry loaded under another count may be stale.
	gen atomic.Uint64

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

// Changed drops every cached count: unread state may have changed.
func (c *UnreadCache) Changed() { c.gen.Add(1) }

// Watch calls Changed after every transaction db commits in this process
// (store.DB.OnCommit), until the returned function is called.
func (c *UnreadCache) Watch(db *store.DB) (stop func()) { return db.OnCommit(c.Changed) }

// Count is UnreadCount served from the cache when fresh.
func (c *UnreadCache) Count(ctx context.Context, q store.Querier, userID int64) (int, error) {
	gen := c.gen.Load()
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

package auth

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// DefaultTouchFlushInterval is how often Touches writes what it holds.
const DefaultTouchFlushInterval = 10 * time.Second

// touchEvery is how stale a session's last-seen or a token's last-use
// time may get before it is recorded again.
const touchEvery = time.Minute

// Touches batches the "last seen" times of sessions and the "last used"
// times of API tokens. Each such write used to be its own transaction, and
// on SQLite every write makes all pooled connections drop their page
// caches; batched, a busy server writes them in one transaction per
// flush interval.
//
// Session lookups through SessionByTokenBatched read the pending time
// back, so on this process idle timeouts are exact. What the trade-off
// costs: another replica, the purge job and the token list see a time up
// to one flush interval older (plus the minute of slack the touches always
// had), and touches not yet flushed when the process dies are lost, so a
// session may end up to that much earlier than its idle timeout. Flush
// runs every interval (Run) and once more on shutdown.
type Touches struct {
	mu       sync.Mutex
	sessions map[int64]time.Time
	tokens   map[int64]time.Time
}

// NewTouches returns an empty batch.
func NewTouches() *Touches {
	return &Touches{sessions: map[int64]time.Time{}, tokens: map[int64]time.Time{}}
}

// session returns the pending last-seen time of a session, if any.
func (t *Touches) session(id int64) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.sessions[id]
	return at, ok
}

// TokenUsedAt returns the pending last-use time of an API token, if any.
func (t *Touches) TokenUsedAt(id int64) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at, ok := t.tokens[id]
	return at, ok
}

// touchSession records that a session was seen at now.
func (t *Touches) touchSession(id int64, now time.Time) {
	t.mu.Lock()
	if now.After(t.sessions[id]) {
		t.sessions[id] = now.UTC()
	}
	t.mu.Unlock()
}

// touchToken records that an API token was used at now.
func (t *Touches) touchToken(id int64, now time.Time) {
	t.mu.Lock()
	if now.After(t.tokens[id]) {
		t.tokens[id] = now.UTC()
	}
	t.mu.Unlock()
}

// forgetSession drops a pending touch of a session that has ended.
func (t *Touches) forgetSession(id int64) {
	t.mu.Lock()
	delete(t.sessions, id)
	t.mu.Unlock()
}

// Pending returns how many touches wait for the next flush.
func (t *Touches) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sessions) + len(t.tokens)
}

// Flush writes the pending touches in one transaction. A time never moves
// backwards, and a session or token deleted meanwhile is simply not
// found. On failure the touches are kept for the next flush.
func (t *Touches) Flush(ctx context.Context, db *store.DB) error {
	t.mu.Lock()
	sessions, tokens := t.sessions, t.tokens
	if len(sessions) == 0 && len(tokens) == 0 {
		t.mu.Unlock()
		return nil
	}
	t.sessions, t.tokens = map[int64]time.Time{}, map[int64]time.Time{}
	t.mu.Unlock()
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		for id, at := range sessions {
			if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $1`, at, id); err != nil {
				return err
			}
		}
		for id, at := range tokens {
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)`, at, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// Put them back unless newer ones arrived meanwhile.
		for id, at := range sessions {
			t.touchSession(id, at)
		}
		for id, at := range tokens {
			t.touchToken(id, at)
		}
		return fmt.Errorf("record session and token use: %w", err)
	}
	return nil
}

// Run flushes every interval until ctx ends, then once more with a
// short deadline of its own so shutdown does not lose the last touches.
func (t *Touches) Run(ctx context.Context, db *store.DB, interval time.Duration, onErr func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := t.Flush(fctx, db); err != nil && onErr != nil {
				onErr(err)
			}
			return
		case <-tick.C:
			if err := t.Flush(ctx, db); err != nil && onErr != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
	}
}

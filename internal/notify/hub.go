package notify

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mocpcr/mocpcr/internal/store"
)

// Channel is the PostgreSQL NOTIFY channel Notify signals on. The payload
// is "schema:user id": channels are per database, not per schema, so two
// installations sharing a database in separate schemas (and parallel
// tests) would otherwise wake each other's users.
const Channel = "mocpcr_notifications"

// Hub tells open browsers that a user has new notifications. It carries
// only "user N has something new"; subscribers read the notifications
// from the database, so a missed or doubled signal costs nothing.
//
// Where the signals come from:
//   - PostgreSQL: Notify issues pg_notify inside the event's transaction,
//     so it fires only on commit, and every replica's hub LISTENs on a
//     dedicated connection: an event on one replica reaches browsers
//     connected to any replica.
//   - SQLite: the hub polls the newest notification id (an index lookup)
//     while anyone is subscribed: at once after any transaction this
//     process commits (store.DB.OnCommit), and every PollInterval for
//     rows another process (the CLI) wrote to the same file. It sees
//     only committed rows.
type Hub struct {
	db  *store.DB
	log *slog.Logger
	// PollInterval is the SQLite poll period; default 100 ms.
	PollInterval time.Duration

	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}
	// wake holds at most one pending "a transaction committed" signal.
	wake chan struct{}
	// onPublish are called with every signal (OnPublish).
	onPublish []func()
}

// NewHub returns a hub for db. Call Run to start it.
func NewHub(db *store.DB, logger *slog.Logger) *Hub {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Hub{db: db, log: logger, PollInterval: 100 * time.Millisecond, subs: map[int64]map[*Subscription]struct{}{},
		wake: make(chan struct{}, 1)}
}

// Subscription receives a signal on C whenever its user may have new
// notifications. C holds at most one pending signal.
type Subscription struct {
	C      <-chan struct{}
	c      chan struct{}
	userID int64
	hub    *Hub
}

// Subscribe starts signals for userID. Close the subscription when done.
func (h *Hub) Subscribe(userID int64) *Subscription {
	c := make(chan struct{}, 1)
	s := &Subscription{C: c, c: c, userID: userID, hub: h}
	h.mu.Lock()
	if h.subs[userID] == nil {
		h.subs[userID] = map[*Subscription]struct{}{}
	}
	h.subs[userID][s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close stops the subscription's signals.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	delete(h.subs[s.userID], s)
	if len(h.subs[s.userID]) == 0 {
		delete(h.subs, s.userID)
	}
	h.mu.Unlock()
}

// OnPublish makes every signal call fn first, whoever's it is: caches
// that follow unread state (UnreadCache.Changed) drop their counts on a
// commit another replica made.
func (h *Hub) OnPublish(fn func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onPublish = append(h.onPublish, fn)
}

// Publish signals userID's subscribers in this process. It never blocks.
func (h *Hub) Publish(userID int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, fn := range h.onPublish {
		fn()
	}
	for s := range h.subs[userID] {
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
}

// publishAll signals everyone, after a gap in which signals may have been
// missed (a lost LISTEN connection).
func (h *Hub) publishAll() {
	h.mu.Lock()
	users := make([]int64, 0, len(h.subs))
	for u := range h.subs {
		users = append(users, u)
	}
	h.mu.Unlock()
	for _, u := range users {
		h.Publish(u)
	}
}

func (h *Hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Run feeds the hub until ctx ends. Its goroutine is owned by the caller,
// which waits for Run to return.
func (h *Hub) Run(ctx context.Context) error {
	if h.db.Dialect == store.Postgres {
		return h.listen(ctx)
	}
	return h.poll(ctx)
}

func (h *Hub) poll(ctx context.Context) error {
	wake := func() {
		select {
		case h.wake <- struct{}{}:
		default: // a look is already due
		}
	}
	defer h.db.OnCommit(wake)()
	wake() // first look at once, not a tick later
	var last int64
	primed := false
	t := time.NewTicker(h.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-h.wake:
		}
		if h.subscribers() == 0 {
			primed = false
			continue
		}
		if !primed {
			// Streams read their own starting point; only newer rows matter.
			if err := h.db.SQL.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM notifications`).Scan(&last); err != nil {
				h.log.WarnContext(ctx, "live notifications: poll failed", "err", err)
				continue
			}
			primed = true
			h.publishAll()
			continue
		}
		rows, err := h.db.SQL.QueryContext(ctx, `SELECT id, user_id FROM notifications WHERE id > $1 ORDER BY id LIMIT 1000`, last)
		if err != nil {
			if ctx.Err() == nil {
				h.log.WarnContext(ctx, "live notifications: poll failed", "err", err)
			}
			continue
		}
		users := map[int64]bool{}
		for rows.Next() {
			var id, uid int64
			if err := rows.Scan(&id, &uid); err == nil {
				last, users[uid] = id, true
			}
		}
		rows.Close()
		for u := range users {
			h.Publish(u)
		}
	}
}

func (h *Hub) listen(ctx context.Context) error {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listenOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		h.log.WarnContext(ctx, "live notifications: LISTEN connection lost; reconnecting", "err", err, "in", backoff.String())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
	return nil
}

// listenOnce holds one pool connection for LISTEN until it fails.
func (h *Hub) listenOnce(ctx context.Context) error {
	pc, err := h.db.Pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// A connection that was LISTENing must not go back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	// Anything committed while we were not listening is picked up now.
	h.publishAll()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		if uid, ok := payloadUser(n.Payload, schema); ok {
			h.Publish(uid)
		}
	}
}

// payloadUser reads the user id out of a signal for this schema. A bare
// id is a signal from a replica older than the schema prefix, during a
// rolling upgrade: taken, as a needless wake-up costs nothing.
func payloadUser(payload, schema string) (int64, bool) {
	id := payload
	if s, rest, ok := strings.Cut(payload, ":"); ok {
		if s != schema {
			return 0, false
		}
		id = rest
	}
	uid, err := strconv.ParseInt(id, 10, 64)
	return uid, err == nil
}

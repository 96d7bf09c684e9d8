package notify_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// The badge cache serves a count for its TTL, and reloads at once after
// a notification is written, marked read or unread, or the hub signals.
func TestUnreadCacheInvalidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mkUser(t, db, "ann@example.com")
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		c := notify.NewUnreadCache(5 * time.Second)
		c.Clock = func() time.Time { return clock }
		t.Cleanup(c.Watch(db))
		got := func(want int, when string) {
			t.Helper()
			n, err := c.Count(ctx, db.SQL, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Fatalf("%s: badge %d, want %d", when, n, want)
			}
		}
		notifier := &notify.Notifier{Dialect: db.Dialect}
		send := func() {
			t.Helper()
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				return notifier.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: "r", Recipients: []int64{a.ID}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		got(0, "empty")
		send()
		got(1, "after Notify")
		// Written behind the cache's back (another process): stale until
		// the TTL, or until a hub signal.
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO notifications (user_id, type, title, body, link, created_at) VALUES ($1, 'reminder', 'x', '', '', $2)`, a.ID, clock); err != nil {
			t.Fatal(err)
		}
		got(1, "direct insert within the TTL")
		hub := notify.NewHub(db, nil)
		hub.OnPublish(c.Changed)
		hub.Publish(a.ID)
		got(2, "after a hub signal")
		if _, err := db.SQL.ExecContext(ctx, `INSERT INTO notifications (user_id, type, title, body, link, created_at) VALUES ($1, 'reminder', 'y', '', '', $2)`, a.ID, clock); err != nil {
			t.Fatal(err)
		}
		got(2, "second direct insert within the TTL")
		clock = clock.Add(5 * time.Second)
		got(3, "after the TTL")
		p, err := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 1})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("list: %+v, %v", p, err)
		}
		if _, err := notify.SetRead(ctx, db, a.ID, p.Items[0].ID, true, clock); err != nil {
			t.Fatal(err)
		}
		got(2, "after SetRead")
		if _, err := notify.MarkAllRead(ctx, db, a.ID, clock); err != nil {
			t.Fatal(err)
		}
		got(0, "after MarkAllRead")
	})
}

// A badge count read while a notification's transaction is still open
// is the old count; the commit drops it, so the next page shows the new
// one at once instead of after the TTL.
func TestUnreadBadgeFollowsTheCommitNotTheInsert(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mkUser(t, db, "ann@example.com")
		c := notify.NewUnreadCache(time.Hour)
		t.Cleanup(c.Watch(db))
		notifier := &notify.Notifier{Dialect: db.Dialect}
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if err := notifier.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: "r", Recipients: []int64{a.ID}}); err != nil {
				return err
			}
			// Another request renders a page meanwhile.
			n, err := c.Count(ctx, db.SQL, a.ID)
			if err == nil && n != 0 {
				t.Errorf("badge before the commit: %d, want 0", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.Count(ctx, db.SQL, a.ID); err != nil || n != 1 {
			t.Fatalf("badge after the commit: %d %v, want 1", n, err)
		}
	})
}

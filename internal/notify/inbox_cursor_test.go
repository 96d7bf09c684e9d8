package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Paging the inbox by cursor, all or unread only, returns every
// notification there when paging began exactly once, newest first, while
// new ones arrive between pages (they belong before the first page and
// are not repeated into later ones).
func TestInboxCursorVisitsEveryNotificationOnceWhileNewOnesArrive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a := mkUser(t, db, "ann@example.com")
		n := &notify.Notifier{Dialect: db.Dialect}
		notifyAnn := func(title string) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				return n.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: title, Recipients: []int64{a.ID}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 11 {
			notifyAnn(fmt.Sprintf("old %d", i))
		}
		first, err := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		// Every other one read, so the unread list has gaps in its ids.
		for i, it := range first.Items {
			if i%2 == 0 {
				if _, err := notify.SetRead(ctx, db, a.ID, it.ID, true, time.Now()); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, unread := range []bool{false, true} {
			before, err := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 100, UnreadOnly: unread})
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, it := range before.Items {
				want = append(want, it.ID)
			}
			var got []int64
			opt := notify.ListOptions{Limit: 3, UnreadOnly: unread}
			for pages := 0; pages <= len(want); pages++ {
				p, err := notify.List(ctx, db.SQL, a.ID, opt)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range p.Items {
					got = append(got, it.ID)
				}
				if p.NextCursor == "" {
					break
				}
				notifyAnn("arrived while paging")
				opt.Cursor = p.NextCursor
			}
			if !slices.Equal(got, want) {
				t.Errorf("unread only %v: pages gave %v, want %v", unread, got, want)
			}
		}
	})
}

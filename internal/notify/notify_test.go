package notify_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/problem"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func mkUser(t *testing.T, db *store.DB, email string) *auth.User {
	t.Helper()
	u, err := auth.CreateUser(context.Background(), db.SQL, auth.NewUser{Email: email, Name: strings.Split(email, "@")[0], AllSites: true})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newNotifier(t *testing.T, db *store.DB) *notify.Notifier {
	t.Helper()
	q, err := jobs.New(context.Background(), db, jobs.Options{Sender: "n@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return &notify.Notifier{Emails: notify.JobEmails{Jobs: q, BaseURL: "https://moc.example.com"}, BaseURL: "https://moc.example.com", Dialect: db.Dialect}
}

func TestNotificationAndEmailAreAtomicWithTheEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mkUser(t, db, "ann@example.com"), mkUser(t, db, "bob@example.com")
		if err := notify.SetPrefs(ctx, db.SQL, b.ID, map[notify.Type]bool{notify.TypeApproved: false}, time.Now()); err != nil {
			t.Fatal(err)
		}
		n := newNotifier(t, db)
		ev := notify.Event{Type: notify.TypeApproved, Title: "MOC-1 approved <b>", Body: "Go ahead & start", Link: "/changes/1", Recipients: []int64{a.ID, b.ID, a.ID}}
		event := func(tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO settings (key, value) VALUES ('event', 'x')`)
			return err
		}
		boom := errors.New("event failed later")
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if err := event(tx); err != nil {
				return err
			}
			if err := n.Notify(ctx, tx, ev); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		for _, tbl := range []string{"settings", "notifications", "email_messages", "river_job"} {
			if c := count(t, db, "SELECT count(*) FROM "+tbl); c != 0 {
				t.Errorf("after rollback %s has %d rows", tbl, c)
			}
		}
		err = db.Tx(ctx, func(tx *sql.Tx) error {
			if err := event(tx); err != nil {
				return err
			}
			return n.Notify(ctx, tx, ev)
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := count(t, db, "SELECT count(*) FROM notifications"); c != 2 {
			t.Errorf("notifications = %d, want 2 (one per distinct recipient)", c)
		}
		// Bob turned change.approved email off: only Ann gets email.
		if c := count(t, db, "SELECT count(*) FROM email_messages WHERE to_email = 'ann@example.com'"); c != 1 {
			t.Errorf("emails to Ann = %d, want 1", c)
		}
		if c := count(t, db, "SELECT count(*) FROM email_messages"); c != 1 {
			t.Errorf("emails = %d, want 1", c)
		}
		if c := count(t, db, "SELECT count(*) FROM river_job"); c != 1 {
			t.Errorf("jobs = %d, want 1", c)
		}
		var html string
		db.SQL.QueryRow(`SELECT html_body FROM email_messages`).Scan(&html)
		for _, want := range []string{"MOC-1 approved &lt;b&gt;", "Go ahead &amp; start", `href="https://moc.example.com/changes/1"`, "https://moc.example.com/account/notifications"} {
			if !strings.Contains(html, want) {
				t.Errorf("email body lacks %q", want)
			}
		}
		if strings.Contains(html, "<b>") {
			t.Error("email body has unescaped HTML from the title")
		}
	})
}

func TestActionRequiredEmailCannotBeMuted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := mkUser(t, db, "ann@example.com")
		err := notify.SetPrefs(ctx, db.SQL, u.ID, map[notify.Type]bool{notify.TypeApprovalRequested: false}, time.Now())
		if problem.KindOf(err) != problem.Invalid || !strings.Contains(err.Error(), "approval.requested") {
			t.Errorf("muting an action-required type: %v", err)
		}
		if err := notify.SetPrefs(ctx, db.SQL, u.ID, map[notify.Type]bool{"nope": true}, time.Now()); problem.KindOf(err) != problem.Invalid {
			t.Errorf("unknown type: %v", err)
		}
		if err := notify.SetPrefs(ctx, db.SQL, u.ID, map[notify.Type]bool{notify.TypeClosed: false, notify.TypeApprovalRequested: true}, time.Now()); err != nil {
			t.Fatal(err)
		}
		prefs, err := notify.Prefs(ctx, db.SQL, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range prefs {
			switch p.Type {
			case notify.TypeClosed:
				if p.Email || p.Locked {
					t.Errorf("closed = %+v", p)
				}
			case notify.TypeApprovalRequested:
				if !p.Email || !p.Locked {
					t.Errorf("approval.requested = %+v", p)
				}
			case notify.TypeApproved:
				if !p.Email {
					t.Errorf("default should be on: %+v", p)
				}
			}
		}
	})
}

func TestInboxPagingAndReadState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, b := mkUser(t, db, "ann@example.com"), mkUser(t, db, "bob@example.com")
		n := &notify.Notifier{Dialect: db.Dialect}
		for i := range 5 {
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				return n.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: "r" + string(rune('0'+i)), Recipients: []int64{a.ID}})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		p1, err := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(p1.Items) != 2 || p1.Items[0].Title != "r4" || p1.NextCursor == "" {
			t.Fatalf("page 1 = %+v", p1)
		}
		p2, _ := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 2, Cursor: p1.NextCursor})
		p3, _ := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Limit: 2, Cursor: p2.NextCursor})
		if p2.Items[0].Title != "r2" || len(p3.Items) != 1 || p3.NextCursor != "" {
			t.Errorf("page 2 = %+v, page 3 = %+v", p2, p3)
		}
		id := p1.Items[0].ID
		if _, err := notify.SetRead(ctx, db, b.ID, id, true, time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Bob marking Ann's notification: %v, want ErrNotFound", err)
		}
		got, err := notify.SetRead(ctx, db, a.ID, id, true, time.Now())
		if err != nil || got.ReadAt == nil {
			t.Fatalf("mark read: %+v %v", got, err)
		}
		if c, _ := notify.UnreadCount(ctx, db.SQL, a.ID); c != 4 {
			t.Errorf("unread = %d, want 4", c)
		}
		unread, _ := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{UnreadOnly: true})
		if len(unread.Items) != 4 {
			t.Errorf("unread list = %d", len(unread.Items))
		}
		if m, _ := notify.MarkAllRead(ctx, db, a.ID, time.Now()); m != 4 {
			t.Errorf("marked %d, want 4", m)
		}
		if _, err := notify.List(ctx, db.SQL, a.ID, notify.ListOptions{Cursor: "abc"}); problem.KindOf(err) != problem.Invalid {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

func TestHubSignalsOnCommitOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := mkUser(t, db, "ann@example.com")
		h := notify.NewHub(db, nil)
		h.PollInterval = 20 * time.Millisecond
		// Subscribe before the hub starts, so its start-up signal (sent once
		// it listens or has primed its poll) is certain to arrive and can be
		// waited for; a slow LISTEN on a busy machine must not leave it to
		// land in the "before commit" window below.
		sub := h.Subscribe(a.ID)
		defer sub.Close()
		done := make(chan struct{})
		go func() { h.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		drain := func(d time.Duration) bool {
			select {
			case <-sub.C:
				return true
			case <-time.After(d):
				return false
			}
		}
		if !drain(10 * time.Second) {
			t.Fatal("no start-up signal from the hub")
		}
		n := &notify.Notifier{Dialect: db.Dialect}
		tx, err := db.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: "hi", Recipients: []int64{a.ID}}); err != nil {
			t.Fatal(err)
		}
		if drain(300 * time.Millisecond) {
			t.Error("signal before commit")
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if !drain(10 * time.Second) {
			t.Error("no signal after commit")
		}
	})
}

// On SQLite a commit in this process wakes the hub at once; the poll
// interval only matters for rows another process wrote. An hour-long
// interval proves the signal did not come from a tick.
func TestHubWakesOnCommitInProcess(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	a := mkUser(t, db, "ann@example.com")
	h := notify.NewHub(db, nil)
	h.PollInterval = time.Hour
	sub := h.Subscribe(a.ID)
	defer sub.Close()
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-sub.C: // start-up signal
	case <-time.After(10 * time.Second):
		t.Fatal("no start-up signal from the hub")
	}
	n := &notify.Notifier{Dialect: db.Dialect}
	if err := db.Tx(ctx, func(tx *sql.Tx) error {
		return n.Notify(ctx, tx, notify.Event{Type: notify.TypeReminder, Title: "hi", Recipients: []int64{a.ID}})
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.C:
	case <-time.After(10 * time.Second):
		t.Fatal("no signal after an in-process commit")
	}
}

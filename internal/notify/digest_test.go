package notify_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

const base = "https://moc.example.com"

func digestSetup(t *testing.T, db *store.DB) (*notify.Notifier, notify.Digest) {
	t.Helper()
	q, err := jobs.New(context.Background(), db, jobs.Options{Sender: "n@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	n := &notify.Notifier{Emails: notify.JobEmails{Jobs: q, BaseURL: base}, BaseURL: base, Dialect: db.Dialect}
	return n, notify.Digest{DB: db, Jobs: q, BaseURL: base}
}

func send(t *testing.T, db *store.DB, n *notify.Notifier, ev notify.Event) {
	t.Helper()
	if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return n.Notify(context.Background(), tx, ev) }); err != nil {
		t.Fatal(err)
	}
}

func emailsTo(t *testing.T, db *store.DB, addr string) int {
	return count(t, db, "SELECT count(*) FROM email_messages WHERE to_email = $1", addr)
}

func TestDigestHoldsRemindersAndSendsThemOnceADay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ann, bob := mkUser(t, db, "ann@example.com"), mkUser(t, db, "bob@example.com")
		if err := notify.SetDailyDigest(ctx, db.SQL, ann.ID, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		if on, err := notify.DailyDigest(ctx, db.SQL, ann.ID); err != nil || !on {
			t.Fatalf("ann's digest = %v, %v; want on", on, err)
		}
		if on, _ := notify.DailyDigest(ctx, db.SQL, bob.ID); on {
			t.Fatal("digest must be off by default")
		}
		n, d := digestSetup(t, db)
		both := []int64{ann.ID, bob.ID}
		send(t, db, n, notify.Event{Type: notify.TypeReminder, Title: "MOC-1 review waiting", Body: "Waiting 3 days", Link: "/changes/1", Recipients: both})
		send(t, db, n, notify.Event{Type: notify.TypeActionOverdue, Title: "Action <b>overdue</b>", Body: "Fix the valve", Link: "/changes/2", Recipients: both})
		send(t, db, n, notify.Event{Type: notify.TypeEscalation, Title: "MOC-3 escalated", Link: "/changes/3", Recipients: both})

		// In-app: always, for both.
		for _, u := range both {
			if c := count(t, db, "SELECT count(*) FROM notifications WHERE user_id = $1", u); c != 3 {
				t.Fatalf("user %d has %d notifications, want 3", u, c)
			}
		}
		// Digest on: no email yet. Digest off: one email each, as before.
		if c := emailsTo(t, db, "ann@example.com"); c != 0 {
			t.Fatalf("ann (digest on) got %d emails before the digest, want 0", c)
		}
		if c := emailsTo(t, db, "bob@example.com"); c != 3 {
			t.Fatalf("bob (digest off) got %d emails, want 3", c)
		}
		if c := count(t, db, "SELECT count(*) FROM digest_items WHERE user_id = $1 AND digest_id IS NULL", ann.ID); c != 3 {
			t.Fatalf("%d items held for ann, want 3", c)
		}

		// Asking someone to act is never held.
		send(t, db, n, notify.Event{Type: notify.TypeApprovalRequested, Title: "Approve MOC-4", Link: "/changes/4", Recipients: []int64{ann.ID}})
		if c := emailsTo(t, db, "ann@example.com"); c != 1 {
			t.Fatalf("ann got %d emails after an approval request, want 1 at once", c)
		}

		day1 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		sent, err := d.Run(ctx, day1)
		if err != nil || sent != 1 {
			t.Fatalf("digest run = %d, %v; want 1 digest", sent, err)
		}
		var subject, html, kind string
		var nid sql.NullInt64
		if err := db.SQL.QueryRow(`SELECT subject, html_body, kind, notification_id FROM email_messages WHERE to_email = 'ann@example.com' AND kind = $1`, jobs.KindDigest).
			Scan(&subject, &html, &kind, &nid); err != nil {
			t.Fatal(err)
		}
		if subject != "mocpcr daily digest: 3 reminders" {
			t.Errorf("subject = %q", subject)
		}
		for _, want := range []string{"MOC-1 review waiting", "Waiting 3 days", base + "/changes/1",
			"Action &lt;b&gt;overdue&lt;/b&gt;", "Fix the valve", base + "/changes/2", "MOC-3 escalated", base + "/changes/3", base + notify.PrefsPath} {
			if !strings.Contains(html, want) {
				t.Errorf("digest email lacks %q", want)
			}
		}
		if strings.Contains(html, "Approve MOC-4") {
			t.Error("the approval request (emailed at once) must not be in the digest")
		}
		// The digest is a queued delivery job, like any email.
		if c := count(t, db, "SELECT count(*) FROM email_messages m JOIN river_job j ON j.id = m.job_id WHERE m.kind = $1", jobs.KindDigest); c != 1 {
			t.Fatalf("%d digest emails with a delivery job, want 1", c)
		}
		if c := count(t, db, "SELECT count(*) FROM digest_items WHERE digest_id IS NULL"); c != 0 {
			t.Fatalf("%d items still pending after the digest", c)
		}

		// Same day again: nothing more, and a reminder arriving later waits
		// for tomorrow's digest.
		if sent, err := d.Run(ctx, day1.Add(2*time.Hour)); err != nil || sent != 0 {
			t.Fatalf("second run the same day = %d, %v; want 0", sent, err)
		}
		send(t, db, n, notify.Event{Type: notify.TypeTemporaryExpiring, Title: "MOC-5 expires soon", Link: "/changes/5", Recipients: []int64{ann.ID}})
		if sent, err := d.Run(ctx, day1.Add(3*time.Hour)); err != nil || sent != 0 {
			t.Fatalf("run after a new item the same day = %d, %v; want 0", sent, err)
		}
		if sent, err := d.Run(ctx, day1.Add(24*time.Hour)); err != nil || sent != 1 {
			t.Fatalf("next day's run = %d, %v; want 1", sent, err)
		}
		var html2 string
		if err := db.SQL.QueryRow(`SELECT html_body FROM email_messages WHERE kind = $1 ORDER BY id DESC LIMIT 1`, jobs.KindDigest).Scan(&html2); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(html2, "MOC-5 expires soon") || strings.Contains(html2, "MOC-1 review waiting") {
			t.Errorf("second digest must hold only the new item:\n%s", html2)
		}
		if c := emailsTo(t, db, "ann@example.com"); c != 3 {
			t.Fatalf("ann got %d emails in all, want 3 (approval + 2 digests)", c)
		}
		if c := emailsTo(t, db, "bob@example.com"); c != 3 {
			t.Fatalf("bob got %d emails, want still 3 (digest off: no digest)", c)
		}
	})
}

func TestDigestRespectsTypeEmailOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ann := mkUser(t, db, "ann@example.com")
		if err := notify.SetDailyDigest(ctx, db.SQL, ann.ID, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := notify.SetPrefs(ctx, db.SQL, ann.ID, map[notify.Type]bool{notify.TypeReminder: false}, time.Now()); err != nil {
			t.Fatal(err)
		}
		n, d := digestSetup(t, db)
		send(t, db, n, notify.Event{Type: notify.TypeReminder, Title: "muted", Recipients: []int64{ann.ID}})
		// Not a digest type: emailed at once even with the digest on.
		send(t, db, n, notify.Event{Type: notify.TypeApproved, Title: "approved", Recipients: []int64{ann.ID}})
		if c := count(t, db, "SELECT count(*) FROM digest_items"); c != 0 {
			t.Fatalf("%d items held; a type with email off must not be in the digest", c)
		}
		if c := emailsTo(t, db, "ann@example.com"); c != 1 {
			t.Fatalf("ann got %d emails, want 1 (the approval)", c)
		}
		if sent, err := d.Run(ctx, time.Now()); err != nil || sent != 0 {
			t.Fatalf("digest run = %d, %v; want none", sent, err)
		}
	})
}

func TestDigestConcurrentRunsSendOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, d := digestSetup(t, db)
		var users []int64
		for i := range 4 {
			u := mkUser(t, db, fmt.Sprintf("u%d@example.com", i))
			if err := notify.SetDailyDigest(ctx, db.SQL, u.ID, true, time.Now()); err != nil {
				t.Fatal(err)
			}
			users = append(users, u.ID)
		}
		for i := range 5 {
			send(t, db, n, notify.Event{Type: notify.TypeActionDueSoon, Title: fmt.Sprintf("due %d", i), Link: "/changes/1", Recipients: users})
		}
		// Two replicas: each with its own queue, same database.
		_, d2 := digestSetup(t, db)
		now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
		for round := range 3 {
			var wg sync.WaitGroup
			results := make([]int, 2)
			errs := make([]error, 2)
			for i, dg := range []notify.Digest{d, d2} {
				wg.Go(func() { results[i], errs[i] = dg.Run(ctx, now) })
			}
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: %v / %v", round, errs[0], errs[1])
			}
			want := 0
			if round == 0 {
				want = len(users)
			}
			if results[0]+results[1] != want {
				t.Fatalf("round %d: runs queued %d + %d digests, want %d in all", round, results[0], results[1], want)
			}
		}
		for _, u := range users {
			if c := count(t, db, "SELECT count(*) FROM email_messages WHERE user_id = $1 AND kind = $2", u, jobs.KindDigest); c != 1 {
				t.Errorf("user %d got %d digests, want 1", u, c)
			}
			if c := count(t, db, "SELECT count(*) FROM digest_items WHERE user_id = $1 AND digest_id IS NOT NULL", u); c != 5 {
				t.Errorf("user %d has %d items marked sent, want 5", u, c)
			}
		}
		if c := count(t, db, "SELECT count(*) FROM river_job WHERE kind = 'mocpcr.send_email'"); c != len(users) {
			t.Errorf("%d email jobs, want %d", c, len(users))
		}
	})
}

func TestDigestTimingAndTypes(t *testing.T) {
	if notify.DigestHour(6) != 7 || notify.DigestHour(23) != 0 {
		t.Fatalf("DigestHour(6), DigestHour(23) = %d, %d; want 7, 0", notify.DigestHour(6), notify.DigestHour(23))
	}
	for _, typ := range notify.ActionRequired {
		if notify.IsDigestType(typ) {
			t.Errorf("%s asks to act and must never be held for the digest", typ)
		}
	}
	for _, typ := range []notify.Type{notify.TypeReminder, notify.TypeEscalation, notify.TypeActionDueSoon, notify.TypeActionOverdue, notify.TypeTemporaryExpiring, notify.TypeEmergencyOverdue} {
		if !notify.IsDigestType(typ) {
			t.Errorf("%s should be a digest type", typ)
		}
	}
}

// A user's digest goes out from the digest hour of their own zone, once
// per local day: 07:00 in Chicago is 13:00 UTC, and 23:00 there is still
// the same day.
func TestDigestGoesOutAtTheUsersLocalHour(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ann := mkUser(t, db, "ann@example.com")
		if err := notify.SetDailyDigest(ctx, db.SQL, ann.ID, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		n, d := digestSetup(t, db)
		chicago, err := time.LoadLocation("America/Chicago")
		if err != nil {
			t.Fatal(err)
		}
		d.Hour = 7
		d.Zone = func(_ context.Context, uid int64) (*time.Location, error) {
			if uid != ann.ID {
				t.Errorf("zone asked for user %d", uid)
			}
			return chicago, nil
		}
		send(t, db, n, notify.Event{Type: notify.TypeReminder, Title: "MOC-1 review waiting", Link: "/changes/1", Recipients: []int64{ann.ID}})
		at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
		if sent, err := d.Run(ctx, at(2, 12)); err != nil || sent != 0 {
			t.Fatalf("06:00 in Chicago = %d, %v; want no digest before 07:00 there", sent, err)
		}
		if sent, err := d.Run(ctx, at(2, 13)); err != nil || sent != 1 {
			t.Fatalf("07:00 in Chicago = %d, %v; want 1 digest", sent, err)
		}
		var day string
		if err := db.SQL.QueryRow(`SELECT day FROM email_digests WHERE user_id = $1`, ann.ID).Scan(&day); err != nil || day != "2026-03-02" {
			t.Fatalf("digest day %q (%v), want Chicago's 2026-03-02", day, err)
		}
		send(t, db, n, notify.Event{Type: notify.TypeReminder, Title: "MOC-2 review waiting", Link: "/changes/2", Recipients: []int64{ann.ID}})
		if sent, err := d.Run(ctx, at(3, 5)); err != nil || sent != 0 {
			t.Fatalf("23:00 in Chicago, the same local day = %d, %v; want 0", sent, err)
		}
		if sent, err := d.Run(ctx, at(3, 13)); err != nil || sent != 1 {
			t.Fatalf("the next local day at 07:00 = %d, %v; want 1", sent, err)
		}
	})
}

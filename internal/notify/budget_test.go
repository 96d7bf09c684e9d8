package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Admins are warned in the app when the sender has used 80 % of its daily
// recipient budget, once a day however often the check runs; below 80 %
// nobody is.
func TestBudgetWarnsAdminsOnceAtEightyPercent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		admin, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: "ada@example.com", Name: "Ada", Roles: []auth.Role{auth.RoleAdmin}, AllSites: true})
		if err != nil {
			t.Fatal(err)
		}
		mkUser(t, db, "ann@example.com")
		now := time.Date(2026, 5, 4, 10, 30, 0, 0, time.UTC)
		use := func(n int) {
			t.Helper()
			if _, err := db.SQL.Exec(`INSERT INTO email_sender_usage (sender, hour, recipients) VALUES ('no-reply@contoso.com', $1, $2)
				ON CONFLICT (sender, hour) DO UPDATE SET recipients = excluded.recipients`, now.Truncate(time.Hour), n); err != nil {
				t.Fatal(err)
			}
		}
		check := notify.BudgetCheck{DB: db, Notifier: newNotifier(t, db), Sender: "No-Reply@contoso.com", Limit: 1000, Now: func() time.Time { return now }}
		warnings := func() int {
			return count(t, db, `SELECT count(*) FROM notifications WHERE type = 'email.budget'`)
		}
		use(799)
		if err := check.Run(ctx); err != nil || warnings() != 0 {
			t.Fatalf("at 79.9 %%: %d warnings (%v), want none", warnings(), err)
		}
		use(800)
		for range 3 {
			if err := check.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := warnings(); n != 1 {
			t.Fatalf("at 80 %%, three runs: %d warnings, want 1", n)
		}
		if n := count(t, db, `SELECT count(*) FROM notifications WHERE type = 'email.budget' AND user_id = $1 AND title LIKE '%80%'`, admin.ID); n != 1 {
			t.Errorf("the warning did not reach the admin with the share used")
		}
	})
}

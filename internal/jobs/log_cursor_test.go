package jobs_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Paging the delivery log by its before cursor, all or one status,
// returns every email there when paging began exactly once, newest
// first, while new emails are queued between pages.
func TestEmailLogPagesVisitEveryEmailOnceWhileEmailsAreQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		add := func(status string) {
			t.Helper()
			if _, err := db.SQL.ExecContext(ctx, `INSERT INTO email_messages (to_email, subject, html_body, status, created_at, updated_at)
				VALUES ('a@plant.test', 's', 'b', $1, $2, $2)`, status, now); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 13 {
			add([]string{jobs.StatusSent, jobs.StatusFailed, jobs.StatusQueued}[i%3])
		}
		for _, status := range []string{"", jobs.StatusSent} {
			before, err := jobs.ListEmails(ctx, db.SQL, jobs.EmailFilter{Status: status, Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			var want, got []int64
			for _, e := range before {
				want = append(want, e.ID)
			}
			f := jobs.EmailFilter{Status: status, Limit: 3}
			for pages := 0; pages <= len(want); pages++ {
				page, err := jobs.ListEmails(ctx, db.SQL, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				for _, e := range page {
					got = append(got, e.ID)
				}
				add(jobs.StatusSent) // queued (and sent) while the admin pages
				f.BeforeID = page[len(page)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("status %q: pages gave %v, want %v", status, got, want)
			}
		}
		if _, err := jobs.ListEmails(ctx, db.SQL, jobs.EmailFilter{Status: "lost"}); err == nil {
			t.Error("an unknown status was accepted")
		}
	})
}

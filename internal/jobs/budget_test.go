package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A budget run against a Graph fake that, like Exchange Online, blocks a
// mailbox that goes over its daily recipient limit (25 here). With a
// budget of 20: the emails that ask someone to act go first and are all
// sent; informational ones are sent up to 80 % of the budget and then
// move to the daily digest; the mailbox is never blocked.
func TestDailyBudgetHoldsAndActionRequiredGoFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 30, func(o *jobs.Options) {
			o.Sender = graphtest.Sender
			o.DailyRecipients = 20
			o.DeferToDigest = notify.DeferToDigest(time.Now)
		})
		g.fake.SetRecipientLimit(25)
		ctx := context.Background()
		event := func(typ notify.Type, user int64) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				return g.notifier.Notify(ctx, tx, notify.Event{Type: typ, Title: string(typ), Link: "/changes/1", Recipients: []int64{user}})
			}); err != nil {
				t.Fatal(err)
			}
		}
		// The informational ones are queued first.
		for _, u := range g.users[:20] {
			event(notify.TypeApproved, u)
		}
		action := map[string]bool{}
		for i, u := range g.users[20:] {
			event(notify.TypeApprovalRequested, u)
			action[fmt.Sprintf("u%d@example.com", 20+i)] = true
		}
		if err := g.queue.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "every email sent or moved to the digest", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status IN ('sent', 'digested')`) == 30
		})
		msgs := g.fake.Messages()
		if g.fake.Blocked(graphtest.Sender) || g.fake.RecipientsSent(graphtest.Sender) > 20 {
			t.Errorf("Exchange blocked the mailbox (%v) or it sent to %d recipients, over the budget of 20", g.fake.Blocked(graphtest.Sender), g.fake.RecipientsSent(graphtest.Sender))
		}
		// River takes the higher priority first: the first email Graph
		// sees asks someone to act, and no informational job was taken
		// before the last action-required one. (The order in which the
		// workers' requests reach Graph is theirs; the order they were
		// taken in is the queue's.)
		if to := strings.ToLower(msgs[0].Message.ToRecipients[0].EmailAddress.Address); !action[to] {
			t.Errorf("the first email went to %s, informational, before the action-required emails", to)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM river_job i WHERE i.priority = 2 AND i.attempted_at < (SELECT max(a.attempted_at) FROM river_job a WHERE a.priority = 1)`); n != 0 {
			t.Errorf("%d informational jobs were taken before the last action-required one", n)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent' AND action_required`); n != 10 {
			t.Errorf("%d action-required emails sent, want all 10", n)
		}
		// Informational emails stop at 80 % of the budget as counted when
		// each is reserved; action-required ones counted after them may
		// take the total past it. So at least 6 are sent (16 less the 10
		// that ask someone to act), at most 15 (an informational job is
		// only taken once an action-required one is done), and the rest
		// wait in the digest.
		sentInfo := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent' AND NOT action_required`)
		digested := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'digested'`)
		if sentInfo < 6 || sentInfo > 15 || sentInfo+digested != 20 {
			t.Errorf("%d informational sent and %d digested, want 6 to 15 sent (80 %% of 20, less the action-required ones counted before them, at least the first) and the rest of 20 digested", sentInfo, digested)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM digest_items WHERE digest_id IS NULL`); n != digested {
			t.Errorf("%d notifications held for the digest, want %d", n, digested)
		}
		b, err := g.queue.Budget(ctx)
		if err != nil || b.Used != 10+sentInfo || b.Limit != 20 {
			t.Errorf("budget = %+v, %v; want %d of 20", b, err, 10+sentInfo)
		}
		t.Logf("budget run: %d recipients sent of a budget of 20 (Exchange limit 25), %d action-required first, %d informational sent, %d to the digest", len(msgs), len(action), sentInfo, digested)
	})
}

// Beyond the budget nothing is sent, action-required emails included: they
// wait, saying why, until the oldest counted hour leaves the 24 hours.
func TestExhaustedBudgetHoldsEveryEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 3, func(o *jobs.Options) { o.Sender = graphtest.Sender; o.DailyRecipients = 2 })
		g.notify(t, db, "approval")
		if err := g.queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "two sent and one held", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 2 &&
				countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status <> 'sent' AND last_error LIKE 'held: %'`) == 1
		})
		var e jobs.EmailRecord
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{})
		for _, r := range list {
			if r.Status != jobs.StatusSent {
				e = r
			}
		}
		if !strings.Contains(e.LastError, "has used 2 of its daily budget of 2 recipients") || e.NextAttemptAt == nil || e.NextAttemptAt.Before(time.Now().Add(20*time.Hour)) {
			t.Errorf("held email = %+v, want the reason and a next try about a day later", e)
		}
		if e.Attempts != 0 {
			t.Errorf("the held email used %d attempts", e.Attempts)
		}
	})
}

// A budget that cannot be read or counted (here its table is gone for a
// while) does not let the email through: nothing is sent, the emails wait
// saying why, without using an attempt, and go out once the budget can be
// counted again, each counted once.
func TestUnreadableBudgetHoldsTheEmailInsteadOfSendingIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := newFake()
		q := newQueue(t, db, fake, nil)
		ids := enqueue(t, q, 3)
		if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE email_sender_usage RENAME TO email_sender_usage_away`); err != nil {
			t.Fatal(err)
		}
		restored := false
		restore := func() {
			if !restored {
				restored = true
				if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE email_sender_usage_away RENAME TO email_sender_usage`); err != nil {
					t.Fatal(err)
				}
			}
		}
		t.Cleanup(restore)
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "every email held with the reason", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE last_error LIKE 'held: the daily recipient budget could not be read%'`) == 3
		})
		if n := fake.calls.Load(); n != 0 {
			t.Fatalf("%d emails sent while the budget could not be counted", n)
		}
		for _, id := range ids {
			if e := statusOf(t, db, id); e.Attempts != 0 || e.Status != jobs.StatusQueued {
				t.Errorf("held email %d is %s with %d attempts, want queued with none", id, e.Status, e.Attempts)
			}
		}
		restore()
		waitFor(t, 30*time.Second, "every email sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 3
		})
		if total, dup := fake.deliveredCount(); total != 3 || len(dup) != 0 {
			t.Errorf("%d delivered, duplicates %v; want 3 once each", total, dup)
		}
		if b, err := q.Budget(ctx); err != nil || b.Used != 3 {
			t.Errorf("budget = %+v, %v; want 3 counted", b, err)
		}
	})
}

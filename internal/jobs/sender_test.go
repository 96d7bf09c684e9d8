package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Two sender mailboxes, GRAPH_MAIL_SENDER and a site's own, through the
// real Graph client and the fake: each email goes out from its own
// sender; each sender has its own daily budget (the site's is used up and
// holds its last emails, the default's still sends) and its own
// Retry-After pause (the site's mailbox is throttled, and no request
// reaches it inside the window beyond those already on their way, while
// the default keeps sending through it).
func TestEachSenderMailboxHasItsOwnBudgetAndPause(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		const site = "moc-plant2@contoso.com"
		g := newGraphSetupWith(t, db, 0, func(o *jobs.Options) { o.Sender = graphtest.Sender; o.DailyRecipients = 6 })
		g.fake.AddMailbox(site)
		ctx := context.Background()
		queue := func(sender, prefix string, n int) {
			for i := range n {
				if _, err := g.queue.EnqueueEmail(ctx, jobs.OutgoingEmail{Kind: jobs.KindSystem, Sender: sender,
					To: addr(fmt.Sprintf("%s%d@example.com", prefix, i)), Subject: "s", HTMLBody: "<p>x</p>"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		queue(site, "plant2-", 8)
		queue("", "r", 5)
		g.fake.ThrottleMailbox(site, 2*time.Second)
		if err := g.queue.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() {
				list, _ := jobs.ListEmails(ctx, db.SQL, jobs.EmailFilter{})
				for _, e := range list {
					t.Logf("%d %s %q %s %q", e.ID, e.ToEmail, e.Sender, e.Status, e.LastError)
				}
			}
		}()
		waitFor(t, 20*time.Second, "the default's 5 and the site's 6 sent, the site's other 2 held", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent' AND sender = ''`) == 5 &&
				countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent' AND sender = $1`, site) == 6 &&
				// Held: queued, or retrying when its first try met the
				// throttle before the budget was used up.
				countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status IN ('queued', 'retrying') AND sender = $1
					AND last_error LIKE 'held: '||$1||' has used 6 of its daily budget of 6%'`, site) == 2
		})
		from := map[string]int{}
		for _, m := range g.fake.Messages() {
			from[strings.ToLower(m.Sender)]++
		}
		if from[site] != 6 || from[strings.ToLower(graphtest.Sender)] != 5 {
			t.Errorf("Graph accepted %v, want 6 from the site's sender and 5 from the default", from)
		}
		if n := g.fake.RequestsInThrottleWindow(site); n > graphtest.GraphMailboxConcurrency {
			t.Errorf("%d requests inside the site mailbox's Retry-After window, want at most the %d on their way", n, graphtest.GraphMailboxConcurrency)
		}
		if n := g.fake.RequestsInThrottleWindow(graphtest.Sender); n != 0 {
			t.Errorf("the default mailbox was throttled %d times: it shares nothing with the site's", n)
		}
		budgets, err := jobs.SenderBudgets(ctx, db.SQL, graphtest.Sender, []string{site}, 6, time.Now())
		if err != nil || len(budgets) != 2 || budgets[0].Used != 5 || budgets[1].Sender != site || budgets[1].Used != 6 {
			t.Errorf("budgets = %+v, %v; want the default at 5 and %s at 6", budgets, err, site)
		}
		list, err := jobs.ListEmails(ctx, db.SQL, jobs.EmailFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range list {
			if (e.Sender == site) != strings.Contains(e.ToEmail, "plant2") {
				t.Errorf("email to %s lists sender %q", e.ToEmail, e.Sender)
			}
		}
	})
}

// A sender mailbox whose pause cannot be read (the database refuses the
// query) is held, not sent from blindly, and sends once it can be read.
func TestUnreadablePauseHoldsTheMailbox(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 0, func(o *jobs.Options) { o.Sender = graphtest.Sender; o.RetryBase = 50 * time.Millisecond })
		ctx := context.Background()
		if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE email_sender_pauses RENAME TO email_sender_pauses_away`); err != nil {
			t.Fatal(err)
		}
		if _, err := g.queue.EnqueueEmail(ctx, jobs.OutgoingEmail{Kind: jobs.KindSystem, To: addr("ann@example.com"), Subject: "s", HTMLBody: "<p>x</p>"}); err != nil {
			t.Fatal(err)
		}
		if err := g.queue.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the unreadable pause logged", func() bool {
			return strings.Contains(g.log.String(), "could not read the sender mailbox's pause")
		})
		if n := len(g.fake.Messages()); n != 0 {
			t.Fatalf("%d emails sent while the mailbox's pause could not be read", n)
		}
		if _, err := db.SQL.ExecContext(ctx, `ALTER TABLE email_sender_pauses_away RENAME TO email_sender_pauses`); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the email sent once the pause can be read", func() bool {
			return len(g.fake.Messages()) == 1
		})
	})
}

package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// A throttle storm: Exchange throttles the sender mailbox for a few
// seconds and answers every request with Retry-After. Two replicas (two
// queues with their own Graph clients, one database) send a batch into it.
// The first answers pause the mailbox for both replicas, through the
// database: besides the requests already on their way when the window
// opened (at most each replica's four concurrent sends: replicas do not
// share send slots, only the pause), none arrives inside the window, and
// every email still goes out once.
func TestRetryAfterPausesTheSenderMailboxOnEveryReplica(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		shared := func(o *jobs.Options) { o.Sender = graphtest.Sender; o.MaxAttempts = 100 }
		g := newGraphSetupWith(t, db, 0, shared)
		other := g.newProcess(t, db, shared)
		const emails = 40
		for i := range emails {
			if _, err := g.queue.EnqueueEmail(context.Background(), jobs.OutgoingEmail{
				Kind: jobs.KindSystem, To: addr(fmt.Sprintf("r%02d@example.com", i)), Subject: "s", HTMLBody: "<p>x</p>",
			}); err != nil {
				t.Fatal(err)
			}
		}
		g.fake.ThrottleMailbox(graphtest.Sender, 3*time.Second)
		for _, q := range []*jobs.Queue{g.queue, other} {
			if err := q.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 60*time.Second, "every email sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == emails
		})
		inWindow := g.fake.RequestsInThrottleWindow(graphtest.Sender)
		t.Logf("%d requests arrived inside the 3 s throttle window (%d emails, two replicas)", inWindow, emails)
		if onTheirWay := 2 * graphtest.GraphMailboxConcurrency; inWindow > onTheirWay {
			t.Errorf("%d requests inside an open Retry-After window, want at most the %d already on their way", inWindow, onTheirWay)
		}
		if n := len(g.fake.Messages()); n != emails {
			t.Errorf("Graph accepted %d messages, want %d", n, emails)
		}
	})
}

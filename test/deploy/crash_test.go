package deploy_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// kill -9 of the real binary while Graph is slow and every send slot is
// busy, then a restart on the same machine with the default rescue time
// (3 minutes): the emails the dead process left "sending" are sent again
// within seconds of the restart, and every email a recipient got twice is
// marked "may have been sent twice".
func TestKilledMidDeliveryTheRestartTakesOverAtOnceAndMarksTheRepeats(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == store.Postgres {
				needPostgres(t)
			}
			opts := storetest.Options(t, d)
			if opts.DataDir == "" {
				opts.DataDir = t.TempDir()
			}
			fake := graphtest.New()
			t.Cleanup(fake.Close)
			env := map[string]string{
				"DATABASE_URL": opts.URL, "MOCPCR_DATA_DIR": opts.DataDir, "MOCPCR_ADDR": freeAddr(t),
				"MOCPCR_LOG_FORMAT": "json", "MOCPCR_LOG_LEVEL": "info",
				"EMAIL_PROVIDER": "graph", "AUTH_PROVIDER": "local",
				"AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
				"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
				"AZURE_AUTHORITY_HOST": fake.URL, "GRAPH_ENDPOINT": fake.URL,
			}
			a := start(t, "first run", env)

			ctx := context.Background()
			db, err := store.Open(ctx, opts)
			must(t, err)
			t.Cleanup(func() { db.Close() })
			// This process only queues (no provider): the binary sends.
			q, err := jobs.New(ctx, db, jobs.Options{})
			must(t, err)
			t.Cleanup(func() { q.Close() })
			fake.SetLatency(time.Second)
			const emails = 12
			for i := range emails {
				_, err := q.EnqueueEmail(ctx, jobs.OutgoingEmail{Kind: jobs.KindSystem, To: mail.Address{Email: fmt.Sprintf("r%02d@example.com", i)},
					Subject: fmt.Sprintf("email %d", i), HTMLBody: "<p>x</p>"})
				must(t, err)
			}
			waitUntil(t, 30*time.Second, "every send slot busy", func() bool { return fake.InFlight() == graphtest.GraphMailboxConcurrency })
			a.kill()
			orphans := count(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sending'`)
			if orphans == 0 {
				t.Fatal("the kill left no email sending; nothing to take over")
			}

			fake.SetLatency(0)
			restarted := time.Now()
			start(t, "restart", env)
			// Far less than River's 3-minute rescue: only the take-over can do it.
			waitUntil(t, 60*time.Second, "every email sent after the restart", func() bool {
				return count(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == emails
			})
			took := time.Since(restarted)

			copies := map[string]int{}
			for _, m := range fake.Messages() {
				copies[strings.ToLower(m.Message.ToRecipients[0].EmailAddress.Address)]++
			}
			dups := 0
			for i := range emails {
				to := fmt.Sprintf("r%02d@example.com", i)
				var flagged bool
				must(t, db.SQL.QueryRow(`SELECT maybe_duplicate FROM email_messages WHERE to_email = $1`, to).Scan(&flagged))
				switch n := copies[to]; {
				case n == 0:
					t.Errorf("%s got no copy", to)
				case n > 1 && !flagged:
					t.Errorf("%s got %d copies and is not marked maybe_duplicate", to, n)
				}
				dups += max(copies[to]-1, 0)
			}
			flagged := count(t, db, `SELECT count(*) FROM email_messages WHERE maybe_duplicate`)
			if flagged != orphans {
				t.Errorf("%d emails marked maybe_duplicate, want the %d the kill left sending", flagged, orphans)
			}
			t.Logf("kill -9 with %d sending: all %d sent %.1fs after the restart began, %d delivered twice, %d marked maybe_duplicate",
				orphans, emails, took.Seconds(), dups, flagged)
		})
	}
}

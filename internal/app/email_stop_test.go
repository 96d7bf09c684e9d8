package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// graphApp is a mocpcr process sending through the Graph fake, over the
// database o: a (re)start of the same site.
func graphApp(t *testing.T, fake *graphtest.Server, o store.Options, extra map[string]string) (*app.App, net.Listener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"MOCPCR_ADDR": ln.Addr().String(), "MOCPCR_DATA_DIR": o.DataDir, "DATABASE_URL": o.URL,
		"EMAIL_PROVIDER": "graph", "AUTH_PROVIDER": "local",
		"AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
		"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
		"AZURE_AUTHORITY_HOST": fake.URL, "GRAPH_ENDPOINT": fake.URL,
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(config.MapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, ln
}

// copiesPerRecipient counts the fake's accepted messages per recipient.
func copiesPerRecipient(fake *graphtest.Server) map[string]int {
	out := map[string]int{}
	for _, m := range fake.Messages() {
		for _, r := range m.Message.ToRecipients {
			out[strings.ToLower(r.EmailAddress.Address)]++
		}
	}
	return out
}

// SIGTERM (the context Serve runs on ends) while Graph is slow and sends
// are in flight: the sends in flight finish and are recorded, no new one
// starts, and after the restart every recipient has exactly one copy. The
// setup guide's secret rotation restarts exactly this way.
func TestSIGTERMMidDeliveryLeavesOneCopyPerRecipient(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fake := graphtest.New()
			t.Cleanup(fake.Close)
			fake.SetLatency(400 * time.Millisecond)
			o := storetest.Options(t, d)
			if o.DataDir == "" {
				o.DataDir = t.TempDir()
			}
			a, ln := graphApp(t, fake, o, nil)
			const emails = 16
			for i := range emails {
				if _, err := a.Jobs.EnqueueEmail(context.Background(), jobs.OutgoingEmail{
					Kind: jobs.KindSystem, To: mail.Address{Email: fmt.Sprintf("r%02d@example.com", i)},
					Subject: fmt.Sprintf("email %d", i), HTMLBody: "<p>x</p>",
				}); err != nil {
					t.Fatal(err)
				}
			}
			ctx, sigterm := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- a.Serve(ctx, ln) }()
			// Every send slot busy: the worst moment to stop.
			waitUntil(t, 30*time.Second, "four sends in flight", func() bool { return fake.InFlight() == graphtest.GraphMailboxConcurrency })
			inFlight, requested, accepted := fake.InFlight(), fake.SendRequests(), len(fake.Messages())
			sigterm()
			if err := <-served; err != nil {
				t.Fatalf("Serve: %v", err)
			}
			sentAtStop := len(fake.Messages())
			if n := fake.SendRequests(); n != requested {
				t.Errorf("%d sendMail requests started after SIGTERM, want none", n-requested)
			}
			if sentAtStop < accepted+inFlight {
				t.Errorf("%d messages accepted by the end of the stop, want the %d before it and the %d in flight", sentAtStop, accepted, inFlight)
			}
			if n := countRows(t, a.DB, `SELECT count(*) FROM email_messages WHERE status = 'sending'`); n != 0 {
				t.Errorf("%d emails left 'sending' by a graceful stop, want 0", n)
			}
			a.Close()

			fake.SetLatency(0)
			b, ln2 := graphApp(t, fake, o, nil)
			ctx2, stop2 := context.WithCancel(context.Background())
			served2 := make(chan error, 1)
			go func() { served2 <- b.Serve(ctx2, ln2) }()
			t.Cleanup(func() { stop2(); <-served2 })
			waitUntil(t, 60*time.Second, "every email sent after the restart", func() bool {
				return countRows(t, b.DB, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == emails
			})
			dups := 0
			copies := copiesPerRecipient(fake)
			for to, n := range copies {
				if n != 1 {
					dups += n - 1
					t.Errorf("%s received %d copies, want 1", to, n)
				}
			}
			if len(copies) != emails {
				t.Errorf("%d recipients reached, want %d", len(copies), emails)
			}
			t.Logf("stop with %d sends in flight: %d accepted before the stop ended, %d duplicates", inFlight, sentAtStop, dups)
		})
	}
}

func countRows(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// waitUntil polls cond until it holds; it waits for an outcome and
// asserts nothing about how long it took.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

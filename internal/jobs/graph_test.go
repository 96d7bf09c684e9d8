package jobs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// graphSetup is the real Graph client against the Entra ID + Graph fake
// over HTTP, a queue working its email, and a notifier writing to it.
type graphSetup struct {
	fake     *graphtest.Server
	queue    *jobs.Queue
	notifier *notify.Notifier
	users    []int64
	log      *syncBuffer
}

func newGraphSetup(t *testing.T, db *store.DB, users int) *graphSetup {
	t.Helper()
	g := &graphSetup{fake: graphtest.New(), log: &syncBuffer{}}
	t.Cleanup(g.fake.Close)
	logger := slog.New(slog.NewJSONHandler(g.log, nil))
	client, err := graph.New(graph.Config{
		TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
		Sender: graphtest.Sender, AuthorityHost: g.fake.URL, GraphEndpoint: g.fake.URL, RequestTimeout: 5 * time.Second,
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	g.queue = newQueue(t, db, client, func(o *jobs.Options) { o.Logger = logger; o.MaxAttempts = 100 })
	g.notifier = &notify.Notifier{Emails: notify.JobEmails{Jobs: g.queue, BaseURL: "https://moc.example.com"}, BaseURL: "https://moc.example.com", Dialect: db.Dialect}
	for i := range users {
		u, err := auth.CreateUser(context.Background(), db.SQL, auth.NewUser{Email: fmt.Sprintf("u%d@example.com", i), Name: fmt.Sprintf("User %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		g.users = append(g.users, u.ID)
	}
	return g
}

func (g *graphSetup) notify(t *testing.T, db *store.DB, title string) {
	t.Helper()
	err := db.Tx(context.Background(), func(tx *sql.Tx) error {
		return g.notifier.Notify(context.Background(), tx, notify.Event{Type: notify.TypeApprovalRequested, Title: title, Link: "/changes/7", Recipients: g.users})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGraphOutageThenRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetup(t, db, 5)
		g.fake.FailUnavailable(-1, "")
		for i := range 4 {
			g.notify(t, db, fmt.Sprintf("event %d", i))
		}
		// Every notification exists at once, whatever Graph does.
		if n := countWhere(t, db, `SELECT count(*) FROM notifications`); n != 20 {
			t.Fatalf("notifications = %d, want 20", n)
		}
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "503s recorded", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_attempts WHERE http_status = 503`) >= 20
		})
		if n := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`); n != 0 {
			t.Fatalf("%d sent during the outage", n)
		}
		g.fake.Recover()
		waitFor(t, 60*time.Second, "all sent after recovery", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 20
		})
		seen := map[string]int{}
		for _, m := range g.fake.Messages() {
			for _, h := range m.Message.InternetMessageHeaders {
				if h.Name == "X-Mocpcr-Email-Id" {
					seen[h.Value]++
				}
			}
		}
		if len(seen) != 20 {
			t.Errorf("Graph accepted %d distinct emails, want 20", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("email %s accepted %d times", id, n)
			}
		}
		if m := g.fake.MaxInFlight(); m > 4 {
			t.Errorf("max concurrent sendMail = %d, want <= 4", m)
		}
	})
}

func TestGraphRetryAfter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetup(t, db, 1)
		g.fake.Throttle(1, "2")
		g.notify(t, db, "throttled")
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 1
		})
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{})
		_, atts, _ := jobs.GetEmail(context.Background(), db.SQL, list[0].ID)
		if len(atts) != 2 || atts[0].HTTPStatus != 429 || atts[0].RequestID == "" {
			t.Fatalf("attempts = %+v", atts)
		}
		if gap := atts[1].StartedAt.Sub(atts[0].FinishedAt); gap < 2*time.Second {
			t.Errorf("retried %s after a 429 with Retry-After: 2", gap)
		}
	})
}

func TestGraphForbiddenGivesUpAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetup(t, db, 1)
		g.fake.SetAccessDenied(true)
		g.notify(t, db, "forbidden")
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "failed", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'failed'`) == 1
		})
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{Status: jobs.StatusFailed})
		if len(list) != 1 || list[0].Attempts != 1 || !strings.HasPrefix(list[0].LastError, "Graph email failed: 403 ") {
			t.Fatalf("delivery log = %+v", list)
		}
		if !strings.Contains(g.log.String(), "Graph email failed: 403 ") {
			t.Errorf("log lacks the guide's message:\n%s", g.log.String())
		}
		if n := g.fake.SendRequests(); n != 1 {
			t.Errorf("sendMail called %d times, want 1", n)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM notifications`); n != 1 {
			t.Errorf("the in-app notification is missing")
		}
	})
}

// A 401 even after the client fetched a new token and retried is no
// longer the end of the email: it is retried with backoff, as an attempt
// that counts, and sent once Graph takes the token again (the guide:
// "Should auto-recover on next call").
func TestGraphUnauthorizedAfterRetryIsRetriedWithBackoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetup(t, db, 1)
		g.fake.FailUnauthorized(2) // the first send and the client's own retry
		g.notify(t, db, "token rejected twice")
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 1
		})
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{})
		e, atts, _ := jobs.GetEmail(context.Background(), db.SQL, list[0].ID)
		if e.Attempts != 2 || len(atts) != 2 {
			t.Fatalf("email = %+v, attempts = %+v, want 2 attempts", e, atts)
		}
		if atts[0].Outcome != jobs.StatusRetrying || atts[0].HTTPStatus != 401 || !strings.HasPrefix(atts[0].ErrorMessage, "Graph email failed: 401 ") {
			t.Errorf("first attempt = %+v, want a retrying 401 in the guide's words", atts[0])
		}
		if atts[1].Outcome != jobs.StatusSent {
			t.Errorf("second attempt = %+v, want sent", atts[1])
		}
		if n := g.fake.SendRequests(); n != 3 {
			t.Errorf("sendMail requests = %d, want 3 (401, the client's retry 401, then the queue's retry)", n)
		}
	})
}

// Each failed attempt is logged once, by the worker, at the level its
// outcome deserves, with the email's id, the request id and Graph's
// request id; the Graph client adds no line of its own.
func TestGraphOneLogLinePerFailedAttempt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetup(t, db, 1)
		g.fake.FailUnavailable(2, "")
		g.notify(t, db, "two 503s")
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 1
		})
		lines := logRecords(t, g.log)
		var failures []map[string]any
		for _, rec := range lines {
			if rec["level"] != "INFO" {
				failures = append(failures, rec)
			}
			if m, _ := rec["msg"].(string); strings.HasPrefix(m, "graph ") {
				t.Errorf("the Graph client logged %q; the worker's line is the one", m)
			}
		}
		if len(failures) != 2 {
			t.Fatalf("%d warning/error lines for 2 failed attempts:\n%s", len(failures), g.log.String())
		}
		for _, rec := range failures {
			if rec["level"] != "WARN" || !strings.HasPrefix(rec["msg"].(string), "Graph email failed: 503 ") ||
				rec["email_id"] == nil || rec["graph_request_id"] == "" || rec["graph_request_id"] == nil || rec["retry_in"] == nil {
				t.Errorf("retry line = %v, want one WARN in the guide's words with email_id, graph_request_id and retry_in", rec)
			}
			if _, ok := rec["request_id"]; !ok {
				t.Errorf("retry line lacks request_id: %v", rec)
			}
		}
	})
}

// logRecords parses a JSON log.
func logRecords(t *testing.T, buf *syncBuffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

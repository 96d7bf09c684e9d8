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
	return newGraphSetupWith(t, db, users, nil)
}

// newGraphSetupWith is newGraphSetup with the queue's options changed by mod.
func newGraphSetupWith(t *testing.T, db *store.DB, users int, mod func(*jobs.Options)) *graphSetup {
	t.Helper()
	g := &graphSetup{fake: graphtest.New(), log: &syncBuffer{}}
	t.Cleanup(g.fake.Close)
	g.queue = g.newProcess(t, db, mod)
	g.notifier = &notify.Notifier{Emails: notify.JobEmails{Jobs: g.queue, BaseURL: "https://moc.example.com"}, BaseURL: "https://moc.example.com", Dialect: db.Dialect}
	for i := range users {
		u, err := auth.CreateUser(context.Background(), db.SQL, auth.NewUser{Email: fmt.Sprintf("u%d@example.com", i), Name: fmt.Sprintf("User %d", i), AllSites: true})
		if err != nil {
			t.Fatal(err)
		}
		g.users = append(g.users, u.ID)
	}
	return g
}

// newProcess is what a (re)started mocpcr builds: a new Graph client, with
// an empty token cache, and a queue over db, not started.
func (g *graphSetup) newProcess(t *testing.T, db *store.DB, mod func(*jobs.Options)) *jobs.Queue {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(g.log, nil))
	client, err := graph.New(graph.Config{
		TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
		Sender: graphtest.Sender, AuthorityHost: g.fake.URL, GraphEndpoint: g.fake.URL, RequestTimeout: 5 * time.Second,
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return newQueue(t, db, client, func(o *jobs.Options) {
		o.Logger = logger
		o.MaxAttempts = 100
		if mod != nil {
			mod(o)
		}
	})
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

// Mail.Send not granted (403) is a configuration problem: the email is
// not failed and does not use up its attempts; it waits, in the guide's
// words, and is tried again on a slow schedule, so it goes out once the
// administrator grants consent.
func TestGraphForbiddenWaitsForTheConfiguration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 1, func(o *jobs.Options) {
			o.MaxAttempts = 2 // fewer than the waits below: they must not count
			o.ConfigRetryInterval = 200 * time.Millisecond
		})
		g.fake.SetAccessDenied(true)
		g.notify(t, db, "forbidden")
		g.queue.Start(context.Background())
		// Refused and recorded: the fake counts a request when it starts.
		// (Not through Stats, which would cache the queue depth.)
		waitFor(t, 30*time.Second, "three tries refused", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_attempts WHERE outcome = 'waiting_config'`) >= 3
		})
		// The queue keeps trying every 200 ms while the test looks, so the
		// checks below are what holds whichever try is in flight: the
		// email waits or is being tried again, never fails, and every
		// recorded attempt (written when an attempt ends) was refused.
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{})
		e, atts, _ := jobs.GetEmail(context.Background(), db.SQL, list[0].ID)
		if e.Status != jobs.StatusWaitingConfig && e.Status != jobs.StatusSending {
			t.Fatalf("status = %s, want waiting_config (not failed, not given up): %+v", e.Status, e)
		}
		if !strings.HasPrefix(e.LastError, "Graph email failed: 403 ErrorAccessDenied") || !strings.Contains(e.LastError, "Grant admin consent") {
			t.Errorf("last error = %q, want the guide's 403 message", e.LastError)
		}
		for _, a := range atts {
			if a.Outcome != jobs.StatusWaitingConfig || a.HTTPStatus != 403 {
				t.Errorf("attempt %+v, want waiting_config 403", a)
			}
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status IN ('failed', 'given_up')`); n != 0 {
			t.Errorf("%d emails failed or given up for a configuration problem", n)
		}
		// One ERROR line for the problem, not one per attempt.
		waitFor(t, 30*time.Second, "the problem's log line", func() bool {
			return strings.Contains(g.log.String(), `"msg":"1 email waiting: Graph email failed: 403 `)
		})
		if !strings.Contains(g.log.String(), `"outcome":"waiting_config"`) {
			t.Errorf("log lacks the outcome:\n%s", g.log.String())
		}
		if n := countWhere(t, db, `SELECT count(*) FROM notifications`); n != 1 {
			t.Errorf("the in-app notification is missing")
		}
		// The counters move just after an attempt is recorded, and the
		// queue gauges are read at most once a second: wait until Stats
		// shows the email waiting (it is, between tries) with the refusals
		// counted, rather than catching it in the middle of a try.
		var st jobs.Stats
		waitFor(t, 30*time.Second, "Stats to show the email waiting for the configuration", func() bool {
			var err error
			if st, err = g.queue.Stats(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st.WaitingConfig == 1 && st.ConfigFailures >= 3
		})
		if st.QueueDepth != 1 || st.Failed != 0 || st.GivenUp != 0 {
			t.Errorf("stats = %+v, want the email in the queue, none failed or given up", st)
		}

		// The administrator grants consent: the next slow retry sends it.
		g.fake.SetAccessDenied(false)
		waitFor(t, 30*time.Second, "sent after consent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 1
		})
		if n := len(g.fake.Messages()); n != 1 {
			t.Errorf("Graph accepted %d messages, want 1", n)
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

// The setup guide's secret rotation (Part 4): the secret expires, emails
// fail to get a token; the administrator puts the new secret in place and
// restarts, then "confirms emails are being sent". The emails waited
// without using up their attempts, and the restarted process tries them at
// once instead of at their next slow retry.
func TestGraphExpiredSecretEmailsAreSentAtOnceAfterTheRestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// One attempt before giving up: a counted attempt would give up.
		slow := func(o *jobs.Options) { o.MaxAttempts = 1 }
		g := newGraphSetupWith(t, db, 3, slow)
		g.fake.SetSecretExpired(true)
		g.notify(t, db, "while the secret is expired")
		if err := g.queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "all three waiting", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'waiting_config'`) == 3
		})
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{Status: jobs.StatusWaitingConfig})
		for _, e := range list {
			if !strings.HasPrefix(e.LastError, "Graph token request failed: invalid_client: AADSTS7000222:") || e.Attempts != 1 {
				t.Errorf("waiting email = %+v, want one attempt and the guide's expired-secret message", e)
			}
			if e.NextAttemptAt == nil || e.NextAttemptAt.Sub(e.UpdatedAt) < 3*time.Minute {
				t.Errorf("next try %v after %v, want about 5 minutes later", e.NextAttemptAt, e.UpdatedAt)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.queue.Stop(ctx); err != nil {
			t.Fatal(err)
		}

		// New secret in place, and a restart: a new process, a new client.
		g.fake.SetSecretExpired(false)
		restarted := g.newProcess(t, db, slow)
		if err := restarted.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Far sooner than the 5-minute slow retry.
		waitFor(t, 30*time.Second, "all sent after the restart", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 3
		})
		if n := len(g.fake.Messages()); n != 3 {
			t.Errorf("Graph accepted %d messages, want 3", n)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_attempts WHERE outcome = 'waiting_config'`); n != 3 {
			t.Errorf("%d waiting attempts recorded, want 3", n)
		}
		if !strings.Contains(g.log.String(), "tried again now") {
			t.Errorf("the start-up retry is not logged:\n%s", g.log.String())
		}
	})
}

// Waiting for the configuration is bounded: an email still refused
// ConfigWaitLimit after it was queued is given up, saying why, in a text
// that still starts with the guide's message.
func TestGraphConfigurationWaitIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 1, func(o *jobs.Options) {
			o.ConfigRetryInterval = 100 * time.Millisecond
			o.ConfigWaitLimit = 700 * time.Millisecond
		})
		g.fake.RemoveMailbox(graphtest.Sender) // 404 ErrorInvalidUser
		g.notify(t, db, "no sender mailbox")
		g.queue.Start(context.Background())
		waitFor(t, 30*time.Second, "given up", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'given_up'`) == 1
		})
		list, _ := jobs.ListEmails(context.Background(), db.SQL, jobs.EmailFilter{})
		e, atts, _ := jobs.GetEmail(context.Background(), db.SQL, list[0].ID)
		if !strings.HasPrefix(e.LastError, "Graph email failed: 404 ErrorInvalidUser") ||
			!strings.Contains(e.LastError, "given up: the email configuration was not fixed within 700ms of the email being queued") {
			t.Errorf("last error = %q", e.LastError)
		}
		if len(atts) < 2 || atts[len(atts)-1].Outcome != jobs.StatusGivenUp || atts[0].Outcome != jobs.StatusWaitingConfig {
			t.Errorf("attempts = %+v, want waits and then the give-up", atts)
		}
		if gap := atts[len(atts)-1].FinishedAt.Sub(e.QueuedAt); gap < 700*time.Millisecond {
			t.Errorf("given up %s after it was queued, want >= 700ms", gap)
		}
	})
}

// A refused token request holds every email at once: the log has one
// ERROR line for the batch, with its size, not one per email. After the
// administrator fixes the secret, "Retry all" asks Entra ID again at once,
// although the client still remembers the refusal, says that a token was
// issued, and the emails go out.
func TestRefusedTokenIsOneLogLineAndRetryAllAsksEntraAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 30, func(o *jobs.Options) { o.ConfigRetryInterval = time.Hour })
		g.fake.SetSecretExpired(true)
		g.notify(t, db, "while the secret is expired")
		if err := g.queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "all waiting", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'waiting_config'`) == 30
		})
		waitFor(t, 30*time.Second, "the batch's log line", func() bool {
			return strings.Contains(g.log.String(), `"msg":"30 emails waiting: Graph token request failed: invalid_client: AADSTS7000222`)
		})
		errors := 0
		for _, rec := range logRecords(t, g.log) {
			if rec["level"] == "ERROR" {
				errors++
			}
		}
		if errors != 1 {
			t.Errorf("%d ERROR lines for one refused token, want 1:\n%s", errors, g.log.String())
		}

		g.fake.SetSecretExpired(false)
		before := g.fake.TokenRequests()
		res, err := g.queue.RetryFailed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.WaitingRetried != 30 || !res.TokenChecked || res.TokenError != "" {
			t.Errorf("Retry all = %+v, want 30 retried and the token issued", res)
		}
		if g.fake.TokenRequests() == before {
			t.Error("Retry all did not ask Entra ID again")
		}
		waitFor(t, 30*time.Second, "all sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 30
		})

		// Still refused: Retry all says so, in the guide's words.
		g.fake.SetSecretExpired(true)
		g.fake.ExpireTokens()
		g.notify(t, db, "expired again")
		waitFor(t, 30*time.Second, "waiting again", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'waiting_config'`) == 30
		})
		res, err = g.queue.RetryFailed(context.Background())
		if err != nil || !strings.HasPrefix(res.TokenError, "Graph token request failed: invalid_client: AADSTS7000222") {
			t.Errorf("Retry all while still refused = %+v, %v", res, err)
		}
	})
}

package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

// emailAdminEnv is the web server with a running email queue that sends
// through the real Graph client to the Entra ID + Graph fake over HTTP.
type emailAdminEnv struct {
	db           *store.DB
	fake         *graphtest.Server
	queue        *jobs.Queue
	srv          *httptest.Server
	admin, plain string // API tokens
}

// emailAdminSender numbers the sender mailboxes, so that queues do not
// share the process-wide send limit.
var emailAdminSender atomic.Int64

func newEmailAdminEnv(t *testing.T, db *store.DB) *emailAdminEnv {
	t.Helper()
	ctx := context.Background()
	e := &emailAdminEnv{db: db, fake: graphtest.New()}
	t.Cleanup(e.fake.Close)
	client, err := graph.New(graph.Config{
		TenantID: graphtest.TenantID, ClientID: graphtest.ClientID, ClientSecret: graphtest.ClientSecret,
		Sender: graphtest.Sender, AuthorityHost: e.fake.URL, GraphEndpoint: e.fake.URL, RequestTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.queue, err = jobs.New(ctx, db, jobs.Options{
		Provider: client, Sender: fmt.Sprintf("web-retry%d@example.com", emailAdminSender.Add(1)),
		MaxAttempts: 1, PollInterval: 50 * time.Millisecond, SendTimeout: 5 * time.Second,
		// Only a restart or Retry all can send a waiting email in time.
		ConfigRetryInterval: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.queue.Stop(ctx)
		e.queue.Close()
	})
	cfg, _ := config.Load(config.MapEnv(nil))
	ws, err := web.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)), web.Deps{Notify: web.NotifyDeps{Jobs: e.queue, Mail: client}})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(ws.Handler())
	t.Cleanup(e.srv.Close)
	mk := func(email string, roles ...auth.Role) string {
		u, err := auth.CreateUser(ctx, db.SQL, auth.NewUser{Email: email, Name: email[:3], Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := auth.CreateAPIToken(ctx, db.SQL, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	e.admin = mk("ada@example.com", auth.RoleAdmin)
	e.plain = mk("ann@example.com")
	return e
}

// send queues one email and waits until it reaches status.
func (e *emailAdminEnv) send(t *testing.T, to, status string) int64 {
	t.Helper()
	id, err := e.queue.EnqueueEmail(context.Background(), jobs.OutgoingEmail{To: mail.Address{Email: to}, Subject: "about " + to, HTMLBody: "<p>x</p>"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitStatus(t, id, status)
	return id
}

func (e *emailAdminEnv) waitStatus(t *testing.T, id int64, status string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		rec, _, err := jobs.GetEmail(context.Background(), e.db.SQL, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("email %d is %s after 30s, want %s (%s)", id, rec.Status, status, rec.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *emailAdminEnv) page(t *testing.T, path string) string {
	t.Helper()
	r := bearer(t, e.srv.URL, "GET", path, e.admin, nil)
	if r.StatusCode != 200 {
		t.Fatalf("GET %s = %d", path, r.StatusCode)
	}
	return r.Body
}

// An email refused because of the configuration shows in the delivery log
// and on the email page as waiting for the configuration, not failed; after
// the fix, "Retry all" (API and page) sends what failed or waited, and never
// a sent email again.
func TestDeliveryLogWaitingForConfigurationAndRetryAll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEmailAdminEnv(t, db)
		sent := e.send(t, "sent@example.com", jobs.StatusSent)
		e.fake.FailStatus(1, 400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
		failed := e.send(t, "failed@example.com", jobs.StatusFailed)
		e.fake.SetAccessDenied(true)
		waiting := e.send(t, "waiting@example.com", jobs.StatusWaitingConfig)

		log := e.page(t, "/admin/email/log")
		row := log[strings.Index(log, fmt.Sprintf(`id="email-%d"`, waiting)):]
		row = row[:strings.Index(row, "</tr>")]
		if !strings.Contains(row, "Waiting for configuration") || strings.Contains(row, ">failed<") ||
			!strings.Contains(row, "Graph email failed: 403 ErrorAccessDenied") || !strings.Contains(row, "Retry now") {
			t.Errorf("delivery log row of the waiting email:\n%s", row)
		}
		if !strings.Contains(log, `id="waiting-config"`) || !strings.Contains(log, "1 email is waiting for the email configuration to be fixed, not failed") {
			t.Errorf("delivery log lacks the waiting banner")
		}
		if !strings.Contains(log, `action="/admin/email/log/retry-failed"`) || !strings.Contains(log, "Retry all") {
			t.Errorf("delivery log lacks the Retry all button")
		}
		if page := e.page(t, "/admin/email"); !strings.Contains(page, "1 email is waiting for the email configuration to be fixed: Graph email failed: 403 ErrorAccessDenied") {
			t.Errorf("/admin/email does not warn about the waiting email")
		}
		var list struct{ Emails []jobs.EmailRecord }
		if s := call(t, e.srv.URL, "GET", "/api/v1/admin/emails?status=waiting_config", e.admin, "", &list); s != 200 ||
			len(list.Emails) != 1 || list.Emails[0].ID != waiting || list.Emails[0].QueuedAt.IsZero() {
			t.Errorf("API waiting_config filter = %d %+v", s, list)
		}

		// Only admins may retry.
		var apiErr struct{ Error string }
		if s := call(t, e.srv.URL, "POST", "/api/v1/admin/emails/retry-failed", e.plain, "", &apiErr); s != 403 {
			t.Errorf("non-admin Retry all = %d, want 403", s)
		}

		// The admin grants consent and retries everything.
		e.fake.SetAccessDenied(false)
		var res jobs.RetryResult
		if s := call(t, e.srv.URL, "POST", "/api/v1/admin/emails/retry-failed", e.admin, "", &res); s != 200 ||
			res != (jobs.RetryResult{Requeued: 1, WaitingRetried: 1, TokenChecked: true}) {
			t.Errorf("Retry all = %d %+v, want 1 requeued and 1 waiting retried", s, res)
		}
		e.waitStatus(t, failed, jobs.StatusSent)
		e.waitStatus(t, waiting, jobs.StatusSent)
		res = jobs.RetryResult{}
		if s := call(t, e.srv.URL, "POST", "/api/v1/admin/emails/retry-failed", e.admin, "", &res); s != 200 || res != (jobs.RetryResult{}) {
			t.Errorf("second Retry all = %d %+v, want nothing retried", s, res)
		}
		if log := e.page(t, "/admin/email/log"); strings.Contains(log, `id="retry-all"`) || strings.Contains(log, `id="waiting-config"`) {
			t.Errorf("nothing to act on, yet the log shows the banner or Retry all")
		}

		// The page's button, for an email that failed later.
		e.fake.FailStatus(1, 400, "ErrorInvalidRecipients", "At least one recipient isn't valid.")
		later := e.send(t, "later@example.com", jobs.StatusFailed)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/email/log/retry-failed", strings.NewReader("next=%2Fadmin%2Femail%2Flog"))
		req.Header.Set("Authorization", "Bearer "+e.admin)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/admin/email/log" {
			t.Errorf("Retry all form = %d to %q, want 303 to the log", resp.StatusCode, resp.Header.Get("Location"))
		}
		e.waitStatus(t, later, jobs.StatusSent)

		// Each email reached Graph once: the sent one was never sent again.
		seen := map[string]int{}
		for _, m := range e.fake.Messages() {
			for _, r := range m.Message.ToRecipients {
				seen[r.EmailAddress.Address]++
			}
		}
		for _, to := range []string{"sent@example.com", "failed@example.com", "waiting@example.com", "later@example.com"} {
			if seen[to] != 1 {
				t.Errorf("%s accepted by Graph %d times, want 1 (all: %v)", to, seen[to], seen)
			}
		}
		if rec, _, _ := jobs.GetEmail(context.Background(), db.SQL, sent); rec.Attempts != 1 {
			t.Errorf("the sent email has %d attempts, want 1", rec.Attempts)
		}
	})
}

package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
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
	site := startSite(t, db, siteOptions{deps: web.Deps{Notify: web.NotifyDeps{Jobs: e.queue, Mail: client}}, now: time.Now})
	e.srv = site.srv
	_, e.admin = site.apiUser("ada@example.com", auth.RoleAdmin)
	_, e.plain = site.apiUser("ann@example.com")
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
	var rec jobs.EmailRecord
	waitFor(t, fmt.Sprintf("email %d to be %s", id, status), func() bool {
		var err error
		if rec, _, err = jobs.GetEmail(context.Background(), e.db.SQL, id); err != nil {
			t.Fatal(err)
		}
		return rec.Status == status
	}, func() string { return fmt.Sprintf("it is %s (%s)", rec.Status, rec.LastError) })
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
			res != (jobs.RetryResult{Requeued: 1, WaitingRetried: 1, TokenValid: true, WaitingOnGraph: 1}) {
			t.Errorf("Retry all = %d %+v, want 1 requeued and 1 waiting retried, the valid token not asked again and the one waiting on Graph counted", s, res)
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

// The delivery log names statuses in words and links an email sent to the
// dev mailbox to its message; the message names its delivery-log entry,
// though their ids differ.
func TestDeliveryLogLabelsAndMailboxCrossReference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		now := time.Now().UTC()
		ins := func(status, requestID, subject string) {
			t.Helper()
			if _, err := db.SQL.Exec(`INSERT INTO email_messages (kind, to_email, subject, html_body, status, request_id, created_at, updated_at, queued_at)
				VALUES ('system', 'rita@example.com', $1, '<p>x</p>', $2, $3, $4, $4, $4)`, subject, status, requestID, now); err != nil {
				t.Fatal(err)
			}
		}
		ins("given_up", "", "Gave up")
		ins("waiting_config", "", "Waits")
		ins("sent", "dev-1", "Reached the mailbox") // delivery-log #3 is mailbox #1
		if _, err := db.SQL.Exec(`INSERT INTO dev_mailbox (sender, to_addrs, subject, html_body, created_at) VALUES ('moc@example.com', 'rita@example.com', 'Reached the mailbox', '<p>x</p>', $1)`, now); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL.Exec(`INSERT INTO dev_mailbox (sender, to_addrs, subject, html_body, created_at) VALUES ('moc@example.com', 'adam@example.com', 'Test email', '<p>x</p>', $1)`, now); err != nil {
			t.Fatal(err)
		}
		b := site.browser()
		b.login(admin.Email)

		log := b.get("/admin/email/log")
		if log.StatusCode != http.StatusOK {
			t.Fatalf("log: %d", log.StatusCode)
		}
		for _, want := range []string{`<option value="given_up">Given up</option>`, `<option value="waiting_config">Waiting for configuration</option>`,
			`>Given up</span>`, `href="/admin/mailbox/1">Dev mailbox message #1</a>`} {
			if !strings.Contains(log.Body, want) {
				t.Errorf("delivery log: missing %s", want)
			}
		}
		if strings.Contains(log.Body, ">given_up<") || strings.Contains(log.Body, ">waiting_config<") {
			t.Errorf("delivery log shows raw status values")
		}
		if f := b.get("/admin/email/log?status=given_up"); !strings.Contains(f.Body, `<option value="given_up" selected>Given up</option>`) {
			t.Errorf("filter does not keep the chosen status")
		}

		msg := b.get("/admin/mailbox/1")
		if !strings.Contains(msg.Body, `href="/admin/email/log?before=4#email-3">Delivery-log entry #3</a>`) || !strings.Contains(msg.Body, "dev-1") {
			t.Errorf("mailbox message does not name its delivery-log entry:\n%s", msg.Body)
		}
		if m := b.get("/admin/mailbox/2"); !strings.Contains(m.Body, "not in the delivery log") {
			t.Errorf("unlogged mailbox message")
		}
		if list := b.get("/admin/mailbox"); !strings.Contains(list.Body, `href="/admin/email/log?before=4#email-3">#3</a>`) {
			t.Errorf("mailbox list does not link the delivery log")
		}
		// The link lands on a page holding the entry.
		if p := b.get("/admin/email/log?before=4"); !strings.Contains(p.Body, `id="email-3"`) {
			t.Errorf("delivery-log link does not show entry #3")
		}
		// ... and leads back to the newest emails; the first page does not.
		if p := b.get("/admin/email/log?before=4"); !strings.Contains(p.Body, `<a href="/admin/email/log">Newest emails</a>`) {
			t.Errorf("an older page has no way back to the newest emails")
		}
		if p := b.get("/admin/email/log?before=4&status=sent"); !strings.Contains(p.Body, `href="/admin/email/log?status=sent">Newest emails</a>`) {
			t.Errorf("Newest emails should keep the status filter")
		}
		if strings.Contains(log.Body, "Newest emails") {
			t.Errorf("the first page links to itself as Newest emails")
		}
		// A bad filter is explained in the page's words, not the codes.
		bad := b.get("/admin/email/log?status=bogus")
		if bad.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "Waiting for configuration") || !strings.Contains(bad.Body, "Given up") ||
			strings.Contains(bad.Body, "waiting_config") || strings.Contains(bad.Body, "given_up") {
			t.Errorf("bad status filter: %d\n%s", bad.StatusCode, bad.Body)
		}
	})
}

// A dev mailbox message frames its body from a route of its own whose
// policy lets the email's inline styles apply and nothing run; the
// message page no longer carries the body in an srcdoc (which inherits
// the page's style-src 'self' and drops every style).
func TestMailboxBodyIsServedWithItsStylesAndNoScripts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		site := newSite(t, db, nil)
		admin := site.user("adam@example.com", auth.RoleAdmin)
		const html = `<body style="background:#f3f4f6"><p style="color:#1d4ed8">Styled</p><script>parent.document.title='x'</script></body>`
		if _, err := db.SQL.Exec(`INSERT INTO dev_mailbox (sender, to_addrs, subject, html_body, created_at) VALUES ('moc@example.com', 'rita@example.com', 'Styled', $1, $2)`, html, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		b := site.browser()
		b.login(admin.Email)
		msg := b.get("/admin/mailbox/1")
		if !strings.Contains(msg.Body, `<iframe class="mail-body" title="Email body" sandbox src="/admin/mailbox/1/body">`) {
			t.Errorf("message page does not frame the body route in a sandbox:\n%s", msg.Body)
		}
		if strings.Contains(msg.Body, "srcdoc") || strings.Contains(msg.Body, "Styled</p>") {
			t.Errorf("message page still carries the body inline")
		}
		body := b.get("/admin/mailbox/1/body")
		if body.StatusCode != http.StatusOK || body.Body != html {
			t.Fatalf("body route: %d %q, want the stored HTML unchanged", body.StatusCode, body.Body)
		}
		csp := body.Header.Get("Content-Security-Policy")
		for _, want := range []string{"sandbox", "default-src 'none'", "style-src 'unsafe-inline'", "frame-ancestors 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("body policy %q lacks %s", csp, want)
			}
		}
		if strings.Contains(csp, "script-src") || body.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("body policy allows scripts or forbids its own frame: %q, %q", csp, body.Header.Get("X-Frame-Options"))
		}
		if nf := b.get("/admin/mailbox/2/body"); nf.StatusCode != http.StatusNotFound {
			t.Errorf("missing message body: %d, want 404", nf.StatusCode)
		}
		// Only who may read the mailbox reads a body.
		other := site.user("rita@example.com", auth.RoleInitiator)
		rb := site.browser()
		rb.login(other.Email)
		if r := rb.get("/admin/mailbox/1/body"); r.StatusCode != http.StatusForbidden {
			t.Errorf("an initiator reads a mailbox body: %d", r.StatusCode)
		}
	})
}

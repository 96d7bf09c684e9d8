package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// Two `mocpcr serve` processes on one PostgreSQL schema, sending through
// one Entra/Graph fake: every email goes out once, periodic reminders run
// once per cluster, a session made on one replica works on the other,
// the live stream of one replica hears events committed on the other,
// and when one replica is killed mid-delivery the other finishes the
// queue.
func TestTwoReplicasOnePostgres(t *testing.T) {
	needPostgres(t)
	ctx := context.Background()
	opts := storetest.Options(t, store.Postgres)
	fake := graphtest.New()
	t.Cleanup(fake.Close)

	// Setup in this process: demo data (users, sites, sample changes; one
	// has an action due in two days, which is due a reminder today). No
	// job queue runs here.
	setupCfg, err := config.Load(config.MapEnv(map[string]string{"DATABASE_URL": opts.URL, "MOCPCR_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	setup, err := app.New(ctx, setupCfg, slog.New(slog.DiscardHandler), app.Options{Demo: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { setup.Close() })
	db := setup.DB
	ines, cora := demo.Accounts[0].Email, demo.Accounts[3].Email
	var siteID int64
	must(t, db.SQL.QueryRow(`SELECT id FROM sites ORDER BY id LIMIT 1`).Scan(&siteID))
	// Reminders go out from hour 0 UTC, so the test does not depend on the clock.
	_, err = db.SQL.Exec(`UPDATE reminder_settings SET pending_after_days = 1, run_hour = 0 WHERE id = 1`)
	must(t, err)

	// The API token of the initiator comes from the CLI, as an operator would make it.
	env := func(addr string) map[string]string {
		return map[string]string{
			"DATABASE_URL": opts.URL, "MOCPCR_ADDR": addr, "MOCPCR_DATA_DIR": t.TempDir(),
			"MOCPCR_LOG_FORMAT": "json", "MOCPCR_LOG_LEVEL": "info",
			"EMAIL_PROVIDER": "graph", "AUTH_PROVIDER": "local",
			"AZURE_TENANT_ID": graphtest.TenantID, "AZURE_CLIENT_ID": graphtest.ClientID,
			"AZURE_CLIENT_SECRET": graphtest.ClientSecret, "GRAPH_MAIL_SENDER": graphtest.Sender,
			"AZURE_AUTHORITY_HOST": fake.URL, "GRAPH_ENDPOINT": fake.URL,
			// Graph allows 4 concurrent sends per mailbox across the whole
			// app registration: two replicas take 2 each.
			"GRAPH_MAX_CONCURRENT_SENDS": "2",
			// A killed replica's jobs are taken over after 10 s, not 3 min.
			// Not less: the send timeout is half of it, and on a loaded
			// machine a send that times out after Graph accepted it is
			// sent again, a duplicate this test would count against the
			// kill.
			"MOCPCR_JOB_RESCUE_AFTER": "10s",
		}
	}
	out, stderr, code := run(t, env(freeAddr(t)), "", "token", "create", "--email", ines, "--name", "cluster")
	if code != 0 {
		t.Fatalf("token create exit %d: %s", code, stderr)
	}
	inesTok := strings.TrimSpace(out)

	a := start(t, "replica A", env(freeAddr(t)))
	b := start(t, "replica B", env(freeAddr(t)))
	A, B := client{t: t, base: a.URL, token: inesTok}, client{t: t, base: b.URL, token: inesTok}

	// Reminders: both replicas run the job queue; the elected leader
	// schedules the reminder job once and each reminder is sent once.
	waitUntil(t, settle, "the reminder job to run", func() bool {
		return count(t, db, `SELECT count(*) FROM river_job WHERE kind = 'mocpcr.periodic' AND args->>'name' = 'change.reminders' AND state = 'completed'`) >= 1
	})
	// Once per cluster and 15-minute period (River's unique-by-period): a
	// leader change under load may schedule it again only in a new period.
	if n := count(t, db, `SELECT count(*) FROM (SELECT floor(extract(epoch FROM created_at) / 900) FROM river_job
		WHERE kind = 'mocpcr.periodic' AND args->>'name' = 'change.reminders' GROUP BY 1 HAVING count(*) > 1) twice`); n != 0 {
		t.Errorf("reminder job scheduled more than once in %d 15-minute periods by the cluster, want none", n)
	}
	reminders := count(t, db, `SELECT count(*) FROM reminders_sent`)
	if reminders < 1 {
		t.Fatal("no reminder was sent for the demo action due in two days")
	}
	if n := count(t, db, `SELECT count(*) FROM notifications WHERE type IN ('reminder', 'escalation', 'action.due_soon', 'action.overdue',
		'temporary.expiring', 'emergency.overdue')`); n != reminders {
		t.Errorf("%d reminder notifications for %d reminders_sent rows, want one each", n, reminders)
	}

	// Sessions: sign in on A with the login form, use the cookie and the
	// session's CSRF token on B.
	cookie := signIn(t, a.URL, cora, demo.Password)
	me := client{t: t, base: b.URL, cookie: cookie}.do("GET", "/api/v1/me", nil, 200)
	if me["email"] != cora {
		t.Fatalf("B sees the session of %v, want %s", me["email"], cora)
	}
	csrf := csrfToken(t, b.URL, cookie)
	form := url.Values{"csrf_token": {csrf}}
	req, _ := http.NewRequest("POST", b.URL+"/notifications/read-all", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Cookie", cookie)
	resp, err := noRedirect.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("form POST on B with A's session and CSRF token = %d, want 303", resp.StatusCode)
	}

	// The live stream on B hears an event committed on A.
	events := openStream(t, b.URL, cookie)
	submitRIK(A, siteID)
	select {
	case ev := <-events:
		if !strings.Contains(ev, "Confirm replacement in kind") {
			t.Errorf("B's stream got %q, want the notification made on A", ev)
		}
	case <-time.After(settle):
		t.Fatal("B's live stream did not hear the notification committed on A")
	}

	// Events through both replicas; every email goes out exactly once.
	for i := range 10 {
		submitRIK([]client{A, B}[i%2], siteID)
	}
	waitDelivered(t, db, settle)
	total := count(t, db, `SELECT count(*) FROM email_messages`)
	perID := deliveries(fake)
	if len(perID) != total {
		t.Errorf("fake received %d distinct emails, delivery log has %d", len(perID), total)
	}
	checkDuplicates(t, db, perID)
	t.Logf("phase 1: %d emails (reminders: %d), delivered; token requests: %d", total, reminders, fake.TokenRequests())

	// Kill A in the middle of a long queue (300 ms per send).
	fake.SetLatency(300 * time.Millisecond)
	before := len(fake.Messages())
	for i := range 40 {
		submitRIK([]client{A, B}[i%2], siteID)
	}
	waitUntil(t, settle, "a few sends of the new batch", func() bool { return len(fake.Messages()) >= before+6 })
	inFlight := count(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sending'`)
	a.kill()
	killedAt := time.Now()
	waitDelivered(t, db, 2*settle)
	total = count(t, db, `SELECT count(*) FROM email_messages`)
	perID = deliveries(fake)
	dups := 0
	for _, n := range perID {
		dups += n - 1
	}
	if len(perID) != total {
		t.Errorf("after the kill: fake received %d distinct emails, delivery log has %d (lost: %d)", len(perID), total, total-len(perID))
	}
	t.Logf("kill test: %d emails in the log, %d sending (cluster-wide) at the kill, %d duplicates, queue finished %.1fs after the kill",
		total, inFlight, dups, time.Since(killedAt).Seconds())
	// A had at most its 2 send slots in flight: B takes over at most those
	// as interrupted, and only they (or a send of B's that timed out after
	// Graph took it, on a machine slow enough) may go out twice, flagged.
	if n := count(t, db, `SELECT count(DISTINCT message_id) FROM email_attempts WHERE outcome = 'interrupted'`); n > 2 {
		t.Errorf("%d emails taken over from the killed replica; it had at most its 2 send slots in flight", n)
	}
	checkDuplicates(t, db, perID)
	if n := count(t, db, `SELECT count(*) FROM email_messages WHERE status <> 'sent'`); n != 0 {
		t.Errorf("%d emails not sent after the kill", n)
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	must(t, db.SQL.QueryRow(query, args...).Scan(&n))
	return n
}

// settle bounds a wait for what the cluster guarantees will happen, so a
// regression fails instead of hanging; it is no speed requirement (the
// machine may be loaded), which is why it is generous.
const settle = 2 * time.Minute

// checkDuplicates fails for an email delivered more than once that the
// delivery log does not flag as a possible duplicate: the queue may send
// an email twice only when a send's outcome was lost (a killed process,
// a timeout after Graph took it), and then says so.
func checkDuplicates(t *testing.T, db *store.DB, perID map[string]int) {
	t.Helper()
	for id, n := range perID {
		if n <= 1 {
			continue
		}
		num, err := strconv.ParseInt(id, 10, 64)
		must(t, err)
		if count(t, db, `SELECT count(*) FROM email_messages WHERE id = $1 AND maybe_duplicate`, num) != 1 {
			t.Errorf("email %s delivered %d times without being flagged as a possible duplicate", id, n)
		}
	}
}

func waitDelivered(t *testing.T, db *store.DB, within time.Duration) {
	t.Helper()
	waitUntil(t, within, "every email to be sent", func() bool {
		return count(t, db, `SELECT count(*) FROM email_messages WHERE status <> 'sent'`) == 0
	})
}

// deliveries counts the fake's accepted messages per delivery log id.
func deliveries(fake *graphtest.Server) map[string]int {
	out := map[string]int{}
	for _, m := range fake.Messages() {
		for _, h := range m.Message.InternetMessageHeaders {
			if strings.EqualFold(h.Name, "X-Mocpcr-Email-Id") {
				out[h.Value]++
			}
		}
	}
	return out
}

func newChange(siteID int64) map[string]any {
	return map[string]any{"kind": "MOC", "title": "Replace P-101 seals", "description": "Dual mechanical seals", "site_id": siteID,
		"equipment_tags": []string{"P-101A"}, "reason": "Repeated leaks", "risk_ranking": "low",
		"technical_basis": "Vendor data sheet", "safety_health_impact": "None",
		"procedure_changes": "None", "time_period": "Permanent", "authorization_required": "Area superintendent"}
}

// submitRIK creates a change and submits it as a replacement in kind: the
// site's coordinators and approvers are asked to confirm it (notification and email).
func submitRIK(c client, siteID int64) {
	c.t.Helper()
	ch := c.do("POST", "/api/v1/changes", newChange(siteID), 201)["change"].(map[string]any)
	c.do("POST", fmt.Sprintf("/api/v1/changes/%d/submit", int64(ch["id"].(float64))),
		map[string]any{"screening": map[string]any{"replacement_in_kind": true}}, 200)
}

// signIn posts the sign-in form and returns the session cookie.
func signIn(t *testing.T, base, email, password string) string {
	t.Helper()
	resp, err := noRedirect.PostForm(base+"/auth/login", url.Values{"email": {email}, "password": {password}})
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in = %d, want 303", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "mocpcr_session" && c.Value != "" {
			return c.Name + "=" + c.Value
		}
	}
	t.Fatal("sign-in set no session cookie")
	return ""
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrfToken reads the session's CSRF token from a page.
func csrfToken(t *testing.T, base, cookie string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/account", nil)
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfRE.FindSubmatch(b)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("GET /account = %d, no csrf_token in the page", resp.StatusCode)
	}
	return string(m[1])
}

// openStream subscribes to /events and sends the data of each
// "notification" event on the channel.
func openStream(t *testing.T, base, cookie string) <-chan string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	req.Header.Set("Cookie", cookie)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /events = %d", resp.StatusCode)
	}
	ch := make(chan string, 16)
	ready := make(chan struct{})
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				if event == "unread" {
					select {
					case <-ready:
					default:
						close(ready) // the initial state: subscribed
					}
				}
				if event == "notification" {
					ch <- strings.TrimPrefix(line, "data: ")
				}
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(settle):
		t.Fatal("the stream sent no initial event")
	}
	return ch
}

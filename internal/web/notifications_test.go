package web_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/web"
)

type notifyEnv struct {
	db       *store.DB
	srv      *httptest.Server
	tokA     string
	tokB     string
	tokAdmin string
	a, b     *auth.User
	notifier *notify.Notifier
}

// startServer runs a web server with its own live hub on db.
func startServer(t testing.TB, db *store.DB) *testSite {
	t.Helper()
	hub := notify.NewHub(db, nil)
	hub.PollInterval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { hub.Run(ctx); close(done) }()
	// Registered first, so it runs after the server has closed.
	t.Cleanup(func() { cancel(); <-done })
	return startSite(t, db, siteOptions{deps: web.Deps{Notify: web.NotifyDeps{Hub: hub}}, now: time.Now})
}

func newNotifyEnv(t testing.TB, db *store.DB) *notifyEnv {
	t.Helper()
	e := &notifyEnv{db: db, notifier: &notify.Notifier{Dialect: db.Dialect}}
	site := startServer(t, db)
	e.a, e.tokA = site.apiUser("ann@example.com")
	e.b, e.tokB = site.apiUser("bob@example.com")
	_, e.tokAdmin = site.apiUser("ada@example.com", auth.RoleAdmin)
	e.srv = site.srv
	return e
}

func (e *notifyEnv) notify(t testing.TB, title string, users ...int64) {
	t.Helper()
	err := e.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return e.notifier.Notify(context.Background(), tx, notify.Event{Type: notify.TypeReminder, Title: title, Link: "/changes/1", Recipients: users})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func call(t testing.TB, base, method, path, token string, body string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(path, "/api/") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: content type %q", method, path, resp.Header.Get("Content-Type"))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func TestNotificationAPIOwnership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newNotifyEnv(t, db)
		for i := range 3 {
			e.notify(t, fmt.Sprintf("for ann %d", i), e.a.ID)
		}
		e.notify(t, "for bob", e.b.ID)
		var page notify.Page
		if s := call(t, e.srv.URL, "GET", "/api/v1/notifications?limit=2", e.tokA, "", &page); s != 200 {
			t.Fatalf("list = %d", s)
		}
		if len(page.Items) != 2 || page.Items[0].Title != "for ann 2" || page.NextCursor == "" {
			t.Fatalf("page = %+v", page)
		}
		var bobs notify.Page
		call(t, e.srv.URL, "GET", "/api/v1/notifications", e.tokB, "", &bobs)
		if len(bobs.Items) != 1 {
			t.Fatalf("bob sees %d", len(bobs.Items))
		}
		annID := page.Items[0].ID
		var apiErr struct{ Error string }
		for _, p := range []string{"read", "unread"} {
			if s := call(t, e.srv.URL, "POST", fmt.Sprintf("/api/v1/notifications/%d/%s", annID, p), e.tokB, "", &apiErr); s != 404 || apiErr.Error == "" {
				t.Errorf("bob marks ann's %s: %d %+v, want 404 with a message", p, s, apiErr)
			}
		}
		var n notify.Notification
		if s := call(t, e.srv.URL, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", annID), e.tokA, "", &n); s != 200 || n.ReadAt == nil {
			t.Errorf("ann marks read: %d %+v", s, n)
		}
		var cnt struct{ Unread int }
		call(t, e.srv.URL, "GET", "/api/v1/notifications/unread-count", e.tokA, "", &cnt)
		if cnt.Unread != 2 {
			t.Errorf("unread = %d, want 2", cnt.Unread)
		}
		call(t, e.srv.URL, "GET", "/api/v1/notifications/unread-count", e.tokB, "", &cnt)
		if cnt.Unread != 1 {
			t.Errorf("bob's unread = %d, want 1 (ann's read-all must not touch it)", cnt.Unread)
		}
		call(t, e.srv.URL, "POST", "/api/v1/notifications/read-all", e.tokA, "", nil)
		call(t, e.srv.URL, "GET", "/api/v1/notifications/unread-count", e.tokB, "", &cnt)
		if cnt.Unread != 1 {
			t.Errorf("bob's unread after ann's read-all = %d", cnt.Unread)
		}
		if s := call(t, e.srv.URL, "GET", "/api/v1/notifications", "", "", &apiErr); s != 401 {
			t.Errorf("anonymous = %d", s)
		}
		if s := call(t, e.srv.URL, "GET", "/api/v1/notifications?limit=500", e.tokA, "", &apiErr); s != 422 || !strings.Contains(apiErr.Error, "limit") {
			t.Errorf("bad limit = %d %+v", s, apiErr)
		}
		// Preferences.
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{"email":{"approval.requested":false}}`, &apiErr); s != 422 || !strings.Contains(apiErr.Error, "approval.requested") {
			t.Errorf("mute action-required = %d %+v", s, apiErr)
		}
		if s := call(t, e.srv.URL, "PUT", "/api/v1/notifications/preferences", e.tokA, `{"email":{"change.closed":false}}`, nil); s != 200 {
			t.Errorf("set prefs = %d", s)
		}
		// Admin-only delivery log.
		if s := call(t, e.srv.URL, "GET", "/api/v1/admin/emails", e.tokA, "", &apiErr); s != 403 {
			t.Errorf("non-admin delivery log = %d", s)
		}
		var log struct{ Emails []any }
		if s := call(t, e.srv.URL, "GET", "/api/v1/admin/emails?status=failed", e.tokAdmin, "", &log); s != 200 {
			t.Errorf("admin delivery log = %d", s)
		}
		if s := call(t, e.srv.URL, "GET", "/api/v1/admin/emails?status=bogus", e.tokAdmin, "", &apiErr); s != 422 || !strings.Contains(apiErr.Error, "status") {
			t.Errorf("bad status = %d %+v", s, apiErr)
		}
		// Pages render for the owner.
		for _, p := range []string{"/notifications", "/notifications?unread=true", "/account/notifications"} {
			if s := call(t, e.srv.URL, "GET", p, e.tokA, "", nil); s != 200 {
				t.Errorf("GET %s = %d", p, s)
			}
		}
		for _, p := range []string{"/admin/email", "/admin/email/log", "/admin/mailbox"} {
			if s := call(t, e.srv.URL, "GET", p, e.tokAdmin, "", nil); s != 200 {
				t.Errorf("GET %s as admin = %d", p, s)
			}
			if s := call(t, e.srv.URL, "GET", p, e.tokA, "", nil); s != 403 {
				t.Errorf("GET %s as user = %d, want 403", p, s)
			}
		}
		if s := call(t, e.srv.URL, "POST", fmt.Sprintf("/notifications/%d/unread", annID), e.tokB, "", nil); s != 404 {
			t.Errorf("bob's form on ann's notification = %d", s)
		}
	})
}

// sseClient reads notification events from /events.
type sseClient struct {
	events chan notify.Notification
	ready  chan struct{}
}

func openStream(t testing.TB, base, token string) *sseClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseClient{events: make(chan notify.Notification, 100), ready: make(chan struct{})}
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var event string
		readyOnce := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				var d struct {
					Unread       int
					Notification *notify.Notification
				}
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &d)
				if event == "notification" && d.Notification != nil {
					c.events <- *d.Notification
				}
				if !readyOnce {
					readyOnce = true
					close(c.ready)
				}
			}
		}
	}()
	select {
	case <-c.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("stream sent no first event")
	}
	return c
}

func (c *sseClient) next(t testing.TB, timeout time.Duration) notify.Notification {
	t.Helper()
	select {
	case n := <-c.events:
		return n
	case <-time.After(timeout):
		t.Fatal("no notification on the live stream")
		return notify.Notification{}
	}
}

func TestLiveStreamDeliversNewNotification(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newNotifyEnv(t, db)
		streamA := openStream(t, e.srv.URL, e.tokA)
		e.notify(t, "for bob only", e.b.ID)
		e.notify(t, "live one", e.a.ID)
		n := streamA.next(t, 10*time.Second)
		if n.Title != "live one" {
			t.Errorf("ann's stream got %q, want only her own notification", n.Title)
		}
	})
}

// On PostgreSQL, a notification committed through one replica reaches a
// browser connected to another (LISTEN/NOTIFY).
func TestLiveStreamAcrossServers(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	e := newNotifyEnv(t, db)
	// A second server with its own hub. Notify never signals a hub in
	// process, so the only way this hub hears of the notification is
	// PostgreSQL NOTIFY on its own LISTEN connection.
	other := startServer(t, db)
	stream := openStream(t, other.URL, e.tokA)
	e.notify(t, "from replica one", e.a.ID)
	if n := stream.next(t, 10*time.Second); n.Title != "from replica one" {
		t.Errorf("got %q", n.Title)
	}
}

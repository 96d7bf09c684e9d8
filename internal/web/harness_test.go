package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/change"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/testclock"
	"github.com/mocpcr/mocpcr/internal/web"
)

// newClock is the server's controllable clock. It starts at the real
// time: the cookie jar drops cookies that expired by the wall clock.
func newClock() *testclock.Clock { return testclock.New(time.Now().UTC().Truncate(time.Second)) }

// testSite is a running web server over a test database: the one
// harness every web test starts from. Fixtures that need particular data
// (a seeded change service, users with tokens) build on it.
type testSite struct {
	t   testing.TB
	db  *store.DB
	web *web.Server
	srv *httptest.Server
	URL string
	// clock is the server's time, when the test controls it (newSite).
	clock *testclock.Clock
}

// siteOptions are what a test may set on the server it starts.
type siteOptions struct {
	// env holds extra environment variables; the base URL is the test
	// server's unless env sets one.
	env  map[string]string
	deps web.Deps
	// now is the server's clock; nil gives it a controllable clock
	// starting at the real time (testSite.clock).
	now func() time.Time
}

// newSite starts the web server with extra environment variables and a
// controllable clock.
func newSite(t testing.TB, db *store.DB, env map[string]string) *testSite {
	t.Helper()
	return startSite(t, db, siteOptions{env: env})
}

// startSite starts the web server as o says.
func startSite(t testing.TB, db *store.DB, o siteOptions) *testSite {
	t.Helper()
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	// Live event streams would keep Close waiting.
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	vars := map[string]string{"MOCPCR_BASE_URL": srv.URL}
	for k, v := range o.env {
		vars[k] = v
	}
	cfg, err := config.Load(config.MapEnv(vars))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := web.New(cfg, db, slog.New(slog.NewTextHandler(io.Discard, nil)), o.deps)
	if err != nil {
		t.Fatal(err)
	}
	s := &testSite{t: t, db: db, web: ws, srv: srv, URL: srv.URL}
	if ws.Now = o.now; ws.Now == nil {
		s.clock = newClock()
		ws.Now = s.clock.Now
	}
	h = ws.Handler()
	return s
}

// apiUser creates a user without a password and an API token for them.
func (s *testSite) apiUser(email string, roles ...auth.Role) (*auth.User, string) {
	s.t.Helper()
	ctx := context.Background()
	u, err := auth.CreateUser(ctx, s.db.SQL, auth.NewUser{Email: email, Name: email[:3], Roles: roles, AllSites: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return u, s.token(u)
}

// token creates an API token for u.
func (s *testSite) token(u *auth.User) string {
	s.t.Helper()
	tok, err := auth.CreateAPIToken(context.Background(), s.db.SQL, u.ID, "test")
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

const testPassword = "correct horse battery"

// user creates a local user with the test password.
func (s *testSite) user(email string, roles ...auth.Role) *auth.User {
	s.t.Helper()
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		s.t.Fatal(err)
	}
	u, err := auth.CreateUser(context.Background(), s.db.SQL, auth.NewUser{Email: email, Name: "User " + email, PasswordHash: h, Roles: roles, AllSites: true})
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects unless told to.
type browser struct {
	t      testing.TB
	site   *testSite
	client *http.Client
	follow bool
}

func (s *testSite) browser() *browser {
	jar, _ := cookiejar.New(nil)
	b := &browser{t: s.t, site: s}
	b.client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if b.follow {
			return nil
		}
		return http.ErrUseLastResponse
	}}
	return b
}

type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return response{resp, string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.abs(path), nil)
	return b.do(req)
}

func (b *browser) abs(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return b.site.URL + path
}

// post sends a same-origin form, as a browser on our page would
// (Sec-Fetch-Site: same-origin).
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.abs(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", b.site.URL)
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf reads the synchronizer token from a page.
func (b *browser) csrf() string {
	b.t.Helper()
	r := b.get("/account")
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("no CSRF token on /account (status %d)", r.StatusCode)
	}
	return m[1]
}

// login signs in with the local form and fails the test if it does not work.
func (b *browser) login(email string) {
	b.t.Helper()
	r := b.post("/auth/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d\n%s", email, r.StatusCode, r.Body)
	}
}

// signedIn reports whether /api/v1/me knows the browser.
func (b *browser) signedIn() bool {
	b.t.Helper()
	r := b.get("/api/v1/me")
	return r.StatusCode == http.StatusOK
}

func bearer(t testing.TB, base, method, path, token string, body io.Reader) response {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, body)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return response{resp, string(b)}
}

// waitFor polls cond until it holds, for work other goroutines do on
// their own schedule (the email queue, the live-update hub), and fails
// the test after 30 seconds, saying what it waited for and, from state,
// what it saw instead.
func waitFor(t testing.TB, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s: %s", what, state())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// confirmScreening has coordinator by confirm, signed, the screening of
// change id as given: every screening is confirmed before the review.
func confirmScreening(t testing.TB, svc *change.Service, by *auth.User, id int64) {
	t.Helper()
	if _, err := svc.ConfirmScreening(context.Background(), by, id,
		change.ScreeningConfirmation{Signature: change.Signature{Verified: true, Method: "password"}}); err != nil {
		t.Fatalf("confirm the screening: %v", err)
	}
}

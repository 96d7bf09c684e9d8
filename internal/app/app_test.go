package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/app"
	"github.com/mocpcr/mocpcr/internal/auth"
	"github.com/mocpcr/mocpcr/internal/config"
	"github.com/mocpcr/mocpcr/internal/demo"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

func newApp(t *testing.T, d store.Dialect, opt app.Options) *app.App {
	t.Helper()
	o := storetest.Options(t, d)
	cfg, err := config.Load(config.MapEnv(map[string]string{"MOCPCR_DATA_DIR": o.DataDir, "DATABASE_URL": o.URL}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func countUsers(t *testing.T, a *app.App) int {
	var n int
	if err := a.DB.SQL.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDemoSeededOnlyOnEmbeddedOrWhenAsked(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			a := newApp(t, d, app.Options{})
			if want := d == store.SQLite; a.Demo != want {
				t.Fatalf("demo = %v, want %v", a.Demo, want)
			}
			if d == store.Postgres {
				if n := countUsers(t, a); n != 0 {
					t.Fatalf("PostgreSQL without --demo has %d users", n)
				}
				a = newApp(t, d, app.Options{Demo: true})
				if !a.Demo || countUsers(t, a) == 0 {
					t.Fatal("--demo did not seed PostgreSQL")
				}
			}
		})
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	a := newApp(t, store.SQLite, app.Options{})
	started := make(chan struct{})
	a.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond) // the work in flight when the signal arrives
		w.Write([]byte("finished"))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	cancel()
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request = %q, %v; want it finished", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/slow"); err == nil {
		t.Error("server still accepts requests after shutdown")
	}
}

// An open live-notification stream must not hold up shutdown: Shutdown
// waits for every request, and a stream never ends by itself.
func TestShutdownEndsLiveStreams(t *testing.T) {
	a := newApp(t, store.SQLite, app.Options{})
	u, err := auth.UserByEmail(context.Background(), a.DB.SQL, demo.Accounts[0].Email)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.CreateAPIToken(context.Background(), a.DB.SQL, u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ln) }()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("/events = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	buf := make([]byte, 1)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatalf("stream sent nothing: %v", err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v; an open stream held up shutdown", err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Errorf("stream did not end cleanly: %v", err)
	}
}

// An admin reading the start-up log must not think mail is going out when
// it is kept in the dev mailbox.
func TestStartupLogSaysWhereMailGoes(t *testing.T) {
	var logs strings.Builder
	cfg, err := config.Load(config.MapEnv(map[string]string{"MOCPCR_DATA_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !strings.Contains(logs.String(), "emails are NOT leaving this machine") {
		t.Errorf("start-up log does not say mail stays local:\n%s", logs.String())
	}
}

// A site whose email really leaves (or that signs in with Entra ID) is
// never seeded with the demo people: their addresses are made up and
// their password public. The start-up log says how to add the first
// administrator instead.
func TestNoDemoWhereEmailIsReal(t *testing.T) {
	env := map[string]string{"EMAIL_PROVIDER": "graph", "AZURE_TENANT_ID": "10091248-3181-4c3e-9c5b-1f2e3d4c5b6a",
		"AZURE_CLIENT_ID": "3dd121a7-9c06-4d4e-8a2b-1c2d3e4f5a6b", "AZURE_CLIENT_SECRET": "abc8Q~not-a-real-secret",
		"GRAPH_MAIL_SENDER": "no-reply@example.com"}
	load := func() *config.Config {
		env["MOCPCR_DATA_DIR"] = t.TempDir()
		cfg, err := config.Load(config.MapEnv(env))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	var logs strings.Builder
	a, err := app.New(context.Background(), load(), slog.New(slog.NewTextHandler(&logs, nil)), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.Demo || countUsers(t, a) != 0 {
		t.Errorf("embedded database with Graph email was seeded (demo %v, %d users)", a.Demo, countUsers(t, a))
	}
	for _, want := range []string{"create the first administrator with: mocpcr user create", "MOCPCR_BASE_URL is not set",
		"sign-in: local accounts"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs.String())
		}
	}
	if _, err := app.New(context.Background(), load(), slog.New(slog.DiscardHandler), app.Options{Demo: true}); err == nil ||
		!strings.Contains(err.Error(), "--demo seeds sample people") {
		t.Errorf("--demo with Graph email: %v", err)
	}
}

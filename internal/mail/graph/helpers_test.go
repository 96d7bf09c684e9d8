package graph_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
	"github.com/mocpcr/mocpcr/internal/mail/graphtest"
	"github.com/mocpcr/mocpcr/internal/testclock"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a fake Entra ID + Graph, a client configured for it, and the
// clock both share.
type fixture struct {
	srv    *graphtest.Server
	client *graph.Client
	clock  *testclock.Clock
}

func newFixture(t testing.TB, configure ...func(*graph.Config)) *fixture {
	t.Helper()
	srv := graphtest.New()
	t.Cleanup(srv.Close)
	clock := testclock.New(start)
	srv.SetClock(clock.Now)
	cfg := graph.Config{
		TenantID:       graphtest.TenantID,
		ClientID:       graphtest.ClientID,
		ClientSecret:   graphtest.ClientSecret,
		Sender:         graphtest.Sender,
		AuthorityHost:  srv.URL,
		GraphEndpoint:  srv.URL,
		RequestTimeout: 5 * time.Second,
		Now:            clock.Now,
	}
	for _, f := range configure {
		f(&cfg)
	}
	client, err := graph.New(cfg)
	if err != nil {
		t.Fatalf("graph.New: %v", err)
	}
	return &fixture{srv: srv, client: client, clock: clock}
}

func testMessage() mail.Message {
	return mail.Message{
		To:       []mail.Address{{Name: "Dana Operator", Email: "dana@contoso.com"}},
		Subject:  "MOC-0042 awaits your approval",
		HTMLBody: "<p>Please review <a href=\"https://moc.example/moc/42\">MOC-0042</a>.</p>",
	}
}

func (f *fixture) send(t testing.TB) (mail.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return f.client.Send(ctx, testMessage())
}

func (f *fixture) mustSend(t testing.TB) mail.Result {
	t.Helper()
	res, err := f.send(t)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return res
}

func mustMailError(t *testing.T, err error) *mail.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Send succeeded, want an error")
	}
	e, ok := mail.AsError(err)
	if !ok {
		t.Fatalf("error %T %q is not a *mail.Error", err, err)
	}
	return e
}

// hangGuard bounds a wait for something the code guarantees will happen,
// so that a regression fails the test instead of hanging it. It is no
// speed requirement: a loaded machine may be slow, never this slow.
const hangGuard = 2 * time.Minute

// waitFor polls cond (real time) for work the client does in the
// background, such as a token refresh; it never moves the test clock.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// receive returns the next value from ch; what names it if it never comes.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(hangGuard):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// bearer returns the token a received message was sent with.
func bearer(r graphtest.Received) string { return r.Header.Get("Authorization") }

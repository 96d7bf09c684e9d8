package graph_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/mail/graph"
)

// sendMany sends n messages through c from n goroutines and returns the errors.
func sendMany(c *graph.Client, n int) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range n {
		wg.Go(func() {
			if _, err := c.Send(context.Background(), testMessage()); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errs
}

func TestMaxConcurrentPerMailbox(t *testing.T) {
	for _, limit := range []int{0, 2} { // 0: the default, 4
		want := limit
		if want == 0 {
			want = graph.DefaultMaxConcurrent
		}
		f := newFixture(t, func(c *graph.Config) { c.MaxConcurrent = limit })
		// Let the fake accept any concurrency, so its high-water mark shows
		// what the client did rather than what the fake refused.
		f.srv.SetMailboxConcurrencyLimit(0)
		f.srv.SetLatency(20 * time.Millisecond)
		if errs := sendMany(f.client, 30); len(errs) > 0 {
			t.Fatalf("MaxConcurrent %d: %v", limit, errs[0])
		}
		if got := f.srv.MaxInFlight(); got != want {
			t.Errorf("MaxConcurrent %d: high-water mark %d, want %d", limit, got, want)
		}
	}
}

func TestClientsForOneMailboxShareTheLimit(t *testing.T) {
	f := newFixture(t)
	f.srv.SetMailboxConcurrencyLimit(0)
	f.srv.SetLatency(20 * time.Millisecond)
	second, err := graph.New(graph.Config{
		TenantID: "10091248-3181-4C2D-9E0F-5A6B7C8D9E0F", // same tenant, other case
		ClientID: "3dd121a7-9c06-4b7e-8a55-1f0e2d3c4b5a", ClientSecret: "mXK8Q~fake8vJ.secret-Value_0123456789ab",
		Sender:        "No-Reply@Contoso.com",
		AuthorityHost: f.srv.URL, GraphEndpoint: f.srv.URL, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range []*graph.Client{f.client, second} {
		wg.Go(func() {
			if errs := sendMany(c, 20); len(errs) > 0 {
				t.Error(errs[0])
			}
		})
	}
	wg.Wait()
	if got := f.srv.MaxInFlight(); got != graph.DefaultMaxConcurrent {
		t.Errorf("high-water mark with two clients = %d, want %d", got, graph.DefaultMaxConcurrent)
	}
}

func TestGraphMailboxConcurrencyThrottleIsRetryable(t *testing.T) {
	// A client allowed more than Graph's four, e.g. a misconfiguration:
	// the fake answers like Graph, and the error says retry.
	f := newFixture(t, func(c *graph.Config) { c.MaxConcurrent = 12 })
	f.mustSend(t) // warm the token cache so all 12 arrive together
	f.srv.SetLatency(300 * time.Millisecond)
	errs := sendMany(f.client, 12)
	if len(errs) == 0 {
		t.Fatal("no 429 although 12 requests were in flight against one mailbox")
	}
	for _, err := range errs {
		e, ok := mail.AsError(err)
		if !ok || e.Status != 429 || e.Code != "ApplicationThrottled" || !e.Retryable || e.RetryAfter != time.Second {
			t.Errorf("got %v, want retryable 429 ApplicationThrottled with Retry-After 1s", err)
		}
	}
}

func TestWaitingForASlotHonoursTheContext(t *testing.T) {
	f := newFixture(t, func(c *graph.Config) { c.MaxConcurrent = 1 })
	f.mustSend(t)
	f.srv.SetLatency(500 * time.Millisecond)
	var holder sync.WaitGroup
	holder.Go(func() { f.client.Send(context.Background(), testMessage()) }) // holds the only slot
	t.Cleanup(holder.Wait)
	waitFor(t, "the first send to reach Graph", func() bool { return f.srv.SendRequests() == 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := f.client.Send(ctx, testMessage())
	if e := mustMailError(t, err); !e.Retryable {
		t.Errorf("cancelled wait for a slot should be retryable: %v", e)
	}
	if n := f.srv.SendRequests(); n != 2 {
		t.Errorf("sendMail requests = %d, want 2: the second send must not pass the cap", n)
	}
}

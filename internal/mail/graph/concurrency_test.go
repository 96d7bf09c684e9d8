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

func TestSendUnderAHeldSlotTakesNoSecond(t *testing.T) {
	f := newFixture(t, func(c *graph.Config) { c.MaxConcurrent = 1 })
	slots := f.client.SendSlots("")
	if slots.Cap() != 1 {
		t.Fatalf("SendSlots().Cap() = %d, want MaxConcurrent 1", slots.Cap())
	}
	// The job queue's way: take the only slot, then send under it.
	if err := slots.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	if _, err := f.client.Send(slots.WithHeld(ctx), testMessage()); err != nil {
		t.Fatalf("send under the held slot: %v (did it wait for a second slot?)", err)
	}
	// Anyone else waits for that slot: here until the context ends.
	short, cancelShort := context.WithCancel(context.Background())
	cancelShort()
	if _, err := f.client.Send(short, testMessage()); err == nil {
		t.Error("a send without the held slot went out while the only slot was taken")
	}
	slots.Release()
	if n := f.srv.SendRequests(); n != 1 {
		t.Errorf("sendMail requests = %d, want 1", n)
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

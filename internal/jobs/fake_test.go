package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/mail"
)

// fakeProvider is a mail.Provider whose answers a test scripts.
type fakeProvider struct {
	// fail decides the outcome of the n-th call (1-based) for a message;
	// nil means accept.
	fail    func(call int64, msg mail.Message) error
	latency time.Duration

	calls    atomic.Int64
	inFlight atomic.Int64
	maxSeen  atomic.Int64

	mu        sync.Mutex
	delivered map[string]int // X-Mocpcr-Email-Id -> accepted sends
	callTimes map[string][]time.Time
}

func newFake() *fakeProvider {
	return &fakeProvider{delivered: map[string]int{}, callTimes: map[string][]time.Time{}}
}

func (f *fakeProvider) Name() string { return "fake" }

func (f *fakeProvider) Send(ctx context.Context, msg mail.Message) (mail.Result, error) {
	n := f.calls.Add(1)
	cur := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxSeen.Load()
		if cur <= m || f.maxSeen.CompareAndSwap(m, cur) {
			break
		}
	}
	id := msg.Headers["X-Mocpcr-Email-Id"]
	f.mu.Lock()
	f.callTimes[id] = append(f.callTimes[id], time.Now())
	f.mu.Unlock()
	if f.latency > 0 {
		select {
		case <-time.After(f.latency):
		case <-ctx.Done():
			return mail.Result{}, ctx.Err()
		}
	}
	if f.fail != nil {
		if err := f.fail(n, msg); err != nil {
			return mail.Result{}, err
		}
	}
	f.mu.Lock()
	f.delivered[id]++
	f.mu.Unlock()
	return mail.Result{RequestID: fmt.Sprintf("req-%d", n)}, nil
}

func (f *fakeProvider) deliveredCount() (total int, dup []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, n := range f.delivered {
		total += n
		if n > 1 {
			dup = append(dup, id)
		}
	}
	return total, dup
}

func graphErr(status int, retryable bool, retryAfter time.Duration, code string) *mail.Error {
	return &mail.Error{
		Status: status, Code: code, Message: "fake says no", Retryable: retryable, RetryAfter: retryAfter,
		RequestID: "fake-req", Text: fmt.Sprintf("Graph email failed: %d %s: fake says no", status, code),
	}
}

// waitFor polls cond until it holds or the deadline passes. It waits for
// an outcome; it asserts nothing about how long the outcome took.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func addr(s string) mail.Address { return mail.Address{Email: s} }

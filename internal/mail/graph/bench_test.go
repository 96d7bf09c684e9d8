package graph_test

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkSendThroughFake measures messages per second through one
// mailbox when each sendMail takes 50 ms and the client allows Graph's
// four concurrent requests: the ceiling is 4 / 50 ms = 80 msgs/s.
func BenchmarkSendThroughFake(b *testing.B) {
	f := newFixture(b)
	f.srv.SetLatency(50 * time.Millisecond)
	ctx := context.Background()
	work := make(chan struct{})
	var wg sync.WaitGroup
	for range 16 { // more senders than slots, as a queue with many workers
		wg.Go(func() {
			for range work {
				if _, err := f.client.Send(ctx, testMessage()); err != nil {
					b.Error(err)
				}
			}
		})
	}
	b.ResetTimer()
	began := time.Now()
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	wg.Wait()
	elapsed := time.Since(began)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(f.srv.TokenRequests()), "token-requests")
	if hw := f.srv.MaxInFlight(); hw > 4 {
		b.Errorf("high-water mark %d above the cap of 4", hw)
	}
}

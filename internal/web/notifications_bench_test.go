package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/notify"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// BenchmarkCommitToAPI is the time from an event's commit to its
// notification being listed by the API.
func BenchmarkCommitToAPI(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			e := newNotifyEnv(b, storetest.Open(b, d))
			b.ResetTimer()
			for i := range b.N {
				title := fmt.Sprintf("n%d", i)
				e.notify(b, title, e.a.ID)
				var p notify.Page
				call(b, e.srv.URL, "GET", "/api/v1/notifications?limit=1", e.tokA, "", &p)
				if len(p.Items) != 1 || p.Items[0].Title != title {
					b.Fatalf("not visible: %+v", p)
				}
			}
		})
	}
}

// BenchmarkCommitToStream is the time from an event's commit to its
// notification arriving on an open live stream (SQLite: the hub is woken
// by each commit in the process; PostgreSQL: LISTEN/NOTIFY).
func BenchmarkCommitToStream(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			e := newNotifyEnv(b, storetest.Open(b, d))
			stream := openStream(b, e.srv.URL, e.tokA)
			b.ResetTimer()
			var total time.Duration
			for i := range b.N {
				title := fmt.Sprintf("n%d", i)
				e.notify(b, title, e.a.ID)
				start := time.Now()
				if n := stream.next(b, 10*time.Second); n.Title != title {
					b.Fatalf("got %q want %q", n.Title, title)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "ms/commit-to-stream")
		})
	}
}

package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/requestid"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

// logLines returns the JSON log records with the given message.
func logLines(t *testing.T, buf *syncBuffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// An email caused by an HTTP request is logged by the worker with that
// request's id, on success and on a retried failure; Graph's own request
// id is logged under graph_request_id.
func TestWorkerLogsCarryTheRequestID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var buf syncBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		f := newFake()
		f.fail = func(call int64, _ mail.Message) error {
			if call == 1 {
				return graphErr(503, true, 0, "ServiceUnavailable")
			}
			return nil
		}
		var mu sync.Mutex
		observed := map[string]int{}
		q := newQueue(t, db, f, func(o *jobs.Options) {
			o.Logger = logger
			o.ObserveSend = func(outcome string, d time.Duration) {
				mu.Lock()
				observed[outcome]++
				mu.Unlock()
			}
		})
		ctx := requestid.With(context.Background(), "req-abc123")
		id, err := q.EnqueueEmail(ctx, jobs.OutgoingEmail{To: mail.Address{Email: "a@example.com"}, Subject: "s", HTMLBody: "<p>x</p>"})
		if err != nil {
			t.Fatal(err)
		}
		// An email with no request behind it (a periodic job's) logs an empty id.
		if _, err := q.EnqueueEmail(context.Background(), jobs.OutgoingEmail{To: mail.Address{Email: "b@example.com"}, Subject: "s2"}); err != nil {
			t.Fatal(err)
		}
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "both sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 2
		})
		sent := logLines(t, &buf, "email sent")
		if len(sent) != 2 {
			t.Fatalf("%d 'email sent' lines, want 2:\n%s", len(sent), buf.String())
		}
		byID := map[float64]map[string]any{}
		for _, rec := range sent {
			byID[rec["email_id"].(float64)] = rec
		}
		rec := byID[float64(id)]
		if rec == nil || rec["request_id"] != "req-abc123" {
			t.Errorf("sent line of email %d = %v, want request_id req-abc123", id, rec)
		}
		if rec != nil && (rec["graph_request_id"] == "" || rec["graph_request_id"] == "req-abc123") {
			t.Errorf("graph_request_id = %v, want the provider's id", rec["graph_request_id"])
		}
		var retried bool
		for _, line := range strings.Split(buf.String(), "\n") {
			if strings.Contains(line, `"level":"WARN"`) && strings.Contains(line, `"retry_in"`) {
				retried = true
				if !strings.Contains(line, `"request_id":"req-abc123"`) && !strings.Contains(line, `"request_id":""`) {
					t.Errorf("retry line lacks the request id: %s", line)
				}
			}
		}
		if !retried {
			t.Errorf("no retry logged:\n%s", buf.String())
		}
		mu.Lock()
		defer mu.Unlock()
		if observed[jobs.StatusSent] != 2 || observed[jobs.StatusRetrying] != 1 {
			t.Errorf("observed sends = %v, want 2 sent and 1 retrying", observed)
		}
	})
}

// Stats report the queue depth and the age of the oldest undelivered
// email, cluster-wide from the delivery log.
func TestStatsQueueDepthAndOldestAge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now().Add(-90 * time.Second)
		q := newQueue(t, db, newFake(), func(o *jobs.Options) { o.Now = func() time.Time { return now } })
		s, err := q.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.QueueDepth != 0 || s.OldestQueued != 0 {
			t.Errorf("empty queue: depth %d oldest %s", s.QueueDepth, s.OldestQueued)
		}
		q2 := newQueue(t, db, newFake(), func(o *jobs.Options) { o.Now = func() time.Time { return now } })
		enqueue(t, q2, 3)
		s, err = q2.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.QueueDepth != 3 {
			t.Errorf("depth = %d, want 3", s.QueueDepth)
		}
		if s.OldestQueued < 89*time.Second || s.OldestQueued > 10*time.Minute {
			t.Errorf("oldest = %s, want about 90s", s.OldestQueued)
		}
	})
}

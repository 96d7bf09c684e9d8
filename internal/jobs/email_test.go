package jobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/mail"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
)

var senderSeq atomic.Int64

// newQueue builds a queue with fast retries. Each test gets its own
// sender mailbox, so that the pauses and recipient budgets kept in the
// database per mailbox are not shared across tests.
func newQueue(t *testing.T, db *store.DB, p mail.Provider, mod func(*jobs.Options)) *jobs.Queue {
	t.Helper()
	opt := jobs.Options{
		Provider:     p,
		Sender:       fmt.Sprintf("sender%d@example.com", senderSeq.Add(1)),
		RetryBase:    10 * time.Millisecond,
		RetryMax:     50 * time.Millisecond,
		PollInterval: 50 * time.Millisecond,
		SendTimeout:  5 * time.Second,
	}
	if mod != nil {
		mod(&opt)
	}
	q, err := jobs.New(context.Background(), db, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		q.Stop(ctx)
		q.Close()
	})
	return q
}

func enqueue(t *testing.T, q *jobs.Queue, n int) []int64 {
	t.Helper()
	var ids []int64
	for i := range n {
		id, err := q.EnqueueEmail(context.Background(), jobs.OutgoingEmail{
			To: mail.Address{Email: fmt.Sprintf("user%d@example.com", i)}, Subject: fmt.Sprintf("subject %d", i), HTMLBody: "<p>hi</p>",
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func statusOf(t *testing.T, db *store.DB, id int64) jobs.EmailRecord {
	t.Helper()
	e, _, err := jobs.GetEmail(context.Background(), db.SQL, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func countWhere(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueIsPartOfTheTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, newFake(), nil)
		boom := errors.New("event failed")
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			if _, err := q.EnqueueEmailTx(context.Background(), tx, jobs.OutgoingEmail{To: mail.Address{Email: "a@example.com"}, Subject: "s"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_messages`); n != 0 {
			t.Errorf("rolled back: %d email rows", n)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM river_job`); n != 0 {
			t.Errorf("rolled back: %d river jobs", n)
		}
		enqueue(t, q, 1)
		if n := countWhere(t, db, `SELECT count(*) FROM river_job WHERE kind = 'mocpcr.send_email'`); n != 1 {
			t.Errorf("committed: %d river jobs, want 1", n)
		}
	})
}

func TestOutageThenRecoveryDeliversEachEmailOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var healthy atomic.Bool
		f := newFake()
		f.fail = func(call int64, _ mail.Message) error {
			if call >= 25 {
				healthy.Store(true)
			}
			if !healthy.Load() {
				return graphErr(503, true, 0, "ServiceUnavailable")
			}
			return nil
		}
		q := newQueue(t, db, f, func(o *jobs.Options) { o.MaxAttempts = 100 })
		ids := enqueue(t, q, 10)
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 60*time.Second, "all emails sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == len(ids)
		})
		total, dup := f.deliveredCount()
		if total != len(ids) || len(dup) > 0 {
			t.Errorf("delivered %d (duplicates %v), want %d once each", total, dup, len(ids))
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_attempts WHERE outcome = 'retrying' AND http_status = 503`); n < 20 {
			t.Errorf("recorded %d retrying attempts, want >= 20 (one per 503)", n)
		}
		e := statusOf(t, db, ids[0])
		if e.SentAt == nil || e.RequestID == "" {
			t.Errorf("sent email lacks sent_at or request id: %+v", e)
		}
		st, err := q.Stats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Sent != int64(len(ids)) || st.Retried < 20 || st.QueueDepth != 0 {
			t.Errorf("stats = %+v", st)
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.fail = func(call int64, _ mail.Message) error {
			if call == 1 {
				return graphErr(429, true, 2*time.Second, "ApplicationThrottled")
			}
			return nil
		}
		q := newQueue(t, db, f, nil)
		ids := enqueue(t, q, 1)
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "email sent", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		_, atts, err := jobs.GetEmail(context.Background(), db.SQL, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 2 || atts[0].HTTPStatus != 429 || atts[1].Outcome != jobs.StatusSent {
			t.Fatalf("attempts = %+v", atts)
		}
		if gap := atts[1].StartedAt.Sub(atts[0].FinishedAt); gap < 2*time.Second {
			t.Errorf("second attempt %s after the 429, want >= 2s (Retry-After)", gap)
		}
	})
}

func TestPermanentFailureStopsAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.fail = func(int64, mail.Message) error { return graphErr(403, false, 0, "ErrorAccessDenied") }
		var logBuf syncBuffer
		q := newQueue(t, db, f, func(o *jobs.Options) { o.Logger = slog.New(slog.NewTextHandler(&logBuf, nil)) })
		ids := enqueue(t, q, 1)
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "email failed", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusFailed })
		e := statusOf(t, db, ids[0])
		if e.Attempts != 1 || !strings.HasPrefix(e.LastError, "Graph email failed: 403 ") {
			t.Errorf("email = %+v", e)
		}
		if !strings.Contains(logBuf.String(), "Graph email failed: 403 ") {
			t.Errorf("log lacks the guide's message:\n%s", logBuf.String())
		}
		waitFor(t, 10*time.Second, "river job cancelled", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM river_job WHERE state = 'cancelled'`) == 1
		})
		if c := f.calls.Load(); c != 1 {
			t.Errorf("provider called %d times, want 1", c)
		}

		// The admin fixes consent and retries: it is sent.
		f.fail = nil
		if err := q.RetryEmail(context.Background(), ids[0]); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "email sent after retry", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		if err := q.RetryEmail(context.Background(), ids[0]); !errors.Is(err, jobs.ErrNotRetryable) {
			t.Errorf("retry of a sent email: %v, want ErrNotRetryable", err)
		}
		if err := q.RetryEmail(context.Background(), 999999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("retry of unknown email: %v, want ErrNotFound", err)
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.fail = func(int64, mail.Message) error { return graphErr(503, true, 0, "ServiceUnavailable") }
		q := newQueue(t, db, f, func(o *jobs.Options) { o.MaxAttempts = 3 })
		ids := enqueue(t, q, 1)
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "email given up", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusGivenUp })
		e, atts, _ := jobs.GetEmail(context.Background(), db.SQL, ids[0])
		if e.Attempts != 3 || len(atts) != 3 || atts[2].Outcome != jobs.StatusGivenUp {
			t.Errorf("email = %+v, attempts = %+v", e, atts)
		}
		if !strings.Contains(e.LastError, "Graph email failed: 503") {
			t.Errorf("last error = %q", e.LastError)
		}
	})
}

func TestStopMidQueueAndRestartDeliversTheRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.latency = 20 * time.Millisecond
		q1 := newQueue(t, db, f, nil)
		ids := enqueue(t, q1, 30)
		q1.Start(context.Background())
		waitFor(t, 30*time.Second, "some sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) >= 5
		})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := q1.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		cancel()
		sentAtStop := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`)
		if sentAtStop == len(ids) {
			t.Skip("the queue finished before it was stopped; nothing left to restart")
		}
		q2 := newQueue(t, db, f, nil)
		q2.Start(context.Background())
		waitFor(t, 60*time.Second, "all sent after restart", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == len(ids)
		})
		total, dup := f.deliveredCount()
		if total != len(ids) || len(dup) > 0 {
			t.Errorf("delivered %d (duplicates %v), want %d once each", total, dup, len(ids))
		}
	})
}

// limitedFake is the fake with send slots of its own, as the Graph client
// has: every queue sending through it shares them.
type limitedFake struct {
	*fakeProvider
	slots *mail.Slots
}

func (l limitedFake) SendSlots(string) *mail.Slots { return l.slots }

func TestNeverMoreThanTheMailboxLimitAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.latency = 30 * time.Millisecond
		p := limitedFake{f, mail.NewSlots(2)}
		sender := fmt.Sprintf("shared%d@example.com", senderSeq.Add(1))
		// More than the provider's slots: the provider's count wins.
		mod := func(o *jobs.Options) { o.Sender = sender; o.MaxConcurrentSends = 4 }
		q1 := newQueue(t, db, p, mod)
		q2 := newQueue(t, db, p, mod) // a second queue on the same provider shares its slots
		enqueue(t, q1, 24)
		q1.Start(context.Background())
		q2.Start(context.Background())
		waitFor(t, 60*time.Second, "all sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 24
		})
		if m := f.maxSeen.Load(); m > 2 || m < 1 {
			t.Errorf("max concurrent sends = %d, want 1..2", m)
		}
	})
}

func TestQueueWithoutProviderSlotsCapsItsOwnSends(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.latency = 30 * time.Millisecond
		q := newQueue(t, db, f, func(o *jobs.Options) { o.MaxConcurrentSends = 2 })
		enqueue(t, q, 16)
		q.Start(context.Background())
		waitFor(t, 60*time.Second, "all sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 16
		})
		if m := f.maxSeen.Load(); m > 2 || m < 1 {
			t.Errorf("max concurrent sends = %d, want 1..2", m)
		}
	})
}

func TestSentEmailIsNeverSentAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		q := newQueue(t, db, f, nil)
		ids := enqueue(t, q, 1)
		// As if an earlier run had sent it and its job ran again.
		if _, err := db.SQL.Exec(`UPDATE email_messages SET status = 'sent' WHERE id = $1`, ids[0]); err != nil {
			t.Fatal(err)
		}
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "job completed", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM river_job WHERE state = 'completed'`) == 1
		})
		if c := f.calls.Load(); c != 0 {
			t.Errorf("provider called %d times for a sent email", c)
		}
	})
}

func TestPeriodicJobRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, newFake(), nil)
		var runs atomic.Int64
		if err := q.AddPeriodic("test.tick", time.Second, func(context.Context) error { runs.Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		if err := q.AddPeriodic("test.tick", time.Second, func(context.Context) error { return nil }); err == nil {
			t.Error("duplicate name accepted")
		}
		if err := q.AddPeriodic("Bad Name", time.Second, func(context.Context) error { return nil }); err == nil {
			t.Error("bad name accepted")
		}
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "periodic run", func() bool { return runs.Load() >= 1 })
		if err := q.AddPeriodic("test.late", time.Second, func(context.Context) error { return nil }); err == nil {
			t.Error("registration after Start accepted")
		}
	})
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// "Retry all" after the administrator fixed the configuration: failed and
// given-up emails are queued again with fresh attempts, emails waiting for
// the configuration are tried now, and a sent email is never sent again.
func TestRetryFailedRequeuesFailedAndGivenUpButNeverSent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var fixed atomic.Bool
		f := newFake()
		f.fail = func(_ int64, msg mail.Message) error {
			if fixed.Load() {
				return nil
			}
			switch msg.To[0].Email {
			case "failed@example.com":
				return graphErr(400, false, 0, "ErrorInvalidRecipients")
			case "gaveup@example.com":
				return graphErr(503, true, 0, "ServiceUnavailable")
			case "waiting@example.com":
				e := graphErr(403, false, 0, "ErrorAccessDenied")
				e.Misconfigured = true
				return e
			}
			return nil
		}
		// The slow retry is far beyond the test: only RetryFailed can
		// send the waiting email in time.
		q := newQueue(t, db, f, func(o *jobs.Options) { o.MaxAttempts = 2; o.ConfigRetryInterval = time.Hour })
		ids := map[string]int64{}
		for _, to := range []string{"sent@example.com", "failed@example.com", "gaveup@example.com", "waiting@example.com"} {
			id, err := q.EnqueueEmail(context.Background(), jobs.OutgoingEmail{To: addr(to), Subject: "s " + to, HTMLBody: "<p>x</p>"})
			if err != nil {
				t.Fatal(err)
			}
			ids[to] = id
		}
		want := map[string]string{"sent@example.com": jobs.StatusSent, "failed@example.com": jobs.StatusFailed,
			"gaveup@example.com": jobs.StatusGivenUp, "waiting@example.com": jobs.StatusWaitingConfig}
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "every email in its state", func() bool {
			for to, st := range want {
				if statusOf(t, db, ids[to]).Status != st {
					return false
				}
			}
			return true
		})
		sentBefore := statusOf(t, db, ids["sent@example.com"])

		fixed.Store(true)
		res, err := q.RetryFailed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if res.Requeued != 2 || res.WaitingRetried != 1 {
			t.Errorf("RetryFailed = %+v, want 2 requeued and 1 waiting retried", res)
		}
		waitFor(t, 30*time.Second, "all four sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 4
		})
		total, dup := f.deliveredCount()
		if total != 4 || len(dup) > 0 {
			t.Errorf("delivered %d (duplicates %v), want each of the 4 once", total, dup)
		}
		if e := statusOf(t, db, ids["sent@example.com"]); e.Attempts != sentBefore.Attempts || !e.UpdatedAt.Equal(sentBefore.UpdatedAt) {
			t.Errorf("the sent email was touched: before %+v, after %+v", sentBefore, e)
		}
		// A requeued email gets a fresh set of attempts (and a new wait).
		if e := statusOf(t, db, ids["gaveup@example.com"]); e.Attempts != 3 || !e.QueuedAt.After(e.CreatedAt) {
			t.Errorf("given-up email after retry = %+v, want 3 attempts (2 given up, 1 sent) and a new queued_at", e)
		}

		// Nothing failed any more: a second "Retry all" touches nothing.
		if res, err := q.RetryFailed(context.Background()); err != nil || res != (jobs.RetryResult{}) {
			t.Errorf("second RetryFailed = %+v, %v, want nothing", res, err)
		}
		time.Sleep(300 * time.Millisecond) // let any wrongly queued job run
		if total, _ := f.deliveredCount(); total != 4 {
			t.Errorf("delivered %d after the second Retry all, want still 4", total)
		}
	})
}

// A waiting email retried by hand is tried now, even right after it
// recorded its wait (when its own job is still finishing), and however
// often it is retried it is never sent twice: the job a retry replaced is
// refused when it runs.
func TestRetryEmailWakesAWaitingEmailAndNeverSendsItTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var fixed atomic.Bool
		f := newFake()
		f.latency = 20 * time.Millisecond
		f.fail = func(int64, mail.Message) error {
			if fixed.Load() {
				return nil
			}
			e := graphErr(0, false, 0, "invalid_client")
			e.Misconfigured = true
			return e
		}
		q := newQueue(t, db, f, func(o *jobs.Options) { o.ConfigRetryInterval = time.Hour })
		ids := enqueue(t, q, 1)
		q.Start(context.Background())
		waitFor(t, 30*time.Second, "waiting", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusWaitingConfig })
		e := statusOf(t, db, ids[0])
		if !e.Retryable() || !e.WaitingForConfig() {
			t.Errorf("a waiting email should offer Retry now: %+v", e)
		}
		// Still misconfigured: each retry is one more try, now.
		for range 3 {
			before := f.calls.Load()
			if err := q.RetryEmail(context.Background(), ids[0]); err != nil {
				t.Fatal(err)
			}
			waitFor(t, 30*time.Second, "the retry's try", func() bool {
				return f.calls.Load() > before && statusOf(t, db, ids[0]).Status == jobs.StatusWaitingConfig
			})
		}
		// Fixed, and an impatient admin: many retries at once.
		fixed.Store(true)
		for range 20 {
			if err := q.RetryEmail(context.Background(), ids[0]); err != nil && !errors.Is(err, jobs.ErrNotRetryable) {
				t.Fatal(err)
			}
		}
		waitFor(t, 30*time.Second, "sent", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		// Every replaced job has had its turn (they were made to run now).
		waitFor(t, 30*time.Second, "no job left to run", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM river_job WHERE kind = 'mocpcr.send_email' AND state IN ('available', 'running')`) == 0
		})
		if total, dup := f.deliveredCount(); total != 1 || len(dup) > 0 {
			t.Errorf("delivered %d times, want once", total)
		}
		if m := f.maxSeen.Load(); m != 1 {
			t.Errorf("%d sends of the one email at once, want 1", m)
		}
		if err := q.RetryEmail(context.Background(), ids[0]); !errors.Is(err, jobs.ErrNotRetryable) {
			t.Errorf("retry of a sent email: %v, want ErrNotRetryable", err)
		}
	})
}

// A stop is bounded: a send that outlasts the stop timeout (a hung Graph)
// is cancelled, and its email is not lost: the next start sends it.
func TestStopCancelsASendThatOutlastsTheStopTimeoutAndTheNextStartSendsIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFake()
		f.latency = time.Hour
		q1 := newQueue(t, db, f, func(o *jobs.Options) { o.StopTimeout = 200 * time.Millisecond })
		ids := enqueue(t, q1, 1)
		if err := q1.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the send in flight", func() bool { return f.inFlight.Load() == 1 })
		ctx, cancel := context.WithTimeout(context.Background(), q1.StopTimeout())
		defer cancel()
		q1.Stop(ctx)
		if n := f.inFlight.Load(); n != 0 {
			t.Fatalf("%d sends still in flight after Stop returned", n)
		}
		f.latency = 0
		q2 := newQueue(t, db, f, nil)
		if err := q2.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "sent after the restart", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		if total, _ := f.deliveredCount(); total != 1 {
			t.Errorf("delivered %d, want 1", total)
		}
	})
}

// Whatever a user typed into a title or a name, the stored subject and
// display name are one line: no CR or LF reaches an email header.
func TestQueuedSubjectsAndNamesAreOneLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := newQueue(t, db, newFake(), nil)
		var id int64
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			var err error
			id, err = q.EnqueueEmailTx(context.Background(), tx, jobs.OutgoingEmail{
				To:      mail.Address{Name: "Jane\r\nBcc: x@example.com", Email: "jane@example.com"},
				Subject: "MOC-2026-0001 Seals\r\nBcc: attacker@example.com", HTMLBody: "<p>x</p>"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var subject, name string
		if err := db.SQL.QueryRow(`SELECT subject, to_name FROM email_messages WHERE id = $1`, id).Scan(&subject, &name); err != nil {
			t.Fatal(err)
		}
		if subject != "MOC-2026-0001 Seals Bcc: attacker@example.com" || name != "Jane Bcc: x@example.com" {
			t.Errorf("stored subject %q, name %q: want each folded to one line", subject, name)
		}
	})
}

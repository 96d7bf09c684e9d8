package jobs_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/mocpcr/mocpcr/internal/jobs"
	"github.com/mocpcr/mocpcr/internal/store"
	"github.com/mocpcr/mocpcr/internal/store/storetest"
	"github.com/mocpcr/mocpcr/internal/testclock"
)

// crashedMidSend makes email id look as a process that died mid-send
// leaves it: "sending", claimed by run runID, its River job still
// "running" (River's rescuer would free it only minutes later).
func crashedMidSend(t *testing.T, db *store.DB, id int64, runID, host, scope, start string, pid int, heartbeat time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO email_runs (run_id, host, pid, pid_scope, pid_start, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		runID, host, pid, scope, start, heartbeat.UTC()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, `UPDATE email_messages SET status = 'sending', attempts = 1, claimed_by = $1, updated_at = $2 WHERE id = $3`,
		runID, heartbeat.UTC(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1
		WHERE id = (SELECT job_id FROM email_messages WHERE id = $2)`, heartbeat.UTC(), id); err != nil {
		t.Fatal(err)
	}
}

// A process restarted on the same machine knows its predecessor is gone
// (same boot and pid namespace, no process with that pid and start time):
// the email it left "sending" goes out at once, not after River's rescue
// time, and is marked "may have been sent twice" with the interrupted
// attempt in its history.
func TestRestartTakesOverAnEmailItsCrashedPredecessorLeftSending(t *testing.T) {
	host, scope, start := jobs.ThisProcess()
	if scope == "" {
		t.Skip("this system does not say which process owns a pid (no Linux /proc)")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 0, nil)
		q := g.queue
		ids := enqueue(t, q, 2)
		// The dead predecessor had this pid, but started at another time:
		// the pid now belongs to this process.
		crashedMidSend(t, db, ids[0], "crashed-run", host, scope, start+"0", os.Getpid(), time.Now())
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "both sent", func() bool {
			return countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sent'`) == 2
		})
		e, atts, err := jobs.GetEmail(context.Background(), db.SQL, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if !e.MaybeDuplicate {
			t.Errorf("the taken-over email is not marked maybe_duplicate: %+v", e)
		}
		if len(atts) != 2 || atts[0].Outcome != jobs.OutcomeInterrupted || atts[1].Outcome != jobs.StatusSent {
			t.Errorf("attempts = %+v, want the interrupted one, then sent", atts)
		}
		if other := statusOf(t, db, ids[1]); other.MaybeDuplicate {
			t.Errorf("an email sent once is marked maybe_duplicate: %+v", other)
		}
		if st, _ := q.Stats(context.Background()); st.MaybeDuplicate != 1 {
			t.Errorf("stats.MaybeDuplicate = %d, want 1", st.MaybeDuplicate)
		}
		if n := len(g.fake.Messages()); n != 2 {
			t.Errorf("Graph accepted %d messages, want 2 (the orphan once more, and the other)", n)
		}
	})
}

// An email "sending" on another machine is left alone while that machine's
// process beats, and taken over once it has been silent for OrphanAfter:
// a live replica's send is never sent a second time.
func TestAnotherHostsSendIsTakenOverOnlyAfterItsProcessFallsSilent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testclock.New(time.Now())
		g := newGraphSetupWith(t, db, 0, func(o *jobs.Options) {
			o.Now = clock.Now
			o.OrphanAfter = 10 * time.Second
		})
		q := g.queue
		ids := enqueue(t, q, 1)
		crashedMidSend(t, db, ids[0], "other-replica", "other-host", "", "", 4242, clock.Now())
		// Not started yet: the sweeps below are the only ones.
		ctx := context.Background()
		clock.Advance(9 * time.Second)
		if n, err := q.TakeOverOrphans(ctx); err != nil || n != 0 {
			t.Fatalf("took over %d (%v) from a replica that beat 9 s ago, want 0", n, err)
		}
		if st := statusOf(t, db, ids[0]); st.Status != jobs.StatusSending || st.MaybeDuplicate {
			t.Fatalf("a live replica's send was touched: %+v", st)
		}
		clock.Advance(2 * time.Second)
		if n, err := q.TakeOverOrphans(ctx); err != nil || n != 1 {
			t.Fatalf("took over %d (%v) from a replica silent for 11 s, want 1", n, err)
		}
		// A second replica sweeping at the same moment finds nothing left.
		if n, err := q.TakeOverOrphans(ctx); err != nil || n != 0 {
			t.Fatalf("took the same orphan over again: %d (%v)", n, err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "sent", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		if e := statusOf(t, db, ids[0]); !e.MaybeDuplicate {
			t.Errorf("not marked maybe_duplicate: %+v", e)
		}
	})
}

// A graceful stop leaves no claim behind, and records the run stopped:
// nothing of it is ever taken over.
func TestGracefulStopLeavesNothingToTakeOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		g := newGraphSetupWith(t, db, 0, nil)
		g.fake.SetLatency(200 * time.Millisecond)
		enqueue(t, g.queue, 8)
		if err := g.queue.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "a send in flight", func() bool { return g.fake.InFlight() > 0 })
		ctx, cancel := context.WithTimeout(context.Background(), g.queue.StopTimeout())
		defer cancel()
		if err := g.queue.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_messages WHERE status = 'sending' OR maybe_duplicate`); n != 0 {
			t.Errorf("%d emails sending or maybe_duplicate after a graceful stop", n)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM email_runs WHERE run_id = $1 AND stopped_at IS NOT NULL`, g.queue.RunID()); n != 1 {
			t.Errorf("the run is not recorded stopped")
		}
	})
}

// A job a dead process had fetched but not begun (River has it running,
// its email carries no reservation) is given a new job once it has been
// running for OrphanAfter, instead of waiting minutes for River's rescuer;
// it was never sent, so it is not marked maybe_duplicate.
func TestAFetchedButUnstartedJobOfADeadProcessIsReleased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testclock.New(time.Now())
		g := newGraphSetupWith(t, db, 0, func(o *jobs.Options) { o.Now = clock.Now; o.OrphanAfter = 10 * time.Second })
		ids := enqueue(t, g.queue, 1)
		if _, err := db.SQL.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = $1
			WHERE id = (SELECT job_id FROM email_messages WHERE id = $2)`, clock.Now().UTC(), ids[0]); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := g.queue.TakeOverOrphans(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countWhere(t, db, `SELECT count(*) FROM river_job WHERE kind = 'mocpcr.send_email'`); n != 1 {
			t.Fatalf("a job running for no time was replaced: %d jobs", n)
		}
		clock.Advance(11 * time.Second)
		if _, err := g.queue.TakeOverOrphans(ctx); err != nil {
			t.Fatal(err)
		}
		if err := g.queue.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "sent", func() bool { return statusOf(t, db, ids[0]).Status == jobs.StatusSent })
		if e := statusOf(t, db, ids[0]); e.MaybeDuplicate || e.Attempts != 1 {
			t.Errorf("email = %+v, want one attempt and no maybe_duplicate", e)
		}
	})
}

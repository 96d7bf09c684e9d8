package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Defaults for telling a crashed process's emails from a live one's.
const (
	// DefaultHeartbeatInterval is how often a run records that it lives
	// and looks for the orphans of dead runs.
	DefaultHeartbeatInterval = 2 * time.Second
	// DefaultOrphanAfter is how long a run may stay silent before the
	// emails it was sending are taken over. Generous against a heartbeat
	// of 2 s and clocks a second apart: taking over a live run's send
	// would send it twice.
	DefaultOrphanAfter = 10 * time.Second
)

// OutcomeInterrupted is the attempt outcome of a send whose process died
// before Graph's answer was recorded: it may have been delivered.
const OutcomeInterrupted = "interrupted"

// run is this process's entry in email_runs: claims name it, so that the
// next process (or another replica) can tell a crash's orphans from the
// sends of a process that is alive.
type run struct {
	id, host string
	pid      int
	// scope and start identify the process beyond its pid where the
	// system says how (Linux /proc); empty elsewhere.
	scope, start string
}

func newRun() run {
	host, _ := os.Hostname()
	r := run{id: randomID(), host: host, pid: os.Getpid(), scope: pidScope()}
	if r.scope != "" {
		r.start = processStart(r.pid)
	}
	return r
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// pidScope names the boot and the pid namespace this process's pid is
// valid in: two processes with the same scope see the same pids. "" when
// the system does not say (not Linux, or /proc hidden).
func pidScope() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(boot)) + "|" + ns
}

// processStart is the start time of process pid since boot (clock ticks,
// field 22 of /proc/PID/stat), "" when no such process exists. A pid and
// its start time name one process for the life of the boot, even after the
// pid is reused.
func processStart(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis, where field 3 (state) comes first.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// knownDead reports whether other's process is certainly gone: it ran
// where this process can see its pid (same boot and pid namespace) and no
// process with that pid and start time exists. A restart on the same
// machine knows its predecessor's claims are orphans at once; elsewhere
// (another container, another host) the heartbeat decides.
func (r run) knownDead(other claimRun) bool {
	if r.scope == "" || other.scope != r.scope || other.start == "" || other.host != r.host {
		return false
	}
	return processStart(other.pid) != other.start
}

// claimRun is what email_runs says about the run that claimed an email.
type claimRun struct {
	id, host, scope, start string
	pid                    int
	exists                 bool
	heartbeat              time.Time
	stopped                bool
}

// register writes this run into email_runs.
func (q *Queue) register(ctx context.Context) error {
	now := q.opt.Now().UTC()
	r := q.run
	_, err := q.db.SQL.ExecContext(ctx, `
		INSERT INTO email_runs (run_id, host, pid, pid_scope, pid_start, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
		r.id, r.host, r.pid, r.scope, r.start, now)
	if err != nil {
		return fmt.Errorf("register email run: %w", err)
	}
	return nil
}

// heartbeat records that this run lives; a row pruned meanwhile is
// written again.
func (q *Queue) heartbeat(ctx context.Context) error {
	res, err := q.db.SQL.ExecContext(ctx, `UPDATE email_runs SET heartbeat_at = $1 WHERE run_id = $2`, q.opt.Now().UTC(), q.run.id)
	if err != nil {
		return fmt.Errorf("email run heartbeat: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return q.register(ctx)
	}
	return nil
}

// unregister marks this run stopped: its claims, if any were left, are
// orphans at once.
func (q *Queue) unregister(ctx context.Context) error {
	_, err := q.db.SQL.ExecContext(ctx, `UPDATE email_runs SET stopped_at = $1 WHERE run_id = $2`, q.opt.Now().UTC(), q.run.id)
	return err
}

// runRetention is how long the rows of stopped or silent runs are kept.
const runRetention = 7 * 24 * time.Hour

// heartbeatLoop beats and takes over orphans every HeartbeatInterval until
// stop closes. Stop ends it only after River has stopped, so this run is
// alive for as long as its sends are in flight.
func (q *Queue) heartbeatLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t := time.NewTicker(q.opt.HeartbeatInterval)
	defer t.Stop()
	beats := 0
	for {
		select {
		case <-stop:
			// Nothing a stopping process noted goes unsaid.
			q.flushConfigLog(q.opt.Now(), true)
			return
		case <-t.C:
		}
		q.flushConfigLog(q.opt.Now(), false)
		if err := q.heartbeat(ctx); err != nil {
			q.log.Warn("email run heartbeat failed; other processes may take over this process's sends after "+q.opt.OrphanAfter.String(), "err", err)
		}
		if _, err := q.takeOverOrphans(ctx); err != nil {
			q.log.Warn("looking for emails a crashed process left sending", "err", err)
		}
		if beats++; beats%1000 == 0 {
			_, _ = q.db.SQL.ExecContext(ctx, `DELETE FROM email_runs WHERE heartbeat_at < $1`, q.opt.Now().UTC().Add(-runRetention))
		}
	}
}

// takeOverOrphans finds the emails reserved or left "sending" by runs that
// are gone (stopped, silent for OrphanAfter, or known dead on this
// machine) and gives each a new job that runs now. One left "sending" is
// marked maybe_duplicate: its request may have reached Graph before the
// crash; one only reserved never reached Graph and is not. It returns how
// many were marked. The update is guarded
// by the status and the claim, so of several replicas looking at once one
// takes each orphan over. Emails claimed by a version that did not name
// its run are left to River's rescuer.
func (q *Queue) takeOverOrphans(ctx context.Context) (int, error) {
	rows, err := q.db.SQL.QueryContext(ctx, `
		SELECT m.id, m.status, m.claimed_by, m.attempts, m.updated_at,
			r.run_id, r.host, r.pid, r.pid_scope, r.pid_start, r.heartbeat_at, r.stopped_at
		FROM email_messages m LEFT JOIN email_runs r ON r.run_id = m.claimed_by
		WHERE m.status IN ($1, $2, $3, $4) AND m.claimed_by <> '' AND m.claimed_by <> $5`,
		StatusSending, StatusQueued, StatusRetrying, StatusWaitingConfig, q.run.id)
	if err != nil {
		return 0, fmt.Errorf("find orphaned emails: %w", err)
	}
	type orphan struct {
		m   message
		run claimRun
	}
	var found []orphan
	for rows.Next() {
		var o orphan
		var runID, host, scope, start sql.NullString
		var pid sql.NullInt64
		var beat, stopped sql.NullTime
		if err := rows.Scan(&o.m.ID, &o.m.Status, &o.run.id, &o.m.Attempts, &o.m.QueuedAt, &runID, &host, &pid, &scope, &start, &beat, &stopped); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find orphaned emails: %w", err)
		}
		o.run.exists = runID.Valid
		o.run.host, o.run.pid, o.run.scope, o.run.start = host.String, int(pid.Int64), scope.String, start.String
		o.run.heartbeat, o.run.stopped = beat.Time, stopped.Valid
		found = append(found, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find orphaned emails: %w", err)
	}
	now := q.opt.Now()
	n := 0
	if err := q.releaseUnreserved(ctx, now); err != nil {
		return 0, err
	}
	for _, o := range found {
		reason := q.orphanReason(o.run, now)
		if reason == "" {
			continue
		}
		if o.m.Status != StatusSending {
			// Reserved, waiting for a send slot: it never reached Graph.
			ok, err := q.release(ctx, o.m, o.run.id)
			if err != nil {
				return n, err
			}
			if ok {
				q.log.Info("email a stopped process had reserved but not sent is queued again now", "email_id", o.m.ID, "claimed_by", o.run.id, "reason", reason)
			}
			continue
		}
		// QueuedAt carried the claim's updated_at: when the send began.
		ok, err := q.takeOver(ctx, o.m, o.run.id, o.m.QueuedAt, reason)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			q.stats.maybeDuplicate.Add(1)
			q.log.Warn("email taken over from a process that stopped while sending it: it is sent again and may reach the recipient twice",
				"email_id", o.m.ID, "claimed_by", o.run.id, "claimed_on", o.run.host, "reason", reason)
		}
	}
	return n, nil
}

// release gives an email that a gone run had reserved, but not begun to
// send, a new job that runs now; its status stays as it was.
func (q *Queue) release(ctx context.Context, m message, runID string) (bool, error) {
	var done bool
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE email_messages SET claimed_by = '', next_attempt_at = NULL WHERE id = $1 AND status = $2 AND claimed_by = $3`,
			m.ID, m.Status, runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		done = true
		return q.insertJobTx(ctx, tx, m.ID)
	})
	if err != nil {
		return false, fmt.Errorf("release email %d: %w", m.ID, err)
	}
	return done, nil
}

// orphanReason says why a claim's run is gone, or "" when it may live.
func (q *Queue) orphanReason(r claimRun, now time.Time) string {
	switch {
	case !r.exists:
		return "its run is no longer recorded"
	case r.stopped:
		return "its process stopped"
	case q.run.knownDead(r):
		return "its process is gone from this host"
	case now.Sub(r.heartbeat) > q.opt.OrphanAfter:
		return "its process has been silent since " + r.heartbeat.UTC().Format(time.RFC3339)
	}
	return ""
}

// interruptedText is the delivery log's error for a taken-over email.
const interruptedText = "interrupted: the process sending this email stopped before Graph's answer was recorded; it is sent again and may have been delivered twice"

// takeOver requeues one orphan, if it is still the orphan that was found.
func (q *Queue) takeOver(ctx context.Context, m message, runID string, claimedAt time.Time, reason string) (bool, error) {
	var done bool
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		now := q.opt.Now().UTC()
		res, err := tx.ExecContext(ctx, `
			UPDATE email_messages SET status = $1, maybe_duplicate = TRUE, claimed_by = '', next_attempt_at = NULL, updated_at = $2, last_error = $3
			WHERE id = $4 AND status = $5 AND claimed_by = $6`,
			StatusRetrying, now, interruptedText, m.ID, StatusSending, runID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO email_attempts (message_id, attempt, started_at, finished_at, outcome, error_code, error_message, duration_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			m.ID, m.Attempts, claimedAt.UTC(), now, OutcomeInterrupted, "interrupted", interruptedText+" ("+reason+")", now.Sub(claimedAt).Milliseconds()); err != nil {
			return err
		}
		done = true
		return q.insertJobTx(ctx, tx, m.ID)
	})
	if err != nil {
		return false, fmt.Errorf("take over email %d: %w", m.ID, err)
	}
	return done, nil
}

// releaseUnreserved finds send jobs that River has had running for longer
// than OrphanAfter while their email carries no reservation: the job was
// fetched by a process that died before its worker reserved the email (a
// worker reserves within milliseconds of starting). Each such email gets a
// new job that runs now, rather than waiting for River's rescuer. Should
// the old worker be alive after all, its reservation is refused: the email
// is no longer its job's.
func (q *Queue) releaseUnreserved(ctx context.Context, now time.Time) error {
	rows, err := q.db.SQL.QueryContext(ctx, `
		SELECT j.id, m.id, j.attempted_at FROM river_job j JOIN email_messages m ON m.job_id = j.id
		WHERE j.state = 'running' AND j.kind = $1 AND m.claimed_by = '' AND m.status IN ($2, $3, $4)`,
		sendEmailArgs{}.Kind(), StatusQueued, StatusRetrying, StatusWaitingConfig)
	if err != nil {
		return fmt.Errorf("find send jobs without a worker: %w", err)
	}
	type stuck struct {
		jobID, emailID int64
	}
	var found []stuck
	for rows.Next() {
		var j stuck
		var attempted sql.NullTime
		if err := rows.Scan(&j.jobID, &j.emailID, &attempted); err != nil {
			rows.Close()
			return fmt.Errorf("find send jobs without a worker: %w", err)
		}
		if attempted.Valid && now.Sub(attempted.Time) > q.opt.OrphanAfter {
			found = append(found, j)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find send jobs without a worker: %w", err)
	}
	for _, j := range found {
		var released bool
		err := q.db.Tx(ctx, func(tx *sql.Tx) error {
			res, err := tx.ExecContext(ctx, `UPDATE email_messages SET next_attempt_at = NULL
				WHERE id = $1 AND job_id = $2 AND claimed_by = '' AND status IN ($3, $4, $5)`,
				j.emailID, j.jobID, StatusQueued, StatusRetrying, StatusWaitingConfig)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != 1 {
				return err
			}
			released = true
			return q.insertJobTx(ctx, tx, j.emailID)
		})
		if err != nil {
			return fmt.Errorf("release email %d: %w", j.emailID, err)
		}
		if released {
			q.log.Info("email whose job a stopped process had fetched, but not begun, is queued again now", "email_id", j.emailID, "job_id", j.jobID)
		}
	}
	return nil
}

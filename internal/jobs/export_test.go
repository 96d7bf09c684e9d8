package jobs

import "context"

// Test access to the crash take-over, so that tests decide when a sweep
// runs instead of waiting for the heartbeat.

func (q *Queue) TakeOverOrphans(ctx context.Context) (int, error) { return q.takeOverOrphans(ctx) }

// RunID is the run this queue claims emails as.
func (q *Queue) RunID() string { return q.run.id }

// ThisProcess is the host, pid scope and start time this process records.
func ThisProcess() (host, scope, start string) {
	r := newRun()
	return r.host, r.scope, r.start
}

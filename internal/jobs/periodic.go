package jobs

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/riverqueue/river"
)

// periodicArgs names the registered function a periodic job runs.
type periodicArgs struct {
	Name string `json:"name"`
}

func (periodicArgs) Kind() string { return "mocpcr.periodic" }

type periodicWorker struct {
	river.WorkerDefaults[periodicArgs]
	q *Queue
}

func (w *periodicWorker) Work(ctx context.Context, job *river.Job[periodicArgs]) error {
	w.q.mu.Lock()
	fn := w.q.periodic[job.Args.Name]
	w.q.mu.Unlock()
	if fn == nil {
		// Registered by another version of mocpcr, or removed since.
		return river.JobCancel(fmt.Errorf("no periodic job named %q in this process", job.Args.Name))
	}
	if err := fn(ctx); err != nil {
		w.q.log.ErrorContext(ctx, "periodic job failed", "name", job.Args.Name, "attempt", job.Attempt, "err", err)
		return err
	}
	return nil
}

var periodicName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// AddPeriodic registers fn to run every interval, once per cluster: River
// elects one leader among the processes sharing the database, and only
// the leader schedules periodic jobs (any process may work them). The
// first run is when a leader is elected (after a deploy, reminders do
// not wait a whole interval), then every interval; a failing run is
// retried a few times with backoff and logged. fn must honour ctx and
// be safe to run again if a process dies mid-run.
//
// Call it before Start. name is lower-case letters, digits, '.', '_' or
// '-', unique per process, for example "reminders.due".
func (q *Queue) AddPeriodic(name string, interval time.Duration, fn func(ctx context.Context) error) error {
	if !periodicName.MatchString(name) {
		return fmt.Errorf("periodic job name %q: expected lower-case letters, digits, '.', '_' or '-'", name)
	}
	if interval < time.Second {
		return fmt.Errorf("periodic job %s: interval must be at least 1s, got %s", name, interval)
	}
	if fn == nil {
		return fmt.Errorf("periodic job %s: function is required", name)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.started {
		return fmt.Errorf("periodic job %s: register it before the queue starts", name)
	}
	if _, dup := q.periodic[name]; dup {
		return fmt.Errorf("periodic job %s is already registered", name)
	}
	q.periodic[name] = fn
	q.worker.PeriodicJobs().Add(river.NewPeriodicJob(
		river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) {
			return periodicArgs{Name: name}, &river.InsertOpts{
				Queue:       queuePeriodic,
				MaxAttempts: 3,
				// A new leader taking over mid-interval must not run it twice.
				UniqueOpts: river.UniqueOpts{ByArgs: true, ByPeriod: interval},
			}
		},
		// RunOnStart: a new leader runs it at once; UniqueOpts above keeps a
		// leader change within one interval from running it twice.
		&river.PeriodicJobOpts{ID: name, RunOnStart: true},
	))
	return nil
}

-- +goose Up
-- Every process that sends email is a run, with a heartbeat. An email in
-- "sending" names the run that claimed it (claimed_by): when that run is
-- gone (stopped, silent, or known dead on this host) the email is an
-- orphan of a crash, taken over within seconds instead of after River's
-- rescue time, and marked maybe_duplicate because its request may have
-- reached Graph before the crash.
CREATE TABLE email_runs (
    run_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    -- the boot and pid namespace the pid is valid in, and the process's
    -- start time in it ('' where unknown): with them a process on the same
    -- host can tell for certain that this run's process is gone
    pid_scope TEXT NOT NULL DEFAULT '',
    pid_start TEXT NOT NULL DEFAULT '',
    started_at {{ts}} NOT NULL,
    heartbeat_at {{ts}} NOT NULL,
    stopped_at {{ts}}
);
ALTER TABLE email_messages ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
-- An attempt whose outcome is unknown may have been delivered: the
-- process died mid-send, or the request timed out after it was sent.
ALTER TABLE email_messages ADD COLUMN maybe_duplicate BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE email_messages DROP COLUMN maybe_duplicate;
ALTER TABLE email_messages DROP COLUMN claimed_by;
DROP TABLE email_runs;

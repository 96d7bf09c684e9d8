-- +goose Up
-- Graph's Retry-After (429 or 503) concerns the sender mailbox, not one
-- email: while a row here is in the future no replica sends from that
-- mailbox. Every replica reads it before each send, so a pause one
-- replica was told about holds the others too.
CREATE TABLE email_sender_pauses (
    -- the sender mailbox, lower case
    sender TEXT PRIMARY KEY,
    paused_until {{ts}} NOT NULL,
    -- the answer that asked for the pause, in the guide's words
    reason TEXT NOT NULL DEFAULT '',
    updated_at {{ts}} NOT NULL
);

-- A crashed process's fetched jobs are found from River's running jobs;
-- this finds their emails.
CREATE INDEX email_messages_job ON email_messages (job_id);

-- +goose Down
DROP INDEX email_messages_job;
DROP TABLE email_sender_pauses;

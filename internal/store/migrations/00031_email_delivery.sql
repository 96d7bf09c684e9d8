-- +goose Up
-- Per-user email preferences: one row per (user, notification type) the
-- user changed; no row means the default, email on. In-app is always on.
CREATE TABLE notification_prefs (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    email BOOLEAN NOT NULL,
    updated_at {{ts}} NOT NULL,
    PRIMARY KEY (user_id, type)
);

-- The email delivery log: one row per email, written in the same
-- transaction as the notification it belongs to. The River job only
-- carries this row's id; the row is the truth an admin reads.
CREATE TABLE email_messages (
    id {{id}},
    notification_id BIGINT REFERENCES notifications(id) ON DELETE SET NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    -- notification, test or system
    kind TEXT NOT NULL DEFAULT 'notification',
    to_email TEXT NOT NULL,
    to_name TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL,
    html_body TEXT NOT NULL,
    -- queued, sending, sent, retrying, failed (permanent), given_up
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- attempts made before the last manual retry; the give-up limit counts from here
    attempts_base INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    job_id BIGINT,
    request_id TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    updated_at {{ts}} NOT NULL,
    next_attempt_at {{ts}},
    sent_at {{ts}}
);
CREATE INDEX email_messages_status ON email_messages (status, id);
CREATE INDEX email_messages_notification ON email_messages (notification_id);

-- Every delivery attempt and its outcome.
CREATE TABLE email_attempts (
    id {{id}},
    message_id BIGINT NOT NULL REFERENCES email_messages(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    started_at {{ts}} NOT NULL,
    finished_at {{ts}} NOT NULL,
    -- sent, retrying, failed, given_up
    outcome TEXT NOT NULL,
    http_status INTEGER NOT NULL DEFAULT 0,
    error_code TEXT NOT NULL DEFAULT '',
    error_message TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX email_attempts_message ON email_attempts (message_id, id);

-- +goose Down
DROP TABLE email_attempts;
DROP TABLE email_messages;
DROP TABLE notification_prefs;

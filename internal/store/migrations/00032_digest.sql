-- +goose Up
-- Per-user notification settings that are not per type. daily_digest:
-- reminder-type emails are collected into one email a day instead of one
-- email each. No row means the defaults (digest off).
CREATE TABLE notification_settings (
    user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    daily_digest BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at {{ts}} NOT NULL
);

-- One row per digest email: at most one per user and UTC day (the unique
-- key is what makes two replicas, or two runs, send it once).
CREATE TABLE email_digests (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    email_message_id BIGINT REFERENCES email_messages(id) ON DELETE SET NULL,
    item_count INTEGER NOT NULL DEFAULT 0,
    created_at {{ts}} NOT NULL,
    UNIQUE (user_id, day)
);

-- Notifications held for a user's next digest; digest_id is set, in the
-- same transaction that queues the digest email, once it is in one.
CREATE TABLE digest_items (
    notification_id BIGINT PRIMARY KEY REFERENCES notifications(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    digest_id BIGINT REFERENCES email_digests(id),
    created_at {{ts}} NOT NULL
);
CREATE INDEX digest_items_pending ON digest_items (user_id, notification_id) WHERE digest_id IS NULL;

-- +goose Down
DROP TABLE digest_items;
DROP TABLE email_digests;
DROP TABLE notification_settings;

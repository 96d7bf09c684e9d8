-- +goose Up
-- In-app notifications: written in the same transaction as the event that
-- causes them, so they exist exactly when the event does.
CREATE TABLE notifications (
    id {{id}},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT NOT NULL DEFAULT '',
    created_at {{ts}} NOT NULL,
    read_at {{ts}}
);
CREATE INDEX notifications_user_newest ON notifications (user_id, id DESC);
CREATE INDEX notifications_user_unread ON notifications (user_id, id) WHERE read_at IS NULL;

-- +goose Down
DROP TABLE notifications;

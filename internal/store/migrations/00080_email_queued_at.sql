-- +goose Up
-- When the email was queued, or queued again by an admin's retry. An
-- email waiting for the email configuration to be fixed (status
-- waiting_config: a refused token request, 403, 404) does not use up its
-- attempts; it is given up a fixed time after this instead.
ALTER TABLE email_messages ADD COLUMN queued_at {{ts}};
UPDATE email_messages SET queued_at = created_at;

-- +goose Down
ALTER TABLE email_messages DROP COLUMN queued_at;

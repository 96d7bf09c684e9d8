-- +goose Up
-- The cause an email waits for the configuration on, as a short key
-- (token or Graph, HTTP status, error code, AADSTS number), so the admin
-- banner can count the waiting emails per cause instead of quoting the
-- newest. Emails already waiting keep their whole message as the key:
-- each distinct message is its own group until they are tried again.
ALTER TABLE email_messages ADD COLUMN wait_reason TEXT NOT NULL DEFAULT '';
UPDATE email_messages SET wait_reason = last_error WHERE status = 'waiting_config';
CREATE INDEX email_messages_wait_reason ON email_messages (wait_reason, id) WHERE status = 'waiting_config';

-- +goose Down
DROP INDEX email_messages_wait_reason;
ALTER TABLE email_messages DROP COLUMN wait_reason;

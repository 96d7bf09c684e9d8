-- +goose Up
-- A site may send its changes' emails from its own mailbox instead of
-- GRAPH_MAIL_SENDER ('' keeps the default, as every site had until now).
ALTER TABLE change_site_settings ADD COLUMN mail_sender TEXT NOT NULL DEFAULT '';
-- The mailbox each email goes out from, chosen when it was queued; '' is
-- GRAPH_MAIL_SENDER as configured when it is sent, which is what every
-- email queued before this migration used.
ALTER TABLE email_messages ADD COLUMN sender TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE email_messages DROP COLUMN sender;
ALTER TABLE change_site_settings DROP COLUMN mail_sender;

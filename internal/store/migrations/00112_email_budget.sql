-- +goose Up
-- Exchange Online lets a mailbox send to 10,000 recipients per rolling 24
-- hours and then blocks it for a day. Every replica adds the recipients of
-- each email Graph accepted to its sender's hour here, and reads the last
-- 25 hours (the oldest partly: counted whole, so the sum errs high)
-- before each send.
CREATE TABLE email_sender_usage (
    -- the sender mailbox, lower case
    sender TEXT NOT NULL,
    -- the start of the UTC hour
    hour {{ts}} NOT NULL,
    recipients INTEGER NOT NULL,
    PRIMARY KEY (sender, hour)
);
-- Near the budget, emails that ask someone to act go first; the others
-- move to the daily digest.
ALTER TABLE email_messages ADD COLUMN action_required BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE email_messages DROP COLUMN action_required;
DROP TABLE email_sender_usage;

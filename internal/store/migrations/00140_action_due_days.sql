-- +goose Up
-- Every action item has a due date, so it can go overdue: the actions the
-- workflow creates itself (PSI and procedure updates, PSSR deficiencies)
-- and any added without one are due this many days after they are made.
ALTER TABLE change_site_settings ADD COLUMN action_due_days INTEGER NOT NULL DEFAULT 14;

-- +goose Down
ALTER TABLE change_site_settings DROP COLUMN action_due_days;

-- +goose Up
-- The reminder hour is read in each site's time zone (a plant's 06:00 is
-- its own morning), no longer in UTC. A site without a zone is on UTC,
-- so an install that never set one keeps its hour.
ALTER TABLE reminder_settings RENAME COLUMN run_hour_utc TO run_hour;

-- +goose Down
ALTER TABLE reminder_settings RENAME COLUMN run_hour TO run_hour_utc;

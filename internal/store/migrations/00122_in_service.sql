-- +goose Up
-- A temporary change is In service between startup (or, without a PSSR,
-- the end of implementation) and its revert or conversion to permanent.
-- Temporary changes that sat in Close-out waiting for that are moved.
UPDATE changes SET stage = 'in_service'
WHERE duration IN ('temporary', 'emergency') AND reverted_at IS NULL AND stage = 'closeout';

-- The round in which the change's approvers re-approve making a
-- temporary change permanent (0: never asked).
ALTER TABLE changes ADD COLUMN permanent_round INTEGER NOT NULL DEFAULT 0;

-- Extension limits per site: how many times a temporary change may be
-- extended, and how long it may stay temporary in all (days from
-- startup; 0 means no limit).
ALTER TABLE change_site_settings ADD COLUMN max_extensions INTEGER NOT NULL DEFAULT 2;
ALTER TABLE change_site_settings ADD COLUMN max_temporary_days INTEGER NOT NULL DEFAULT 365;

-- +goose Down
ALTER TABLE change_site_settings DROP COLUMN max_temporary_days;
ALTER TABLE change_site_settings DROP COLUMN max_extensions;
ALTER TABLE changes DROP COLUMN permanent_round;
UPDATE changes SET stage = 'closeout' WHERE stage = 'in_service';

-- +goose Up
-- An emergency change is implemented first: an approver or coordinator
-- of the site signs its emergency authorisation (emergency_authorized_at),
-- after which implementation runs (emergency_stage: implementation, pssr,
-- in_service) while reviews and approvals catch up in stage. When the
-- last approval is signed the stage takes up emergency_stage.
ALTER TABLE changes ADD COLUMN emergency_authorized_at {{ts}};
ALTER TABLE changes ADD COLUMN emergency_stage TEXT NOT NULL DEFAULT '';

-- The full review of an emergency change is due this many working days
-- after its authorisation (default: the next working day).
ALTER TABLE change_site_settings ADD COLUMN emergency_review_days INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE change_site_settings DROP COLUMN emergency_review_days;
ALTER TABLE changes DROP COLUMN emergency_stage;
ALTER TABLE changes DROP COLUMN emergency_authorized_at;

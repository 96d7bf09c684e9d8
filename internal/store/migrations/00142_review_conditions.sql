-- +goose Up
-- A review "reviewed — with conditions" turns each condition into an
-- action item linked to the review it came from (checked by the service;
-- no foreign key, as SQLite cannot drop a column that one names).
ALTER TABLE change_actions ADD COLUMN review_id BIGINT;

-- +goose Down
ALTER TABLE change_actions DROP COLUMN review_id;

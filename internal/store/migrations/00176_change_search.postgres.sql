-- +goose Up
-- Search finds words in every text field of a change, not only its
-- number and title (PostgreSQL half; 00176_change_search.sqlite.sql is
-- the other). A generated tsvector column is computed by PostgreSQL for
-- every existing row when it is added and kept in step on every insert
-- and update; a GIN index answers the match. The 'simple' configuration
-- neither stems nor drops stop words, like SQLite's unicode61, so both
-- engines find the same changes.
ALTER TABLE changes ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple',
    coalesce(number, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(equipment_tags, '') || ' ' || coalesce(reason, '') || ' ' || coalesce(technical_basis, '') || ' ' || coalesce(safety_health_impact, '') || ' ' || coalesce(procedure_changes, '') || ' ' || coalesce(time_period, '') || ' ' || coalesce(authorization_required, '') || ' ' || coalesce(closed_note, ''))) STORED;
CREATE INDEX changes_search ON changes USING GIN (search);

-- +goose Down
DROP INDEX changes_search;
ALTER TABLE changes DROP COLUMN search;

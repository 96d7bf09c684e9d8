-- +goose Up
-- {{sqlite}}
-- Search finds words in every text field of a change, not only its
-- number and title (SQLite). An FTS5 index over the changes table's own text columns
-- (external content: the text is stored once, in changes), kept in step
-- by triggers on insert, delete and an update of those columns (not on
-- the lock_version bump every mutation makes), and filled from the
-- changes already there. unicode61 folds case and, with diacritics kept,
-- splits words as PostgreSQL's 'simple' configuration does: no stemming
-- and no accent folding on either side, so both find the same changes.
CREATE VIRTUAL TABLE changes_fts USING fts5(number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note,
    content='changes', content_rowid='id', tokenize='unicode61 remove_diacritics 0');

-- +goose StatementBegin
CREATE TRIGGER changes_fts_insert AFTER INSERT ON changes BEGIN
    INSERT INTO changes_fts (rowid, number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note) VALUES (new.id, new.number, new.title, new.description, new.equipment_tags, new.reason, new.technical_basis, new.safety_health_impact, new.procedure_changes, new.time_period, new.authorization_required, new.closed_note);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER changes_fts_delete AFTER DELETE ON changes BEGIN
    INSERT INTO changes_fts (changes_fts, rowid, number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note) VALUES ('delete', old.id, old.number, old.title, old.description, old.equipment_tags, old.reason, old.technical_basis, old.safety_health_impact, old.procedure_changes, old.time_period, old.authorization_required, old.closed_note);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER changes_fts_update AFTER UPDATE OF number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note ON changes BEGIN
    INSERT INTO changes_fts (changes_fts, rowid, number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note) VALUES ('delete', old.id, old.number, old.title, old.description, old.equipment_tags, old.reason, old.technical_basis, old.safety_health_impact, old.procedure_changes, old.time_period, old.authorization_required, old.closed_note);
    INSERT INTO changes_fts (rowid, number, title, description, equipment_tags, reason, technical_basis, safety_health_impact, procedure_changes, time_period, authorization_required, closed_note) VALUES (new.id, new.number, new.title, new.description, new.equipment_tags, new.reason, new.technical_basis, new.safety_health_impact, new.procedure_changes, new.time_period, new.authorization_required, new.closed_note);
END;
-- +goose StatementEnd

INSERT INTO changes_fts (changes_fts) VALUES ('rebuild');
-- {{end}}
-- {{postgres}}
-- Search finds words in every text field of a change, not only its
-- number and title (PostgreSQL). A generated tsvector column is computed by PostgreSQL for
-- every existing row when it is added and kept in step on every insert
-- and update; a GIN index answers the match. The 'simple' configuration
-- neither stems nor drops stop words, like SQLite's unicode61, so both
-- engines find the same changes.
ALTER TABLE changes ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple',
    coalesce(number, '') || ' ' || coalesce(title, '') || ' ' || coalesce(description, '') || ' ' || coalesce(equipment_tags, '') || ' ' || coalesce(reason, '') || ' ' || coalesce(technical_basis, '') || ' ' || coalesce(safety_health_impact, '') || ' ' || coalesce(procedure_changes, '') || ' ' || coalesce(time_period, '') || ' ' || coalesce(authorization_required, '') || ' ' || coalesce(closed_note, ''))) STORED;
CREATE INDEX changes_search ON changes USING GIN (search);
-- {{end}}

-- +goose Down
-- {{sqlite}}
DROP TRIGGER changes_fts_update;
DROP TRIGGER changes_fts_delete;
DROP TRIGGER changes_fts_insert;
DROP TABLE changes_fts;
-- {{end}}
-- {{postgres}}
DROP INDEX changes_search;
ALTER TABLE changes DROP COLUMN search;
-- {{end}}

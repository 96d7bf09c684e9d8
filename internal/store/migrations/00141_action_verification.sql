-- +goose Up
-- Completing an action may point at evidence (an attachment of the same
-- change; checked by the service, so no foreign key: SQLite cannot drop a
-- column that one names). A coordinator can require that someone other
-- than the completer verifies the action before it counts as closed:
-- it then waits in status 'to_verify'.
ALTER TABLE change_actions ADD COLUMN evidence_id BIGINT;
ALTER TABLE change_actions ADD COLUMN verification_required BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE change_actions ADD COLUMN verified_by BIGINT;
ALTER TABLE change_actions ADD COLUMN verified_at {{ts}};

-- +goose Down
ALTER TABLE change_actions DROP COLUMN verified_at;
ALTER TABLE change_actions DROP COLUMN verified_by;
ALTER TABLE change_actions DROP COLUMN verification_required;
ALTER TABLE change_actions DROP COLUMN evidence_id;
UPDATE change_actions SET status = 'done' WHERE status = 'to_verify';

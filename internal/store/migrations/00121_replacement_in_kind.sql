-- +goose Up
-- A change submitted as a replacement in kind: it waits in stage
-- rik_confirmation until someone other than the initiator confirms it
-- (signed) or rejects it into the normal flow. The column lets auditors
-- list the claims to sample them.
ALTER TABLE changes ADD COLUMN replacement_in_kind BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE changes SET replacement_in_kind = TRUE WHERE screening LIKE '%"replacement_in_kind":true%';
CREATE INDEX changes_replacement_in_kind ON changes (site_id) WHERE replacement_in_kind;

-- +goose Down
DROP INDEX changes_replacement_in_kind;
ALTER TABLE changes DROP COLUMN replacement_in_kind;

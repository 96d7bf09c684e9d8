-- +goose Up
-- How the approver confirmed who they were when signing an extension
-- decision (password, entra), shown with the signature like an approval's.
ALTER TABLE change_extensions ADD COLUMN signature_method TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE change_extensions DROP COLUMN signature_method;

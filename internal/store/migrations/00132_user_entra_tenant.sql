-- +goose Up
-- An Entra ID account is bound by tenant and object id together: an oid is
-- unique only within its tenant. NULL for accounts linked before this
-- column; the next sign-in records the tenant.
ALTER TABLE users ADD COLUMN entra_tid TEXT;

-- +goose Down
ALTER TABLE users DROP COLUMN entra_tid;

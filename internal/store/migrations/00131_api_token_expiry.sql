-- +goose Up
-- An API token may end on a date its owner chose; NULL: it lasts until it
-- is revoked (by its owner, or with the credential that made it: a
-- password reset, disabling the user, sign out everywhere).
ALTER TABLE api_tokens ADD COLUMN expires_at {{ts}};

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN expires_at;

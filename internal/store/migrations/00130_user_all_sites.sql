-- +goose Up
-- Every site is now an explicit grant, never the absence of site rows: a
-- user created by a first Entra ID sign-in used to land on every site.
-- Users who have no site rows today worked on every site and keep it, so
-- this migration takes access from nobody.
ALTER TABLE users ADD COLUMN all_sites BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET all_sites = TRUE WHERE NOT EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = users.id);

-- +goose Down
ALTER TABLE users DROP COLUMN all_sites;

-- +goose Up
-- A change's forms list the people of its site: found from the site
-- (user_sites is keyed by user first) and from the users of every site.
CREATE INDEX user_sites_site ON user_sites (site_id, user_id);
CREATE INDEX users_all_sites ON users (id) WHERE all_sites;

-- +goose Down
DROP INDEX users_all_sites;
DROP INDEX user_sites_site;

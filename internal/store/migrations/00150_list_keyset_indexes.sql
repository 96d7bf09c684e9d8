-- +goose Up
-- The change list pages by cursor: "the next 25 after (key, id)" in the
-- sort's order. With an index over (key, id) both engines start at the
-- cursor and read one page; without one they sort every matching change
-- for every page (PostgreSQL: a sequential scan and a top-N sort, 25-70 ms
-- at 20,000 changes). One per sort whose key is a column of changes;
-- the sorts by site, unit and owner order by the joined table's code or
-- name, which no index on changes can hold.
CREATE INDEX changes_title_keyset ON changes (lower(title), id);
CREATE INDEX changes_created_keyset ON changes (created_at, id);
CREATE INDEX changes_updated_keyset ON changes (updated_at, id);
CREATE INDEX changes_kind_keyset ON changes (kind, id);
-- "My changes" and the unit filter, newest first: read that owner's or
-- unit's changes in id order and stop after a page. (initiator_id, id)
-- replaces the index on initiator_id alone, which it contains.
CREATE INDEX changes_initiator_newest ON changes (initiator_id, id);
DROP INDEX changes_initiator;
CREATE INDEX changes_unit_newest ON changes (unit_id, id);

-- +goose Down
DROP INDEX changes_unit_newest;
CREATE INDEX changes_initiator ON changes (initiator_id);
DROP INDEX changes_initiator_newest;
DROP INDEX changes_kind_keyset;
DROP INDEX changes_updated_keyset;
DROP INDEX changes_created_keyset;
DROP INDEX changes_title_keyset;

-- +goose Up
-- Most people work at one site, and their change list is limited to it
-- (site_id = x). The sort indexes of 00150 and 00190 start with the sort
-- key, so for them the planner reads the site's rows by (site_id, id)
-- and sorts all of them for every page (12-75 ms at 10,000 changes on
-- SQLite). One index per sort starting with the site gives a one-site
-- list the same one-page read an all-sites list has: equality on the
-- site, then the sort's own order from the cursor. The expressions are
-- the list's exactly (change/list.go sortParts). Changes are written
-- rarely next to how often they are listed, so the extra indexes cost
-- little.
CREATE INDEX changes_site_number_keyset ON changes (site_id, number, id);
CREATE INDEX changes_site_title_keyset ON changes (site_id, lower(title), id);
CREATE INDEX changes_site_kind_keyset ON changes (site_id, kind, id);
CREATE INDEX changes_site_stage_keyset ON changes (site_id, (CASE stage WHEN 'draft' THEN 0 WHEN 'rik_confirmation' THEN 1 WHEN 'screening' THEN 2 WHEN 'review' THEN 3 WHEN 'approval' THEN 4 WHEN 'implementation' THEN 5 WHEN 'pssr' THEN 6 WHEN 'in_service' THEN 7 WHEN 'closeout' THEN 8 WHEN 'closed' THEN 9 WHEN 'returned' THEN 10 WHEN 'voided' THEN 11 END), id);
CREATE INDEX changes_site_site_keyset ON changes (site_id, sort_site, id);
CREATE INDEX changes_site_unit_keyset ON changes (site_id, sort_unit, id);
CREATE INDEX changes_site_initiator_keyset ON changes (site_id, sort_initiator, id);
CREATE INDEX changes_site_created_keyset ON changes (site_id, created_at, id);
CREATE INDEX changes_site_updated_keyset ON changes (site_id, updated_at, id);
CREATE INDEX changes_site_expires_keyset ON changes (site_id, (CASE WHEN expires_on IS NULL THEN 1 ELSE 0 END), expires_on, id);
CREATE INDEX changes_site_expires_desc_keyset ON changes (site_id, (CASE WHEN expires_on IS NULL THEN 0 ELSE 1 END), expires_on, id);

-- +goose Down
DROP INDEX changes_site_expires_desc_keyset;
DROP INDEX changes_site_expires_keyset;
DROP INDEX changes_site_updated_keyset;
DROP INDEX changes_site_created_keyset;
DROP INDEX changes_site_initiator_keyset;
DROP INDEX changes_site_unit_keyset;
DROP INDEX changes_site_site_keyset;
DROP INDEX changes_site_stage_keyset;
DROP INDEX changes_site_kind_keyset;
DROP INDEX changes_site_title_keyset;
DROP INDEX changes_site_number_keyset;

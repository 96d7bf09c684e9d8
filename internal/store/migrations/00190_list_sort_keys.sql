-- +goose Up
-- The change list sorted by site, unit or owner ordered by the joined
-- table's code or name, and by stage or expiry through expressions no
-- index held, so every page of those sorts (and every cursor page) read
-- and sorted every matching change. Here each sort gets an index over
-- (key, id), so a page starts at its cursor and reads one page:
--
-- * sort_site, sort_unit and sort_initiator copy the code of the
--   change's site and unit ('' for none) and the lowercased name of its
--   initiator into changes. Triggers keep them: on a new change, when a
--   change moves to another site, unit or initiator, and when a site or
--   unit code or a user's name changes (site and unit codes only change
--   while no change is filed against them, but the trigger does not rely
--   on it). Triggers rather than the services, because a user's name is
--   written by the sign-in code (an Entra ID claim, an admin's edit),
--   which does not own the changes table.
-- * stage and expiry get expression indexes on exactly the expressions
--   the list sorts by (change/list.go sortParts; TestStageSortIndexMatches
--   holds the stage order to change.Stages). The expiry puts changes with
--   no expiry last both ways, so it has one rank expression per
--   direction, each read in one direction.
ALTER TABLE changes ADD COLUMN sort_site TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN sort_unit TEXT NOT NULL DEFAULT '';
ALTER TABLE changes ADD COLUMN sort_initiator TEXT NOT NULL DEFAULT '';
UPDATE changes SET sort_site = (SELECT s.code FROM sites s WHERE s.id = changes.site_id),
    sort_unit = COALESCE((SELECT un.code FROM units un WHERE un.id = changes.unit_id), ''),
    sort_initiator = (SELECT lower(u.name) FROM users u WHERE u.id = changes.initiator_id);
CREATE INDEX changes_site_keyset ON changes (sort_site, id);
CREATE INDEX changes_unit_keyset ON changes (sort_unit, id);
CREATE INDEX changes_initiator_keyset ON changes (sort_initiator, id);
CREATE INDEX changes_stage_keyset ON changes ((CASE stage WHEN 'draft' THEN 0 WHEN 'rik_confirmation' THEN 1 WHEN 'screening' THEN 2 WHEN 'review' THEN 3 WHEN 'approval' THEN 4 WHEN 'implementation' THEN 5 WHEN 'pssr' THEN 6 WHEN 'in_service' THEN 7 WHEN 'closeout' THEN 8 WHEN 'closed' THEN 9 WHEN 'returned' THEN 10 WHEN 'voided' THEN 11 END), id);
CREATE INDEX changes_expires_keyset ON changes ((CASE WHEN expires_on IS NULL THEN 1 ELSE 0 END), expires_on, id);
CREATE INDEX changes_expires_desc_keyset ON changes ((CASE WHEN expires_on IS NULL THEN 0 ELSE 1 END), expires_on, id);

-- {{sqlite}}
-- +goose StatementBegin
CREATE TRIGGER changes_sort_keys_insert AFTER INSERT ON changes BEGIN
    UPDATE changes SET sort_site = (SELECT code FROM sites WHERE id = NEW.site_id),
        sort_unit = COALESCE((SELECT code FROM units WHERE id = NEW.unit_id), ''),
        sort_initiator = (SELECT lower(name) FROM users WHERE id = NEW.initiator_id)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER changes_sort_keys_update AFTER UPDATE OF site_id, unit_id, initiator_id ON changes BEGIN
    UPDATE changes SET sort_site = (SELECT code FROM sites WHERE id = NEW.site_id),
        sort_unit = COALESCE((SELECT code FROM units WHERE id = NEW.unit_id), ''),
        sort_initiator = (SELECT lower(name) FROM users WHERE id = NEW.initiator_id)
    WHERE id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER sites_sort_key AFTER UPDATE OF code ON sites WHEN OLD.code IS NOT NEW.code BEGIN
    UPDATE changes SET sort_site = NEW.code WHERE site_id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER units_sort_key AFTER UPDATE OF code ON units WHEN OLD.code IS NOT NEW.code BEGIN
    UPDATE changes SET sort_unit = NEW.code WHERE unit_id = NEW.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER users_sort_key AFTER UPDATE OF name ON users WHEN lower(OLD.name) IS NOT lower(NEW.name) BEGIN
    UPDATE changes SET sort_initiator = lower(NEW.name) WHERE initiator_id = NEW.id;
END;
-- +goose StatementEnd
-- {{end}}
-- {{postgres}}
-- +goose StatementBegin
CREATE FUNCTION changes_sort_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sort_site := (SELECT code FROM sites WHERE id = NEW.site_id);
    NEW.sort_unit := COALESCE((SELECT code FROM units WHERE id = NEW.unit_id), '');
    NEW.sort_initiator := (SELECT lower(name) FROM users WHERE id = NEW.initiator_id);
    RETURN NEW;
END $$;
-- +goose StatementEnd
CREATE TRIGGER changes_sort_keys BEFORE INSERT OR UPDATE OF site_id, unit_id, initiator_id ON changes
    FOR EACH ROW EXECUTE FUNCTION changes_sort_keys();
-- +goose StatementBegin
CREATE FUNCTION sites_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE changes SET sort_site = NEW.code WHERE site_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER sites_sort_key AFTER UPDATE OF code ON sites
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION sites_sort_key();
-- +goose StatementBegin
CREATE FUNCTION units_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE changes SET sort_unit = NEW.code WHERE unit_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER units_sort_key AFTER UPDATE OF code ON units
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION units_sort_key();
-- +goose StatementBegin
CREATE FUNCTION users_sort_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE changes SET sort_initiator = lower(NEW.name) WHERE initiator_id = NEW.id;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_sort_key AFTER UPDATE OF name ON users
    FOR EACH ROW WHEN (lower(OLD.name) IS DISTINCT FROM lower(NEW.name)) EXECUTE FUNCTION users_sort_key();
-- {{end}}

-- +goose Down
-- {{sqlite}}
DROP TRIGGER users_sort_key;
DROP TRIGGER units_sort_key;
DROP TRIGGER sites_sort_key;
DROP TRIGGER changes_sort_keys_update;
DROP TRIGGER changes_sort_keys_insert;
-- {{end}}
-- {{postgres}}
DROP TRIGGER users_sort_key ON users;
DROP FUNCTION users_sort_key();
DROP TRIGGER units_sort_key ON units;
DROP FUNCTION units_sort_key();
DROP TRIGGER sites_sort_key ON sites;
DROP FUNCTION sites_sort_key();
DROP TRIGGER changes_sort_keys ON changes;
DROP FUNCTION changes_sort_keys();
-- {{end}}
DROP INDEX changes_expires_desc_keyset;
DROP INDEX changes_expires_keyset;
DROP INDEX changes_stage_keyset;
DROP INDEX changes_initiator_keyset;
DROP INDEX changes_unit_keyset;
DROP INDEX changes_site_keyset;
ALTER TABLE changes DROP COLUMN sort_initiator;
ALTER TABLE changes DROP COLUMN sort_unit;
ALTER TABLE changes DROP COLUMN sort_site;

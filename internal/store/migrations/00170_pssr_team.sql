-- +goose Up
-- The PSSR team of a change: people the coordinator names to walk the
-- checklist, each for a discipline or a checklist section (scope; empty
-- is the whole checklist), and one lead, who signs the PSSR off. The
-- sign-off itself is a row of change_signatures (control point
-- pssr_signoff), like every other control point.
CREATE TABLE pssr_team (
    change_id BIGINT NOT NULL REFERENCES changes(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    is_lead BOOLEAN NOT NULL DEFAULT FALSE,
    scope TEXT NOT NULL DEFAULT '',
    added_by BIGINT REFERENCES users(id),
    added_at {{ts}} NOT NULL,
    PRIMARY KEY (change_id, user_id)
);
CREATE INDEX pssr_team_user ON pssr_team (user_id);

-- Every answer bumps its item's version. A walkdown device sends the
-- version it loaded, so an answer given on another device meanwhile is
-- shown to the user as a conflict instead of being overwritten. Items
-- answered before this migration start at 1: a device that saw them
-- unanswered (0) cannot overwrite them unseen.
ALTER TABLE pssr_items ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE pssr_items SET version = 1 WHERE answer <> '';

-- Checklist sections, so a walkdown goes one section at a time and a
-- team member can be named for one. Empty: the checklist's one section.
ALTER TABLE pssr_template_items ADD COLUMN section TEXT NOT NULL DEFAULT '';
ALTER TABLE pssr_items ADD COLUMN section TEXT NOT NULL DEFAULT '';
UPDATE pssr_template_items SET section = 'Design and documents'
    WHERE text IN ('Construction and equipment are in accordance with design specifications',
        'Process safety information (P&IDs, data sheets, relief design) is updated',
        'Process hazard analysis recommendations are resolved or implemented before startup');
UPDATE pssr_template_items SET section = 'Procedures and training'
    WHERE text IN ('Safety, operating, maintenance and emergency procedures are in place and adequate',
        'Training of each employee involved in operating the process is complete');
UPDATE pssr_template_items SET section = 'Field checks'
    WHERE text IN ('Pressure tests, leak tests and instrument loop checks are complete',
        'Safety systems (interlocks, alarms, relief devices) are functional and tested',
        'Temporary equipment, blinds and isolations are removed or accounted for');
-- Checklists already copied take the section of the template item they
-- were copied from (same text); others stay in the one section.
UPDATE pssr_items SET section = COALESCE((SELECT t.section FROM pssr_template_items t
    WHERE t.text = pssr_items.text AND t.section <> '' ORDER BY t.id LIMIT 1), '');

-- +goose Down
ALTER TABLE pssr_items DROP COLUMN section;
ALTER TABLE pssr_template_items DROP COLUMN section;
ALTER TABLE pssr_items DROP COLUMN version;
DROP TABLE pssr_team;

-- +goose Up
-- A hazard review is a record on the change, not a tick: how it was done
-- (HAZOP, what-if, checklist, LOPA, other), when, by whom, what it found,
-- an optional worksheet (one of the change's attachments, checked by the
-- service, so no foreign key: SQLite cannot drop a column that one
-- names), and its recommendations, which are action items linked back to
-- the record (change_actions.hazard_review_id). review_id is the hazard
-- review (discipline hazard_review) of the round the record was made in,
-- when there was one. Records are appended, never edited.
CREATE TABLE change_hazard_reviews (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    round INTEGER NOT NULL,
    review_id BIGINT,
    method TEXT NOT NULL,
    held_on {{ts}} NOT NULL,
    summary TEXT NOT NULL,
    worksheet_id BIGINT,
    recorded_by BIGINT REFERENCES users(id),
    recorded_name TEXT NOT NULL DEFAULT '',
    recorded_at {{ts}} NOT NULL
);
CREATE INDEX change_hazard_reviews_change ON change_hazard_reviews (change_id, id);

-- The team: people in mocpcr (user_id set; name as they were named then)
-- and named outsiders (user_id NULL: a vendor's engineer, a HAZOP
-- facilitator), in the order given.
CREATE TABLE change_hazard_review_members (
    hazard_review_id BIGINT NOT NULL REFERENCES change_hazard_reviews(id),
    position INTEGER NOT NULL,
    user_id BIGINT REFERENCES users(id),
    name TEXT NOT NULL,
    organisation TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (hazard_review_id, position)
);

ALTER TABLE change_actions ADD COLUMN hazard_review_id BIGINT;

-- Hazard reviews decided before records existed carry over as records of
-- method "other": held when decided, the reviewer as the team, the
-- reviewer's comment as the summary. Nothing recorded then is lost, and
-- those changes show a record like any later one.
INSERT INTO change_hazard_reviews (change_id, round, review_id, method, held_on, summary, recorded_by, recorded_name, recorded_at)
SELECT r.change_id, r.round, r.id, 'other', r.decided_at,
       CASE WHEN r.comment = '' THEN 'Hazard review recorded as ' || r.decision || ' before hazard review records existed.'
            ELSE r.comment END,
       r.decided_by, COALESCE(u.name, ''), r.decided_at
FROM change_reviews r LEFT JOIN users u ON u.id = r.decided_by
WHERE r.discipline = 'hazard_review' AND r.decided_at IS NOT NULL
  AND r.decision IN ('reviewed', 'reviewed_with_conditions');

INSERT INTO change_hazard_review_members (hazard_review_id, position, user_id, name)
SELECT h.id, 1, h.recorded_by, h.recorded_name
FROM change_hazard_reviews h WHERE h.recorded_by IS NOT NULL;

-- +goose Down
UPDATE change_actions SET kind = 'general' WHERE kind = 'recommendation';
ALTER TABLE change_actions DROP COLUMN hazard_review_id;
DROP TABLE change_hazard_review_members;
DROP TABLE change_hazard_reviews;

-- +goose Up
-- Related changes: "MOC-2026-0007 depends on MOC-2026-0003", or simply
-- related. One row per pair, written from the change it was made on
-- (change_id); the other change shows it the other way round ("required
-- by"). The service refuses a second link between the same two changes
-- in either direction; the unique index holds the direction it was made.
CREATE TABLE change_links (
    id {{id}},
    change_id BIGINT NOT NULL REFERENCES changes(id),
    linked_id BIGINT NOT NULL REFERENCES changes(id),
    kind TEXT NOT NULL CHECK (kind IN ('depends_on', 'related_to')),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at {{ts}} NOT NULL,
    CHECK (change_id <> linked_id)
);
CREATE UNIQUE INDEX change_links_pair ON change_links (change_id, linked_id);
CREATE INDEX change_links_linked ON change_links (linked_id);

-- +goose Down
DROP TABLE change_links;

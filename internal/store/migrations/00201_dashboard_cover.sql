-- +goose Up
-- The dashboard counts open changes per site and stage and averages the
-- cycle time of the closed ones in the database; with the two times in
-- the index both are read from it alone, without a lookup per change.
CREATE INDEX changes_site_stage_span ON changes (site_id, stage, submitted_at, closed_at);
DROP INDEX changes_site_stage;

-- +goose Down
CREATE INDEX changes_site_stage ON changes (site_id, stage);
DROP INDEX changes_site_stage_span;

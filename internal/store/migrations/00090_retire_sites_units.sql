-- +goose Up
-- A retired site or unit is no longer offered for new changes; changes
-- already filed against it keep it. NULL: in use.
ALTER TABLE sites ADD COLUMN retired_at {{ts}};
ALTER TABLE units ADD COLUMN retired_at {{ts}};

-- +goose Down
ALTER TABLE units DROP COLUMN retired_at;
ALTER TABLE sites DROP COLUMN retired_at;

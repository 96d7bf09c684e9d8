-- +goose Up
-- A small JPEG of each image attachment, made once at upload, so a
-- walkdown page can show its photos as thumbnails without sending (or
-- decoding) the full picture every time. NULL: not an image, or uploaded
-- before this migration (made on first request then).
ALTER TABLE change_attachments ADD COLUMN thumbnail {{blob}};

-- +goose Down
ALTER TABLE change_attachments DROP COLUMN thumbnail;

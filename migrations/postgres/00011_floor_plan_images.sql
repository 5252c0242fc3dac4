-- +goose Up
-- A floor's plan image (PNG or SVG), drawn under its desks and rooms. An
-- image is named by the SHA-256 of its bytes, so it is served publicly at an
-- unguessable, immutable URL (browsers cache it for good; <img> and SVG
-- <image> cannot send a bearer token). Images no floor uses are purged by
-- the housekeeping.
CREATE TABLE floor_plan_images (
    id           text PRIMARY KEY,
    content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/svg+xml')),
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL
);
ALTER TABLE floors ADD COLUMN plan_image_id text REFERENCES floor_plan_images (id);

-- +goose Down
ALTER TABLE floors DROP COLUMN plan_image_id;
DROP TABLE floor_plan_images;

-- +goose Up
-- Reports: a per-site privacy setting, and the indexes the occupancy and
-- utilisation queries scan by.

-- Team breakdowns hide teams with fewer members than min_group_size.
-- A site without a row uses the default (5).
CREATE TABLE report_settings (
    site_id        uuid PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    min_group_size integer NOT NULL CHECK (min_group_size BETWEEN 1 AND 1000),
    updated_at     timestamptz NOT NULL
);

-- Occupancy: a site's (or floor's) check-ins by time, with what the
-- presence intervals need, so the scan reads the index only.
CREATE INDEX check_ins_report_idx ON check_ins (site_id, checked_in_at)
    INCLUDE (checked_out_at, user_id, floor_id, resource_id);
-- Utilisation: every booking of a site (all statuses) by start.
CREATE INDEX bookings_report_idx ON bookings (site_id, start_at)
    INCLUDE (end_at, status, status_reason, resource_type, resource_id, created_at);

-- +goose Down
DROP INDEX bookings_report_idx;
DROP INDEX check_ins_report_idx;
DROP TABLE report_settings;

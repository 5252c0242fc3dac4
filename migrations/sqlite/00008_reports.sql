-- +goose Up
-- Reports: a per-site privacy setting, and the indexes the occupancy and
-- utilisation queries scan by (see the PostgreSQL migration).
CREATE TABLE report_settings (
    site_id        TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    min_group_size INTEGER NOT NULL CHECK (min_group_size BETWEEN 1 AND 1000),
    updated_at     DATETIME NOT NULL
);

CREATE INDEX check_ins_report_idx ON check_ins (site_id, checked_in_at, checked_out_at, user_id, floor_id, resource_id);
CREATE INDEX bookings_report_idx ON bookings (site_id, start_at, end_at, status, resource_type, resource_id);

-- +goose Down
DROP INDEX bookings_report_idx;
DROP INDEX check_ins_report_idx;
DROP TABLE report_settings;

-- +goose Up
-- A booking lies within one local day (at most 25 hours); see the
-- PostgreSQL migration. Queries bound start_at from below, so these btree
-- indexes answer "overlaps [from, to)" with a range scan.
DROP INDEX bookings_floor_time_idx;
CREATE INDEX bookings_floor_start_idx ON bookings (floor_id, start_at) WHERE status IN ('confirmed', 'checked_in');
CREATE INDEX bookings_site_start_idx ON bookings (site_id, start_at) WHERE status IN ('confirmed', 'checked_in');

-- +goose StatementBegin
CREATE TRIGGER bookings_length_insert BEFORE INSERT ON bookings
WHEN CAST(strftime('%s', NEW.end_at) AS INTEGER) - CAST(strftime('%s', NEW.start_at) AS INTEGER) > 90000
BEGIN
    SELECT RAISE(ABORT, 'booking_too_long');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER bookings_length_update BEFORE UPDATE OF start_at, end_at ON bookings
WHEN CAST(strftime('%s', NEW.end_at) AS INTEGER) - CAST(strftime('%s', NEW.start_at) AS INTEGER) > 90000
BEGIN
    SELECT RAISE(ABORT, 'booking_too_long');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER bookings_length_update;
DROP TRIGGER bookings_length_insert;
DROP INDEX bookings_site_start_idx;
DROP INDEX bookings_floor_start_idx;
CREATE INDEX bookings_floor_time_idx ON bookings (floor_id, end_at, start_at);

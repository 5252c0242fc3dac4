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

-- The overlap triggers of 00001 looked at every booking of the resource
-- that starts before the new one ends: a desk's whole history. Bookings
-- last at most 25 hours, so only those starting from 25 hours earlier can
-- overlap (datetime() is UTC text without an offset, which orders before
-- the stored "…+00:00" of the same second).
DROP TRIGGER bookings_no_overlap_insert;
DROP TRIGGER bookings_no_overlap_update;

-- +goose StatementBegin
CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.status IN ('confirmed', 'checked_in')
BEGIN
    SELECT RAISE(ABORT, 'booking_conflict')
    WHERE EXISTS (
        SELECT 1 FROM bookings b
        WHERE b.resource_id = NEW.resource_id
          AND b.status IN ('confirmed', 'checked_in')
          AND b.start_at >= datetime(NEW.start_at, '-25 hours')
          AND b.start_at < NEW.end_at
          AND b.end_at > NEW.start_at
    );
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER bookings_no_overlap_update BEFORE UPDATE OF resource_id, start_at, end_at, status ON bookings
WHEN NEW.status IN ('confirmed', 'checked_in')
BEGIN
    SELECT RAISE(ABORT, 'booking_conflict')
    WHERE EXISTS (
        SELECT 1 FROM bookings b
        WHERE b.resource_id = NEW.resource_id
          AND b.id <> NEW.id
          AND b.status IN ('confirmed', 'checked_in')
          AND b.start_at >= datetime(NEW.start_at, '-25 hours')
          AND b.start_at < NEW.end_at
          AND b.end_at > NEW.start_at
    );
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER bookings_no_overlap_update;
DROP TRIGGER bookings_no_overlap_insert;
-- (00001's unbounded triggers are equivalent; they are not restored.)
DROP TRIGGER bookings_length_update;
DROP TRIGGER bookings_length_insert;
DROP INDEX bookings_site_start_idx;
DROP INDEX bookings_floor_start_idx;
CREATE INDEX bookings_floor_time_idx ON bookings (floor_id, end_at, start_at);

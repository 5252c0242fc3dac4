-- +goose Up
-- Check-ins: unguessable QR codes on every desk and room, the check-ins
-- themselves (the source of every occupancy report), and why a booking
-- ended as it did.
ALTER TABLE desks ADD COLUMN qr_code TEXT;
ALTER TABLE rooms ADD COLUMN qr_code TEXT;
UPDATE desks SET qr_code = lower(hex(randomblob(16))) WHERE qr_code IS NULL;
UPDATE rooms SET qr_code = lower(hex(randomblob(16))) WHERE qr_code IS NULL;
CREATE UNIQUE INDEX desks_qr_code_key ON desks (qr_code);
CREATE UNIQUE INDEX rooms_qr_code_key ON rooms (qr_code);

ALTER TABLE bookings ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE check_ins (
    id              TEXT PRIMARY KEY,
    booking_id      TEXT NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resource_type   TEXT NOT NULL CHECK (resource_type IN ('desk', 'room')),
    resource_id     TEXT NOT NULL,
    floor_id        TEXT NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    site_id         TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    checked_in_at   DATETIME NOT NULL,
    checked_out_at  DATETIME,
    method          TEXT NOT NULL CHECK (method IN ('qr', 'kiosk', 'web', 'auto')),
    checkout_method TEXT CHECK (checkout_method IN ('qr', 'kiosk', 'web', 'auto')),
    walk_up         BOOLEAN NOT NULL DEFAULT 0,
    CONSTRAINT check_ins_booking_key UNIQUE (booking_id),
    CONSTRAINT check_ins_interval_check CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at)
);
CREATE INDEX check_ins_site_time_idx ON check_ins (site_id, checked_in_at);
CREATE INDEX check_ins_floor_time_idx ON check_ins (floor_id, checked_in_at);
CREATE INDEX check_ins_user_idx ON check_ins (user_id, checked_in_at);
CREATE INDEX check_ins_open_idx ON check_ins (booking_id) WHERE checked_out_at IS NULL;

CREATE INDEX bookings_status_start_idx ON bookings (status, start_at) WHERE status = 'confirmed';
CREATE INDEX bookings_status_end_idx ON bookings (status, end_at) WHERE status = 'checked_in';

-- +goose Down
DROP INDEX bookings_status_end_idx;
DROP INDEX bookings_status_start_idx;
DROP TABLE check_ins;
ALTER TABLE bookings DROP COLUMN status_reason;
DROP INDEX rooms_qr_code_key;
DROP INDEX desks_qr_code_key;
ALTER TABLE rooms DROP COLUMN qr_code;
ALTER TABLE desks DROP COLUMN qr_code;

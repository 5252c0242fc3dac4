-- +goose Up
-- Check-ins: unguessable QR codes on every desk and room, the check-ins
-- themselves (the source of every occupancy report), and why a booking
-- ended as it did.
ALTER TABLE desks ADD COLUMN qr_code text;
ALTER TABLE rooms ADD COLUMN qr_code text;
-- 122 random bits per existing resource; new ones get 128 bits from Perch.
UPDATE desks SET qr_code = replace(gen_random_uuid()::text, '-', '') WHERE qr_code IS NULL;
UPDATE rooms SET qr_code = replace(gen_random_uuid()::text, '-', '') WHERE qr_code IS NULL;
ALTER TABLE desks ALTER COLUMN qr_code SET NOT NULL;
ALTER TABLE rooms ALTER COLUMN qr_code SET NOT NULL;
CREATE UNIQUE INDEX desks_qr_code_key ON desks (qr_code);
CREATE UNIQUE INDEX rooms_qr_code_key ON rooms (qr_code);

ALTER TABLE bookings ADD COLUMN status_reason text NOT NULL DEFAULT '';

CREATE TABLE check_ins (
    id              uuid PRIMARY KEY,
    booking_id      uuid NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    resource_type   text NOT NULL CHECK (resource_type IN ('desk', 'room')),
    resource_id     uuid NOT NULL,
    floor_id        uuid NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    site_id         uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    checked_in_at   timestamptz NOT NULL,
    checked_out_at  timestamptz,
    method          text NOT NULL CHECK (method IN ('qr', 'kiosk', 'web', 'auto')),
    checkout_method text CHECK (checkout_method IN ('qr', 'kiosk', 'web', 'auto')),
    walk_up         boolean NOT NULL DEFAULT false,
    CONSTRAINT check_ins_booking_key UNIQUE (booking_id),
    CONSTRAINT check_ins_interval_check CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at)
);
CREATE INDEX check_ins_site_time_idx ON check_ins (site_id, checked_in_at);
CREATE INDEX check_ins_floor_time_idx ON check_ins (floor_id, checked_in_at);
CREATE INDEX check_ins_user_idx ON check_ins (user_id, checked_in_at);
CREATE INDEX check_ins_open_idx ON check_ins (booking_id) WHERE checked_out_at IS NULL;

-- The worker's scans: confirmed bookings past their start (no-shows) and
-- checked-in bookings past their end (auto check-out).
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

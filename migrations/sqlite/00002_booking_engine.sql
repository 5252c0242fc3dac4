-- +goose Up
-- Booking engine: per-resource booking mode, site policies, desk releases and
-- idempotency keys. (SQLite has one writer at a time, so the outbox needs no
-- transaction id: seq order is commit order.)
ALTER TABLE desks ADD COLUMN booking_mode TEXT NOT NULL DEFAULT 'hourly' CHECK (booking_mode IN ('hourly', 'day'));
ALTER TABLE rooms ADD COLUMN booking_mode TEXT NOT NULL DEFAULT 'hourly' CHECK (booking_mode IN ('hourly', 'day'));

CREATE TABLE site_policies (
    site_id    TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    policy     TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE desk_releases (
    desk_id     TEXT NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    date        TEXT NOT NULL,
    released_by TEXT,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (desk_id, date)
);

CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

CREATE INDEX bookings_user_active_idx ON bookings (user_id, end_at) WHERE status IN ('confirmed', 'checked_in');

-- +goose Down
DROP INDEX bookings_user_active_idx;
DROP TABLE idempotency_keys;
DROP TABLE desk_releases;
DROP TABLE site_policies;
ALTER TABLE rooms DROP COLUMN booking_mode;
ALTER TABLE desks DROP COLUMN booking_mode;

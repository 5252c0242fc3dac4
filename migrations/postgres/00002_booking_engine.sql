-- +goose Up
-- Booking engine: per-resource booking mode, site policies, desk releases,
-- idempotency keys, and the outbox's transaction id.

-- 'hourly': any interval inside the bookable hours; 'day': whole or half days only.
ALTER TABLE desks ADD COLUMN booking_mode text NOT NULL DEFAULT 'hourly' CHECK (booking_mode IN ('hourly', 'day'));
ALTER TABLE rooms ADD COLUMN booking_mode text NOT NULL DEFAULT 'hourly' CHECK (booking_mode IN ('hourly', 'day'));

-- One policy document (JSON) per site; a site without a row has the defaults.
CREATE TABLE site_policies (
    site_id    uuid PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    policy     text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Days on which an assigned desk's owner lets others book it.
CREATE TABLE desk_releases (
    desk_id     uuid NOT NULL REFERENCES desks (id) ON DELETE CASCADE,
    date        text NOT NULL, -- YYYY-MM-DD in the site's time zone
    released_by uuid,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (desk_id, date)
);

-- Responses to requests sent with an Idempotency-Key, kept 24 h. The key is
-- scoped to its owner (the caller) so two callers cannot collide.
CREATE TABLE idempotency_keys (
    owner        text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    response     text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The writing transaction's id: a consumer reads rows whose transaction is
-- older than every transaction still running (pg_snapshot_xmin), so a row
-- with a lower seq that commits late is never skipped.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE INDEX bookings_user_active_idx ON bookings (user_id, end_at) WHERE status IN ('confirmed', 'checked_in');

-- +goose Down
DROP INDEX bookings_user_active_idx;
ALTER TABLE outbox DROP COLUMN txid;
DROP TABLE idempotency_keys;
DROP TABLE desk_releases;
DROP TABLE site_policies;
ALTER TABLE rooms DROP COLUMN booking_mode;
ALTER TABLE desks DROP COLUMN booking_mode;

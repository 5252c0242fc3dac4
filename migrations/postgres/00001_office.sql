-- +goose Up
-- The office model, people and tokens, and the bookings table with its
-- double-booking guarantee (exclusion constraint) from the very first version.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE meta (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT teams_name_key UNIQUE (name)
);

CREATE TABLE users (
    id         uuid PRIMARY KEY,
    email      text NOT NULL,
    name       text NOT NULL,
    team_id    uuid REFERENCES teams (id) ON DELETE SET NULL,
    role       text NOT NULL CHECK (role IN ('admin', 'employee', 'reception', 'kiosk')),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_team_idx ON users (team_id);
CREATE INDEX users_name_idx ON users (name, id);

CREATE TABLE tokens (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       text NOT NULL,
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    expires_at timestamptz,
    revoked_at timestamptz,
    CONSTRAINT tokens_hash_key UNIQUE (hash)
);
CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE TABLE sites (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    timezone   text NOT NULL,
    address    text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX sites_name_idx ON sites (name, id);

CREATE TABLE floors (
    id         uuid PRIMARY KEY,
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    name       text NOT NULL,
    level      integer NOT NULL DEFAULT 0,
    width      double precision NOT NULL CHECK (width > 0),
    height     double precision NOT NULL CHECK (height > 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX floors_site_idx ON floors (site_id, level, id);

CREATE TABLE zones (
    id         uuid PRIMARY KEY,
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id   uuid NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    name       text NOT NULL,
    color      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX zones_floor_idx ON zones (floor_id, name, id);

CREATE TABLE desks (
    id               uuid PRIMARY KEY,
    site_id          uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id         uuid NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    zone_id          uuid REFERENCES zones (id) ON DELETE SET NULL,
    code             text NOT NULL,
    name             text NOT NULL DEFAULT '',
    x                double precision NOT NULL CHECK (x >= 0),
    y                double precision NOT NULL CHECK (y >= 0),
    amenities        text NOT NULL DEFAULT '[]',
    bookable         boolean NOT NULL DEFAULT true,
    assigned_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT desks_site_code_key UNIQUE (site_id, code)
);
CREATE INDEX desks_floor_idx ON desks (floor_id, code, id);
CREATE INDEX desks_zone_idx ON desks (zone_id);
CREATE INDEX desks_assigned_idx ON desks (assigned_user_id);

CREATE TABLE rooms (
    id         uuid PRIMARY KEY,
    site_id    uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id   uuid NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    zone_id    uuid REFERENCES zones (id) ON DELETE SET NULL,
    name       text NOT NULL,
    capacity   integer NOT NULL CHECK (capacity > 0),
    amenities  text NOT NULL DEFAULT '[]',
    x          double precision NOT NULL CHECK (x >= 0),
    y          double precision NOT NULL CHECK (y >= 0),
    width      double precision NOT NULL CHECK (width > 0),
    height     double precision NOT NULL CHECK (height > 0),
    bookable   boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rooms_floor_idx ON rooms (floor_id, name, id);
CREATE INDEX rooms_zone_idx ON rooms (zone_id);

-- Bookings of desks and rooms. resource_id is a desk's or a room's id (ids
-- are UUIDs, unique across both tables). An active booking is 'confirmed' or
-- 'checked_in'; the exclusion constraint makes two overlapping active
-- bookings of one resource impossible, whatever the code above it does.
-- Intervals are half-open: [start_at, end_at).
CREATE TABLE bookings (
    id            uuid PRIMARY KEY,
    site_id       uuid NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id      uuid NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    resource_type text NOT NULL CHECK (resource_type IN ('desk', 'room')),
    resource_id   uuid NOT NULL,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    created_by    uuid,
    title         text NOT NULL DEFAULT '',
    start_at      timestamptz NOT NULL,
    end_at        timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('confirmed', 'checked_in', 'completed', 'cancelled', 'released')),
    series_id     uuid,
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT bookings_interval_check CHECK (end_at > start_at),
    CONSTRAINT bookings_no_overlap EXCLUDE USING gist (
        resource_id WITH =,
        tstzrange(start_at, end_at, '[)') WITH &&
    ) WHERE (status IN ('confirmed', 'checked_in'))
);
-- Availability of a floor over an interval: active bookings on the floor
-- overlapping [from, to).
CREATE INDEX bookings_floor_time_idx ON bookings USING gist (floor_id, tstzrange(start_at, end_at, '[)'))
    WHERE status IN ('confirmed', 'checked_in');
CREATE INDEX bookings_user_time_idx ON bookings (user_id, start_at);
CREATE INDEX bookings_resource_time_idx ON bookings (resource_id, start_at);
CREATE INDEX bookings_series_idx ON bookings (series_id) WHERE series_id IS NOT NULL;

-- The transactional outbox: every booking change writes one row here in the
-- same transaction. seq is the global order consumers resume from.
CREATE TABLE outbox (
    seq         bigserial PRIMARY KEY,
    kind        text NOT NULL,
    site_id     uuid,
    floor_id    uuid,
    resource_id uuid,
    booking_id  uuid,
    payload     text NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL
);
CREATE INDEX outbox_created_idx ON outbox (created_at);

-- +goose Down
DROP TABLE outbox;
DROP TABLE bookings;
DROP TABLE rooms;
DROP TABLE desks;
DROP TABLE zones;
DROP TABLE floors;
DROP TABLE sites;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE teams;
DROP TABLE meta;

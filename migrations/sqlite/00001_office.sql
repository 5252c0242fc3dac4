-- +goose Up
-- The office model, people and tokens, and the bookings table with its
-- double-booking guarantee. SQLite has no exclusion constraints: triggers
-- refuse an overlapping active booking, and because every Perch write
-- transaction is BEGIN IMMEDIATE (one writer at a time), the check inside
-- the trigger and the insert are atomic. Times are stored as UTC text in one
-- fixed format, so comparing them as text orders them in time.
CREATE TABLE meta (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE teams (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT teams_name_key UNIQUE (name)
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    team_id    TEXT REFERENCES teams (id) ON DELETE SET NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'employee', 'reception', 'kiosk')),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT users_email_key UNIQUE (email)
);
CREATE INDEX users_team_idx ON users (team_id);
CREATE INDEX users_name_idx ON users (name, id);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    label      TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    expires_at DATETIME,
    revoked_at DATETIME,
    CONSTRAINT tokens_hash_key UNIQUE (hash)
);
CREATE INDEX tokens_user_idx ON tokens (user_id);

CREATE TABLE sites (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    timezone   TEXT NOT NULL,
    address    TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX sites_name_idx ON sites (name, id);

CREATE TABLE floors (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    name       TEXT NOT NULL,
    level      INTEGER NOT NULL DEFAULT 0,
    width      REAL NOT NULL CHECK (width > 0),
    height     REAL NOT NULL CHECK (height > 0),
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX floors_site_idx ON floors (site_id, level, id);

CREATE TABLE zones (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id   TEXT NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    name       TEXT NOT NULL,
    color      TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX zones_floor_idx ON zones (floor_id, name, id);

CREATE TABLE desks (
    id               TEXT PRIMARY KEY,
    site_id          TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id         TEXT NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    zone_id          TEXT REFERENCES zones (id) ON DELETE SET NULL,
    code             TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    x                REAL NOT NULL CHECK (x >= 0),
    y                REAL NOT NULL CHECK (y >= 0),
    amenities        TEXT NOT NULL DEFAULT '[]',
    bookable         BOOLEAN NOT NULL DEFAULT 1,
    assigned_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    CONSTRAINT desks_site_code_key UNIQUE (site_id, code)
);
CREATE INDEX desks_floor_idx ON desks (floor_id, code, id);
CREATE INDEX desks_zone_idx ON desks (zone_id);
CREATE INDEX desks_assigned_idx ON desks (assigned_user_id);

CREATE TABLE rooms (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id   TEXT NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    zone_id    TEXT REFERENCES zones (id) ON DELETE SET NULL,
    name       TEXT NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    amenities  TEXT NOT NULL DEFAULT '[]',
    x          REAL NOT NULL CHECK (x >= 0),
    y          REAL NOT NULL CHECK (y >= 0),
    width      REAL NOT NULL CHECK (width > 0),
    height     REAL NOT NULL CHECK (height > 0),
    bookable   BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX rooms_floor_idx ON rooms (floor_id, name, id);
CREATE INDEX rooms_zone_idx ON rooms (zone_id);

CREATE TABLE bookings (
    id            TEXT PRIMARY KEY,
    site_id       TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    floor_id      TEXT NOT NULL REFERENCES floors (id) ON DELETE RESTRICT,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('desk', 'room')),
    resource_id   TEXT NOT NULL,
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    created_by    TEXT,
    title         TEXT NOT NULL DEFAULT '',
    start_at      DATETIME NOT NULL,
    end_at        DATETIME NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('confirmed', 'checked_in', 'completed', 'cancelled', 'released')),
    series_id     TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    CONSTRAINT bookings_interval_check CHECK (end_at > start_at)
);
CREATE INDEX bookings_floor_time_idx ON bookings (floor_id, end_at, start_at);
CREATE INDEX bookings_user_time_idx ON bookings (user_id, start_at);
CREATE INDEX bookings_resource_time_idx ON bookings (resource_id, start_at);
CREATE INDEX bookings_series_idx ON bookings (series_id);

-- +goose StatementBegin
CREATE TRIGGER bookings_no_overlap_insert BEFORE INSERT ON bookings
WHEN NEW.status IN ('confirmed', 'checked_in')
BEGIN
    SELECT RAISE(ABORT, 'booking_conflict')
    WHERE EXISTS (
        SELECT 1 FROM bookings b
        WHERE b.resource_id = NEW.resource_id
          AND b.status IN ('confirmed', 'checked_in')
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
          AND b.start_at < NEW.end_at
          AND b.end_at > NEW.start_at
    );
END;
-- +goose StatementEnd

CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    site_id     TEXT,
    floor_id    TEXT,
    resource_id TEXT,
    booking_id  TEXT,
    payload     TEXT NOT NULL DEFAULT '{}',
    created_at  DATETIME NOT NULL
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

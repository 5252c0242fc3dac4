-- +goose Up
-- Kiosk devices: door panels (one room) and lobby displays (one site).
-- A device starts pairing on its own (a pending row with a short pairing
-- code and the hash of its device secret); an admin pairs it by that code,
-- which creates its device account (a user with role kiosk); the device
-- then exchanges its secret for a kiosk token. Only SHA-256 hashes of the
-- secret and the token are stored. A room's or site's kiosks go with it.
CREATE TABLE kiosks (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL DEFAULT '',
    kind               TEXT CHECK (kind IN ('room', 'lobby')),
    room_id            TEXT REFERENCES rooms (id) ON DELETE CASCADE,
    site_id            TEXT REFERENCES sites (id) ON DELETE CASCADE,
    user_id            TEXT REFERENCES users (id) ON DELETE CASCADE,
    pairing_code       TEXT,
    pairing_expires_at DATETIME,
    secret_hash        TEXT NOT NULL,
    token_hash         TEXT,
    status             TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paired', 'revoked')),
    created_at         DATETIME NOT NULL,
    paired_at          DATETIME,
    revoked_at         DATETIME,
    last_seen_at       DATETIME,
    CONSTRAINT kiosks_secret_hash_key UNIQUE (secret_hash),
    CONSTRAINT kiosks_token_hash_key UNIQUE (token_hash),
    CONSTRAINT kiosks_place_check CHECK (kind IS NULL
        OR (kind = 'room' AND room_id IS NOT NULL AND site_id IS NOT NULL AND user_id IS NOT NULL)
        OR (kind = 'lobby' AND room_id IS NULL AND site_id IS NOT NULL AND user_id IS NOT NULL)),
    CONSTRAINT kiosks_paired_check CHECK (status <> 'paired' OR kind IS NOT NULL),
    CONSTRAINT kiosks_pending_check CHECK (status <> 'pending' OR (pairing_code IS NOT NULL AND pairing_expires_at IS NOT NULL))
);
-- A pairing code names one waiting device.
CREATE UNIQUE INDEX kiosks_pairing_code_key ON kiosks (pairing_code) WHERE status = 'pending';
CREATE INDEX kiosks_room_idx ON kiosks (room_id);
CREATE INDEX kiosks_site_idx ON kiosks (site_id);
CREATE INDEX kiosks_user_idx ON kiosks (user_id);

-- +goose Down
DROP TABLE kiosks;

-- +goose Up
-- Visitors: visits (pre-registered or walk-in) with their invite and badge
-- codes, per-site visitor settings (retention), policy documents with
-- versions and their acceptances, the watchlist, and roll calls.
-- A visit's personal data (visitor_* columns, search_text) is blanked by the
-- retention worker; the row stays so counts survive (anonymised_at is set).
CREATE TABLE visitor_settings (
    site_id              TEXT PRIMARY KEY REFERENCES sites (id) ON DELETE CASCADE,
    retention_days       INTEGER NOT NULL DEFAULT 30 CHECK (retention_days BETWEEN 1 AND 3650),
    arrival_instructions TEXT NOT NULL DEFAULT '',
    updated_at           DATETIME NOT NULL
);

CREATE TABLE visits (
    id                 TEXT PRIMARY KEY,
    site_id            TEXT NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
    host_id            TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    created_by         TEXT,
    status             TEXT NOT NULL CHECK (status IN ('expected', 'checked_in', 'checked_out', 'cancelled', 'flagged')),
    expected_at        DATETIME NOT NULL,
    walk_in            BOOLEAN NOT NULL DEFAULT 0,
    visitor_name       TEXT NOT NULL DEFAULT '',
    visitor_email      TEXT NOT NULL DEFAULT '',
    visitor_company    TEXT NOT NULL DEFAULT '',
    visitor_phone      TEXT NOT NULL DEFAULT '',
    search_text        TEXT NOT NULL DEFAULT '',
    purpose            TEXT NOT NULL DEFAULT '',
    room_booking_id    TEXT REFERENCES bookings (id) ON DELETE SET NULL,
    invite_code        TEXT NOT NULL,
    badge_code         TEXT,
    checked_in_at      DATETIME,
    checked_out_at     DATETIME,
    checkout_method    TEXT CHECK (checkout_method IN ('kiosk', 'reception', 'auto')),
    flagged_at         DATETIME,
    watchlist_entry_id TEXT,
    anonymised_at      DATETIME,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    CONSTRAINT visits_invite_code_key UNIQUE (invite_code),
    CONSTRAINT visits_badge_code_key UNIQUE (badge_code)
);
CREATE INDEX visits_site_expected_idx ON visits (site_id, expected_at, id);
CREATE INDEX visits_host_expected_idx ON visits (host_id, expected_at, id);
CREATE INDEX visits_email_idx ON visits (visitor_email) WHERE visitor_email <> '';
CREATE INDEX visits_on_site_idx ON visits (site_id, checked_in_at) WHERE status = 'checked_in';
CREATE INDEX visits_retention_idx ON visits (site_id, expected_at) WHERE anonymised_at IS NULL;

CREATE TABLE visitor_documents (
    id              TEXT PRIMARY KEY,
    site_id         TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    title           TEXT NOT NULL,
    current_version INTEGER NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX visitor_documents_site_idx ON visitor_documents (site_id, title, id);

CREATE TABLE visitor_document_versions (
    document_id TEXT NOT NULL REFERENCES visitor_documents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL CHECK (version >= 1),
    body        TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (document_id, version)
);

CREATE TABLE visit_acceptances (
    visit_id    TEXT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    document_id TEXT NOT NULL REFERENCES visitor_documents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    accepted_at DATETIME NOT NULL,
    PRIMARY KEY (visit_id, document_id)
);

CREATE TABLE watchlist (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    name_key   TEXT NOT NULL DEFAULT '',
    email      TEXT NOT NULL DEFAULT '',
    reason     TEXT NOT NULL DEFAULT '',
    created_by TEXT,
    created_at DATETIME NOT NULL,
    CONSTRAINT watchlist_who_check CHECK (name_key <> '' OR email <> '')
);
CREATE INDEX watchlist_email_idx ON watchlist (email) WHERE email <> '';
CREATE INDEX watchlist_name_idx ON watchlist (name_key) WHERE name_key <> '';

CREATE TABLE roll_calls (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    started_by TEXT,
    started_at DATETIME NOT NULL,
    closed_at  DATETIME
);
CREATE INDEX roll_calls_site_idx ON roll_calls (site_id, started_at);

CREATE TABLE roll_call_people (
    roll_call_id TEXT NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
    person_type  TEXT NOT NULL CHECK (person_type IN ('user', 'visitor')),
    person_id    TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    floor_id     TEXT,
    floor_name   TEXT NOT NULL DEFAULT '',
    safe         BOOLEAN NOT NULL DEFAULT 0,
    marked_at    DATETIME,
    marked_by    TEXT,
    PRIMARY KEY (roll_call_id, person_type, person_id)
);
CREATE INDEX roll_call_people_visitor_idx ON roll_call_people (person_id) WHERE person_type = 'visitor';

-- Visitor events carry a name in their payload; the retention worker and
-- erasure blank them by site and age.
CREATE INDEX outbox_visitor_idx ON outbox (site_id, created_at)
    WHERE kind IN ('visitor.arrived', 'visitor.checked_out', 'visitor.flagged');

-- +goose Down
DROP INDEX outbox_visitor_idx;
DROP TABLE roll_call_people;
DROP TABLE roll_calls;
DROP TABLE watchlist;
DROP TABLE visit_acceptances;
DROP TABLE visitor_document_versions;
DROP TABLE visitor_documents;
DROP TABLE visits;
DROP TABLE visitor_settings;

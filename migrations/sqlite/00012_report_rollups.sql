-- +goose Up
-- Report rollups: exact per-hour occupancy cells for finished local days
-- and the log of changes that make them stale (see the PostgreSQL
-- migration; SQLite has row triggers only, so one row per changed check-in).
CREATE TABLE report_cells (
    site_id TEXT    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL CHECK (kind IN ('all', 'floor', 'zone', 'team')),
    day     INTEGER NOT NULL,
    grp     TEXT    NOT NULL,
    hour    INTEGER NOT NULL CHECK (hour BETWEEN 0 AND 24),
    peak    INTEGER NOT NULL,
    secs    INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind, day, grp, hour)
) WITHOUT ROWID;

CREATE TABLE report_cell_days (
    site_id TEXT    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind    TEXT    NOT NULL,
    day     INTEGER NOT NULL,
    PRIMARY KEY (site_id, kind, day)
) WITHOUT ROWID;

CREATE TABLE report_dirty (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    lo      INTEGER NOT NULL,
    hi      INTEGER NOT NULL
);
CREATE INDEX report_dirty_site_idx ON report_dirty (site_id, id);

-- +goose StatementBegin
CREATE TRIGGER check_ins_report_insert AFTER INSERT ON check_ins
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (NEW.site_id, '',
        CAST(strftime('%s', NEW.checked_in_at) AS INTEGER),
        COALESCE(CAST(strftime('%s', NEW.checked_out_at) AS INTEGER), 253402300799));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER check_ins_report_update AFTER UPDATE OF checked_in_at, checked_out_at, user_id, floor_id, resource_id, site_id ON check_ins
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, '',
        CAST(strftime('%s', OLD.checked_in_at) AS INTEGER),
        COALESCE(CAST(strftime('%s', OLD.checked_out_at) AS INTEGER), 253402300799));
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (NEW.site_id, '',
        CAST(strftime('%s', NEW.checked_in_at) AS INTEGER),
        COALESCE(CAST(strftime('%s', NEW.checked_out_at) AS INTEGER), 253402300799));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER check_ins_report_delete AFTER DELETE ON check_ins
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, '',
        CAST(strftime('%s', OLD.checked_in_at) AS INTEGER),
        COALESCE(CAST(strftime('%s', OLD.checked_out_at) AS INTEGER), 253402300799));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER users_report_team AFTER UPDATE OF team_id ON users
WHEN OLD.team_id IS NOT NEW.team_id
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) SELECT id, 'team', 0, 253402300799 FROM sites;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER desks_report_zone AFTER UPDATE OF zone_id ON desks
WHEN OLD.zone_id IS NOT NEW.zone_id
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, 'zone', 0, 253402300799);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER desks_report_delete AFTER DELETE ON desks
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, 'zone', 0, 253402300799);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER rooms_report_zone AFTER UPDATE OF zone_id ON rooms
WHEN OLD.zone_id IS NOT NEW.zone_id
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, 'zone', 0, 253402300799);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER rooms_report_delete AFTER DELETE ON rooms
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, 'zone', 0, 253402300799);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER rooms_report_delete;
DROP TRIGGER rooms_report_zone;
DROP TRIGGER desks_report_delete;
DROP TRIGGER desks_report_zone;
DROP TRIGGER users_report_team;
DROP TRIGGER check_ins_report_delete;
DROP TRIGGER check_ins_report_update;
DROP TRIGGER check_ins_report_insert;
DROP TABLE report_dirty;
DROP TABLE report_cell_days;
DROP TABLE report_cells;

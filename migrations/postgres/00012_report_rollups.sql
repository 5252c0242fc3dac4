-- +goose Up
-- Report rollups: exact per-hour occupancy cells for finished local days,
-- filled lazily by the reports package, and the log of changes that make
-- them stale (written by triggers, in the transaction of the change, so no
-- writer can forget it). See docs/ARCHITECTURE.md#reports.

-- One cell per site, breakdown kind ('all', 'floor', 'zone', 'team'),
-- local day (days since 1970-01-01 of the site's calendar), hour of the
-- day from local midnight (0–24: a 25-hour day has 25) and group (the
-- floor's, zone's or team's id; '' for none): the most people present at
-- once and the person-seconds. Only cells with someone present are kept.
CREATE TABLE report_cells (
    site_id uuid     NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind    text     NOT NULL CHECK (kind IN ('all', 'floor', 'zone', 'team')),
    day     integer  NOT NULL,
    grp     text     NOT NULL,
    hour    smallint NOT NULL CHECK (hour BETWEEN 0 AND 24),
    peak    integer  NOT NULL,
    secs    bigint   NOT NULL,
    PRIMARY KEY (site_id, kind, day, grp, hour)
);

-- The days whose cells of a kind are filled (a filled day may have no cells).
CREATE TABLE report_cell_days (
    site_id uuid    NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    kind    text    NOT NULL,
    day     integer NOT NULL,
    PRIMARY KEY (site_id, kind, day)
);

-- Changes since the cells were filled: the cells of the site's days
-- touching [lo, hi] (epoch seconds; hi 253402300799 for "open") and of
-- kind ('' for every kind) are stale. A report deletes them (and these
-- rows) before it reads.
CREATE TABLE report_dirty (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    site_id uuid   NOT NULL,
    kind    text   NOT NULL,
    lo      bigint NOT NULL,
    hi      bigint NOT NULL
);
CREATE INDEX report_dirty_site_idx ON report_dirty (site_id, id);

-- Check-ins: one row per statement and site (the simulator and the worker
-- write in bulk), covering every changed interval.
-- +goose StatementBegin
CREATE FUNCTION report_dirty_check_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- (each branch names only the transition tables its operation has)
    IF TG_OP = 'INSERT' THEN
        INSERT INTO report_dirty (site_id, kind, lo, hi)
        SELECT n.site_id, '', MIN(CAST(EXTRACT(EPOCH FROM n.checked_in_at) AS bigint)),
            MAX(COALESCE(CAST(EXTRACT(EPOCH FROM n.checked_out_at) AS bigint), 253402300799))
        FROM new_rows n GROUP BY n.site_id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO report_dirty (site_id, kind, lo, hi)
        SELECT o.site_id, '', MIN(CAST(EXTRACT(EPOCH FROM o.checked_in_at) AS bigint)),
            MAX(COALESCE(CAST(EXTRACT(EPOCH FROM o.checked_out_at) AS bigint), 253402300799))
        FROM old_rows o GROUP BY o.site_id;
    ELSE
        -- Both the old and the new interval of every row whose presence changed.
        INSERT INTO report_dirty (site_id, kind, lo, hi)
        SELECT x.site_id, '', MIN(x.lo), MAX(x.hi) FROM (
            SELECT s.site_id, CAST(EXTRACT(EPOCH FROM s.checked_in_at) AS bigint) AS lo,
                COALESCE(CAST(EXTRACT(EPOCH FROM s.checked_out_at) AS bigint), 253402300799) AS hi
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.site_id, o.checked_in_at, o.checked_out_at),
                                       (n.site_id, n.checked_in_at, n.checked_out_at)) AS s(site_id, checked_in_at, checked_out_at)
            WHERE (o.checked_in_at, o.checked_out_at, o.user_id, o.floor_id, o.resource_id, o.site_id)
                IS DISTINCT FROM (n.checked_in_at, n.checked_out_at, n.user_id, n.floor_id, n.resource_id, n.site_id)
        ) x GROUP BY x.site_id;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER check_ins_report_insert AFTER INSERT ON check_ins
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_dirty_check_ins();
CREATE TRIGGER check_ins_report_update AFTER UPDATE ON check_ins
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION report_dirty_check_ins();
CREATE TRIGGER check_ins_report_delete AFTER DELETE ON check_ins
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION report_dirty_check_ins();

-- Team breakdowns use a person's current team: a team change makes every
-- team cell of every site stale.
-- +goose StatementBegin
CREATE FUNCTION report_dirty_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) SELECT id, 'team', 0, 253402300799 FROM sites;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER users_report_team AFTER UPDATE OF team_id ON users
    FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id) EXECUTE FUNCTION report_dirty_team();

-- Zone breakdowns use a resource's current zone.
-- +goose StatementBegin
CREATE FUNCTION report_dirty_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO report_dirty (site_id, kind, lo, hi) VALUES (OLD.site_id, 'zone', 0, 253402300799);
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER desks_report_zone AFTER UPDATE OF zone_id ON desks
    FOR EACH ROW WHEN (OLD.zone_id IS DISTINCT FROM NEW.zone_id) EXECUTE FUNCTION report_dirty_zone();
CREATE TRIGGER desks_report_delete AFTER DELETE ON desks FOR EACH ROW EXECUTE FUNCTION report_dirty_zone();
CREATE TRIGGER rooms_report_zone AFTER UPDATE OF zone_id ON rooms
    FOR EACH ROW WHEN (OLD.zone_id IS DISTINCT FROM NEW.zone_id) EXECUTE FUNCTION report_dirty_zone();
CREATE TRIGGER rooms_report_delete AFTER DELETE ON rooms FOR EACH ROW EXECUTE FUNCTION report_dirty_zone();

-- +goose Down
DROP TRIGGER rooms_report_delete ON rooms;
DROP TRIGGER rooms_report_zone ON rooms;
DROP TRIGGER desks_report_delete ON desks;
DROP TRIGGER desks_report_zone ON desks;
DROP FUNCTION report_dirty_zone();
DROP TRIGGER users_report_team ON users;
DROP FUNCTION report_dirty_team();
DROP TRIGGER check_ins_report_delete ON check_ins;
DROP TRIGGER check_ins_report_update ON check_ins;
DROP TRIGGER check_ins_report_insert ON check_ins;
DROP FUNCTION report_dirty_check_ins();
DROP TABLE report_dirty;
DROP TABLE report_cell_days;
DROP TABLE report_cells;

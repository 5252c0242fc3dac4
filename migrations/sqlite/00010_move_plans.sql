-- +goose Up
-- Office-move seating plans (see the PostgreSQL migration).
CREATE TABLE move_plans (
    id             TEXT PRIMARY KEY,
    site_id        TEXT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'applied')),
    effective_date TEXT NOT NULL,
    request        TEXT NOT NULL,
    proposal       TEXT NOT NULL,
    result         TEXT,
    version        INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL,
    applied_at     DATETIME
);
CREATE INDEX move_plans_created_idx ON move_plans (created_at, id);
CREATE INDEX move_plans_site_idx ON move_plans (site_id);

-- +goose Down
DROP TABLE move_plans;

-- +goose Up
-- Office-move seating plans (package moves): what the planner asked for
-- (request), the editable proposal, and what apply did (result), as JSON
-- text; status draft until applied. Zone restrictions and assigned desks
-- themselves stay where they are (site_policies.restricted_zones,
-- desks.assigned_user_id): apply writes them there.
CREATE TABLE move_plans (
    id             uuid PRIMARY KEY,
    site_id        uuid NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name           text NOT NULL,
    status         text NOT NULL CHECK (status IN ('draft', 'applied')),
    effective_date text NOT NULL,
    request        text NOT NULL,
    proposal       text NOT NULL,
    result         text,
    version        integer NOT NULL DEFAULT 1,
    created_by     uuid,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    applied_at     timestamptz
);
CREATE INDEX move_plans_created_idx ON move_plans (created_at, id);
CREATE INDEX move_plans_site_idx ON move_plans (site_id);

-- +goose Down
DROP TABLE move_plans;

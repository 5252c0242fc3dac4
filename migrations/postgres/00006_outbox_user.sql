-- +goose Up
-- Events addressed to one person (a visitor arrived for their host) name
-- that person; the WebSocket hub routes them to the person's /ws/me
-- sockets, and a resuming socket reads its missed ones by this index.
ALTER TABLE outbox ADD COLUMN user_id uuid;
CREATE INDEX outbox_user_idx ON outbox (user_id, seq) WHERE user_id IS NOT NULL;

-- +goose Down
DROP INDEX outbox_user_idx;
ALTER TABLE outbox DROP COLUMN user_id;

-- +goose Up
-- Fixed-window request counters shared by every replica: one row per limit
-- key and window, bumped by one UPSERT per limited request and purged by
-- housekeeping once the window is over. The key names the limit and the
-- client (an IP address or a hash of a token, never a token).
CREATE TABLE rate_limits (
    key          text    NOT NULL,
    window_start integer NOT NULL, -- Unix seconds, a multiple of the window length
    count        integer NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- +goose Down
DROP TABLE rate_limits;

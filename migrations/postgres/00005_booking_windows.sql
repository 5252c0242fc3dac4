-- +goose Up
-- A booking lies within one local day (at most 25 hours, on the day the
-- clocks go back); longer stays are recurring series. With that bound,
-- "overlaps [from, to)" is start_at >= from - 25 h AND start_at < to AND
-- end_at > from: a btree range scan per floor, site or resource. These
-- replace the floor's GiST index, which served those queries poorly and
-- cost every insert. (The exclusion constraint keeps its own GiST index.)
ALTER TABLE bookings ADD CONSTRAINT bookings_length_check CHECK (end_at - start_at <= interval '25 hours') NOT VALID;
DROP INDEX bookings_floor_time_idx;
CREATE INDEX bookings_floor_start_idx ON bookings (floor_id, start_at) WHERE status IN ('confirmed', 'checked_in');
CREATE INDEX bookings_site_start_idx ON bookings (site_id, start_at) WHERE status IN ('confirmed', 'checked_in');

-- +goose Down
DROP INDEX bookings_site_start_idx;
DROP INDEX bookings_floor_start_idx;
CREATE INDEX bookings_floor_time_idx ON bookings USING gist (floor_id, tstzrange(start_at, end_at, '[)'))
    WHERE status IN ('confirmed', 'checked_in');
ALTER TABLE bookings DROP CONSTRAINT bookings_length_check;

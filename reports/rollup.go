package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// Rollups: exact per-hour occupancy cells of finished local days.
//
// For every site, breakdown kind (all, floor, zone, team), finished local
// day, hour of that day (real hours from local midnight, as the hour
// buckets) and group, report_cells keeps the peak of people present and
// the person-seconds, computed by the same SQL sweep as a live report over
// the day's hour buckets. Buckets partition time, so a day's or week's
// peak is the largest of its hours' peaks and its person-seconds their
// sum: a report over finished days reads cells instead of sorting every
// check-in of the window, and the current day (and any later one) is
// computed live and merged in.
//
// Cells are filled lazily, the first time a report needs a kind's days,
// one INSERT … SELECT per batch of up to rollupBatch days, each batch in a
// transaction holding a per-site lock (an advisory lock on PostgreSQL, the
// write lock on SQLite) so that replicas filling at once neither duplicate
// the work nor interleave it with invalidation; the inserts are upserts.
//
// Staleness: triggers on check_ins (every insert, delete and change of a
// check-in's times, person, place or site), on users (a team change) and
// on desks and rooms (a zone change or deletion) append to report_dirty in
// the changing transaction. Before a report reads cells it deletes the
// cells and filled-day marks of every day a dirty row touches (all kinds,
// or only team or zone), and exactly the dirty rows it read, under the same lock,
// so a report never reads a cell older than a committed change.

// rollupBatch is the most days one fill statement covers.
const rollupBatch = 62

// openEnd is report_dirty.hi of a check-in still open (9999-12-31 23:59:59 UTC).
const openEnd = 253402300799

// Cell kinds: the breakdowns kept as cells.
const (
	kindAll   = "all"
	kindFloor = "floor"
	kindZone  = "zone"
	kindTeam  = "team"
)

var epochDate = booking.Date{Year: 1970, Month: time.January, Day: 1}

// dayNum numbers a local date (days since 1970-01-01).
func dayNum(d booking.Date) int { return booking.DaysBetween(epochDate, d) }

// cellPlan says whether a report of scope sc broken down by "by" can be
// served from cells: the kind to read, the one group to read ("" for all)
// and the report group a cell's group becomes. Floor and zone scopes with
// a team breakdown, and a floor scope broken down by zone, are computed
// live.
func cellPlan(sc Scope, by string) (kind, only string, as func(string) string, ok bool) {
	same := func(g string) string { return g }
	to := func(id string) func(string) string { return func(string) string { return id } }
	switch {
	case sc.ZoneID != "":
		switch by {
		case GroupNone:
			return kindZone, sc.ZoneID, to(""), true
		case GroupZone:
			return kindZone, sc.ZoneID, same, true
		case GroupFloor:
			return kindZone, sc.ZoneID, to(sc.FloorID), true
		}
	case sc.FloorID != "":
		switch by {
		case GroupNone:
			return kindFloor, sc.FloorID, to(""), true
		case GroupFloor:
			return kindFloor, sc.FloorID, same, true
		}
	default:
		switch by {
		case GroupNone:
			return kindAll, "", same, true
		case GroupFloor:
			return kindFloor, "", same, true
		case GroupZone:
			return kindZone, "", same, true
		case GroupTeam:
			return kindTeam, "", same, true
		}
	}
	return "", "", nil, false
}

func kindGroup(kind string) string {
	switch kind {
	case kindFloor:
		return GroupFloor
	case kindZone:
		return GroupZone
	case kindTeam:
		return GroupTeam
	}
	return GroupNone
}

// occupancyCells is presence for a report's buckets: finished days from
// the cells, later days live, merged. It equals presence over the whole
// window (for check-ins no longer than booking.MaxLength, as every closed
// check-in is).
func (s *Service) occupancyCells(ctx context.Context, sc Scope, by string, w Window, size string, buckets []Bucket) (map[cellKey]cell, error) {
	kind, only, as, ok := cellPlan(sc, by)
	if !ok || s.live {
		return s.presence(ctx, sc, by, buckets)
	}
	loc := sc.loc
	// The last finished day: yesterday in the site's zone.
	lastDone := booking.DateOf(s.now().In(loc)).AddDays(-1)
	out := map[cellKey]cell{}
	// into finds the report bucket holding instant t.
	into := func(t time.Time) int {
		return sort.Search(len(buckets), func(j int) bool { return buckets[j].End.After(t) })
	}
	add := func(g string, t time.Time, c cell) {
		i := into(t)
		if i >= len(buckets) {
			return
		}
		k := cellKey{g, i + 1}
		o := out[k]
		o.peak = max(o.peak, c.peak)
		o.secs += c.secs
		out[k] = o
	}
	done := w.To
	if lastDone.Before(done) {
		done = lastDone
	}
	if !done.Before(w.From) {
		if err := s.ensureCells(ctx, sc.SiteID, loc, kind, w.From, done); err != nil {
			return nil, err
		}
		if err := s.readCells(ctx, sc.SiteID, loc, kind, only, w.From, done, size == Hour, func(g string, t time.Time, c cell) {
			add(as(g), t, c)
		}); err != nil {
			return nil, err
		}
	}
	if done.Before(w.To) {
		live := Window{From: w.From, To: w.To}
		if !done.Before(w.From) {
			live.From = done.AddDays(1)
		}
		atom := Day
		if size == Hour {
			atom = Hour
		}
		lb, err := Buckets(live, atom, loc)
		if err != nil {
			return nil, err
		}
		cells, err := s.presence(ctx, sc, by, lb)
		if err != nil {
			return nil, err
		}
		for k, c := range cells {
			add(k.group, lb[k.bucket-1].Start, c)
		}
	}
	return out, nil
}

// readCells streams the cells of [from, to]: per group and hour, or per
// group and day (the hours' largest peak and summed person-seconds) when
// hours is false. t is the start of the cell's hour or day.
func (s *Service) readCells(ctx context.Context, siteID string, loc *time.Location, kind, only string, from, to booking.Date, hours bool, fn func(g string, t time.Time, c cell)) error {
	q := `SELECT grp, day, hour, peak, secs FROM report_cells WHERE site_id = ? AND kind = ? AND day BETWEEN ? AND ?`
	if !hours {
		q = `SELECT grp, day, 0 AS hour, MAX(peak) AS peak, SUM(secs) AS secs FROM report_cells WHERE site_id = ? AND kind = ? AND day BETWEEN ? AND ?`
	}
	args := []any{siteID, kind, dayNum(from), dayNum(to)}
	if only != "" {
		q += " AND grp = ?"
		args = append(args, only)
	}
	if !hours {
		q += " GROUP BY grp, day"
	}
	rows, err := s.db.Conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return database.Translate(err)
	}
	defer rows.Close()
	starts := map[int]time.Time{}
	for rows.Next() {
		var g string
		var day, hour int
		var c cell
		if err := rows.Scan(&g, &day, &hour, &c.peak, &c.secs); err != nil {
			return database.Translate(err)
		}
		st, ok := starts[day]
		if !ok {
			st = epochDate.AddDays(day).In(loc)
			starts[day] = st
		}
		fn(g, st.Add(time.Duration(hour)*time.Hour), c)
	}
	return database.Translate(rows.Err())
}

// ensureCells makes the cells of kind for the finished days [from, to]
// current: it drops what report_dirty says is stale and fills the days
// that have no cells, one batch of days per transaction.
func (s *Service) ensureCells(ctx context.Context, siteID string, loc *time.Location, kind string, from, to booking.Date) error {
	c := s.db.Conn(ctx)
	var dirty, filled int64
	if err := c.Raw(`SELECT COUNT(*) FROM report_dirty WHERE site_id = ?`, siteID).Scan(&dirty).Error; err != nil {
		return database.Translate(err)
	}
	if err := c.Raw(`SELECT COUNT(*) FROM report_cell_days WHERE site_id = ? AND kind = ? AND day BETWEEN ? AND ?`,
		siteID, kind, dayNum(from), dayNum(to)).Scan(&filled).Error; err != nil {
		return database.Translate(err)
	}
	if dirty == 0 && int(filled) == booking.DaysBetween(from, to)+1 {
		return nil
	}
	for {
		more := false
		err := s.db.Tx(ctx, func(tx *gorm.DB) error {
			if s.dialect().pg {
				if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 7))`, "report_cells:"+siteID).Error; err != nil {
					return err
				}
			}
			if err := s.dropStale(tx, siteID, loc); err != nil {
				return err
			}
			var have []int
			if err := tx.Raw(`SELECT day FROM report_cell_days WHERE site_id = ? AND kind = ? AND day BETWEEN ? AND ? ORDER BY day`,
				siteID, kind, dayNum(from), dayNum(to)).Scan(&have).Error; err != nil {
				return err
			}
			// The first run of missing days, at most rollupBatch long.
			got := map[int]bool{}
			for _, d := range have {
				got[d] = true
			}
			start, n := -1, 0
			for d := dayNum(from); d <= dayNum(to); d++ {
				if got[d] {
					if start >= 0 {
						break
					}
					continue
				}
				if start < 0 {
					start = d
				}
				n++
				if n == rollupBatch {
					break
				}
			}
			if start < 0 {
				return nil
			}
			more = true
			return s.fillCells(tx, siteID, loc, kind, epochDate.AddDays(start), epochDate.AddDays(start+n-1))
		})
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
}

// dropStale deletes the cells (and filled-day marks) of every day a
// report_dirty row of the site touches, and those rows.
func (s *Service) dropStale(tx *gorm.DB, siteID string, loc *time.Location) error {
	// One line per kind and UTC day of the changes' starts: few lines even
	// after a bulk load.
	var rows []struct {
		Kind   string
		Lo, Hi int64
		MaxID  int64
	}
	//
	// On PostgreSQL the rows are deleted and read in one statement: a
	// separate DELETE would run on a newer snapshot (READ COMMITTED) and
	// could remove a row committed in between, unread. On SQLite the
	// transaction holds the write lock, so no row can arrive in between.
	q := `SELECT kind, MIN(lo) AS lo, MAX(hi) AS hi, MAX(id) AS max_id FROM report_dirty WHERE site_id = ?
		GROUP BY kind, lo / 86400`
	if s.dialect().pg {
		q = `WITH d AS (DELETE FROM report_dirty WHERE site_id = ? RETURNING id, kind, lo, hi)
		SELECT kind, MIN(lo) AS lo, MAX(hi) AS hi, MAX(id) AS max_id FROM d GROUP BY kind, lo / 86400`
	}
	if err := tx.Raw(q, siteID).Scan(&rows).Error; err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	var maxID int64
	for _, r := range rows {
		maxID = max(maxID, r.MaxID)
		lo := dayNum(booking.DateOf(time.Unix(r.Lo, 0).In(loc)))
		hi := 1 << 30 // open: every day from lo on
		if r.Hi < openEnd {
			hi = dayNum(booking.DateOf(time.Unix(r.Hi, 0).In(loc)))
		}
		if r.Lo <= 0 {
			lo = -1 << 30
		}
		kinds := ""
		args := []any{siteID, lo, hi}
		if r.Kind != "" {
			kinds = " AND kind = ?"
			args = append(args, r.Kind)
		}
		for _, t := range []string{"report_cells", "report_cell_days"} {
			if err := tx.Exec(`DELETE FROM `+t+` WHERE site_id = ? AND day BETWEEN ? AND ?`+kinds, args...).Error; err != nil {
				return err
			}
		}
	}
	if s.dialect().pg {
		return nil
	}
	return tx.Exec(`DELETE FROM report_dirty WHERE site_id = ? AND id <= ?`, siteID, maxID).Error
}

// fillCells computes the cells of kind for the days [from, to] with one
// statement (the live sweep over the days' hour buckets, inserted) and
// marks the days filled.
func (s *Service) fillCells(tx *gorm.DB, siteID string, loc *time.Location, kind string, from, to booking.Date) error {
	buckets, err := Buckets(Window{From: from, To: to}, Hour, loc)
	if err != nil {
		return err
	}
	// Each hour bucket's (day, hour) as day*32 + hour.
	codes := make([]int64, 0, len(buckets))
	days := make([]int, 0, booking.DaysBetween(from, to)+1)
	for d := from; !d.After(to); d = d.AddDays(1) {
		n := dayNum(d)
		days = append(days, n)
		start, end := d.In(loc), d.AddDays(1).In(loc)
		for h := 0; start.Add(time.Duration(h) * time.Hour).Before(end); h++ {
			codes = append(codes, int64(n)*32+int64(h))
		}
	}
	if len(codes) != len(buckets) {
		return fmt.Errorf("reports: %d hour buckets but %d cell labels for %s…%s", len(buckets), len(codes), from, to)
	}
	d := s.dialect()
	sweep, args := s.presenceSQL(Scope{SiteID: siteID}, kindGroup(kind), buckets, codes)
	rawDays, _ := json.Marshal(days)
	if err := tx.Exec(`DELETE FROM report_cells WHERE site_id = ? AND kind = ? AND day BETWEEN ? AND ?`,
		siteID, kind, dayNum(from), dayNum(to)).Error; err != nil {
		return err
	}
	ins := `INSERT INTO report_cells (site_id, kind, day, grp, hour, peak, secs)
SELECT ` + d.param("uuid") + `, ` + d.param("text") + `, x.lab / 32, x.g, x.lab % 32, x.peak, x.secs
FROM (` + sweep + `) x
WHERE x.peak > 0
ON CONFLICT (site_id, kind, day, grp, hour) DO UPDATE SET peak = excluded.peak, secs = excluded.secs`
	if err := tx.Exec(ins, append([]any{siteID, kind}, args...)...).Error; err != nil {
		return err
	}
	return tx.Exec(`INSERT INTO report_cell_days (site_id, kind, day)
SELECT `+d.param("uuid")+`, `+d.param("text")+`, dd.t FROM (`+d.jsonInts()+`) dd WHERE dd.t IS NOT NULL
ON CONFLICT (site_id, kind, day) DO NOTHING`, siteID, kind, string(rawDays)).Error
}

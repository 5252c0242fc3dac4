package reports

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// Groupings of the occupancy report.
const (
	GroupNone  = ""
	GroupFloor = "floor"
	GroupZone  = "zone"
	GroupTeam  = "team"
)

// OccupancyQuery asks for an occupancy report.
type OccupancyQuery struct {
	Scope
	Window
	Bucket  string // hour, day (default) or week
	GroupBy string // "", floor, zone or team
}

// Group is one line of a breakdown.
type Group struct {
	// ID is the floor's, zone's or team's id; "" for everything (no
	// breakdown), for check-ins at resources without a zone, or people
	// without a team.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Members: the team's size (team breakdowns only).
	Members int `json:"members,omitempty"`
}

// OccupancyRow is one bucket of one group.
type OccupancyRow struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	GroupID string    `json:"group_id"`
	// Peak is the most people present at the same instant in the bucket.
	Peak int `json:"peak"`
	// Mean is the time-weighted mean of people present over the bucket
	// (person-hours ÷ the bucket's hours).
	Mean float64 `json:"mean"`
	// PersonHours is the total time people were present in the bucket.
	PersonHours float64 `json:"person_hours"`
}

// Occupancy is the occupancy report.
type Occupancy struct {
	Scope
	From    string `json:"from"`
	To      string `json:"to"`
	Bucket  string `json:"bucket"`
	GroupBy string `json:"group_by"`
	// Groups lists the breakdown's lines (one with id "" without group_by).
	Groups []Group `json:"groups"`
	// SuppressedGroups counts teams left out for privacy (fewer members than MinGroupSize).
	SuppressedGroups int `json:"suppressed_groups"`
	MinGroupSize     int `json:"min_group_size,omitempty"`
	// Rows: every bucket of every group, in group then time order.
	Rows []OccupancyRow `json:"rows"`
}

// Occupancy computes people present per bucket from check-ins.
//
// A person is present from a check-in's checked_in_at until its
// checked_out_at (a check-in still open counts until now), to the second,
// for at most booking.MaxLength (25 hours) per check-in.
// A person with overlapping check-ins (a desk and a meeting room) counts
// once; a breakdown counts them in each group they are present in.
func (s *Service) Occupancy(ctx context.Context, q OccupancyQuery) (*Occupancy, error) {
	if err := s.resolve(ctx, &q.Scope); err != nil {
		return nil, err
	}
	if q.Bucket == "" {
		q.Bucket = Day
	}
	switch q.GroupBy {
	case GroupNone, GroupFloor, GroupZone, GroupTeam:
	default:
		return nil, perch.Invalid("group_by", "group_by must be floor, zone or team")
	}
	buckets, err := Buckets(q.Window, q.Bucket, q.loc)
	if err != nil {
		return nil, err
	}
	r := &Occupancy{Scope: q.Scope, From: q.From.String(), To: q.To.String(), Bucket: q.Bucket, GroupBy: q.GroupBy, Rows: []OccupancyRow{}}
	groups, err := s.groups(ctx, q.Scope, q.GroupBy)
	if err != nil {
		return nil, err
	}
	if q.GroupBy == GroupTeam {
		set, err := s.GetSettings(ctx, q.SiteID)
		if err != nil {
			return nil, err
		}
		r.MinGroupSize = set.MinGroupSize
		kept := groups[:0]
		for _, g := range groups {
			if g.Members < set.MinGroupSize {
				r.SuppressedGroups++
				continue
			}
			kept = append(kept, g)
		}
		groups = kept
	}
	r.Groups = groups
	cells, err := s.occupancyCells(ctx, q.Scope, q.GroupBy, q.Window, q.Bucket, buckets)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		for i, b := range buckets {
			c := cells[cellKey{g.ID, i + 1}]
			hours := b.End.Sub(b.Start).Hours()
			r.Rows = append(r.Rows, OccupancyRow{Start: b.Start.In(q.loc), End: b.End.In(q.loc), GroupID: g.ID,
				Peak: c.peak, PersonHours: float64(c.secs) / 3600, Mean: float64(c.secs) / 3600 / hours})
		}
	}
	return r, nil
}

// groups lists the lines of a breakdown: every floor, zone or team of the
// scope (and a line "" for what has none), in name order.
func (s *Service) groups(ctx context.Context, sc Scope, by string) ([]Group, error) {
	c := s.db.Conn(ctx)
	var out []Group
	var err error
	switch by {
	case GroupNone:
		return []Group{{ID: "", Name: "All"}}, nil
	case GroupFloor:
		q := c.Table("floors").Select("id, name").Where("site_id = ?", sc.SiteID).Order("level, name, id")
		if sc.FloorID != "" {
			q = q.Where("id = ?", sc.FloorID)
		}
		err = q.Scan(&out).Error
	case GroupZone:
		q := c.Table("zones").Select("id, name").Where("site_id = ?", sc.SiteID).Order("name, id")
		if sc.FloorID != "" {
			q = q.Where("floor_id = ?", sc.FloorID)
		}
		if sc.ZoneID != "" {
			q = q.Where("id = ?", sc.ZoneID)
		}
		err = q.Scan(&out).Error
		if err == nil && sc.ZoneID == "" {
			out = append(out, Group{ID: "", Name: "No zone"})
		}
	case GroupTeam:
		err = c.Raw(`SELECT t.id AS id, t.name AS name, (SELECT COUNT(*) FROM users u WHERE u.team_id = t.id) AS members
			FROM teams t ORDER BY t.name, t.id`).Scan(&out).Error
		if err == nil {
			var n int64
			err = c.Table("users").Where("team_id IS NULL AND role <> 'kiosk'").Count(&n).Error
			out = append(out, Group{ID: "", Name: "No team", Members: int(n)})
		}
	}
	if err != nil {
		return nil, database.Translate(err)
	}
	return out, nil
}

type cellKey struct {
	group  string
	bucket int // 1-based
}

type cell struct {
	peak int
	secs int64
}

// presence runs the one aggregation query: per group and bucket, the peak
// of people present and the person-seconds.
//
// How: the check-ins of the scope overlapping the window become intervals
// [in, out) in epoch seconds; a person's overlapping intervals within a
// group are merged (gaps and islands: an interval starts a new island
// unless it begins before the latest end so far); each island adds +1 at
// its start and −1 at its end, and every bucket boundary adds a 0 event,
// so that no stretch between two events crosses a boundary. A running sum
// over the events in time order (peers — equal times — summed together)
// is the number present from that event to the next; the running count of
// boundaries says which bucket an event falls in. Per bucket: the peak is
// the largest running sum, the person-seconds the sum of running sum ×
// time to the next event.
func (s *Service) presence(ctx context.Context, sc Scope, by string, buckets []Bucket) (map[cellKey]cell, error) {
	q, args := s.presenceSQL(sc, by, buckets, nil)
	rows, err := s.db.Conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, database.Translate(err)
	}
	defer rows.Close()
	out := map[cellKey]cell{}
	for rows.Next() {
		var k cellKey
		var c cell
		var lab int64
		if err := rows.Scan(&k.group, &k.bucket, &c.peak, &c.secs, &lab); err != nil {
			return nil, database.Translate(err)
		}
		out[k] = c
	}
	return out, database.Translate(rows.Err())
}

// maxStay is the longest presence one check-in gives, in seconds
// (booking.MaxLength): a check-in left open, or closed later than that,
// counts for that long. It makes a day's presence depend only on the
// check-ins starting at most that long before the day, so a report's
// numbers do not depend on where its window starts (and finished days can
// be kept as cells).
var maxStay = fmt.Sprint(int64(booking.MaxLength / time.Second))

// presenceSQL is presence's query (columns g, bi, peak, secs, and lab:
// labels[bi-1], a non-negative number below 2^24, when labels is not nil)
// and its arguments. A label rides on its bucket's boundary event, packed
// into the same JSON integer (t·2^24 + label), and each event takes the
// running MAX of the labels — labels must increase with time.
func (s *Service) presenceSQL(sc Scope, by string, buckets []Bucket, labels []int64) (string, []any) {
	d := s.dialect()
	bounds := make([]int64, 0, len(buckets)+1)
	for _, b := range buckets {
		bounds = append(bounds, b.Start.Unix())
	}
	start, end := buckets[0].Start, buckets[len(buckets)-1].End
	bounds = append(bounds, end.Unix())
	b := "SELECT idx, t, 0 AS c FROM (" + d.jsonInts() + ") bj"
	if labels != nil {
		for i := range bounds {
			bounds[i] <<= 24
			if i < len(labels) {
				bounds[i] += labels[i]
			} else {
				bounds[i] += labels[len(labels)-1]
			}
		}
		b = "SELECT idx, t / 16777216 AS t, t % 16777216 AS c FROM (" + d.jsonInts() + ") bj"
	}
	raw, _ := json.Marshal(bounds)
	now := s.now().UTC()

	var g, joins, where string
	args := []any{string(raw)}
	switch by {
	case GroupNone:
		g = "''"
	case GroupFloor:
		g = d.text("ci.floor_id")
	case GroupTeam:
		g = "COALESCE(" + d.text("us.team_id") + ", '')"
		joins = " JOIN users us ON us.id = ci.user_id"
	case GroupZone:
		g = "COALESCE(" + d.text("COALESCE(dk.zone_id, rm.zone_id)") + ", '')"
	}
	if by == GroupZone || sc.ZoneID != "" {
		joins += " LEFT JOIN desks dk ON dk.id = ci.resource_id LEFT JOIN rooms rm ON rm.id = ci.resource_id"
	}
	args = append(args, now, sc.SiteID, start.Add(-booking.MaxLength), end, now, start)
	if sc.FloorID != "" {
		where += " AND ci.floor_id = ?"
		args = append(args, sc.FloorID)
	}
	if sc.ZoneID != "" {
		where += " AND COALESCE(dk.zone_id, rm.zone_id) = ?"
		args = append(args, sc.ZoneID)
	}
	args = append(args, len(buckets))
	q := `WITH b AS (` + b + `),
ci AS (
	SELECT ci.user_id AS u, ` + g + ` AS g, ` + d.epoch("ci.checked_in_at") + ` AS s,
		` + d.least(d.epoch("COALESCE(ci.checked_out_at, ?)"), d.epoch("ci.checked_in_at")+" + "+maxStay) + ` AS e
	FROM check_ins ci` + joins + `
	WHERE ci.site_id = ? AND ci.checked_in_at >= ? AND ci.checked_in_at < ? AND COALESCE(ci.checked_out_at, ?) > ?` + where + `
),
m AS (
	SELECT u, g, s, e, CASE WHEN s < MAX(e) OVER (PARTITION BY g, u ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
		THEN 0 ELSE 1 END AS fresh
	FROM ci WHERE e > s
),
i AS (SELECT u, g, s, e, SUM(fresh) OVER (PARTITION BY g, u ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS k FROM m),
p AS (SELECT g, MIN(s) AS s, MAX(e) AS e FROM i GROUP BY g, u, k),
ev AS (
	SELECT g, s AS t, 1 AS d, 0 AS x, -1 AS c FROM p
	UNION ALL SELECT g, e AS t, -1 AS d, 0 AS x, -1 AS c FROM p
	UNION ALL SELECT gs.g, b.t, 0 AS d, 1 AS x, b.c FROM (SELECT DISTINCT g FROM p) gs CROSS JOIN b
),
r AS (
	SELECT g, t, SUM(d) OVER w AS n, SUM(x) OVER w AS bi, MAX(c) OVER w AS lab, LEAD(t) OVER (PARTITION BY g ORDER BY t) AS nt
	FROM ev WINDOW w AS (PARTITION BY g ORDER BY t)
)
SELECT g, bi, MAX(n) AS peak, SUM(n * (nt - t)) AS secs, MAX(lab) AS lab FROM r WHERE bi BETWEEN 1 AND ? GROUP BY g, bi`
	return q, args
}

// TeamDay is one team's peak presence on one local day.
type TeamDay struct {
	TeamID string       `json:"team_id"`
	Date   booking.Date `json:"-"`
	Day    string       `json:"date"`
	Peak   int          `json:"peak"`
}

// TeamDailyPeaks returns, for every team and every local day of [from,
// to] at a site, the most members present at once (the occupancy report's
// peak, by day and team, without the privacy threshold: for planning, not
// for display). Teams appear in name order, days in order, zero days
// included. People without a team are left out.
func (s *Service) TeamDailyPeaks(ctx context.Context, siteID string, from, to booking.Date) ([]TeamDay, error) {
	sc := Scope{SiteID: siteID}
	if err := s.resolve(ctx, &sc); err != nil {
		return nil, err
	}
	w := Window{From: from, To: to}
	buckets, err := Buckets(w, Day, sc.loc)
	if err != nil {
		return nil, err
	}
	groups, err := s.groups(ctx, sc, GroupTeam)
	if err != nil {
		return nil, err
	}
	cells, err := s.occupancyCells(ctx, sc, GroupTeam, w, Day, buckets)
	if err != nil {
		return nil, err
	}
	var out []TeamDay
	for _, g := range groups {
		if g.ID == "" {
			continue
		}
		for i := range buckets {
			d := from.AddDays(i)
			out = append(out, TeamDay{TeamID: g.ID, Date: d, Day: d.String(), Peak: cells[cellKey{g.ID, i + 1}].peak})
		}
	}
	return out, nil
}

// groupName finds a group's name (for charts and CSV).
func (r *Occupancy) groupName(id string) string {
	i := slices.IndexFunc(r.Groups, func(g Group) bool { return g.ID == id })
	if i < 0 {
		return id
	}
	return r.Groups[i].Name
}

// describe is a one-line description of the report's scope and window.
func (r *Occupancy) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "from %s to %s (%s)", r.From, r.To, r.Timezone)
	return b.String()
}

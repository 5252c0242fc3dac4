package reports

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// Groupings of the utilisation report.
const (
	ByResource = "resource"
	ByZone     = "zone"
	ByFloor    = "floor"
)

// UtilisationQuery asks for a utilisation report.
type UtilisationQuery struct {
	Scope
	Window
	ResourceType booking.ResourceType // desk (default) or room
	GroupBy      string               // resource (default), zone or floor
}

// UtilisationRow is one resource, zone or floor.
type UtilisationRow struct {
	GroupID string `json:"group_id"`
	Name    string `json:"name"`
	// Resources: bookable desks or rooms in the group.
	Resources int `json:"resources"`
	// Capacity: the rooms' seats (rooms only).
	Capacity int `json:"capacity,omitempty"`
	// BookableHours: the site policy's bookable hours on its open days in
	// the window, times Resources.
	BookableHours float64 `json:"bookable_hours"`
	// BookedHours: hours of bookings that were not cancelled (including
	// no-shows and walk-ups), clipped to the window.
	BookedHours float64 `json:"booked_hours"`
	// CheckedInHours: hours between check-in and check-out, clipped to the window.
	CheckedInHours float64 `json:"checked_in_hours"`
	// BookedRate = BookedHours ÷ BookableHours; CheckedInRate = CheckedInHours ÷ BookableHours (null without bookable hours).
	BookedRate    *float64 `json:"booked_rate"`
	CheckedInRate *float64 `json:"checked_in_rate"`
	// Bookings: bookings starting in the window, not cancelled.
	Bookings int `json:"bookings"`
	// NoShows: of those, released because nobody checked in.
	NoShows int `json:"no_shows"`
	// NoShowRate = NoShows ÷ (Bookings − WalkUps) (null when 0 ÷ 0).
	NoShowRate *float64 `json:"no_show_rate"`
	// CheckIns: check-ins of bookings starting in the window; WalkUps: those that were walk-ups.
	CheckIns    int      `json:"check_ins"`
	WalkUps     int      `json:"walk_ups"`
	WalkUpShare *float64 `json:"walk_up_share"`
	// MedianLeadHours: median of (start − created) over Bookings that were
	// not walk-ups (null without any).
	MedianLeadHours *float64 `json:"median_lead_hours"`
}

// Utilisation is the utilisation report.
type Utilisation struct {
	Scope
	From         string `json:"from"`
	To           string `json:"to"`
	ResourceType string `json:"resource_type"`
	GroupBy      string `json:"group_by"`
	// BookableHoursPerResource: one resource's bookable hours in the window.
	BookableHoursPerResource float64 `json:"bookable_hours_per_resource"`
	// MeetingSize: Perch does not store how many people attend a meeting,
	// so rooms are reported by capacity only.
	MeetingSize string           `json:"meeting_size,omitempty"`
	Rows        []UtilisationRow `json:"rows"`
}

// Utilisation computes booked and checked-in hours against bookable
// hours, no-shows, walk-ups and lead times per resource, zone or floor.
func (s *Service) Utilisation(ctx context.Context, q UtilisationQuery) (*Utilisation, error) {
	if q.ResourceType == "" {
		q.ResourceType = booking.Desk
	}
	if q.ResourceType != booking.Desk && q.ResourceType != booking.Room {
		return nil, perch.Invalid("resource_type", "resource_type must be desk or room")
	}
	if q.GroupBy == "" {
		q.GroupBy = ByResource
	}
	if q.GroupBy != ByResource && q.GroupBy != ByZone && q.GroupBy != ByFloor {
		return nil, perch.Invalid("group_by", "group_by must be resource, zone or floor")
	}
	if err := s.resolve(ctx, &q.Scope); err != nil {
		return nil, err
	}
	if err := q.Window.check(); err != nil {
		return nil, err
	}
	policy, err := s.bk.GetPolicy(ctx, q.SiteID)
	if err != nil {
		return nil, err
	}
	per, err := bookableHours(policy, q.Window, q.loc)
	if err != nil {
		return nil, err
	}
	r := &Utilisation{Scope: q.Scope, From: q.From.String(), To: q.To.String(), ResourceType: string(q.ResourceType),
		GroupBy: q.GroupBy, BookableHoursPerResource: per, Rows: []UtilisationRow{}}
	if q.ResourceType == booking.Room {
		r.MeetingSize = "not recorded: Perch does not store attendee counts, so rooms show capacity only"
	}
	d := s.dialect()
	table, name, capacity := "desks", "x.code", "0"
	if q.ResourceType == booking.Room {
		table, name, capacity = "rooms", "x.name", "x.capacity"
	}
	// gkey is the group's id as text; gcol the column it comes from, which
	// the aggregations group by (uuid on PostgreSQL: sorting and hashing
	// text costs several times more over a million bookings).
	var gkey, gname, gcol string
	switch q.GroupBy {
	case ByResource:
		gkey, gname, gcol = d.text("x.id"), name, "x.id"
	case ByZone:
		gkey, gname, gcol = "COALESCE("+d.text("x.zone_id")+", '')", "COALESCE(z.name, 'No zone')", "x.zone_id"
	case ByFloor:
		gkey, gname, gcol = d.text("x.floor_id"), "f.name", "x.floor_id"
	}
	scope, scopeArgs := "x.site_id = ? AND x.bookable", []any{q.SiteID}
	if q.FloorID != "" {
		scope += " AND x.floor_id = ?"
		scopeArgs = append(scopeArgs, q.FloorID)
	}
	if q.ZoneID != "" {
		scope += " AND x.zone_id = ?"
		scopeArgs = append(scopeArgs, q.ZoneID)
	}
	from, to := q.Window.start(q.loc), q.Window.end(q.loc)
	now := s.now().UTC()
	fromS, toS := from.Unix(), to.Unix()
	clip := func(a, b string) string {
		lo := d.greatest(d.epoch(a), "?")
		hi := d.least(d.epoch(b), "?")
		return d.greatest("0", hi+" - "+lo)
	}
	// A booking's check-in: found by booking_id, and also bounded by site
	// and time so that PostgreSQL reads only the window's check-ins (an
	// index range scan) instead of hashing all of them. A check-in lies in
	// its booking's check-in window — from at most 240 minutes (the
	// policy's limit) before its start to its end, at most 25 hours after
	// — and the bookings read start from 25 hours before the window, so two
	// days either side hold every check-in of them.
	ciJoin := "ci.booking_id = b.id AND ci.site_id = ? AND ci.checked_in_at >= ? AND ci.checked_in_at < ?"
	ciArgs := []any{q.SiteID, from.Add(-48 * time.Hour), to.Add(48 * time.Hour)}
	inWindow := "(b.start_at >= ? AND b.start_at < ? AND b.status <> 'cancelled')"
	// One pass over the scope's bookings overlapping the window, each with
	// its check-in (if any), grouped.
	agg := `SELECT ` + gkey + ` AS g,
	SUM(CASE WHEN b.status <> 'cancelled' THEN ` + clip("b.start_at", "b.end_at") + ` ELSE 0 END) AS booked_s,
	SUM(CASE WHEN ci.id IS NULL THEN 0 ELSE ` + clip("ci.checked_in_at", "COALESCE(ci.checked_out_at, ?)") + ` END) AS checked_s,
	SUM(CASE WHEN ` + inWindow + ` THEN 1 ELSE 0 END) AS bookings,
	SUM(CASE WHEN ` + inWindow + ` AND b.status = 'released' AND b.status_reason = 'no_show' THEN 1 ELSE 0 END) AS no_shows,
	SUM(CASE WHEN ` + inWindow + ` AND ci.id IS NOT NULL THEN 1 ELSE 0 END) AS check_ins,
	SUM(CASE WHEN ` + inWindow + ` AND ci.walk_up THEN 1 ELSE 0 END) AS walk_ups
FROM bookings b
JOIN ` + table + ` x ON x.id = b.resource_id
LEFT JOIN check_ins ci ON ` + ciJoin + `
WHERE b.site_id = ? AND b.resource_type = ? AND b.start_at >= ? AND b.start_at < ? AND b.end_at > ? AND ` + scope + `
GROUP BY ` + gcol
	args := []any{toS, fromS, now, toS, fromS}
	args = append(args, from, to, from, to, from, to, from, to)
	args = append(args, ciArgs...)
	args = append(args, q.SiteID, string(q.ResourceType), from.Add(-booking.MaxLength), to, from)
	args = append(args, scopeArgs...)
	// The median lead time per group over the group's planned bookings
	// (not cancelled, starting in the window, without a walk-up
	// check-in): PostgreSQL's percentile_cont(0.5) (the mean of the middle
	// two for an even count); on SQLite the middle one or two in lead-time
	// order by ROW_NUMBER/COUNT windows.
	lead := d.epoch("b.start_at") + ` - ` + d.epoch("b.created_at")
	plannedFrom := `FROM bookings b
	JOIN ` + table + ` x ON x.id = b.resource_id
	WHERE b.site_id = ? AND b.resource_type = ? AND b.start_at >= ? AND b.start_at < ? AND b.status <> 'cancelled'
		AND NOT EXISTS (SELECT 1 FROM check_ins ci WHERE ` + ciJoin + ` AND ci.walk_up) AND ` + scope
	median := `SELECT g, AVG(lead) AS med FROM (
	SELECT ` + gkey + ` AS g, ` + lead + ` AS lead,
		ROW_NUMBER() OVER (PARTITION BY ` + gcol + ` ORDER BY ` + lead + `) AS rn,
		COUNT(*) OVER (PARTITION BY ` + gcol + `) AS cnt
	` + plannedFrom + `
) l WHERE rn IN ((cnt + 1) / 2, (cnt + 2) / 2) GROUP BY g`
	if d.pg {
		median = `SELECT ` + gkey + ` AS g, percentile_cont(0.5) WITHIN GROUP (ORDER BY ` + lead + `) AS med
	` + plannedFrom + ` GROUP BY ` + gcol
	}
	margs := append([]any{q.SiteID, string(q.ResourceType), from, to}, ciArgs...)
	margs = append(margs, scopeArgs...)
	groups := `SELECT ` + gkey + ` AS g, ` + gname + ` AS name, COUNT(*) AS n, SUM(` + capacity + `) AS cap
FROM ` + table + ` x JOIN floors f ON f.id = x.floor_id LEFT JOIN zones z ON z.id = x.zone_id
WHERE ` + scope + ` GROUP BY ` + gkey + `, ` + gname + ` ORDER BY name, g`
	c := s.db.Conn(ctx)
	var gs []struct {
		G    string
		Name string
		N    int
		Cap  int
	}
	if err := c.Raw(groups, scopeArgs...).Scan(&gs).Error; err != nil {
		return nil, database.Translate(err)
	}
	var aggs []aggRow
	if err := c.Raw(agg, args...).Scan(&aggs).Error; err != nil {
		return nil, database.Translate(err)
	}
	var meds []medRow
	if err := c.Raw(median, margs...).Scan(&meds).Error; err != nil {
		return nil, database.Translate(err)
	}
	byGroup := map[string]aggRow{}
	for _, a := range aggs {
		byGroup[a.G] = a
	}
	medOf := map[string]float64{}
	for _, m := range meds {
		medOf[m.G] = m.Med
	}
	for _, g := range gs {
		row := UtilisationRow{GroupID: g.G, Name: g.Name, Resources: g.N, Capacity: g.Cap, BookableHours: per * float64(g.N)}
		a := byGroup[g.G]
		row.BookedHours, row.CheckedInHours = a.BookedS/3600, a.CheckedS/3600
		row.Bookings, row.NoShows, row.CheckIns, row.WalkUps = a.Bookings, a.NoShows, a.CheckIns, a.WalkUps
		if m, ok := medOf[g.G]; ok {
			h := m / 3600
			row.MedianLeadHours = &h
		}
		row.BookedRate = ratio(row.BookedHours, row.BookableHours)
		row.CheckedInRate = ratio(row.CheckedInHours, row.BookableHours)
		row.NoShowRate = ratio(float64(row.NoShows), float64(row.Bookings-row.WalkUps))
		row.WalkUpShare = ratio(float64(row.WalkUps), float64(row.CheckIns))
		if q.ResourceType == booking.Desk {
			row.Capacity = 0
		}
		r.Rows = append(r.Rows, row)
	}
	return r, nil
}

type aggRow struct {
	G                                    string
	BookedS, CheckedS                    float64
	Bookings, NoShows, CheckIns, WalkUps int
}

type medRow struct {
	G   string
	Med float64
}

func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	v := a / b
	return &v
}

// bookableHours is one resource's bookable hours in the window: on every
// local day that is one of the policy's weekdays and not a closed date,
// the real time from bookable_from to bookable_until (so a day the clocks
// change has one hour more or less when the span crosses the change).
func bookableHours(p booking.Policy, w Window, loc *time.Location) (float64, error) {
	from, err := booking.ParseClock(p.BookableFrom)
	if err != nil {
		return 0, err
	}
	until, err := booking.ParseClock(p.BookableUntil)
	if err != nil {
		return 0, err
	}
	open := map[time.Weekday]bool{}
	names := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	for _, d := range p.Weekdays {
		if i := slices.Index(names, strings.ToLower(d)); i >= 0 {
			open[time.Weekday(i)] = true
		}
	}
	closed := map[string]bool{}
	for _, c := range p.ClosedDates {
		closed[c] = true
	}
	var total time.Duration
	for d := w.From; !d.After(w.To); d = d.AddDays(1) {
		if open[d.Weekday()] && !closed[d.String()] {
			total += d.At(until, loc).Sub(d.At(from, loc))
		}
	}
	return total.Hours(), nil
}

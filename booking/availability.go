package booking

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// State is what a desk or room is over a window, for one viewer.
type State string

const (
	StateFree        State = "free"
	StateBooked      State = "booked"
	StateCheckedIn   State = "checked_in"
	StateAssigned    State = "assigned"     // someone's assigned desk, not released
	StateNotBookable State = "not_bookable" // out of service or reserved for other teams
)

// MaxWindow bounds an availability query.
const MaxWindow = 31 * 24 * time.Hour

// Slot is a booking as a floor map shows it. The owner and title are shown
// only where the site's privacy setting allows (always to admins,
// reception and the owner).
type Slot struct {
	ID       string    `json:"id"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Status   Status    `json:"status"`
	UserID   *string   `json:"user_id,omitempty"`
	UserName *string   `json:"user_name,omitempty"`
	Title    *string   `json:"title,omitempty"`
	Mine     bool      `json:"mine"`
}

// ResourceState is one desk or room on a floor with its state.
type ResourceState struct {
	ResourceType ResourceType         `json:"resource_type"`
	ID           string               `json:"id"`
	FloorID      string               `json:"floor_id"`
	Name         string               `json:"name"`
	ZoneID       *string              `json:"zone_id"`
	X            float64              `json:"x"`
	Y            float64              `json:"y"`
	Width        *float64             `json:"width,omitempty"`
	Height       *float64             `json:"height,omitempty"`
	Capacity     *int                 `json:"capacity,omitempty"`
	Amenities    floorplans.Amenities `json:"amenities"`
	BookingMode  floorplans.Mode      `json:"booking_mode"`
	State        State                `json:"state" gorm:"-"`
	Reason       string               `json:"reason,omitempty" gorm:"-"`
	Bookings     []Slot               `json:"bookings" gorm:"-"`
	// FreeUntil: when a free resource's next booking starts (null: free for
	// the rest of the day). NextFreeAt: when a booked one becomes free.
	FreeUntil  *time.Time `json:"free_until" gorm:"-"`
	NextFreeAt *time.Time `json:"next_free_at" gorm:"-"`

	level            int
	assignedUserID   *string
	assignedUserName *string
	bookable         bool
	released         bool
}

// Window is the interval an availability query covers.
type Window struct{ From, To time.Time }

// FloorAvailability is every desk and room of a floor over a window.
type FloorAvailability struct {
	FloorID   string          `json:"floor_id"`
	SiteID    string          `json:"site_id"`
	Timezone  string          `json:"timezone"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	Resources []ResourceState `json:"resources"`
}

// checkWindow validates a query window.
func checkWindow(w Window) error {
	if w.From.IsZero() || w.To.IsZero() {
		return perch.Invalid("from", "from and to are required")
	}
	if !w.To.After(w.From) {
		return perch.Invalid("to", "to must be after from")
	}
	if w.To.Sub(w.From) > MaxWindow {
		return perch.Invalid("to", "the window may span at most 31 days")
	}
	return nil
}

// siteContext is a site's zone and compiled policy.
type siteContext struct {
	SiteID   string
	Timezone string
	Policy   *string
	loc      *time.Location
	rules    *rules
}

func (c *siteContext) prepare() error {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return err
	}
	raw := ""
	if c.Policy != nil {
		raw = *c.Policy
	}
	p, err := parsePolicy(raw)
	if err != nil {
		return err
	}
	c.loc = loc
	c.rules, err = p.compile()
	return err
}

// resourcesSQL selects the desks and rooms of a floor or site in one query,
// with the assigned person's name and whether every local day of the window
// is released.
const resourcesSQL = `
SELECT 'desk' AS resource_type, d.id, d.floor_id, f.level, d.code AS name, d.zone_id, d.x, d.y,
       NULL AS width, NULL AS height, NULL AS capacity, d.amenities, d.booking_mode, d.bookable,
       d.assigned_user_id, u.name AS assigned_user_name,
       CASE WHEN d.assigned_user_id IS NULL THEN false
            ELSE (SELECT COUNT(*) FROM desk_releases r WHERE r.desk_id = d.id AND r.date IN ?) = ? END AS released
FROM desks d JOIN floors f ON f.id = d.floor_id LEFT JOIN users u ON u.id = d.assigned_user_id
WHERE d.%[1]s = ?
UNION ALL
SELECT 'room', r.id, r.floor_id, f.level, r.name, r.zone_id, r.x, r.y, r.width, r.height, r.capacity, r.amenities,
       r.booking_mode, r.bookable, NULL, NULL, false
FROM rooms r JOIN floors f ON f.id = r.floor_id
WHERE r.%[1]s = ?`

// slotRow is a booking with its owner's name.
type slotRow struct {
	ID         string
	ResourceID string
	StartAt    time.Time
	EndAt      time.Time
	Status     Status
	UserID     string
	UserName   string
	Title      string
}

// localDates lists the site-local dates a window touches.
func localDates(w Window, loc *time.Location) []string {
	var out []string
	last := DateOf(w.To.Add(-time.Nanosecond).In(loc))
	for d := DateOf(w.From.In(loc)); !d.After(last); d = d.AddDays(1) {
		out = append(out, d.String())
	}
	return out
}

// loadBookings reads the active bookings of a floor or site (scope
// "floor_id" or "site_id") overlapping the window or later on its last day,
// by resource, with their owners' names: one query.
func loadBookings(tx *gorm.DB, scope, id string, sc *siteContext, w Window) (map[string][]slotRow, error) {
	// Bookings up to the end of the window's last local day, to say when a
	// free resource is next taken and when a booked one is next free.
	horizon := w.DayEnd(sc.loc)
	if horizon.Before(w.To) {
		horizon = w.To
	}
	col := map[string]string{"floor_id": "floor_id", "site_id": "site_id", "id": "resource_id"}[scope]
	var rows []slotRow
	q := tx.Table("bookings b").
		Select("b.id, b.resource_id, b.start_at, b.end_at, b.status, b.user_id, u.name AS user_name, b.title").
		Joins("JOIN users u ON u.id = b.user_id").
		Where("b."+col+" = ? AND b.status IN ('confirmed', 'checked_in')", id)
	q = overlaps(q, w.From, horizon)
	// Scanned by hand: a busy floor has a thousand bookings a day, and
	// reflection per row was most of the request's time.
	rs, err := q.Order("b.start_at").Rows()
	if err != nil {
		return nil, database.Translate(err)
	}
	defer rs.Close()
	for rs.Next() {
		var r slotRow
		if err := rs.Scan(&r.ID, &r.ResourceID, &r.StartAt, &r.EndAt, &r.Status, &r.UserID, &r.UserName, &r.Title); err != nil {
			return nil, database.Translate(err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, database.Translate(err)
	}
	byResource := map[string][]slotRow{}
	for _, r := range rows {
		byResource[r.ResourceID] = append(byResource[r.ResourceID], r)
	}
	return byResource, nil
}

// decide sets a resource's state, bookings and free times for a viewer.
func decide(r *ResourceState, rows []slotRow, w Window, sc *siteContext, viewer *users.Principal) {
	seeAll := viewer.Role == users.RoleAdmin || viewer.Role == users.RoleReception || sc.rules.ShowBookerToColleagues
	r.Bookings = []Slot{}
	var overlapping []slotRow
	for _, b := range rows {
		if b.StartAt.Before(w.To) && b.EndAt.After(w.From) {
			overlapping = append(overlapping, b)
			s := Slot{ID: b.ID, Start: b.StartAt.UTC(), End: b.EndAt.UTC(), Status: b.Status, Mine: viewer.UserID != "" && b.UserID == viewer.UserID}
			if seeAll || s.Mine {
				s.UserID, s.UserName, s.Title = &b.UserID, &b.UserName, &b.Title
			}
			r.Bookings = append(r.Bookings, s)
		}
	}
	switch {
	case len(overlapping) > 0:
		r.State = StateBooked
		for _, b := range overlapping {
			if b.Status == StatusCheckedIn {
				r.State = StateCheckedIn
			}
		}
		// Free again at the end of the chain of back-to-back bookings.
		t := overlapping[0].EndAt
		for _, b := range rows {
			if !b.StartAt.After(t) && b.EndAt.After(t) {
				t = b.EndAt
			}
		}
		t = t.UTC()
		r.NextFreeAt = &t
		return
	case !r.bookable:
		r.State, r.Reason = StateNotBookable, "Out of service"
		return
	}
	ownDesk := r.assignedUserID != nil && viewer.UserID != "" && *r.assignedUserID == viewer.UserID
	if r.ZoneID != nil && !ownDesk {
		if teams, ok := sc.rules.RestrictedZones[*r.ZoneID]; ok && viewer.Role != users.RoleAdmin &&
			(viewer.TeamID == nil || !slices.Contains(teams, *viewer.TeamID)) {
			r.State, r.Reason = StateNotBookable, "Reserved for other teams"
			return
		}
	}
	if r.assignedUserID != nil && !r.released && (viewer.UserID == "" || *r.assignedUserID != viewer.UserID) {
		r.State, r.Reason = StateAssigned, "Assigned desk"
		if seeAll && r.assignedUserName != nil {
			r.Reason = "Assigned to " + *r.assignedUserName
		}
		return
	}
	r.State = StateFree
	for _, b := range rows {
		if !b.StartAt.Before(w.To) {
			t := b.StartAt.UTC()
			r.FreeUntil = &t
			break
		}
	}
}

// resourceRow is a row of resourcesSQL: the public state plus the columns
// that decide it but are not shown.
type resourceRow struct {
	ResourceState
	Level            int
	Bookable         bool
	AssignedUserID   *string
	AssignedUserName *string
	Released         bool
}

// FloorAvailability returns every desk and room of a floor over [from, to)
// with its state for the viewer: one query for the floor and its site's
// policy, one for its desks and rooms, one for the bookings.
func (s *Service) FloorAvailability(ctx context.Context, viewer *users.Principal, floorID string, w Window) (*FloorAvailability, error) {
	if err := checkWindow(w); err != nil {
		return nil, err
	}
	tx := s.db.Conn(ctx)
	var scs []siteContext
	err := tx.Raw(`SELECT f.site_id, s.timezone, p.policy FROM floors f JOIN sites s ON s.id = f.site_id
		LEFT JOIN site_policies p ON p.site_id = f.site_id WHERE f.id = ?`, floorID).Scan(&scs).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if len(scs) == 0 {
		return nil, perch.NotFound("floor")
	}
	sc := &scs[0]
	if err := sc.prepare(); err != nil {
		return nil, err
	}
	states, err := s.states(tx, "floor_id", floorID, sc, w, viewer)
	if err != nil {
		return nil, err
	}
	return &FloorAvailability{FloorID: floorID, SiteID: sc.SiteID, Timezone: sc.Timezone,
		From: w.From.UTC(), To: w.To.UTC(), Resources: states}, nil
}

func (s *Service) states(tx *gorm.DB, scope, id string, sc *siteContext, w Window, viewer *users.Principal) ([]ResourceState, error) {
	rows, err := s.resources(tx, scope, id, localDates(w, sc.loc))
	if err != nil {
		return nil, err
	}
	bookings, err := loadBookings(tx, scope, id, sc, w)
	if err != nil {
		return nil, err
	}
	out := make([]ResourceState, len(rows))
	for i := range rows {
		r := rows[i].ResourceState
		r.level, r.bookable, r.released = rows[i].Level, rows[i].Bookable, rows[i].Released
		r.assignedUserID, r.assignedUserName = rows[i].AssignedUserID, rows[i].AssignedUserName
		if r.Amenities == nil {
			r.Amenities = floorplans.Amenities{}
		}
		decide(&r, bookings[r.ID], w, sc, viewer)
		out[i] = r
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ResourceType != out[j].ResourceType {
			return out[i].ResourceType == Desk
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// SearchRequest asks for free resources at a site.
type SearchRequest struct {
	Window
	ResourceType ResourceType // "" for both
	Amenities    []string
	ZoneID       string
	FloorID      string
	MinCapacity  int
	NearTeamID   string
	Limit        int
}

// SearchResult is a free resource, with why it ranks where it does.
type SearchResult struct {
	ResourceState
	// Distance to the nearest teammate's booked desk on the same floor
	// (plan units), when near_team was asked and a teammate sits there.
	TeamDistance *float64 `json:"team_distance,omitempty"`
}

// SearchSite returns the site's free resources matching the request, best
// first: near the team (same floor, shortest distance to a teammate's desk)
// when asked, rooms closest to the needed capacity, then by floor and name.
func (s *Service) SearchSite(ctx context.Context, viewer *users.Principal, siteID string, req SearchRequest) ([]SearchResult, error) {
	if err := checkWindow(req.Window); err != nil {
		return nil, err
	}
	tx := s.db.Conn(ctx)
	var scs []siteContext
	err := tx.Raw(`SELECT s.id AS site_id, s.timezone, p.policy FROM sites s LEFT JOIN site_policies p ON p.site_id = s.id WHERE s.id = ?`, siteID).Scan(&scs).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if len(scs) == 0 {
		return nil, perch.NotFound("site")
	}
	sc := &scs[0]
	if err := sc.prepare(); err != nil {
		return nil, err
	}
	all, err := s.states(tx, "site_id", siteID, sc, req.Window, viewer)
	if err != nil {
		return nil, err
	}
	// Where the team sits: teammates' desk bookings overlapping the window.
	type pos struct {
		FloorID string
		X, Y    float64
	}
	var team []pos
	if req.NearTeamID != "" {
		err := tx.Raw(`SELECT d.floor_id, d.x, d.y FROM bookings b JOIN desks d ON d.id = b.resource_id JOIN users u ON u.id = b.user_id
			WHERE b.site_id = ? AND u.team_id = ? AND b.status IN ('confirmed', 'checked_in') AND b.start_at < ? AND b.end_at > ?`,
			siteID, req.NearTeamID, req.To, req.From).Scan(&team).Error
		if err != nil {
			return nil, database.Translate(err)
		}
	}
	var out []SearchResult
	for _, r := range all {
		if r.State != StateFree || (req.ResourceType != "" && r.ResourceType != req.ResourceType) ||
			(req.ZoneID != "" && (r.ZoneID == nil || *r.ZoneID != req.ZoneID)) ||
			(req.FloorID != "" && r.FloorID != req.FloorID) || !r.Amenities.Has(req.Amenities...) ||
			(req.MinCapacity > 0 && (r.Capacity == nil || *r.Capacity < req.MinCapacity)) {
			continue
		}
		res := SearchResult{ResourceState: r}
		for _, t := range team {
			if t.FloorID == r.FloorID {
				d := math.Hypot(t.X-r.X, t.Y-r.Y)
				if res.TeamDistance == nil || d < *res.TeamDistance {
					res.TeamDistance = &d
				}
			}
		}
		out = append(out, res)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.TeamDistance == nil) != (b.TeamDistance == nil) {
			return a.TeamDistance != nil
		}
		if a.TeamDistance != nil && *a.TeamDistance != *b.TeamDistance {
			return *a.TeamDistance < *b.TeamDistance
		}
		if req.MinCapacity > 0 && a.Capacity != nil && b.Capacity != nil && *a.Capacity != *b.Capacity {
			return *a.Capacity < *b.Capacity
		}
		if a.level != b.level {
			return a.level < b.level
		}
		return a.Name < b.Name
	})
	if req.Limit > 0 && len(out) > req.Limit {
		out = out[:req.Limit]
	}
	if out == nil {
		out = []SearchResult{}
	}
	return out, nil
}

// Whereabout is where a person is booked on a day.
type Whereabout struct {
	BookingID    string       `json:"booking_id"`
	ResourceType ResourceType `json:"resource_type"`
	ResourceID   string       `json:"resource_id"`
	ResourceName string       `json:"resource_name"`
	FloorID      string       `json:"floor_id"`
	FloorName    string       `json:"floor_name"`
	SiteID       string       `json:"site_id"`
	SiteName     string       `json:"site_name"`
	Timezone     string       `json:"timezone"`
	Start        time.Time    `json:"start"`
	End          time.Time    `json:"end"`
	Status       Status       `json:"status"`
}

// Whereabouts says where a colleague is booked on a date (local to each
// site). Bookings at sites whose privacy setting hides who booked are left
// out, unless the viewer is the person, an admin or reception.
func (s *Service) Whereabouts(ctx context.Context, viewer *users.Principal, userID string, date Date) ([]Whereabout, error) {
	tx := s.db.Conn(ctx)
	var n int64
	if err := tx.Table("users").Where("id = ?", userID).Count(&n).Error; err != nil {
		return nil, database.Translate(err)
	}
	if n == 0 {
		return nil, perch.NotFound("user")
	}
	var rows []struct {
		Whereabout
		StartAt, EndAt time.Time
		Policy         *string
	}
	// Every zone is within a day of UTC: fetch a generous UTC window, then
	// keep what falls on the date in its site's zone.
	from := date.In(time.UTC).Add(-15 * time.Hour)
	to := date.AddDays(1).In(time.UTC).Add(15 * time.Hour)
	err := tx.Raw(`SELECT b.id AS booking_id, b.resource_type, b.resource_id, COALESCE(d.code, r.name) AS resource_name,
			b.floor_id, f.name AS floor_name, b.site_id, s.name AS site_name, s.timezone, b.start_at, b.end_at, b.status, p.policy
		FROM bookings b JOIN floors f ON f.id = b.floor_id JOIN sites s ON s.id = b.site_id
		LEFT JOIN desks d ON d.id = b.resource_id LEFT JOIN rooms r ON r.id = b.resource_id
		LEFT JOIN site_policies p ON p.site_id = b.site_id
		WHERE b.user_id = ? AND b.status IN ('confirmed', 'checked_in', 'completed') AND b.start_at < ? AND b.end_at > ?
		ORDER BY b.start_at`, userID, to, from).Scan(&rows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	privileged := viewer.Role == users.RoleAdmin || viewer.Role == users.RoleReception || viewer.UserID == userID
	out := []Whereabout{}
	for _, r := range rows {
		sc := siteContext{Timezone: r.Timezone, Policy: r.Policy}
		if err := sc.prepare(); err != nil {
			return nil, err
		}
		day := DateOf(r.StartAt.In(sc.loc))
		if day != date && DateOf(r.EndAt.Add(-time.Nanosecond).In(sc.loc)) != date {
			continue
		}
		if !privileged && !sc.rules.ShowBookerToColleagues {
			continue
		}
		w := r.Whereabout
		w.Start, w.End = r.StartAt.UTC(), r.EndAt.UTC()
		out = append(out, w)
	}
	return out, nil
}

// ResourceNow is one desk or room as a door display shows it: its state
// now and every booking left today.
type ResourceNow struct {
	ResourceState
	Timezone string    `json:"timezone"`
	Now      time.Time `json:"now"`
	// Today: the current booking (if any) and every later one today.
	Today []Slot `json:"today"`
}

// Now returns a resource's state at this moment and the rest of its day.
func (s *Service) Now(ctx context.Context, viewer *users.Principal, typ ResourceType, id string) (*ResourceNow, error) {
	tx := s.db.Conn(ctx)
	r, err := loadResource(tx, typ, id)
	if err != nil {
		return nil, err
	}
	sc := &siteContext{SiteID: r.SiteID, Timezone: r.Timezone, loc: r.loc, rules: r.rules}
	now := s.now().Truncate(time.Second)
	w := Window{From: now, To: now.Add(time.Second)}
	states, err := s.states(tx, "id", id, sc, w, viewer)
	if err != nil {
		return nil, err
	}
	if len(states) == 0 {
		return nil, perch.NotFound(string(typ))
	}
	bookings, err := loadBookings(tx, "id", id, sc, w)
	if err != nil {
		return nil, err
	}
	out := &ResourceNow{ResourceState: states[0], Timezone: r.Timezone, Now: now.UTC(), Today: []Slot{}}
	end := w.DayEnd(sc.loc)
	for _, b := range bookings[id] {
		if b.StartAt.Before(end) {
			// Later bookings of the day, shown like the current one.
			day := Window{From: b.StartAt, To: b.EndAt}
			tmp := ResourceState{}
			decide(&tmp, []slotRow{b}, day, sc, viewer)
			out.Today = append(out.Today, tmp.Bookings...)
		}
	}
	return out, nil
}

// DayEnd is the end of the window's last local day in loc.
func (w Window) DayEnd(loc *time.Location) time.Time {
	return DateOf(w.To.Add(-time.Nanosecond).In(loc)).AddDays(1).In(loc)
}

// overlaps narrows q (on bookings b) to bookings overlapping [from, to).
// Bookings last at most MaxLength, so bounding start_at from below lets a
// btree index on (floor_id | site_id | resource_id, start_at) answer it
// with a range scan.
func overlaps(q *gorm.DB, from, to time.Time) *gorm.DB {
	return q.Where("b.start_at >= ? AND b.start_at < ? AND b.end_at > ?", from.Add(-MaxLength), to, from)
}

// resourceTTL is how long a floor's or site's desks and rooms are reused
// between availability requests: they change rarely (an admin editing the
// plan), and re-reading 500 desks for every map refresh would dominate
// the request. An edit shows on the maps within this time.
const resourceTTL = 2 * time.Second

// resourceCache holds recent resource lists of a Service.
type resourceCache struct {
	mu sync.Mutex
	m  map[string]cachedResources
}

type cachedResources struct {
	at   time.Time
	rows []resourceRow
}

// resources returns the desks and rooms of a floor, site or resource (scope
// "floor_id", "site_id" or "id") with whether each assigned desk is
// released on every one of dates, from the cache when fresh. The rows are
// shared: callers must not change them.
func (s *Service) resources(tx *gorm.DB, scope, id string, dates []string) ([]resourceRow, error) {
	key := scope + "|" + id + "|" + strings.Join(dates, ",")
	s.cache.mu.Lock()
	if c, ok := s.cache.m[key]; ok && time.Since(c.at) < resourceTTL {
		s.cache.mu.Unlock()
		return c.rows, nil
	}
	s.cache.mu.Unlock()
	var rows []resourceRow
	q := strings.ReplaceAll(resourcesSQL, "%[1]s", scope)
	if err := tx.Raw(q, dates, len(dates), id, id).Scan(&rows).Error; err != nil {
		return nil, database.Translate(err)
	}
	s.cache.mu.Lock()
	if s.cache.m == nil || len(s.cache.m) > 1000 {
		s.cache.m = map[string]cachedResources{}
	}
	s.cache.m[key] = cachedResources{at: time.Now(), rows: rows}
	s.cache.mu.Unlock()
	return rows, nil
}

package visitors

// Who is on site now (employees checked in at a desk or room, visitors
// checked in), grouped by floor, and roll calls: a snapshot of that list in
// which reception marks people safe.

import (
	"context"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Person types of the on-site list and roll calls.
const (
	PersonUser    = "user"
	PersonVisitor = "visitor"
)

// Person is someone on site.
type Person struct {
	Type        string    `json:"person_type"`
	ID          string    `json:"person_id"` // a user id or a visit id
	Name        string    `json:"name"`
	Company     string    `json:"company,omitempty"`
	HostName    string    `json:"host_name,omitempty"`
	Where       string    `json:"where"` // a desk code or room name; "" for visitors in the lobby
	CheckedInAt time.Time `json:"checked_in_at"`
	FloorID     *string   `json:"-"`
	FloorName   string    `json:"-"`
	FloorLevel  *int      `json:"-"`
}

// FloorGroup is the people on one floor.
type FloorGroup struct {
	FloorID   *string  `json:"floor_id"` // null: lobby / unknown floor
	FloorName string   `json:"floor_name"`
	People    []Person `json:"people"`
}

// OnSite is everyone on a site at a moment.
type OnSite struct {
	SiteID   string       `json:"site_id"`
	At       time.Time    `json:"at"`
	Total    int          `json:"total"`
	Visitors int          `json:"visitors"`
	Floors   []FloorGroup `json:"floors"`
}

// OnSite lists everyone on the site now: people with a checked-in booking
// covering now (each person once) and checked-in visitors (under their
// room booking's floor, else the lobby).
func (s *Service) OnSite(ctx context.Context, siteID string) (*OnSite, error) {
	conn := s.db.Conn(ctx)
	if _, _, err := s.site(conn, siteID); err != nil {
		return nil, err
	}
	now := s.clock()
	people, err := s.onSite(conn, siteID, now)
	if err != nil {
		return nil, err
	}
	return group(siteID, now, people), nil
}

func (s *Service) onSite(tx *gorm.DB, siteID string, now time.Time) ([]Person, error) {
	var staffRows []struct {
		Person
		CheckInAt *time.Time
		StartAt   time.Time
	}
	err := tx.Raw(`SELECT 'user' AS type, b.user_id AS id, u.name, COALESCE(d.code, r.name, '') AS "where",
		ci.checked_in_at AS check_in_at, b.start_at, b.floor_id, f.name AS floor_name, f.level AS floor_level
		FROM bookings b
		JOIN users u ON u.id = b.user_id
		JOIN floors f ON f.id = b.floor_id
		LEFT JOIN desks d ON b.resource_type = 'desk' AND d.id = b.resource_id
		LEFT JOIN rooms r ON b.resource_type = 'room' AND r.id = b.resource_id
		LEFT JOIN check_ins ci ON ci.booking_id = b.id
		WHERE b.status = 'checked_in' AND b.site_id = ? AND b.end_at > ? AND b.start_at <= ? AND b.start_at > ?
		  AND u.role <> 'kiosk'
		ORDER BY u.name, b.user_id, b.start_at`, siteID, now, now, now.Add(-booking.MaxLength)).Scan(&staffRows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	var visitorRows []Person
	err = tx.Raw(`SELECT 'visitor' AS type, v.id, v.visitor_name AS name, v.visitor_company AS company, u.name AS host_name,
		COALESCE(r.name, '') AS "where", v.checked_in_at, f.id AS floor_id, COALESCE(f.name, '') AS floor_name, f.level AS floor_level
		FROM visits v
		JOIN users u ON u.id = v.host_id
		LEFT JOIN bookings rb ON rb.id = v.room_booking_id
		LEFT JOIN rooms r ON r.id = rb.resource_id
		LEFT JOIN floors f ON f.id = rb.floor_id
		WHERE v.status = 'checked_in' AND v.site_id = ?
		ORDER BY v.visitor_name, v.id`, siteID).Scan(&visitorRows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	out := make([]Person, 0, len(staffRows)+len(visitorRows))
	seen := map[string]bool{}
	for _, r := range staffRows { // a person checked in at a desk and a room is listed once
		if !seen[r.ID] {
			seen[r.ID] = true
			p := r.Person
			p.CheckedInAt = r.StartAt.UTC()
			if r.CheckInAt != nil {
				p.CheckedInAt = r.CheckInAt.UTC()
			}
			out = append(out, p)
		}
	}
	for _, p := range visitorRows {
		p.CheckedInAt = p.CheckedInAt.UTC()
		out = append(out, p)
	}
	return out, nil
}

// group sorts people into floors (by level, then name), the lobby last.
func group(siteID string, at time.Time, people []Person) *OnSite {
	o := &OnSite{SiteID: siteID, At: at, Total: len(people), Floors: []FloorGroup{}}
	idx := map[string]int{}
	levels := map[string]int{}
	for _, p := range people {
		if p.Type == PersonVisitor {
			o.Visitors++
		}
		key, name := "", LobbyFloor
		if p.FloorID != nil {
			key, name = *p.FloorID, p.FloorName
			if p.FloorLevel != nil {
				levels[key] = *p.FloorLevel
			}
		}
		i, ok := idx[key]
		if !ok {
			i = len(o.Floors)
			idx[key] = i
			o.Floors = append(o.Floors, FloorGroup{FloorID: p.FloorID, FloorName: name})
		}
		o.Floors[i].People = append(o.Floors[i].People, p)
	}
	sort.SliceStable(o.Floors, func(a, b int) bool {
		fa, fb := o.Floors[a], o.Floors[b]
		if (fa.FloorID == nil) != (fb.FloorID == nil) {
			return fb.FloorID == nil
		}
		if fa.FloorID == nil {
			return false
		}
		if levels[*fa.FloorID] != levels[*fb.FloorID] {
			return levels[*fa.FloorID] < levels[*fb.FloorID]
		}
		return fa.FloorName < fb.FloorName
	})
	return o
}

// RollCall is an evacuation roll call: who was on site when it started and
// who has been marked safe.
type RollCall struct {
	ID        string          `json:"id"`
	SiteID    string          `json:"site_id"`
	StartedBy *string         `json:"started_by"`
	StartedAt time.Time       `json:"started_at"`
	ClosedAt  *time.Time      `json:"closed_at"`
	Total     int             `json:"total"`
	Safe      int             `json:"safe"`
	Missing   int             `json:"missing"`
	People    []RollCallEntry `json:"people"`
}

// RollCallEntry is one person of a roll call.
type RollCallEntry struct {
	Type      string     `json:"person_type"`
	ID        string     `json:"person_id"`
	Name      string     `json:"name"`
	FloorID   *string    `json:"floor_id"`
	FloorName string     `json:"floor_name"`
	Safe      bool       `json:"safe"`
	MarkedAt  *time.Time `json:"marked_at"`
	MarkedBy  *string    `json:"marked_by"`
}

// StartRollCall snapshots who is on site now.
func (s *Service) StartRollCall(ctx context.Context, p *users.Principal, siteID string) (*RollCall, error) {
	now := s.clock()
	id := database.NewID()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := s.site(tx, siteID); err != nil {
			return err
		}
		var by *string
		if p != nil && p.UserID != "" {
			by = &p.UserID
		}
		if err := tx.Exec(`INSERT INTO roll_calls (id, site_id, started_by, started_at) VALUES (?, ?, ?, ?)`, id, siteID, by, now).Error; err != nil {
			return err
		}
		people, err := s.onSite(tx, siteID, now)
		if err != nil {
			return err
		}
		for _, pp := range people {
			floor := pp.FloorName
			if pp.FloorID == nil {
				floor = LobbyFloor
			}
			if err := tx.Exec(`INSERT INTO roll_call_people (roll_call_id, person_type, person_id, name, floor_id, floor_name) VALUES (?, ?, ?, ?, ?, ?)`,
				id, pp.Type, pp.ID, pp.Name, pp.FloorID, floor).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetRollCall(ctx, id)
}

// GetRollCall returns a roll call with everyone in it, missing first.
func (s *Service) GetRollCall(ctx context.Context, id string) (*RollCall, error) {
	conn := s.db.Conn(ctx)
	var rcs []struct {
		ID, SiteID string
		StartedBy  *string
		StartedAt  time.Time
		ClosedAt   *time.Time
	}
	if err := conn.Raw(`SELECT id, site_id, started_by, started_at, closed_at FROM roll_calls WHERE id = ?`, id).Scan(&rcs).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(rcs) == 0 {
		return nil, perch.NotFound("roll call")
	}
	r := rcs[0]
	rc := &RollCall{ID: r.ID, SiteID: r.SiteID, StartedBy: r.StartedBy, StartedAt: r.StartedAt.UTC(), ClosedAt: utcPtr(r.ClosedAt)}
	var people []RollCallEntry
	if err := conn.Raw(`SELECT person_type AS type, person_id AS id, name, floor_id, floor_name, safe, marked_at, marked_by
		FROM roll_call_people WHERE roll_call_id = ? ORDER BY safe, floor_name, name, person_id`, id).Scan(&people).Error; err != nil {
		return nil, database.Translate(err)
	}
	if people == nil {
		people = []RollCallEntry{}
	}
	rc.People = people
	rc.Total = len(people)
	for i := range people {
		people[i].MarkedAt = utcPtr(people[i].MarkedAt)
		if people[i].Safe {
			rc.Safe++
		}
	}
	rc.Missing = rc.Total - rc.Safe
	return rc, nil
}

// Mark marks a person of an open roll call safe (or not).
func (s *Service) Mark(ctx context.Context, p *users.Principal, id, personType, personID string, safe bool) (*RollCall, error) {
	if personType != PersonUser && personType != PersonVisitor {
		return nil, perch.Invalid("person_type", "person_type must be user or visitor")
	}
	if !database.ValidID(personID) {
		return nil, perch.Invalid("person_id", "person_id is not a valid id")
	}
	now := s.clock()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var closed []struct{ ClosedAt *time.Time }
		if err := tx.Raw(`SELECT closed_at FROM roll_calls WHERE id = ?`, id).Scan(&closed).Error; err != nil {
			return err
		}
		if len(closed) == 0 {
			return perch.NotFound("roll call")
		}
		if closed[0].ClosedAt != nil {
			return perch.Errorf(perch.ECONFLICT, "This roll call is closed.")
		}
		var by *string
		if p != nil && p.UserID != "" {
			by = &p.UserID
		}
		var markedAt *time.Time
		if safe {
			markedAt = &now
		}
		res := tx.Exec(`UPDATE roll_call_people SET safe = ?, marked_at = ?, marked_by = ? WHERE roll_call_id = ? AND person_type = ? AND person_id = ?`,
			safe, markedAt, by, id, personType, personID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Invalid("person_id", "person_id names nobody in this roll call")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetRollCall(ctx, id)
}

// CloseRollCall ends a roll call (closing twice is no error).
func (s *Service) CloseRollCall(ctx context.Context, id string) (*RollCall, error) {
	now := s.clock()
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("roll_calls").Where("id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return perch.NotFound("roll call")
		}
		return tx.Exec(`UPDATE roll_calls SET closed_at = ? WHERE id = ? AND closed_at IS NULL`, now, id).Error
	})
	if err != nil {
		return nil, err
	}
	return s.GetRollCall(ctx, id)
}

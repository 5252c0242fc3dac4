package sim

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// profiles are the default team models, used in turn: an office-heavy
// team, a Tuesday-Thursday team, a mostly remote team, …
var profiles = []struct {
	attendance     [7]float64
	walkUp, noShow float64
	arrive, leave  booking.Clock
}{
	{[7]float64{0, 0.7, 0.8, 0.8, 0.75, 0.4, 0}, 0.10, 0.08, 9 * 60, 17*60 + 30},
	{[7]float64{0, 0.3, 0.85, 0.6, 0.85, 0.2, 0}, 0.05, 0.12, 9*60 + 30, 18 * 60},
	{[7]float64{0, 0.5, 0.5, 0.5, 0.5, 0.5, 0}, 0.25, 0.15, 8*60 + 30, 16*60 + 30},
	{[7]float64{0, 0.2, 0.3, 0.3, 0.3, 0.1, 0}, 0.15, 0.20, 10 * 60, 17 * 60},
	{[7]float64{0, 0.9, 0.9, 0.9, 0.9, 0.6, 0}, 0.05, 0.05, 8 * 60, 16 * 60},
}

// NewModel builds a model of an office from its teams, people, desks and
// rooms, giving the teams the default profiles in turn. People without a
// team and device accounts are left out; so are desks that are not
// bookable or are assigned to someone, and rooms that are not bookable.
func NewModel(site floorplans.Site, teams []users.Team, people []users.User, desks []floorplans.Desk, rooms []floorplans.Room, seed uint64) Model {
	m := Model{SiteID: site.ID, Timezone: site.Timezone, Seed: seed, SelfCheckoutRate: 0.4, MeetingRate: 0.5,
		MeetingSlots: []booking.Clock{10 * 60, 14 * 60}, NoShowGraceMinutes: 15, BookableUntil: 20 * 60}
	for i, t := range teams {
		p := profiles[i%len(profiles)]
		st := Team{ID: t.ID, Attendance: p.attendance, WalkUpRate: p.walkUp, NoShowRate: p.noShow,
			Arrive: p.arrive, Leave: p.leave, SpreadMinutes: 45}
		for _, u := range people {
			if u.TeamID != nil && *u.TeamID == t.ID && u.Role != users.RoleKiosk {
				st.Members = append(st.Members, u.ID)
			}
		}
		m.Teams = append(m.Teams, st)
	}
	for _, d := range desks {
		if d.SiteID == site.ID && d.Bookable && d.AssignedUserID == nil {
			m.Desks = append(m.Desks, d)
		}
	}
	for _, r := range rooms {
		if r.SiteID == site.ID && r.Bookable {
			m.Rooms = append(m.Rooms, r)
		}
	}
	return m
}

// LoadModel builds the model of a site already in the database (its teams'
// members, its desks and rooms) with NewModel.
func LoadModel(ctx context.Context, db *database.DB, siteID string, seed uint64) (Model, error) {
	c := db.Conn(ctx)
	var site floorplans.Site
	if err := c.Where("id = ?", siteID).Take(&site).Error; err != nil {
		return Model{}, database.Translate(err)
	}
	var teams []users.Team
	var people []users.User
	var desks []floorplans.Desk
	var rooms []floorplans.Room
	for _, q := range []struct {
		dst   any
		query *gorm.DB
	}{
		{&teams, c.Order("name, id")},
		{&people, c.Where("team_id IS NOT NULL").Order("email")},
		{&desks, c.Where("site_id = ?", siteID).Order("code")},
		{&rooms, c.Where("site_id = ?", siteID).Order("name, id")},
	} {
		if err := q.query.Find(q.dst).Error; err != nil {
			return Model{}, database.Translate(err)
		}
	}
	return NewModel(site, teams, people, desks, rooms, seed), nil
}

// Office is a generated office (see GenerateOffice).
type Office struct {
	Site   floorplans.Site
	Floors []floorplans.Floor
	Zones  []floorplans.Zone
	Desks  []floorplans.Desk
	Rooms  []floorplans.Room
	Teams  []users.Team
	People []users.User
}

// GenerateOffice writes a site named name with the given number of people
// (in teams of 40) and desks (rows of 50, 20 rows per floor, one zone per
// 10 rows), and a room per 100 desks, in batched inserts. Emails carry the
// site's id, so several generated offices can coexist.
func GenerateOffice(ctx context.Context, db *database.DB, name, timezone string, people, desks int) (*Office, error) {
	if _, err := floorplans.LoadTimezone(timezone); err != nil {
		return nil, err
	}
	o := &Office{Site: floorplans.Site{ID: database.NewID(), Name: name, Timezone: timezone}}
	const perRow, rowsPerFloor, rowsPerZone, teamSize = 50, 20, 10, 40
	tag := o.Site.ID[len(o.Site.ID)-12:]
	for i := 0; i*teamSize < people; i++ {
		o.Teams = append(o.Teams, users.Team{ID: database.NewID(), Name: fmt.Sprintf("%s team %d (%s)", name, i+1, tag)})
	}
	for i := range people {
		tid := o.Teams[i/teamSize].ID
		o.People = append(o.People, users.User{ID: database.NewID(), Email: fmt.Sprintf("sim-%s-%d@example.com", tag, i),
			Name: fmt.Sprintf("Sim Person %d", i), TeamID: &tid, Role: users.RoleEmployee})
	}
	rows := (desks + perRow - 1) / perRow
	for row := range rows {
		if row%rowsPerFloor == 0 {
			o.Floors = append(o.Floors, floorplans.Floor{ID: database.NewID(), SiteID: o.Site.ID, Name: fmt.Sprintf("Floor %d", len(o.Floors)),
				Level: len(o.Floors), Width: 200 * perRow, Height: 300*rowsPerFloor + 1000})
		}
		f := &o.Floors[len(o.Floors)-1]
		if row%rowsPerZone == 0 {
			o.Zones = append(o.Zones, floorplans.Zone{ID: database.NewID(), SiteID: o.Site.ID, FloorID: f.ID, Name: fmt.Sprintf("Zone %d", len(o.Zones)+1)})
		}
		zid := o.Zones[len(o.Zones)-1].ID
		for n := 0; n < perRow && row*perRow+n < desks; n++ {
			o.Desks = append(o.Desks, floorplans.Desk{ID: database.NewID(), SiteID: o.Site.ID, FloorID: f.ID, ZoneID: &zid,
				Code: fmt.Sprintf("F%d-R%02d-%02d", f.Level, row%rowsPerFloor, n+1), X: float64(100 + 200*n), Y: float64(100 + 300*(row%rowsPerFloor)),
				Amenities: floorplans.Amenities{}, Bookable: true, BookingMode: floorplans.Hourly, QRCode: floorplans.NewQRCode()})
		}
	}
	for i := 0; i < (desks+99)/100; i++ {
		f := o.Floors[i%len(o.Floors)]
		o.Rooms = append(o.Rooms, floorplans.Room{ID: database.NewID(), SiteID: o.Site.ID, FloorID: f.ID, Name: fmt.Sprintf("Room %d", i+1),
			Capacity: 4 + 2*(i%4), Amenities: floorplans.Amenities{}, X: float64(100 + 250*(i/len(o.Floors))), Y: f.Height - 900,
			Width: 200, Height: 200, Bookable: true, BookingMode: floorplans.Hourly, QRCode: floorplans.NewQRCode()})
	}
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		for _, batch := range []any{&o.Teams, &o.People, &o.Site, &o.Floors, &o.Zones, &o.Desks, &o.Rooms} {
			if err := tx.CreateInBatches(batch, 500).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// Model returns the model of a generated office (see NewModel).
func (o *Office) Model(seed uint64) Model {
	return NewModel(o.Site, o.Teams, o.People, o.Desks, o.Rooms, seed)
}

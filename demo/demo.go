// Package demo loads the demo office: one site, "Berlin HQ" in
// Europe/Berlin, two floors, three zones, 120 desks in rows, 8 rooms, and 40
// people in 5 teams (plus a kiosk device account). Everything is
// deterministic — names, codes, positions and even ids — so tests and docs
// can rely on it.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// metaKey marks a database that holds the demo office.
const metaKey = "demo_office"

// Version of the demo data set; bump when its content changes.
const Version = "1"

// namespace seeds the deterministic ids.
var namespace = uuid.MustParse("6f1c3a8e-3b0e-4c55-9a7e-5b3f7c2d9e10")

// ID returns the deterministic id of a demo object, e.g. ID("desk", "1A-01").
func ID(kind, key string) string {
	return uuid.NewSHA1(namespace, []byte(kind+"/"+key)).String()
}

// Well-known demo objects.
var (
	SiteID = ID("site", "berlin-hq")
	// One email per role, for tokens and docs.
	AdminEmail     = "frieda.fischer@example.com"
	ReceptionEmail = "rosa.richter@example.com"
	EmployeeEmail  = "emil.engel@example.com"
	KioskEmail     = "lobby-kiosk@example.com"
)

// Teams, in order. Each has 8 people.
var Teams = []string{"Engineering", "Design", "Sales", "Finance", "People & Facilities"}

// people are the 40 demo people: first name, last name, team index, role.
var people = []struct {
	first, last string
	team        int
	role        users.Role
}{
	{"Emil", "Engel", 0, users.RoleEmployee}, {"Ada", "Arndt", 0, users.RoleEmployee},
	{"Bruno", "Becker", 0, users.RoleEmployee}, {"Clara", "Conrad", 0, users.RoleEmployee},
	{"David", "Dorn", 0, users.RoleEmployee}, {"Elif", "Ekinci", 0, users.RoleEmployee},
	{"Felix", "Falk", 0, users.RoleEmployee}, {"Greta", "Graf", 0, users.RoleEmployee},
	{"Hanna", "Hahn", 1, users.RoleEmployee}, {"Ivo", "Imhof", 1, users.RoleEmployee},
	{"Jana", "Jung", 1, users.RoleEmployee}, {"Karl", "Koch", 1, users.RoleEmployee},
	{"Lena", "Lorenz", 1, users.RoleEmployee}, {"Mats", "Mayer", 1, users.RoleEmployee},
	{"Nora", "Neumann", 1, users.RoleEmployee}, {"Omar", "Otto", 1, users.RoleEmployee},
	{"Paula", "Peters", 2, users.RoleEmployee}, {"Quentin", "Quast", 2, users.RoleEmployee},
	{"Rina", "Roth", 2, users.RoleEmployee}, {"Sami", "Schulz", 2, users.RoleEmployee},
	{"Tara", "Thiel", 2, users.RoleEmployee}, {"Umut", "Uhl", 2, users.RoleEmployee},
	{"Vera", "Vogel", 2, users.RoleEmployee}, {"Wim", "Wolf", 2, users.RoleEmployee},
	{"Xenia", "Xu", 3, users.RoleEmployee}, {"Yusuf", "Yilmaz", 3, users.RoleEmployee},
	{"Zoe", "Ziegler", 3, users.RoleEmployee}, {"Anton", "Albrecht", 3, users.RoleEmployee},
	{"Berit", "Brandt", 3, users.RoleEmployee}, {"Cem", "Celik", 3, users.RoleEmployee},
	{"Doris", "Dietrich", 3, users.RoleEmployee}, {"Erik", "Ernst", 3, users.RoleEmployee},
	{"Frieda", "Fischer", 4, users.RoleAdmin}, {"Georg", "Gerber", 4, users.RoleAdmin},
	{"Rosa", "Richter", 4, users.RoleReception}, {"Rafael", "Reuter", 4, users.RoleReception},
	{"Heidi", "Horn", 4, users.RoleEmployee}, {"Ilka", "Iversen", 4, users.RoleEmployee},
	{"Jonas", "Jansen", 4, users.RoleEmployee}, {"Katja", "Kühn", 4, users.RoleEmployee},
}

// Plan geometry (plan units are centimetres: a 48 m × 30 m floor).
const (
	planW, planH  = 4800, 3000
	rowsPerFloor  = 6
	desksPerRow   = 10
	deskPitchX    = 240
	deskPitchY    = 400
	firstDeskX    = 300
	firstDeskY    = 400
	roomsPerFloor = 4
	roomX         = 3200
	roomW, roomH  = 1400, 600
	roomPitchY    = 700
	firstRoomY    = 100
)

// Office is what Load created (or found).
type Office struct {
	Site   floorplans.Site
	Floors []floorplans.Floor
	Zones  []floorplans.Zone
	Desks  []floorplans.Desk
	Rooms  []floorplans.Room
	Teams  []users.Team
	Users  []users.User
}

// Build returns the demo office without touching a database.
func Build() *Office {
	o := &Office{Site: floorplans.Site{ID: SiteID, Name: "Berlin HQ", Timezone: "Europe/Berlin", Address: "Friedrichstraße 68, 10117 Berlin"}}
	for i, name := range Teams {
		o.Teams = append(o.Teams, users.Team{ID: ID("team", fmt.Sprint(i)), Name: name})
	}
	for _, p := range people {
		email := fmt.Sprintf("%s.%s@example.com", lower(p.first), lower(p.last))
		teamID := o.Teams[p.team].ID
		o.Users = append(o.Users, users.User{ID: ID("user", email), Email: email, Name: p.first + " " + p.last, TeamID: &teamID, Role: p.role})
	}
	o.Users = append(o.Users, users.User{ID: ID("user", KioskEmail), Email: KioskEmail, Name: "Lobby kiosk", Role: users.RoleKiosk})

	floorNames := []string{"Ground floor", "First floor"}
	zoneNames := [][]string{{"Open space"}, {"Quiet zone", "Team area"}}
	zoneColors := []string{"#4e79a7", "#59a14f", "#f28e2b"}
	roomNames := []string{"Spree", "Havel", "Tegel", "Wannsee", "Mitte", "Kreuzberg", "Pankow", "Neukölln"}
	roomCaps := []int{4, 6, 8, 12}
	zi := 0
	for level, fname := range floorNames {
		f := floorplans.Floor{ID: ID("floor", fmt.Sprint(level)), SiteID: SiteID, Name: fname, Level: level, Width: planW, Height: planH}
		o.Floors = append(o.Floors, f)
		var zones []floorplans.Zone
		for _, zn := range zoneNames[level] {
			z := floorplans.Zone{ID: ID("zone", zn), SiteID: SiteID, FloorID: f.ID, Name: zn, Color: zoneColors[zi]}
			zi++
			zones = append(zones, z)
		}
		o.Zones = append(o.Zones, zones...)
		for row := range rowsPerFloor {
			zone := zones[row*len(zones)/rowsPerFloor].ID
			for n := range desksPerRow {
				code := fmt.Sprintf("%d%c-%02d", level+1, 'A'+row, n+1)
				amen := floorplans.Amenities{"monitor"}
				if n%2 == 1 {
					amen = append(amen, "standing")
				}
				if n == 0 {
					amen = append(amen, "accessible")
				}
				if row%3 == 0 && n >= 8 {
					amen = append(amen, "dual-monitor")
				}
				z := zone
				o.Desks = append(o.Desks, floorplans.Desk{
					ID: ID("desk", code), SiteID: SiteID, FloorID: f.ID, ZoneID: &z, Code: code,
					X: firstDeskX + float64(n*deskPitchX), Y: firstDeskY + float64(row*deskPitchY),
					Amenities: amen, Bookable: true, BookingMode: mode(level, row),
				})
			}
		}
		for r := range roomsPerFloor {
			name := roomNames[level*roomsPerFloor+r]
			amen := floorplans.Amenities{"screen", "whiteboard"}
			if r >= 2 {
				amen = append(amen, "video")
			}
			o.Rooms = append(o.Rooms, floorplans.Room{
				ID: ID("room", name), SiteID: SiteID, FloorID: f.ID, Name: name, Capacity: roomCaps[r],
				Amenities: amen, X: roomX, Y: firstRoomY + float64(r*roomPitchY), Width: roomW, Height: roomH, Bookable: true,
			})
		}
	}
	// Two desks are assigned to people, and one is out of service.
	assign := map[string]string{"2A-01": AdminEmail, "2A-02": "georg.gerber@example.com"}
	for i := range o.Desks {
		d := &o.Desks[i]
		if email, ok := assign[d.Code]; ok {
			uid := ID("user", email)
			d.AssignedUserID = &uid
		}
		if d.Code == "1F-10" {
			d.Bookable = false
			d.Name = "Out of service"
		}
	}
	return o
}

// mode makes the first floor's team area (rows D–F) day-only, as desks for
// whole-day team days; every other desk is bookable by the hour.
func mode(level, row int) floorplans.Mode {
	if level == 1 && row >= 3 {
		return floorplans.DayOnly
	}
	return floorplans.Hourly
}

func lower(s string) string {
	r := []rune(s)
	out := make([]rune, 0, len(r))
	for _, c := range r {
		switch c {
		case 'ü':
			out = append(out, 'u', 'e')
			continue
		case 'ö':
			out = append(out, 'o', 'e')
			continue
		case 'ä':
			out = append(out, 'a', 'e')
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out = append(out, c)
	}
	return string(out)
}

// Loaded reports whether the demo office is in the database.
func Loaded(ctx context.Context, db *database.DB) (bool, error) {
	var n int64
	err := db.Conn(ctx).Table("meta").Where("key = ?", metaKey).Count(&n).Error
	return n > 0, database.Translate(err)
}

// Empty reports whether the database holds no office and no people yet.
func Empty(ctx context.Context, db *database.DB) (bool, error) {
	var n int64
	err := db.Conn(ctx).Raw("SELECT (SELECT COUNT(*) FROM sites) + (SELECT COUNT(*) FROM users)").Scan(&n).Error
	return n == 0, database.Translate(err)
}

// Load writes the demo office in one transaction. It refuses (conflict) when
// the demo is already loaded.
func Load(ctx context.Context, db *database.DB) (*Office, error) {
	o := Build()
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("meta").Where("key = ?", metaKey).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return perch.Errorf(perch.ECONFLICT, "The demo office is already loaded.")
		}
		if err := o.validate(); err != nil {
			return err
		}
		// Check-in codes are secrets: random at every load, never derived.
		for i := range o.Desks {
			o.Desks[i].QRCode = floorplans.NewQRCode()
		}
		for i := range o.Rooms {
			o.Rooms[i].QRCode = floorplans.NewQRCode()
		}
		for _, batch := range []any{&o.Teams, &o.Users, &o.Site, &o.Floors, &o.Zones, &o.Desks, &o.Rooms} {
			if err := tx.CreateInBatches(batch, 100).Error; err != nil {
				return err
			}
		}
		return tx.Exec("INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)", metaKey, Version, time.Now().UTC()).Error
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// validate runs the model's own checks over the whole data set, so the demo
// can never hold what the API would refuse.
func (o *Office) validate() error {
	if err := o.Site.Validate(); err != nil {
		return err
	}
	floors := map[string]*floorplans.Floor{}
	for i := range o.Floors {
		if err := o.Floors[i].Validate(); err != nil {
			return err
		}
		floors[o.Floors[i].ID] = &o.Floors[i]
	}
	for i := range o.Zones {
		if err := o.Zones[i].Validate(); err != nil {
			return err
		}
	}
	for i := range o.Desks {
		if err := o.Desks[i].Validate(floors[o.Desks[i].FloorID]); err != nil {
			return fmt.Errorf("demo desk %s: %w", o.Desks[i].Code, err)
		}
	}
	for i := range o.Rooms {
		if err := o.Rooms[i].Validate(floors[o.Rooms[i].FloorID]); err != nil {
			return fmt.Errorf("demo room %s: %w", o.Rooms[i].Name, err)
		}
	}
	for i := range o.Users {
		o.Users[i].Normalize()
		if err := o.Users[i].Validate(); err != nil {
			return fmt.Errorf("demo user %s: %w", o.Users[i].Email, err)
		}
	}
	return nil
}

// Token is a demo sign-in printed at start.
type Token struct {
	Role  users.Role
	Email string
	Name  string
	Token string
}

// TokenLabel labels the tokens MintTokens creates.
const TokenLabel = "demo"

// MintTokens revokes the previous demo tokens and mints one fresh token per
// role for the demo's role holders. They are printed at start so a new user
// can call the API at once; they change at every start.
func MintTokens(ctx context.Context, svc *users.Service) ([]Token, error) {
	var out []Token
	for _, rt := range []struct {
		role  users.Role
		email string
	}{{users.RoleAdmin, AdminEmail}, {users.RoleEmployee, EmployeeEmail}, {users.RoleReception, ReceptionEmail}, {users.RoleKiosk, KioskEmail}} {
		u, err := svc.GetUserByEmail(ctx, rt.email)
		if err != nil {
			return nil, fmt.Errorf("demo user %s: %w", rt.email, err)
		}
		if err := svc.RevokeTokens(ctx, u.ID, TokenLabel); err != nil {
			return nil, err
		}
		plain, _, err := svc.MintToken(ctx, u.ID, TokenLabel, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, Token{Role: rt.role, Email: u.Email, Name: u.Name, Token: plain})
	}
	return out, nil
}

package floorplans_test

import (
	"context"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// ---- helpers ----

// wantErr fails unless err carries the code and (when field is not empty)
// names the field. code "" means no error.

func ptr[T any](v T) *T { return &v }

func newSite(t *testing.T, svc *floorplans.Service, name string) *floorplans.Site {
	t.Helper()
	s := &floorplans.Site{Name: name, Timezone: "Europe/Berlin"}
	dbtest.Must(t, svc.CreateSite(context.Background(), s))
	return s
}

func newFloor(t *testing.T, svc *floorplans.Service, siteID, name string, w, h float64) *floorplans.Floor {
	t.Helper()
	f := &floorplans.Floor{SiteID: siteID, Name: name, Width: w, Height: h}
	dbtest.Must(t, svc.CreateFloor(context.Background(), f))
	return f
}

func newZone(t *testing.T, svc *floorplans.Service, floorID, name string) *floorplans.Zone {
	t.Helper()
	z := &floorplans.Zone{FloorID: floorID, Name: name}
	dbtest.Must(t, svc.CreateZone(context.Background(), z))
	return z
}

func newDesk(t *testing.T, svc *floorplans.Service, floorID, code string, x, y float64) *floorplans.Desk {
	t.Helper()
	d := &floorplans.Desk{FloorID: floorID, Code: code, X: x, Y: y, Bookable: true}
	dbtest.Must(t, svc.CreateDesk(context.Background(), d))
	return d
}

func newRoom(t *testing.T, svc *floorplans.Service, floorID, name string, x, y, w, h float64) *floorplans.Room {
	t.Helper()
	r := &floorplans.Room{FloorID: floorID, Name: name, Capacity: 4, X: x, Y: y, Width: w, Height: h, Bookable: true}
	dbtest.Must(t, svc.CreateRoom(context.Background(), r))
	return r
}

func newUser(t *testing.T, db *database.DB, email string) *users.User {
	t.Helper()
	u := &users.User{Email: email, Name: "Test " + email, Role: users.RoleEmployee}
	dbtest.Must(t, users.NewService(db).CreateUser(context.Background(), u))
	return u
}

// count counts the rows of table matching where.
func count(t *testing.T, db *database.DB, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := db.Conn(context.Background()).Table(table)
	if where != "" {
		q = q.Where(where, args...)
	}
	dbtest.Must(t, q.Count(&n).Error)
	return n
}

// insertBooking writes a booking row directly, as the booking package would.
func insertBooking(t *testing.T, db *database.DB, siteID, floorID, kind, resourceID, userID string, start, end time.Time, status string) {
	t.Helper()
	now := time.Now().UTC()
	dbtest.Must(t, db.Conn(context.Background()).Exec(`INSERT INTO bookings
		(id, site_id, floor_id, resource_type, resource_id, user_id, start_at, end_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		database.NewID(), siteID, floorID, kind, resourceID, userID, start.UTC(), end.UTC(), status, now, now).Error)
}

// ---- sites ----

func TestCreateSiteValidatesNameAndTimezone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		site      floorplans.Site
		wantCode  string
		wantField string
	}{
		{"berlin", floorplans.Site{Name: "HQ", Timezone: "Europe/Berlin"}, "", ""},
		{"new york", floorplans.Site{Name: "NYC", Timezone: "America/New_York"}, "", ""},
		{"utc", floorplans.Site{Name: "Cloud", Timezone: "UTC"}, "", ""},
		{"half-hour offset", floorplans.Site{Name: "Pune", Timezone: "Asia/Kolkata"}, "", ""},
		{"name trimmed", floorplans.Site{Name: "  Lisbon  ", Timezone: "Europe/Lisbon"}, "", ""},
		{"missing name", floorplans.Site{Timezone: "Europe/Berlin"}, perch.EINVALID, "name"},
		{"blank name", floorplans.Site{Name: "   ", Timezone: "Europe/Berlin"}, perch.EINVALID, "name"},
		{"control character in name", floorplans.Site{Name: "HQ\n2", Timezone: "Europe/Berlin"}, perch.EINVALID, "name"},
		{"name too long", floorplans.Site{Name: strings.Repeat("x", 201), Timezone: "Europe/Berlin"}, perch.EINVALID, "name"},
		{"empty timezone", floorplans.Site{Name: "HQ"}, perch.EINVALID, "timezone"},
		{"Local", floorplans.Site{Name: "HQ", Timezone: "Local"}, perch.EINVALID, "timezone"},
		{"unknown zone", floorplans.Site{Name: "HQ", Timezone: "Mars/Olympus_Mons"}, perch.EINVALID, "timezone"},
		{"offset is not a zone", floorplans.Site{Name: "HQ", Timezone: "+02:00"}, perch.EINVALID, "timezone"},
		{"path", floorplans.Site{Name: "HQ", Timezone: "/etc/localtime"}, perch.EINVALID, "timezone"},
		{"path traversal", floorplans.Site{Name: "HQ", Timezone: "../../etc/passwd"}, perch.EINVALID, "timezone"},
		{"space", floorplans.Site{Name: "HQ", Timezone: "Europe/ Berlin"}, perch.EINVALID, "timezone"},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		accepted := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := tc.site
				err := svc.CreateSite(ctx, &s)
				dbtest.WantErr(t, err, tc.wantCode, tc.wantField)
				if tc.wantCode != "" {
					return
				}
				accepted++
				got, err := svc.GetSite(ctx, s.ID)
				dbtest.Must(t, err)
				if got.Name != strings.TrimSpace(tc.site.Name) || got.Timezone != tc.site.Timezone {
					t.Fatalf("stored site = %q in %q, want %q in %q", got.Name, got.Timezone, strings.TrimSpace(tc.site.Name), tc.site.Timezone)
				}
				loc, err := got.Location()
				dbtest.Must(t, err)
				if loc.String() != tc.site.Timezone {
					t.Fatalf("Location() = %q, want %q", loc, tc.site.Timezone)
				}
			})
		}
		if n := count(t, db, "sites", ""); n != int64(accepted) {
			t.Fatalf("%d sites stored, want %d (refused sites must not be written)", n, accepted)
		}
	})
}

func TestUpdateSiteKeepsTimezoneValid(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		s := newSite(t, svc, "HQ")
		for _, tz := range []string{"Local", "", "Nowhere/Atlantis"} {
			_, err := svc.UpdateSite(ctx, s.ID, func(v *floorplans.Site) error { v.Timezone = tz; return nil })
			dbtest.WantErr(t, err, perch.EINVALID, "timezone")
		}
		got, err := svc.GetSite(ctx, s.ID)
		dbtest.Must(t, err)
		if got.Timezone != "Europe/Berlin" {
			t.Fatalf("refused update changed the timezone to %q", got.Timezone)
		}
		upd, err := svc.UpdateSite(ctx, s.ID, func(v *floorplans.Site) error { v.Timezone = "America/New_York"; return nil })
		dbtest.Must(t, err)
		if got, _ := svc.GetSite(ctx, s.ID); upd.Timezone != "America/New_York" || got.Timezone != "America/New_York" {
			t.Fatalf("update to America/New_York not stored: %+v", got)
		}
		_, err = svc.UpdateSite(ctx, database.NewID(), func(*floorplans.Site) error { return nil })
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

// ---- floors ----

func TestCreateFloorValidatesPlanAndLevel(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		floor     floorplans.Floor
		wantCode  string
		wantField string
	}{
		{"plain", floorplans.Floor{Name: "Ground", Width: 4800, Height: 3000}, "", ""},
		{"fractional size", floorplans.Floor{Name: "Mezzanine", Width: 0.5, Height: 0.25}, "", ""},
		{"largest plan", floorplans.Floor{Name: "Hangar", Width: 1e6, Height: 1e6}, "", ""},
		{"lowest level", floorplans.Floor{Name: "Vault", Level: -20, Width: 10, Height: 10}, "", ""},
		{"highest level", floorplans.Floor{Name: "Spire", Level: 300, Width: 10, Height: 10}, "", ""},
		{"missing name", floorplans.Floor{Width: 10, Height: 10}, perch.EINVALID, "name"},
		{"level too low", floorplans.Floor{Name: "F", Level: -21, Width: 10, Height: 10}, perch.EINVALID, "level"},
		{"level too high", floorplans.Floor{Name: "F", Level: 301, Width: 10, Height: 10}, perch.EINVALID, "level"},
		{"zero width", floorplans.Floor{Name: "F", Width: 0, Height: 10}, perch.EINVALID, "width"},
		{"negative width", floorplans.Floor{Name: "F", Width: -10, Height: 10}, perch.EINVALID, "width"},
		{"NaN width", floorplans.Floor{Name: "F", Width: math.NaN(), Height: 10}, perch.EINVALID, "width"},
		{"infinite width", floorplans.Floor{Name: "F", Width: math.Inf(1), Height: 10}, perch.EINVALID, "width"},
		{"width over the maximum", floorplans.Floor{Name: "F", Width: 1e6 + 1, Height: 10}, perch.EINVALID, "width"},
		{"zero height", floorplans.Floor{Name: "F", Width: 10, Height: 0}, perch.EINVALID, "height"},
		{"negative height", floorplans.Floor{Name: "F", Width: 10, Height: -0.5}, perch.EINVALID, "height"},
		{"NaN height", floorplans.Floor{Name: "F", Width: 10, Height: math.NaN()}, perch.EINVALID, "height"},
		{"infinite height", floorplans.Floor{Name: "F", Width: 10, Height: math.Inf(1)}, perch.EINVALID, "height"},
		{"minus infinite height", floorplans.Floor{Name: "F", Width: 10, Height: math.Inf(-1)}, perch.EINVALID, "height"},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		accepted := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				f := tc.floor
				f.SiteID = site.ID
				dbtest.WantErr(t, svc.CreateFloor(ctx, &f), tc.wantCode, tc.wantField)
				if tc.wantCode != "" {
					return
				}
				accepted++
				got, err := svc.GetFloor(ctx, f.ID)
				dbtest.Must(t, err)
				if got.SiteID != site.ID || got.Level != tc.floor.Level || got.Width != tc.floor.Width || got.Height != tc.floor.Height {
					t.Fatalf("stored floor %+v, want %+v", got, tc.floor)
				}
			})
		}
		if n := count(t, db, "floors", ""); n != int64(accepted) {
			t.Fatalf("%d floors stored, want %d", n, accepted)
		}
		// A floor needs an existing site.
		err := svc.CreateFloor(ctx, &floorplans.Floor{SiteID: database.NewID(), Name: "F", Width: 10, Height: 10})
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

func TestUpdateFloorRefusesShrinkingBelowContents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 50)
		newDesk(t, svc, floor.ID, "D-1", 80, 10)         // rightmost thing: x = 80
		newRoom(t, svc, floor.ID, "Box", 10, 30, 20, 15) // lowest thing: y + height = 45
		cases := []struct {
			name          string
			width, height float64
			wantCode      string
		}{
			{"desk would fall off the right", 79.5, 50, perch.EINVALID},
			{"room would fall off the bottom", 100, 44, perch.EINVALID},
			{"both", 10, 10, perch.EINVALID},
			{"NaN", math.NaN(), 50, perch.EINVALID},
			{"shrink to the edges exactly", 80, 45, ""},
			{"grow", 200, 100, ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, err := svc.GetFloor(ctx, floor.ID)
				dbtest.Must(t, err)
				_, err = svc.UpdateFloor(ctx, floor.ID, func(f *floorplans.Floor) error {
					f.Width, f.Height = tc.width, tc.height
					return nil
				})
				dbtest.WantErr(t, err, tc.wantCode, "")
				after, err := svc.GetFloor(ctx, floor.ID)
				dbtest.Must(t, err)
				want := [2]float64{tc.width, tc.height}
				if tc.wantCode != "" {
					want = [2]float64{before.Width, before.Height}
				}
				if got := [2]float64{after.Width, after.Height}; got != want {
					t.Fatalf("plan is %v after the update, want %v", got, want)
				}
			})
		}
		_, err := svc.UpdateFloor(ctx, database.NewID(), func(*floorplans.Floor) error { return nil })
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

// ---- desks ----

func TestCreateDeskValidates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "Ground", 100, 50)
		other := newFloor(t, svc, site.ID, "First", 100, 50)
		zone := newZone(t, svc, floor.ID, "Quiet")
		otherZone := newZone(t, svc, other.ID, "Loud")
		user := newUser(t, db, "ada@example.com")

		cases := []struct {
			name      string
			desk      floorplans.Desk
			wantCode  string
			wantField string
			wantCodeS string               // stored code when accepted ("" = as given)
			wantAmen  floorplans.Amenities // stored amenities when accepted
		}{
			{name: "plain", desk: floorplans.Desk{Code: "2A-07", X: 10, Y: 10}, wantAmen: floorplans.Amenities{}},
			{name: "code trimmed", desk: floorplans.Desk{Code: "  2A-08 ", X: 10, Y: 10}, wantCodeS: "2A-08", wantAmen: floorplans.Amenities{}},
			{name: "code with dot and underscore", desk: floorplans.Desk{Code: "B.1_x", X: 1, Y: 1}, wantAmen: floorplans.Amenities{}},
			{name: "code of 32 characters", desk: floorplans.Desk{Code: strings.Repeat("C", 32), X: 1, Y: 1}, wantAmen: floorplans.Amenities{}},
			{name: "origin corner", desk: floorplans.Desk{Code: "corner-0", X: 0, Y: 0}, wantAmen: floorplans.Amenities{}},
			{name: "far corner", desk: floorplans.Desk{Code: "corner-1", X: 100, Y: 50}, wantAmen: floorplans.Amenities{}},
			{name: "in a zone of its floor", desk: floorplans.Desk{Code: "Z-1", X: 5, Y: 5, ZoneID: &zone.ID}, wantAmen: floorplans.Amenities{}},
			{name: "assigned to a user", desk: floorplans.Desk{Code: "U-1", X: 5, Y: 5, AssignedUserID: &user.ID}, wantAmen: floorplans.Amenities{}},
			{
				name:     "amenities normalised",
				desk:     floorplans.Desk{Code: "AM-1", X: 5, Y: 5, Amenities: floorplans.Amenities{" Standing", "monitor ", "MONITOR", "dual-monitor", "standing", "usb_c"}},
				wantAmen: floorplans.Amenities{"dual-monitor", "monitor", "standing", "usb_c"},
			},
			{name: "missing code", desk: floorplans.Desk{X: 1, Y: 1}, wantCode: perch.EINVALID, wantField: "code"},
			{name: "code starting with a dash", desk: floorplans.Desk{Code: "-1", X: 1, Y: 1}, wantCode: perch.EINVALID, wantField: "code"},
			{name: "code with a space", desk: floorplans.Desk{Code: "2A 07", X: 1, Y: 1}, wantCode: perch.EINVALID, wantField: "code"},
			{name: "code with a slash", desk: floorplans.Desk{Code: "2A/07", X: 1, Y: 1}, wantCode: perch.EINVALID, wantField: "code"},
			{name: "code of 33 characters", desk: floorplans.Desk{Code: strings.Repeat("C", 33), X: 1, Y: 1}, wantCode: perch.EINVALID, wantField: "code"},
			{name: "negative x", desk: floorplans.Desk{Code: "X-1", X: -0.1, Y: 1}, wantCode: perch.EINVALID, wantField: "x"},
			{name: "x beyond the width", desk: floorplans.Desk{Code: "X-2", X: 100.01, Y: 1}, wantCode: perch.EINVALID, wantField: "x"},
			{name: "NaN x", desk: floorplans.Desk{Code: "X-3", X: math.NaN(), Y: 1}, wantCode: perch.EINVALID, wantField: "x"},
			{name: "infinite x", desk: floorplans.Desk{Code: "X-4", X: math.Inf(1), Y: 1}, wantCode: perch.EINVALID, wantField: "x"},
			{name: "negative y", desk: floorplans.Desk{Code: "Y-1", X: 1, Y: -1}, wantCode: perch.EINVALID, wantField: "y"},
			{name: "y beyond the height", desk: floorplans.Desk{Code: "Y-2", X: 1, Y: 50.5}, wantCode: perch.EINVALID, wantField: "y"},
			{name: "NaN y", desk: floorplans.Desk{Code: "Y-3", X: 1, Y: math.NaN()}, wantCode: perch.EINVALID, wantField: "y"},
			{name: "empty amenity", desk: floorplans.Desk{Code: "A-1", X: 1, Y: 1, Amenities: floorplans.Amenities{""}}, wantCode: perch.EINVALID, wantField: "amenities[0]"},
			{name: "amenity with a space", desk: floorplans.Desk{Code: "A-2", X: 1, Y: 1, Amenities: floorplans.Amenities{"monitor", "two words"}}, wantCode: perch.EINVALID, wantField: "amenities[1]"},
			{name: "amenity with punctuation", desk: floorplans.Desk{Code: "A-3", X: 1, Y: 1, Amenities: floorplans.Amenities{"monitor!"}}, wantCode: perch.EINVALID, wantField: "amenities[0]"},
			{name: "zone on another floor", desk: floorplans.Desk{Code: "Z-2", X: 1, Y: 1, ZoneID: &otherZone.ID}, wantCode: perch.EINVALID, wantField: "zone_id"},
			{name: "zone that does not exist", desk: floorplans.Desk{Code: "Z-3", X: 1, Y: 1, ZoneID: ptr(database.NewID())}, wantCode: perch.EINVALID, wantField: "zone_id"},
			{name: "zone id malformed", desk: floorplans.Desk{Code: "Z-4", X: 1, Y: 1, ZoneID: ptr("zone-1")}, wantCode: perch.EINVALID, wantField: "zone_id"},
			{name: "assigned user does not exist", desk: floorplans.Desk{Code: "U-2", X: 1, Y: 1, AssignedUserID: ptr(database.NewID())}, wantCode: perch.EINVALID, wantField: "assigned_user_id"},
		}
		accepted := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := tc.desk
				d.FloorID = floor.ID
				dbtest.WantErr(t, svc.CreateDesk(ctx, &d), tc.wantCode, tc.wantField)
				if tc.wantCode != "" {
					return
				}
				accepted++
				got, err := svc.GetDesk(ctx, d.ID)
				dbtest.Must(t, err)
				wantCode := tc.wantCodeS
				if wantCode == "" {
					wantCode = tc.desk.Code
				}
				if got.Code != wantCode || got.SiteID != site.ID || got.FloorID != floor.ID || got.X != tc.desk.X || got.Y != tc.desk.Y {
					t.Fatalf("stored desk %+v, want code %q at (%g, %g) on floor %s of site %s", got, wantCode, tc.desk.X, tc.desk.Y, floor.ID, site.ID)
				}
				if !slices.Equal(got.Amenities, tc.wantAmen) || !slices.Equal(d.Amenities, tc.wantAmen) {
					t.Fatalf("amenities stored %q, returned %q, want %q", got.Amenities, d.Amenities, tc.wantAmen)
				}
				if (got.ZoneID == nil) != (tc.desk.ZoneID == nil) || (got.ZoneID != nil && *got.ZoneID != *tc.desk.ZoneID) {
					t.Fatalf("stored zone %v, want %v", got.ZoneID, tc.desk.ZoneID)
				}
				if (got.AssignedUserID == nil) != (tc.desk.AssignedUserID == nil) || (got.AssignedUserID != nil && *got.AssignedUserID != *tc.desk.AssignedUserID) {
					t.Fatalf("stored assigned user %v, want %v", got.AssignedUserID, tc.desk.AssignedUserID)
				}
			})
		}
		if n := count(t, db, "desks", ""); n != int64(accepted) {
			t.Fatalf("%d desks stored, want %d (refused desks must not be written)", n, accepted)
		}
		err := svc.CreateDesk(ctx, &floorplans.Desk{FloorID: database.NewID(), Code: "N-1"})
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

func TestDeskCodeIsUniquePerSite(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		siteA, siteB := newSite(t, svc, "A"), newSite(t, svc, "B")
		a1 := newFloor(t, svc, siteA.ID, "A1", 100, 100)
		a2 := newFloor(t, svc, siteA.ID, "A2", 100, 100)
		b1 := newFloor(t, svc, siteB.ID, "B1", 100, 100)
		first := newDesk(t, svc, a1.ID, "1A-01", 1, 1)
		second := newDesk(t, svc, a1.ID, "1A-02", 2, 1)

		cases := []struct {
			name     string
			floorID  string
			code     string
			wantCode string
		}{
			{"same code, same floor", a1.ID, "1A-01", perch.ECONFLICT},
			{"same code, other floor of the site", a2.ID, "1A-01", perch.ECONFLICT},
			{"same code after trimming", a2.ID, " 1A-01 ", perch.ECONFLICT},
			{"same code at another site", b1.ID, "1A-01", ""},
			{"new code", a2.ID, "1A-03", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := count(t, db, "desks", "")
				err := svc.CreateDesk(ctx, &floorplans.Desk{FloorID: tc.floorID, Code: tc.code, X: 5, Y: 5})
				dbtest.WantErr(t, err, tc.wantCode, "code")
				want := before + 1
				if tc.wantCode != "" {
					want = before
					if msg := perch.ErrorMessage(err); !strings.Contains(msg, strings.TrimSpace(tc.code)) {
						t.Fatalf("conflict message %q does not name the code %q", msg, tc.code)
					}
				}
				if n := count(t, db, "desks", ""); n != want {
					t.Fatalf("%d desks, want %d", n, want)
				}
			})
		}

		// Renaming a desk onto another's code is the same conflict.
		_, err := svc.UpdateDesk(ctx, second.ID, func(d *floorplans.Desk) error { d.Code = first.Code; return nil })
		dbtest.WantErr(t, err, perch.ECONFLICT, "code")
		got, err := svc.GetDesk(ctx, second.ID)
		dbtest.Must(t, err)
		if got.Code != "1A-02" {
			t.Fatalf("refused rename stored code %q", got.Code)
		}
	})
}

func TestCreateDesksRowIsAllOrNothing(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 50)
		other := newFloor(t, svc, site.ID, "G", 100, 50)
		otherZone := newZone(t, svc, other.ID, "Elsewhere")
		taken := newDesk(t, svc, other.ID, "T-03", 1, 1) // codes are unique per site

		cases := []struct {
			name      string
			row       floorplans.DeskRow
			wantCode  string
			wantField string
			wantMsg   []string // substrings the message must contain
		}{
			{
				name:     "fifth desk off the plan",
				row:      floorplans.DeskRow{Prefix: "R-", First: 1, Digits: 2, Count: 5, X: 10, Y: 10, StepX: 25},
				wantCode: perch.EINVALID, wantField: "x", wantMsg: []string{"desk 5", "R-05"},
			},
			{
				name:     "second desk off the plan downwards",
				row:      floorplans.DeskRow{Prefix: "S", First: 7, Digits: 0, Count: 3, X: 10, Y: 40, StepY: 20},
				wantCode: perch.EINVALID, wantField: "y", wantMsg: []string{"desk 2", "S8"},
			},
			{
				name:     "zone on another floor",
				row:      floorplans.DeskRow{Prefix: "Z-", First: 1, Count: 2, X: 1, Y: 1, StepX: 1, ZoneID: &otherZone.ID},
				wantCode: perch.EINVALID, wantField: "zone_id", wantMsg: []string{"desk 1", "Z-1"},
			},
			{
				name:     "invalid amenity",
				row:      floorplans.DeskRow{Prefix: "AM-", First: 1, Count: 2, X: 1, Y: 1, StepX: 1, Amenities: floorplans.Amenities{"no good"}},
				wantCode: perch.EINVALID, wantField: "amenities[0]", wantMsg: []string{"desk 1", "AM-1"},
			},
			{
				name:     "third desk's code already taken at the site",
				row:      floorplans.DeskRow{Prefix: "T-", First: 1, Digits: 2, Count: 4, X: 10, Y: 10, StepX: 10},
				wantCode: perch.ECONFLICT, wantField: "code", wantMsg: []string{"T-03"},
			},
			{
				name:     "count zero",
				row:      floorplans.DeskRow{Prefix: "R-", Count: 0},
				wantCode: perch.EINVALID, wantField: "count",
			},
			{
				name:     "count over the maximum",
				row:      floorplans.DeskRow{Prefix: "R-", Count: floorplans.MaxRow + 1},
				wantCode: perch.EINVALID, wantField: "count",
			},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				desks, err := tc.row.Desks()
				if err == nil {
					err = svc.CreateDesks(ctx, floor.ID, desks)
				}
				dbtest.WantErr(t, err, tc.wantCode, tc.wantField)
				for _, s := range tc.wantMsg {
					if msg := perch.ErrorMessage(err); !strings.Contains(msg, s) {
						t.Errorf("message %q does not name %q", msg, s)
					}
				}
				if n := count(t, db, "desks", "floor_id = ?", floor.ID); n != 0 {
					t.Fatalf("%d desks of the refused row were written, want none", n)
				}
			})
		}
		if n := count(t, db, "desks", ""); n != 1 {
			t.Fatalf("%d desks in total, want only the pre-existing one", n)
		}
		if _, err := svc.GetDesk(ctx, taken.ID); err != nil {
			t.Fatalf("pre-existing desk gone: %v", err)
		}

		// A row that fits is written whole: codes, positions, shared amenities.
		row := floorplans.DeskRow{Prefix: "R-", First: 4, Digits: 2, Count: 4, X: 10, Y: 10, StepX: 30, Amenities: floorplans.Amenities{"Monitor"}, Bookable: true}
		desks, err := row.Desks()
		dbtest.Must(t, err)
		dbtest.Must(t, svc.CreateDesks(ctx, floor.ID, desks))
		got, _, err := svc.ListDesks(ctx, floor.ID, database.Page{})
		dbtest.Must(t, err)
		var codes []string
		var xs []float64
		for _, d := range got {
			codes = append(codes, d.Code)
			xs = append(xs, d.X)
			if !slices.Equal(d.Amenities, floorplans.Amenities{"monitor"}) || !d.Bookable || d.Y != 10 {
				t.Errorf("desk %s stored as %+v", d.Code, d)
			}
		}
		if want := []string{"R-04", "R-05", "R-06", "R-07"}; !slices.Equal(codes, want) {
			t.Fatalf("row codes %q, want %q", codes, want)
		}
		if want := []float64{10, 40, 70, 100}; !slices.Equal(xs, want) {
			t.Fatalf("row x positions %v, want %v", xs, want)
		}
	})
}

// ---- rooms ----

func TestCreateRoomValidates(t *testing.T) {
	t.Parallel()
	room := func(mod func(r *floorplans.Room)) floorplans.Room {
		r := floorplans.Room{Name: "Spree", Capacity: 6, X: 10, Y: 10, Width: 20, Height: 10}
		mod(&r)
		return r
	}
	cases := []struct {
		name      string
		room      floorplans.Room
		wantCode  string
		wantField string
	}{
		{"inside", room(func(*floorplans.Room) {}), "", ""},
		{"filling the plan exactly", room(func(r *floorplans.Room) { r.X, r.Y, r.Width, r.Height = 0, 0, 100, 50 }), "", ""},
		{"touching the far corner", room(func(r *floorplans.Room) { r.X, r.Y, r.Width, r.Height = 90, 40, 10, 10 }), "", ""},
		{"capacity 1", room(func(r *floorplans.Room) { r.Capacity = 1 }), "", ""},
		{"capacity 10000", room(func(r *floorplans.Room) { r.Capacity = 10000 }), "", ""},
		{"missing name", room(func(r *floorplans.Room) { r.Name = " " }), perch.EINVALID, "name"},
		{"capacity 0", room(func(r *floorplans.Room) { r.Capacity = 0 }), perch.EINVALID, "capacity"},
		{"negative capacity", room(func(r *floorplans.Room) { r.Capacity = -3 }), perch.EINVALID, "capacity"},
		{"capacity 10001", room(func(r *floorplans.Room) { r.Capacity = 10001 }), perch.EINVALID, "capacity"},
		{"negative x", room(func(r *floorplans.Room) { r.X = -1 }), perch.EINVALID, "x"},
		{"x beyond the plan", room(func(r *floorplans.Room) { r.X = 101 }), perch.EINVALID, "x"},
		{"NaN y", room(func(r *floorplans.Room) { r.Y = math.NaN() }), perch.EINVALID, "y"},
		{"zero width", room(func(r *floorplans.Room) { r.Width = 0 }), perch.EINVALID, "width"},
		{"NaN height", room(func(r *floorplans.Room) { r.Height = math.NaN() }), perch.EINVALID, "height"},
		{"infinite width", room(func(r *floorplans.Room) { r.Width = math.Inf(1) }), perch.EINVALID, "width"},
		{"sticking out on the right", room(func(r *floorplans.Room) { r.X, r.Width = 90, 10.5 }), perch.EINVALID, "width"},
		{"sticking out at the bottom", room(func(r *floorplans.Room) { r.Y, r.Height = 45, 6 }), perch.EINVALID, "height"},
		{"bad amenity", room(func(r *floorplans.Room) { r.Amenities = floorplans.Amenities{"video", "4k screen"} }), perch.EINVALID, "amenities[1]"},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 50)
		accepted := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := tc.room
				r.FloorID = floor.ID
				dbtest.WantErr(t, svc.CreateRoom(ctx, &r), tc.wantCode, tc.wantField)
				if tc.wantCode != "" {
					return
				}
				accepted++
				got, err := svc.GetRoom(ctx, r.ID)
				dbtest.Must(t, err)
				if got.SiteID != site.ID || got.Capacity != tc.room.Capacity || got.X != tc.room.X || got.Width != tc.room.Width {
					t.Fatalf("stored room %+v, want %+v", got, tc.room)
				}
			})
		}
		if n := count(t, db, "rooms", ""); n != int64(accepted) {
			t.Fatalf("%d rooms stored, want %d", n, accepted)
		}
		// Moving a room off the plan is refused too, and changes nothing.
		r := newRoom(t, svc, floor.ID, "Havel", 0, 0, 10, 10)
		_, err := svc.UpdateRoom(ctx, r.ID, func(v *floorplans.Room) error { v.X = 95; return nil })
		dbtest.WantErr(t, err, perch.EINVALID, "width")
		if got, _ := svc.GetRoom(ctx, r.ID); got.X != 0 {
			t.Fatalf("refused move stored x = %g", got.X)
		}
	})
}

// ---- deletes ----

func TestDeleteRefusesWhileInUse(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		withZone := newFloor(t, svc, site.ID, "Zone only", 100, 100)
		zone := newZone(t, svc, withZone.ID, "Z")
		withDesk := newFloor(t, svc, site.ID, "Desk only", 100, 100)
		desk := newDesk(t, svc, withDesk.ID, "D-1", 1, 1)
		withRoom := newFloor(t, svc, site.ID, "Room only", 100, 100)
		room := newRoom(t, svc, withRoom.ID, "R", 0, 0, 10, 10)
		empty := newFloor(t, svc, site.ID, "Empty", 100, 100)

		// Each step runs in order on the same office.
		steps := []struct {
			name     string
			del      func() error
			wantCode string
			gone     func() error // a read that must fail with not_found after a successful delete
		}{
			{"site with floors", func() error { return svc.DeleteSite(ctx, site.ID) }, perch.ECONFLICT, nil},
			{"floor with a zone", func() error { return svc.DeleteFloor(ctx, withZone.ID) }, perch.ECONFLICT, nil},
			{"floor with a desk", func() error { return svc.DeleteFloor(ctx, withDesk.ID) }, perch.ECONFLICT, nil},
			{"floor with a room", func() error { return svc.DeleteFloor(ctx, withRoom.ID) }, perch.ECONFLICT, nil},
			{"empty floor", func() error { return svc.DeleteFloor(ctx, empty.ID) }, "", func() error { _, err := svc.GetFloor(ctx, empty.ID); return err }},
			{"zone", func() error { return svc.DeleteZone(ctx, zone.ID) }, "", func() error { _, err := svc.GetZone(ctx, zone.ID); return err }},
			{"desk", func() error { return svc.DeleteDesk(ctx, desk.ID) }, "", func() error { _, err := svc.GetDesk(ctx, desk.ID); return err }},
			{"room", func() error { return svc.DeleteRoom(ctx, room.ID) }, "", func() error { _, err := svc.GetRoom(ctx, room.ID); return err }},
			{"site still with emptied floors", func() error { return svc.DeleteSite(ctx, site.ID) }, perch.ECONFLICT, nil},
			{"emptied floor 1", func() error { return svc.DeleteFloor(ctx, withZone.ID) }, "", nil},
			{"emptied floor 2", func() error { return svc.DeleteFloor(ctx, withDesk.ID) }, "", nil},
			{"emptied floor 3", func() error { return svc.DeleteFloor(ctx, withRoom.ID) }, "", nil},
			{"site without floors", func() error { return svc.DeleteSite(ctx, site.ID) }, "", func() error { _, err := svc.GetSite(ctx, site.ID); return err }},
			{"deleted site again", func() error { return svc.DeleteSite(ctx, site.ID) }, perch.ENOTFOUND, nil},
			{"unknown site", func() error { return svc.DeleteSite(ctx, database.NewID()) }, perch.ENOTFOUND, nil},
			{"unknown floor", func() error { return svc.DeleteFloor(ctx, database.NewID()) }, perch.ENOTFOUND, nil},
			{"unknown zone", func() error { return svc.DeleteZone(ctx, database.NewID()) }, perch.ENOTFOUND, nil},
			{"unknown desk", func() error { return svc.DeleteDesk(ctx, database.NewID()) }, perch.ENOTFOUND, nil},
			{"unknown room", func() error { return svc.DeleteRoom(ctx, database.NewID()) }, perch.ENOTFOUND, nil},
		}
		for _, st := range steps {
			err := st.del()
			if got := perch.ErrorCode(err); got != st.wantCode {
				t.Fatalf("%s: error code %q (%v), want %q", st.name, got, err, st.wantCode)
			}
			if st.gone != nil {
				if got := perch.ErrorCode(st.gone()); got != perch.ENOTFOUND {
					t.Fatalf("%s: read after delete gave %q, want not_found", st.name, got)
				}
			}
		}
		for _, table := range []string{"sites", "floors", "zones", "desks", "rooms"} {
			if n := count(t, db, table, ""); n != 0 {
				t.Errorf("%d rows left in %s", n, table)
			}
		}
	})
}

func TestDeleteZoneKeepsItsDesksAndRooms(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 100)
		zone := newZone(t, svc, floor.ID, "Quiet")
		keep := newZone(t, svc, floor.ID, "Loud")
		var inZone []string
		for _, code := range []string{"Q-1", "Q-2"} {
			d := &floorplans.Desk{FloorID: floor.ID, Code: code, X: 1, Y: 1, ZoneID: &zone.ID}
			dbtest.Must(t, svc.CreateDesk(ctx, d))
			inZone = append(inZone, d.ID)
		}
		loud := &floorplans.Desk{FloorID: floor.ID, Code: "L-1", X: 1, Y: 1, ZoneID: &keep.ID}
		dbtest.Must(t, svc.CreateDesk(ctx, loud))
		room := &floorplans.Room{FloorID: floor.ID, Name: "Box", Capacity: 2, Width: 5, Height: 5, ZoneID: &zone.ID}
		dbtest.Must(t, svc.CreateRoom(ctx, room))

		dbtest.Must(t, svc.DeleteZone(ctx, zone.ID))

		for _, id := range inZone {
			d, err := svc.GetDesk(ctx, id)
			if err != nil {
				t.Fatalf("desk of the deleted zone is gone: %v", err)
			}
			if d.ZoneID != nil {
				t.Fatalf("desk %s still in zone %s", d.Code, *d.ZoneID)
			}
		}
		if n := count(t, db, "desks", "zone_id IS NULL"); n != 2 {
			t.Fatalf("%d desks without zone, want 2", n)
		}
		if d, err := svc.GetDesk(ctx, loud.ID); err != nil || d.ZoneID == nil || *d.ZoneID != keep.ID {
			t.Fatalf("desk of another zone changed: %+v, %v", d, err)
		}
		r, err := svc.GetRoom(ctx, room.ID)
		if err != nil || r.ZoneID != nil {
			t.Fatalf("room of the deleted zone: %+v, %v; want kept, in no zone", r, err)
		}
	})
}

func TestDeleteDeskOrRoomWithUpcomingBooking(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	cases := []struct {
		name       string
		kind       string // desk or room
		start, end time.Time
		status     string
		wantCode   string
	}{
		{"desk booked tomorrow", "desk", now.Add(24 * time.Hour), now.Add(25 * time.Hour), "confirmed", perch.ECONFLICT},
		{"desk checked in right now", "desk", now.Add(-time.Hour), now.Add(time.Hour), "checked_in", perch.ECONFLICT},
		{"desk booking cancelled", "desk", now.Add(24 * time.Hour), now.Add(25 * time.Hour), "cancelled", ""},
		{"desk booking released", "desk", now.Add(24 * time.Hour), now.Add(25 * time.Hour), "released", ""},
		{"desk booked yesterday", "desk", now.Add(-25 * time.Hour), now.Add(-24 * time.Hour), "confirmed", ""},
		{"room booked tomorrow", "room", now.Add(24 * time.Hour), now.Add(25 * time.Hour), "confirmed", perch.ECONFLICT},
		{"room booked yesterday", "room", now.Add(-25 * time.Hour), now.Add(-24 * time.Hour), "completed", ""},
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 100)
		user := newUser(t, db, "booker@example.com")
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var id string
				del, get := svc.DeleteDesk, func(id string) error { _, err := svc.GetDesk(ctx, id); return err }
				if tc.kind == "desk" {
					id = newDesk(t, svc, floor.ID, "D-"+string(rune('a'+i)), 1, 1).ID
				} else {
					id = newRoom(t, svc, floor.ID, "R"+string(rune('a'+i)), 0, 0, 5, 5).ID
					del, get = svc.DeleteRoom, func(id string) error { _, err := svc.GetRoom(ctx, id); return err }
				}
				insertBooking(t, db, site.ID, floor.ID, tc.kind, id, user.ID, tc.start, tc.end, tc.status)
				err := del(ctx, id)
				dbtest.WantErr(t, err, tc.wantCode, "")
				stillThere := get(id) == nil
				if stillThere != (tc.wantCode != "") {
					t.Fatalf("after delete (err %v) the %s exists = %v", err, tc.kind, stillThere)
				}
			})
		}
	})
}

// ---- lists ----

func TestListDesksPagesByCode(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		floor := newFloor(t, svc, site.ID, "F", 100, 100)
		other := newFloor(t, svc, site.ID, "G", 100, 100)
		// Created out of order, so id order is not code order.
		codes := []string{"D-05", "D-02", "D-07", "D-01", "D-06", "D-03", "D-04"}
		for _, c := range codes {
			newDesk(t, svc, floor.ID, c, 1, 1)
		}
		newDesk(t, svc, other.ID, "D-00", 1, 1) // another floor: never listed

		var seen []string
		cursor, pages := "", 0
		for {
			p, err := database.NewPage(3, cursor)
			dbtest.Must(t, err)
			items, next, err := svc.ListDesks(ctx, floor.ID, p)
			dbtest.Must(t, err)
			pages++
			if len(items) > 3 {
				t.Fatalf("page %d has %d items, limit 3", pages, len(items))
			}
			for _, d := range items {
				seen = append(seen, d.Code)
			}
			if next == "" {
				if len(items) != 1 {
					t.Fatalf("last page has %d items, want 1", len(items))
				}
				break
			}
			if len(items) != 3 {
				t.Fatalf("page %d has %d items and a next cursor, want 3", pages, len(items))
			}
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			cursor = next
		}
		want := slices.Clone(codes)
		slices.Sort(want)
		if !slices.Equal(seen, want) || pages != 3 {
			t.Fatalf("paged through %q in %d pages, want %q in 3", seen, pages, want)
		}

		// A page that exactly ends the list has no next cursor either.
		p, _ := database.NewPage(7, "")
		items, next, err := svc.ListDesks(ctx, floor.ID, p)
		dbtest.Must(t, err)
		if len(items) != 7 || next != "" {
			t.Fatalf("limit 7 of 7: %d items, next %q; want 7 and no cursor", len(items), next)
		}
		_, _, err = svc.ListDesks(ctx, database.NewID(), database.Page{})
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

func TestListFloorsPagesByLevel(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := floorplans.NewService(db)
		site := newSite(t, svc, "HQ")
		for _, level := range []int{3, -1, 0, 2, 1} {
			f := &floorplans.Floor{SiteID: site.ID, Name: "L", Level: level, Width: 10, Height: 10}
			dbtest.Must(t, svc.CreateFloor(ctx, f))
		}
		var levels []int
		cursor := ""
		for range 10 {
			p, err := database.NewPage(2, cursor)
			dbtest.Must(t, err)
			items, next, err := svc.ListFloors(ctx, site.ID, p)
			dbtest.Must(t, err)
			for _, f := range items {
				levels = append(levels, f.Level)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if want := []int{-1, 0, 1, 2, 3}; !slices.Equal(levels, want) {
			t.Fatalf("paged levels %v, want %v", levels, want)
		}
	})
}

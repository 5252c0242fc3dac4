package demo_test

import (
	"context"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// What the demo office holds, table by table.
var wantCounts = map[string]int64{
	"sites":  1,
	"floors": 2,
	"zones":  3,
	"desks":  120,
	"rooms":  8,
	"teams":  5,
	"users":  41,
}

func countAll(t *testing.T, db *database.DB) map[string]int64 {
	t.Helper()
	got := map[string]int64{}
	for table := range wantCounts {
		var n int64
		dbtest.Must(t, db.Conn(context.Background()).Table(table).Count(&n).Error)
		got[table] = n
	}
	return got
}

func TestBuildIsDeterministic(t *testing.T) {
	a, b := demo.Build(), demo.Build()
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two calls of Build differ")
	}
	// Ids are derived from names, not random.
	if a.Site.ID != demo.SiteID || demo.SiteID != demo.ID("site", "berlin-hq") {
		t.Fatalf("site id %s, want demo.SiteID %s", a.Site.ID, demo.SiteID)
	}
	if demo.ID("desk", "1A-01") != demo.ID("desk", "1A-01") || demo.ID("desk", "1A-01") == demo.ID("desk", "1A-02") {
		t.Fatal("demo.ID is not a deterministic, distinct id per key")
	}
	if !database.ValidID(demo.ID("desk", "1A-01")) {
		t.Fatalf("demo.ID %q is not a valid id", demo.ID("desk", "1A-01"))
	}
}

func TestBuildContents(t *testing.T) {
	o := demo.Build()

	if o.Site.Name != "Berlin HQ" || o.Site.Timezone != "Europe/Berlin" {
		t.Fatalf("site %q in %q, want Berlin HQ in Europe/Berlin", o.Site.Name, o.Site.Timezone)
	}
	counts := []struct {
		what      string
		got, want int
	}{
		{"floors", len(o.Floors), 2},
		{"zones", len(o.Zones), 3},
		{"desks", len(o.Desks), 120},
		{"rooms", len(o.Rooms), 8},
		{"teams", len(o.Teams), 5},
		{"users", len(o.Users), 41},
	}
	for _, c := range counts {
		if c.got != c.want {
			t.Errorf("%d %s, want %d", c.got, c.what, c.want)
		}
	}

	// Every id is unique across the whole office.
	ids := map[string]string{}
	addID := func(kind, id string) {
		if !database.ValidID(id) {
			t.Errorf("%s id %q is not a valid id", kind, id)
		}
		if prev, dup := ids[id]; dup {
			t.Errorf("id %s used by a %s and a %s", id, prev, kind)
		}
		ids[id] = kind
	}
	addID("site", o.Site.ID)
	floors := map[string]floorplans.Floor{}
	for _, f := range o.Floors {
		addID("floor", f.ID)
		floors[f.ID] = f
		if f.SiteID != o.Site.ID {
			t.Errorf("floor %s is not on the site", f.Name)
		}
	}
	zoneFloor := map[string]string{}
	for _, z := range o.Zones {
		addID("zone", z.ID)
		zoneFloor[z.ID] = z.FloorID
		if _, ok := floors[z.FloorID]; !ok {
			t.Errorf("zone %s is on no demo floor", z.Name)
		}
	}
	userByID := map[string]users.User{}
	for _, u := range o.Users {
		addID("user", u.ID)
		userByID[u.ID] = u
	}
	codes := map[string]bool{}
	for _, d := range o.Desks {
		addID("desk", d.ID)
		if codes[d.Code] {
			t.Errorf("desk code %s used twice", d.Code)
		}
		codes[d.Code] = true
		f, ok := floors[d.FloorID]
		if !ok {
			t.Errorf("desk %s is on no demo floor", d.Code)
			continue
		}
		if d.X < 0 || d.X > f.Width || d.Y < 0 || d.Y > f.Height {
			t.Errorf("desk %s at (%g, %g) lies outside its %g × %g floor", d.Code, d.X, d.Y, f.Width, f.Height)
		}
		if d.ZoneID != nil && zoneFloor[*d.ZoneID] != d.FloorID {
			t.Errorf("desk %s is in a zone of another floor", d.Code)
		}
		if d.AssignedUserID != nil {
			if _, ok := userByID[*d.AssignedUserID]; !ok {
				t.Errorf("desk %s is assigned to no demo user", d.Code)
			}
		}
	}
	for _, r := range o.Rooms {
		addID("room", r.ID)
		f := floors[r.FloorID]
		if r.X+r.Width > f.Width || r.Y+r.Height > f.Height || r.Capacity < 1 {
			t.Errorf("room %s does not fit its floor or has no capacity", r.Name)
		}
	}

	// 40 people, 8 in each of the 5 teams, and one kiosk account in no team.
	teamNames := map[string]string{}
	for _, tm := range o.Teams {
		addID("team", tm.ID)
		teamNames[tm.ID] = tm.Name
	}
	perTeam := map[string]int{}
	roles := map[users.Role]int{}
	emails := map[string]bool{}
	noTeam := 0
	for _, u := range o.Users {
		roles[u.Role]++
		if emails[u.Email] {
			t.Errorf("email %s used twice", u.Email)
		}
		emails[u.Email] = true
		if u.TeamID == nil {
			noTeam++
			if u.Role != users.RoleKiosk {
				t.Errorf("%s (%s) has no team but is not the kiosk", u.Name, u.Role)
			}
			continue
		}
		name, ok := teamNames[*u.TeamID]
		if !ok {
			t.Errorf("%s is in no demo team", u.Name)
		}
		perTeam[name]++
	}
	if noTeam != 1 || roles[users.RoleKiosk] != 1 {
		t.Errorf("%d users without a team and %d kiosks, want exactly 1 kiosk account with no team", noTeam, roles[users.RoleKiosk])
	}
	for _, name := range demo.Teams {
		if perTeam[name] != 8 {
			t.Errorf("team %s has %d people, want 8", name, perTeam[name])
		}
	}
	for _, r := range users.Roles {
		if roles[r] < 1 {
			t.Errorf("no demo user has role %s", r)
		}
	}
	// The well-known accounts exist with their roles.
	for email, role := range map[string]users.Role{
		demo.AdminEmail: users.RoleAdmin, demo.ReceptionEmail: users.RoleReception,
		demo.EmployeeEmail: users.RoleEmployee, demo.KioskEmail: users.RoleKiosk,
	} {
		u, ok := userByID[demo.ID("user", email)]
		if !ok || u.Email != email || u.Role != role {
			t.Errorf("well-known account %s: %+v, want role %s", email, u, role)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()

		state := func(wantLoaded, wantEmpty bool) {
			t.Helper()
			loaded, err := demo.Loaded(ctx, db)
			dbtest.Must(t, err)
			empty, err := demo.Empty(ctx, db)
			dbtest.Must(t, err)
			if loaded != wantLoaded || empty != wantEmpty {
				t.Fatalf("Loaded = %v, Empty = %v; want %v, %v", loaded, empty, wantLoaded, wantEmpty)
			}
		}

		state(false, true)
		o, err := demo.Load(ctx, db)
		dbtest.Must(t, err)
		if o == nil || o.Site.ID != demo.SiteID {
			t.Fatalf("Load returned %+v", o)
		}
		if got := countAll(t, db); !reflect.DeepEqual(got, wantCounts) {
			t.Fatalf("rows after Load: %v, want %v", got, wantCounts)
		}
		state(true, false)

		// Loading again is refused and writes nothing.
		again, err := demo.Load(ctx, db)
		if perch.ErrorCode(err) != perch.ECONFLICT || again != nil {
			t.Fatalf("second Load: %v, %v; want a conflict", again, err)
		}
		if got := countAll(t, db); !reflect.DeepEqual(got, wantCounts) {
			t.Fatalf("rows after the second Load: %v, want %v", got, wantCounts)
		}
		state(true, false)

		// What was written reads back through the services, normalised.
		fp := floorplans.NewService(db)
		site, err := fp.GetSite(ctx, demo.SiteID)
		dbtest.Must(t, err)
		if site.Name != "Berlin HQ" || site.Timezone != "Europe/Berlin" {
			t.Fatalf("stored site %+v", site)
		}
		desk, err := fp.GetDesk(ctx, demo.ID("desk", "1A-01"))
		dbtest.Must(t, err)
		if desk.SiteID != demo.SiteID || desk.ZoneID == nil || !desk.Amenities.Has("monitor", "accessible") {
			t.Fatalf("stored desk 1A-01 %+v", desk)
		}
		us := users.NewService(db)
		admin, err := us.GetUserByEmail(ctx, demo.AdminEmail)
		dbtest.Must(t, err)
		if admin.Role != users.RoleAdmin {
			t.Fatalf("admin account %+v", admin)
		}
		// The office is a normal one: the services refuse a clash with it.
		err = fp.CreateDesk(ctx, &floorplans.Desk{FloorID: desk.FloorID, Code: "1A-01", X: 1, Y: 1})
		if perch.ErrorCode(err) != perch.ECONFLICT {
			t.Fatalf("duplicate of a demo desk code: %v, want conflict", err)
		}
	})
}

// A database that already holds people (but not the demo) is neither empty
// nor loaded.
func TestEmptyAndLoadedWithOtherData(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		dbtest.Must(t, users.NewService(db).CreateUser(ctx, &users.User{Name: "Someone", Email: "someone@example.com", Role: users.RoleAdmin}))
		loaded, err := demo.Loaded(ctx, db)
		dbtest.Must(t, err)
		empty, err := demo.Empty(ctx, db)
		dbtest.Must(t, err)
		if loaded || empty {
			t.Fatalf("Loaded = %v, Empty = %v; want false, false", loaded, empty)
		}
	})
}

func TestMintTokens(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)

		// Without the demo there is no one to mint for.
		if _, err := demo.MintTokens(ctx, svc); perch.ErrorCode(err) != perch.ENOTFOUND {
			t.Fatalf("MintTokens before Load: %v, want not_found", err)
		}
		_, err := demo.Load(ctx, db)
		dbtest.Must(t, err)

		wantEmail := map[users.Role]string{
			users.RoleAdmin: demo.AdminEmail, users.RoleEmployee: demo.EmployeeEmail,
			users.RoleReception: demo.ReceptionEmail, users.RoleKiosk: demo.KioskEmail,
		}
		check := func(tokens []demo.Token) {
			t.Helper()
			if len(tokens) != len(wantEmail) {
				t.Fatalf("%d tokens, want one per role (%d)", len(tokens), len(wantEmail))
			}
			seen := map[users.Role]bool{}
			for _, tok := range tokens {
				if seen[tok.Role] {
					t.Fatalf("two tokens for role %s", tok.Role)
				}
				seen[tok.Role] = true
				p, err := svc.Authenticate(ctx, tok.Token)
				if err != nil {
					t.Fatalf("%s token does not work: %v", tok.Role, err)
				}
				if p.Role != tok.Role || p.Email != wantEmail[tok.Role] || tok.Email != p.Email || tok.Name != p.Name {
					t.Fatalf("%s token signs in as %s <%s> (%s); token says %s <%s>", tok.Role, p.Name, p.Email, p.Role, tok.Name, tok.Email)
				}
			}
		}

		first, err := demo.MintTokens(ctx, svc)
		dbtest.Must(t, err)
		check(first)

		second, err := demo.MintTokens(ctx, svc)
		dbtest.Must(t, err)
		check(second)
		for i, old := range first {
			if old.Token == second[i].Token {
				t.Fatalf("%s token did not change", old.Role)
			}
			if _, err := svc.Authenticate(ctx, old.Token); perch.ErrorCode(err) != perch.EUNAUTHORIZED {
				t.Fatalf("old %s token after a new MintTokens: %v, want unauthorized", old.Role, err)
			}
		}
		// The live demo tokens are exactly the second set.
		var live int64
		dbtest.Must(t, db.Conn(ctx).Table("tokens").Where("label = ? AND revoked_at IS NULL", demo.TokenLabel).Count(&live).Error)
		if live != int64(len(second)) {
			t.Fatalf("%d live demo tokens, want %d", live, len(second))
		}
	})
}

// The demo's visitors of the day: three expected visits, added once.
func TestSeedVisits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		_, err := demo.Load(ctx, db)
		dbtest.Must(t, err)
		now := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
		for _, want := range []int{3, 0} { // the second run adds nothing
			n, err := demo.SeedVisits(ctx, db, now)
			dbtest.Must(t, err)
			if n != want {
				t.Fatalf("added %d visits, want %d", n, want)
			}
		}
		var n int64
		dbtest.Must(t, db.Conn(ctx).Table("visits").Where("site_id = ? AND status = 'expected' AND expected_at >= ? AND expected_at < ?",
			demo.SiteID, now.Add(-8*time.Hour), now.Add(16*time.Hour)).Count(&n).Error)
		if n != 3 {
			t.Fatalf("%d visits today, want 3", n)
		}
	})
}

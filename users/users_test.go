package users_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/users"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// ---- helpers ----

// wantErr fails unless err carries the code and (when field is not empty)
// names the field. code "" means no error.

func ptr[T any](v T) *T { return &v }

func newTeam(t *testing.T, svc *users.Service, name string) *users.Team {
	t.Helper()
	tm := &users.Team{Name: name}
	dbtest.Must(t, svc.CreateTeam(context.Background(), tm))
	return tm
}

func newUser(t *testing.T, svc *users.Service, name, email string, role users.Role, teamID *string) *users.User {
	t.Helper()
	u := &users.User{Name: name, Email: email, Role: role, TeamID: teamID}
	dbtest.Must(t, svc.CreateUser(context.Background(), u))
	return u
}

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

// insertBooking writes a confirmed booking of a fresh desk id for the user,
// on a fresh site and floor, with raw SQL (as the booking package would).
func insertBooking(t *testing.T, db *database.DB, userID string) {
	t.Helper()
	g := db.Conn(context.Background())
	now := time.Now().UTC()
	siteID, floorID := database.NewID(), database.NewID()
	dbtest.Must(t, g.Exec("INSERT INTO sites (id, name, timezone, created_at, updated_at) VALUES (?, 'S', 'UTC', ?, ?)", siteID, now, now).Error)
	dbtest.Must(t, g.Exec("INSERT INTO floors (id, site_id, name, width, height, created_at, updated_at) VALUES (?, ?, 'F', 10, 10, ?, ?)", floorID, siteID, now, now).Error)
	dbtest.Must(t, g.Exec(`INSERT INTO bookings (id, site_id, floor_id, resource_type, resource_id, user_id, start_at, end_at, status, created_at, updated_at)
		VALUES (?, ?, ?, 'desk', ?, ?, ?, ?, 'confirmed', ?, ?)`,
		database.NewID(), siteID, floorID, database.NewID(), userID, now.Add(time.Hour), now.Add(2*time.Hour), now, now).Error)
}

// ---- users ----

func TestCreateUserNormalisesAndValidates(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		team := newTeam(t, svc, "Engineering")

		cases := []struct {
			name      string
			user      users.User
			wantCode  string
			wantField string
			wantEmail string // stored email when accepted
			wantName  string // stored name when accepted
		}{
			{name: "plain", user: users.User{Name: "Ada Lovelace", Email: "ada@example.com", Role: users.RoleAdmin},
				wantEmail: "ada@example.com", wantName: "Ada Lovelace"},
			{name: "email lower-cased and trimmed", user: users.User{Name: "  Bob Baker ", Email: "  Bob.Baker@Example.COM ", Role: users.RoleEmployee},
				wantEmail: "bob.baker@example.com", wantName: "Bob Baker"},
			{name: "in a team", user: users.User{Name: "Cleo", Email: "cleo@example.com", Role: users.RoleReception, TeamID: &team.ID},
				wantEmail: "cleo@example.com", wantName: "Cleo"},
			{name: "kiosk", user: users.User{Name: "Lobby", Email: "lobby@example.com", Role: users.RoleKiosk},
				wantEmail: "lobby@example.com", wantName: "Lobby"},
			{name: "duplicate email", user: users.User{Name: "Ada Again", Email: "ada@example.com", Role: users.RoleEmployee},
				wantCode: perch.ECONFLICT, wantField: "email"},
			{name: "duplicate email in other case", user: users.User{Name: "Ada Again", Email: "ADA@Example.com", Role: users.RoleEmployee},
				wantCode: perch.ECONFLICT, wantField: "email"},
			{name: "missing email", user: users.User{Name: "X", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "email"},
			{name: "not an address", user: users.User{Name: "X", Email: "not-an-email", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "email"},
			{name: "display-name form", user: users.User{Name: "X", Email: "X <x@example.com>", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "email"},
			{name: "two addresses", user: users.User{Name: "X", Email: "x@example.com, y@example.com", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "email"},
			{name: "email too long", user: users.User{Name: "X", Email: strings.Repeat("x", 250) + "@example.com", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "email"},
			{name: "missing name", user: users.User{Name: "  ", Email: "noname@example.com", Role: users.RoleEmployee},
				wantCode: perch.EINVALID, wantField: "name"},
			{name: "missing role", user: users.User{Name: "X", Email: "norole@example.com"},
				wantCode: perch.EINVALID, wantField: "role"},
			{name: "unknown role", user: users.User{Name: "X", Email: "root@example.com", Role: "superuser"},
				wantCode: perch.EINVALID, wantField: "role"},
			{name: "role in upper case", user: users.User{Name: "X", Email: "upper@example.com", Role: "ADMIN"},
				wantCode: perch.EINVALID, wantField: "role"},
			{name: "team that does not exist", user: users.User{Name: "X", Email: "noteam@example.com", Role: users.RoleEmployee, TeamID: ptr(database.NewID())},
				wantCode: perch.EINVALID, wantField: "team_id"},
			{name: "team id malformed", user: users.User{Name: "X", Email: "badteam@example.com", Role: users.RoleEmployee, TeamID: ptr("engineering")},
				wantCode: perch.EINVALID, wantField: "team_id"},
		}
		accepted := 0
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				u := tc.user
				dbtest.WantErr(t, svc.CreateUser(ctx, &u), tc.wantCode, tc.wantField)
				if tc.wantCode != "" {
					return
				}
				accepted++
				got, err := svc.GetUser(ctx, u.ID)
				dbtest.Must(t, err)
				if got.Email != tc.wantEmail || got.Name != tc.wantName || got.Role != tc.user.Role {
					t.Fatalf("stored %q <%s> as %s, want %q <%s> as %s", got.Name, got.Email, got.Role, tc.wantName, tc.wantEmail, tc.user.Role)
				}
				if (got.TeamID == nil) != (tc.user.TeamID == nil) || (got.TeamID != nil && *got.TeamID != *tc.user.TeamID) {
					t.Fatalf("stored team %v, want %v", got.TeamID, tc.user.TeamID)
				}
				// Found by email whatever the case and spacing the caller uses.
				byEmail, err := svc.GetUserByEmail(ctx, "  "+strings.ToUpper(tc.wantEmail)+" ")
				dbtest.Must(t, err)
				if byEmail.ID != u.ID {
					t.Fatalf("GetUserByEmail found %s, want %s", byEmail.ID, u.ID)
				}
			})
		}
		if n := count(t, db, "users", ""); n != int64(accepted) {
			t.Fatalf("%d users stored, want %d", n, accepted)
		}

		// Changing one's email onto another user's is the same conflict.
		bob, err := svc.GetUserByEmail(ctx, "bob.baker@example.com")
		dbtest.Must(t, err)
		_, err = svc.UpdateUser(ctx, bob.ID, func(u *users.User) error { u.Email = "Ada@example.com"; return nil })
		dbtest.WantErr(t, err, perch.ECONFLICT, "email")
		_, err = svc.UpdateUser(ctx, bob.ID, func(u *users.User) error { u.Role = "root"; return nil })
		dbtest.WantErr(t, err, perch.EINVALID, "role")
		if got, _ := svc.GetUser(ctx, bob.ID); got.Email != "bob.baker@example.com" || got.Role != users.RoleEmployee {
			t.Fatalf("refused updates changed the user: %+v", got)
		}
		_, err = svc.GetUser(ctx, database.NewID())
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
		_, err = svc.GetUserByEmail(ctx, "nobody@example.com")
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
	})
}

func TestListUsersFilters(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		red, blue := newTeam(t, svc, "Red"), newTeam(t, svc, "Blue")
		newUser(t, svc, "Ada Lovelace", "ada@example.com", users.RoleAdmin, &red.ID)
		newUser(t, svc, "Adam Smith", "adam.smith@example.com", users.RoleEmployee, &red.ID)
		newUser(t, svc, "Bob Jones", "bob@example.com", users.RoleEmployee, &blue.ID)
		newUser(t, svc, "Carla Conrad", "ada.conrad@example.com", users.RoleReception, &blue.ID)
		newUser(t, svc, "Pat Percent", "100%off@example.com", users.RoleEmployee, nil)
		newUser(t, svc, "Xavier Other", "100xoff@example.com", users.RoleEmployee, nil)
		newUser(t, svc, "Una Underscore", "u_n@example.com", users.RoleEmployee, nil)
		newUser(t, svc, "Una Unix", "uxn@example.com", users.RoleKiosk, nil)

		cases := []struct {
			name   string
			filter users.UserFilter
			want   []string // names, in list order
		}{
			{"everyone", users.UserFilter{}, []string{"Ada Lovelace", "Adam Smith", "Bob Jones", "Carla Conrad", "Pat Percent", "Una Underscore", "Una Unix", "Xavier Other"}},
			{"team", users.UserFilter{TeamID: red.ID}, []string{"Ada Lovelace", "Adam Smith"}},
			{"other team", users.UserFilter{TeamID: blue.ID}, []string{"Bob Jones", "Carla Conrad"}},
			{"team nobody is in", users.UserFilter{TeamID: database.NewID()}, nil},
			{"role", users.UserFilter{Role: users.RoleEmployee}, []string{"Adam Smith", "Bob Jones", "Pat Percent", "Una Underscore", "Xavier Other"}},
			{"team and role", users.UserFilter{TeamID: blue.ID, Role: users.RoleEmployee}, []string{"Bob Jones"}},
			{"name or email prefix", users.UserFilter{Query: "ada"}, []string{"Ada Lovelace", "Adam Smith", "Carla Conrad"}},
			{"query is case-insensitive", users.UserFilter{Query: "ADA"}, []string{"Ada Lovelace", "Adam Smith", "Carla Conrad"}},
			{"query is a prefix, not a substring", users.UserFilter{Query: "lovelace"}, nil},
			{"query across the space", users.UserFilter{Query: "ada l"}, []string{"Ada Lovelace"}},
			{"email prefix", users.UserFilter{Query: "bob@"}, []string{"Bob Jones"}},
			{"percent is literal", users.UserFilter{Query: "100%"}, []string{"Pat Percent"}},
			{"percent alone matches nothing", users.UserFilter{Query: "%"}, nil},
			{"underscore is literal", users.UserFilter{Query: "u_"}, []string{"Una Underscore"}},
			{"underscore alone matches nothing", users.UserFilter{Query: "_"}, nil},
			{"backslash is literal", users.UserFilter{Query: `\`}, nil},
			{"query and team", users.UserFilter{Query: "ada", TeamID: blue.ID}, []string{"Carla Conrad"}},
			{"query and role", users.UserFilter{Query: "una", Role: users.RoleKiosk}, []string{"Una Unix"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				list, next, err := svc.ListUsers(ctx, tc.filter, database.Page{})
				dbtest.Must(t, err)
				var got []string
				for _, u := range list {
					got = append(got, u.Name)
				}
				if !slices.Equal(got, tc.want) || next != "" {
					t.Fatalf("ListUsers(%+v) = %q (next %q), want %q", tc.filter, got, next, tc.want)
				}
			})
		}

		// Filters hold across pages too.
		var paged []string
		cursor := ""
		for range 10 {
			p, err := database.NewPage(2, cursor)
			dbtest.Must(t, err)
			list, next, err := svc.ListUsers(ctx, users.UserFilter{Role: users.RoleEmployee}, p)
			dbtest.Must(t, err)
			for _, u := range list {
				paged = append(paged, u.Name)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if want := []string{"Adam Smith", "Bob Jones", "Pat Percent", "Una Underscore", "Xavier Other"}; !slices.Equal(paged, want) {
			t.Fatalf("paged employees %q, want %q", paged, want)
		}
	})
}

func TestDeleteTeamKeepsMembers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		gone, stays := newTeam(t, svc, "Gone"), newTeam(t, svc, "Stays")
		a := newUser(t, svc, "A", "a@example.com", users.RoleEmployee, &gone.ID)
		b := newUser(t, svc, "B", "b@example.com", users.RoleAdmin, &gone.ID)
		c := newUser(t, svc, "C", "c@example.com", users.RoleEmployee, &stays.ID)

		dbtest.Must(t, svc.DeleteTeam(ctx, gone.ID))

		for _, u := range []*users.User{a, b} {
			got, err := svc.GetUser(ctx, u.ID)
			if err != nil {
				t.Fatalf("member %s of the deleted team is gone: %v", u.Email, err)
			}
			if got.TeamID != nil || got.Role != u.Role {
				t.Fatalf("member %s after team delete: team %v role %s; want no team, role %s", u.Email, got.TeamID, got.Role, u.Role)
			}
		}
		if got, _ := svc.GetUser(ctx, c.ID); got.TeamID == nil || *got.TeamID != stays.ID {
			t.Fatalf("member of another team changed: %+v", got)
		}
		_, err := svc.GetTeam(ctx, gone.ID)
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
		dbtest.WantErr(t, svc.DeleteTeam(ctx, gone.ID), perch.ENOTFOUND, "")
		// The name is free again.
		newTeam(t, svc, "Gone")
		// Team names stay unique.
		dbtest.WantErr(t, svc.CreateTeam(ctx, &users.Team{Name: " Stays "}), perch.ECONFLICT, "name")
	})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		booker := newUser(t, svc, "Booker", "booker@example.com", users.RoleEmployee, nil)
		insertBooking(t, db, booker.ID)
		leaver := newUser(t, svc, "Leaver", "leaver@example.com", users.RoleEmployee, nil)
		plain, _, err := svc.MintToken(ctx, leaver.ID, "cli", 0)
		dbtest.Must(t, err)

		cases := []struct {
			name     string
			id       string
			wantCode string
		}{
			{"user with a booking", booker.ID, perch.ECONFLICT},
			{"user with only tokens", leaver.ID, ""},
			{"already deleted", leaver.ID, perch.ENOTFOUND},
			{"unknown", database.NewID(), perch.ENOTFOUND},
		}
		for _, tc := range cases {
			dbtest.WantErr(t, svc.DeleteUser(ctx, tc.id), tc.wantCode, "")
		}
		if _, err := svc.GetUser(ctx, booker.ID); err != nil {
			t.Fatalf("refused delete removed the user: %v", err)
		}
		if n := count(t, db, "bookings", "user_id = ?", booker.ID); n != 1 {
			t.Fatalf("%d bookings of the refused user, want 1", n)
		}
		if n := count(t, db, "tokens", "user_id = ?", leaver.ID); n != 0 {
			t.Fatalf("%d tokens of the deleted user left, want none", n)
		}
		_, err = svc.Authenticate(ctx, plain)
		dbtest.WantErr(t, err, perch.EUNAUTHORIZED, "")
	})
}

// ---- tokens ----

func TestTokens(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		team := newTeam(t, svc, "Ops")
		ada := newUser(t, svc, "Ada", "ada@example.com", users.RoleReception, &team.ID)
		bob := newUser(t, svc, "Bob", "bob@example.com", users.RoleKiosk, nil)

		mint := func(t *testing.T, u *users.User, label string, ttl time.Duration) string {
			t.Helper()
			plain, tok, err := svc.MintToken(ctx, u.ID, label, ttl)
			dbtest.Must(t, err)
			if !strings.HasPrefix(plain, users.TokenPrefix) || tok.UserID != u.ID || tok.Label != label {
				t.Fatalf("minted %q as %+v", plain, tok)
			}
			return plain
		}

		cases := []struct {
			name     string
			token    func(t *testing.T) string
			wantCode string
			wantUser *users.User
		}{
			{"live token", func(t *testing.T) string { return mint(t, ada, "cli", 0) }, "", ada},
			{"live token of another user", func(t *testing.T) string { return mint(t, bob, "door", 0) }, "", bob},
			{"not yet expired", func(t *testing.T) string { return mint(t, ada, "short", time.Hour) }, "", ada},
			{"revoked by label", func(t *testing.T) string {
				p := mint(t, ada, "laptop", 0)
				dbtest.Must(t, svc.RevokeTokens(ctx, ada.ID, "laptop"))
				return p
			}, perch.EUNAUTHORIZED, nil},
			{"revoking another label keeps it", func(t *testing.T) string {
				p := mint(t, ada, "phone", 0)
				dbtest.Must(t, svc.RevokeTokens(ctx, ada.ID, "tablet"))
				return p
			}, "", ada},
			{"revoking another user's label keeps it", func(t *testing.T) string {
				p := mint(t, ada, "shared", 0)
				dbtest.Must(t, svc.RevokeTokens(ctx, bob.ID, "shared"))
				return p
			}, "", ada},
			{"expired by its ttl", func(t *testing.T) string {
				p := mint(t, ada, "tiny", time.Millisecond)
				time.Sleep(5 * time.Millisecond)
				return p
			}, perch.EUNAUTHORIZED, nil},
			{"expired in the database", func(t *testing.T) string {
				p := mint(t, ada, "old", 24*time.Hour)
				dbtest.Must(t, db.Conn(ctx).Exec("UPDATE tokens SET expires_at = ? WHERE hash = ?", time.Now().UTC().Add(-time.Minute), users.HashToken(p)).Error)
				return p
			}, perch.EUNAUTHORIZED, nil},
			{"unknown token", func(*testing.T) string { return users.NewTokenString() }, perch.EUNAUTHORIZED, nil},
			{"garbage", func(*testing.T) string { return "hello" }, perch.EUNAUTHORIZED, nil},
			{"empty", func(*testing.T) string { return "" }, perch.EUNAUTHORIZED, nil},
			{"prefix only", func(*testing.T) string { return users.TokenPrefix }, perch.EUNAUTHORIZED, nil},
			{"wrong prefix", func(t *testing.T) string {
				return "pirch_" + strings.TrimPrefix(mint(t, ada, "typo", 0), users.TokenPrefix)
			}, perch.EUNAUTHORIZED, nil},
			{"no prefix", func(t *testing.T) string {
				return strings.TrimPrefix(mint(t, ada, "bare", 0), users.TokenPrefix)
			}, perch.EUNAUTHORIZED, nil},
			{"trailing space", func(t *testing.T) string { return mint(t, ada, "space", 0) + " " }, perch.EUNAUTHORIZED, nil},
			{"the stored hash is no token", func(t *testing.T) string { return users.HashToken(mint(t, ada, "hash", 0)) }, perch.EUNAUTHORIZED, nil},
			{"over-long", func(*testing.T) string { return users.TokenPrefix + strings.Repeat("a", 300) }, perch.EUNAUTHORIZED, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				plain := tc.token(t)
				p, err := svc.Authenticate(ctx, plain)
				dbtest.WantErr(t, err, tc.wantCode, "")
				if tc.wantCode != "" {
					if p != nil {
						t.Fatalf("refused token still gave a principal: %+v", p)
					}
					return
				}
				u := tc.wantUser
				if p.UserID != u.ID || p.Role != u.Role || p.Email != u.Email || p.Name != u.Name || p.Bootstrap || p.TokenID == "" {
					t.Fatalf("principal %+v, want user %+v", p, u)
				}
				if (p.TeamID == nil) != (u.TeamID == nil) || (p.TeamID != nil && *p.TeamID != *u.TeamID) {
					t.Fatalf("principal team %v, want %v", p.TeamID, u.TeamID)
				}
			})
		}

		// Minting for someone who does not exist, or with bad options.
		_, _, err := svc.MintToken(ctx, database.NewID(), "x", 0)
		dbtest.WantErr(t, err, perch.ENOTFOUND, "")
		_, _, err = svc.MintToken(ctx, ada.ID, "x", -time.Second)
		dbtest.WantErr(t, err, perch.EINVALID, "ttl_hours")
		_, _, err = svc.MintToken(ctx, ada.ID, strings.Repeat("l", 101), 0)
		dbtest.WantErr(t, err, perch.EINVALID, "label")
	})
}

// The database holds only the SHA-256 of a token: someone who reads the
// tokens table cannot sign in with what they find there.
func TestTokensAreStoredHashed(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := users.NewService(db)
		u := newUser(t, svc, "Ada", "ada@example.com", users.RoleAdmin, nil)
		plain, tok, err := svc.MintToken(ctx, u.ID, "cli", time.Hour)
		dbtest.Must(t, err)
		if tok.Hash != users.HashToken(plain) {
			t.Fatalf("returned token carries hash %q, want sha256 of the plain token", tok.Hash)
		}

		var hash string
		dbtest.Must(t, db.Conn(ctx).Raw("SELECT hash FROM tokens WHERE id = ?", tok.ID).Scan(&hash).Error)
		if hash == plain || hash != users.HashToken(plain) {
			t.Fatalf("stored hash %q; want HashToken(plain) = %q and never the plain token", hash, users.HashToken(plain))
		}
		if len(hash) != 64 {
			t.Fatalf("stored hash %q is not hex SHA-256", hash)
		}

		// No column of the row holds the token or its secret part.
		rows, err := db.SQL().QueryContext(ctx, "SELECT * FROM tokens WHERE id = $1", tok.ID)
		if db.Dialect() == database.SQLite {
			rows, err = db.SQL().QueryContext(ctx, "SELECT * FROM tokens WHERE id = ?", tok.ID)
		}
		dbtest.Must(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		dbtest.Must(t, err)
		secret := strings.TrimPrefix(plain, users.TokenPrefix)
		found := 0
		for rows.Next() {
			found++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			dbtest.Must(t, rows.Scan(ptrs...))
			for i, v := range vals {
				s := fmt.Sprint(v)
				if b, ok := v.([]byte); ok {
					s = string(b)
				}
				if strings.Contains(s, secret) {
					t.Fatalf("column %s holds the plain token", cols[i])
				}
			}
		}
		dbtest.Must(t, rows.Err())
		if found != 1 {
			t.Fatalf("%d token rows, want 1", found)
		}
		// And the token still works.
		if _, err := svc.Authenticate(ctx, plain); err != nil {
			t.Fatalf("Authenticate: %v", err)
		}
	})
}

func TestNewTokenStringIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s := users.NewTokenString()
		if !strings.HasPrefix(s, users.TokenPrefix) || len(s) < len(users.TokenPrefix)+40 || seen[s] {
			t.Fatalf("token %q: missing prefix, too short or repeated", s)
		}
		seen[s] = true
	}
}

func TestBootstrapAuth(t *testing.T) {
	cases := []struct {
		name       string
		configured string
		presented  string
		want       bool
	}{
		{"exact token", "s3cret-bootstrap", "s3cret-bootstrap", true},
		{"other case", "s3cret-bootstrap", "S3CRET-BOOTSTRAP", false},
		{"trailing space", "s3cret-bootstrap", "s3cret-bootstrap ", false},
		{"prefix", "s3cret-bootstrap", "s3cret", false},
		{"longer", "s3cret-bootstrap", "s3cret-bootstrap2", false},
		{"empty presented", "s3cret-bootstrap", "", false},
		{"its hash", "s3cret-bootstrap", users.HashToken("s3cret-bootstrap"), false},
		{"disabled, empty presented", "", "", false},
		{"disabled, anything presented", "", "s3cret-bootstrap", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := users.NewBootstrapAuth(tc.configured)
			if tc.configured == "" && b != nil {
				t.Fatalf("NewBootstrapAuth(\"\") = %v, want nil (disabled)", b)
			}
			if got := b.Match(tc.presented); got != tc.want {
				t.Fatalf("Match(%q) = %v, want %v", tc.presented, got, tc.want)
			}
		})
	}
	var disabled *users.BootstrapAuth
	if disabled.Match("") || disabled.Match("anything") {
		t.Fatal("a nil BootstrapAuth matched")
	}
	p := users.BootstrapPrincipal()
	if p.Role != users.RoleAdmin || !p.Bootstrap || p.UserID != "" {
		t.Fatalf("bootstrap principal %+v, want a user-less admin", p)
	}
}

func TestRoles(t *testing.T) {
	for _, r := range users.Roles {
		if !r.Valid() {
			t.Errorf("role %q in Roles is not Valid", r)
		}
	}
	for _, r := range []users.Role{"", "Admin", "root", "admin "} {
		if r.Valid() {
			t.Errorf("role %q is Valid", r)
		}
	}
	if len(users.Roles) != 4 {
		t.Fatalf("Roles = %v, want the 4 roles", users.Roles)
	}
}

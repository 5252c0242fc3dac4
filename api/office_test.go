package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
)

// An admin builds an office from nothing through the API, an employee reads
// it, and the admin takes it down again in the order the model allows.
func TestOfficeLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		r := e.req("POST", "/api/v1/sites", "admin", `{"name":"Lisbon","timezone":"Europe/Lisbon","address":"Rua Augusta 1"}`)
		site := e.must(201, r)
		siteID := site["id"].(string)
		if r.Header.Get("Location") != "/api/v1/sites/"+siteID || site["timezone"] != "Europe/Lisbon" {
			t.Fatalf("site %v, Location %q", site, r.Header.Get("Location"))
		}
		floor := e.must(201, e.req("POST", "/api/v1/sites/"+siteID+"/floors", "admin", `{"name":"Level 2","level":2,"width":1000,"height":600}`))
		floorID := floor["id"].(string)
		zone := e.must(201, e.req("POST", "/api/v1/floors/"+floorID+"/zones", "admin", `{"name":"North","color":"#336699"}`))
		zoneID := zone["id"].(string)
		desk := e.must(201, e.req("POST", "/api/v1/floors/"+floorID+"/desks", "admin",
			`{"code":"L2-01","x":10,"y":20,"zone_id":"`+zoneID+`","amenities":["Monitor"," standing","monitor"]}`))
		if fmt.Sprint(desk["amenities"]) != "[monitor standing]" || desk["bookable"] != true || desk["site_id"] != siteID {
			t.Fatalf("desk %v", desk)
		}
		deskID := desk["id"].(string)
		row := e.must(201, e.req("POST", "/api/v1/floors/"+floorID+"/desks/bulk", "admin",
			`{"prefix":"L2-","first":2,"count":4,"x":100,"y":100,"step_x":50,"zone_id":"`+zoneID+`","amenities":["monitor"]}`))
		items := row["items"].([]any)
		if len(items) != 4 || items[3].(map[string]any)["code"] != "L2-05" || items[3].(map[string]any)["x"] != 250.0 {
			t.Fatalf("bulk row %v", row)
		}
		room := e.must(201, e.req("POST", "/api/v1/floors/"+floorID+"/rooms", "admin",
			`{"name":"Tejo","capacity":6,"x":500,"y":100,"width":200,"height":150,"amenities":["screen"]}`))
		roomID := room["id"].(string)

		// Everyone signed in reads it, kiosks included.
		for _, role := range []string{"employee", "reception", "kiosk"} {
			desks := e.must(200, e.req("GET", "/api/v1/floors/"+floorID+"/desks", role, ""))
			if n := len(desks["items"].([]any)); n != 5 {
				t.Fatalf("%s sees %d desks, want 5", role, n)
			}
		}
		got := e.must(200, e.req("GET", "/api/v1/desks/"+deskID, "employee", ""))
		if got["code"] != "L2-01" || got["zone_id"] != zoneID {
			t.Fatalf("desk read back %v", got)
		}

		// PATCH changes only what is sent; null clears a nullable field.
		p := e.must(200, e.req("PATCH", "/api/v1/desks/"+deskID, "admin", `{"name":"Window seat","zone_id":null}`))
		if p["name"] != "Window seat" || p["zone_id"] != nil || p["code"] != "L2-01" || p["x"] != 10.0 {
			t.Fatalf("patched desk %v", p)
		}
		emp := demo.ID("user", demo.EmployeeEmail)
		p = e.must(200, e.req("PATCH", "/api/v1/desks/"+deskID, "admin", `{"assigned_user_id":"`+emp+`","bookable":false}`))
		if p["assigned_user_id"] != emp || p["bookable"] != false {
			t.Fatalf("assigned desk %v", p)
		}
		e.must(200, e.req("PATCH", "/api/v1/sites/"+siteID, "admin", `{"timezone":"Atlantic/Madeira"}`))
		if s := e.must(200, e.req("GET", "/api/v1/sites/"+siteID, "kiosk", "")); s["timezone"] != "Atlantic/Madeira" || s["name"] != "Lisbon" {
			t.Fatalf("patched site %v", s)
		}
		e.must(200, e.req("PATCH", "/api/v1/rooms/"+roomID, "admin", `{"capacity":8}`))
		e.must(200, e.req("PATCH", "/api/v1/floors/"+floorID, "admin", `{"width":1200}`))
		e.must(200, e.req("PATCH", "/api/v1/zones/"+zoneID, "admin", `{"name":"North wing"}`))

		// Take it down: the zone first (desks stay, without a zone) …
		e.must(204, e.req("DELETE", "/api/v1/zones/"+zoneID, "admin", ""))
		if d := e.must(200, e.req("GET", "/api/v1/desks/"+items[0].(map[string]any)["id"].(string), "admin", "")); d["zone_id"] != nil {
			t.Fatalf("desk keeps a deleted zone: %v", d)
		}
		// … the floor only once it is empty, the site only once it has no floors.
		e.must(409, e.req("DELETE", "/api/v1/floors/"+floorID, "admin", ""))
		for _, d := range e.must(200, e.req("GET", "/api/v1/floors/"+floorID+"/desks", "admin", ""))["items"].([]any) {
			e.must(204, e.req("DELETE", "/api/v1/desks/"+d.(map[string]any)["id"].(string), "admin", ""))
		}
		e.must(204, e.req("DELETE", "/api/v1/rooms/"+roomID, "admin", ""))
		e.must(409, e.req("DELETE", "/api/v1/sites/"+siteID, "admin", ""))
		e.must(204, e.req("DELETE", "/api/v1/floors/"+floorID, "admin", ""))
		e.must(204, e.req("DELETE", "/api/v1/sites/"+siteID, "admin", ""))
		e.must(404, e.req("GET", "/api/v1/sites/"+siteID, "admin", ""))
		e.must(404, e.req("DELETE", "/api/v1/sites/"+siteID, "admin", ""))
	})
}

// Cursor pagination visits every item exactly once, in order.
func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		floor := demo.ID("floor", "0") // 60 desks
		var codes []string
		cursor := ""
		pages := 0
		for {
			path := "/api/v1/floors/" + floor + "/desks?limit=7"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			page := e.must(200, e.req("GET", path, "employee", ""))
			pages++
			for _, it := range page["items"].([]any) {
				codes = append(codes, it.(map[string]any)["code"].(string))
			}
			if page["next_cursor"] == nil {
				break
			}
			cursor = page["next_cursor"].(string)
		}
		if len(codes) != 60 || pages != 9 {
			t.Fatalf("%d desks over %d pages, want 60 over 9", len(codes), pages)
		}
		seen := map[string]bool{}
		for i, c := range codes {
			if seen[c] || (i > 0 && codes[i-1] >= c) {
				t.Fatalf("not strictly ordered or repeated at %d: %v", i, codes)
			}
			seen[c] = true
		}
		// Users page by name the same way; the default page is 50.
		all := e.must(200, e.req("GET", "/api/v1/users", "reception", ""))
		if n := len(all["items"].([]any)); n != 41 || all["next_cursor"] != nil {
			t.Fatalf("users: %d items, next %v", n, all["next_cursor"])
		}
	})
}

func TestUserFilters(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	eng := demo.ID("team", "0")
	r := e.must(200, e.req("GET", "/api/v1/users?team_id="+eng, "employee", ""))
	if n := len(r["items"].([]any)); n != 8 {
		t.Fatalf("engineering has %d people, want 8", n)
	}
	r = e.must(200, e.req("GET", "/api/v1/users?role=admin", "employee", ""))
	if n := len(r["items"].([]any)); n != 2 {
		t.Fatalf("%d admins, want 2", n)
	}
	r = e.must(200, e.req("GET", "/api/v1/users?q=ros", "employee", ""))
	if items := r["items"].([]any); len(items) != 1 || items[0].(map[string]any)["email"] != demo.ReceptionEmail {
		t.Fatalf("q=ros: %v", items)
	}
}

// An admin mints a token for a person; it works at once, with their role,
// and appears in no log line.
func TestMintedTokenWorksAndIsNeverLogged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		u := e.must(201, e.req("POST", "/api/v1/users", "admin", `{"email":"New.Hire@Example.com","name":"New Hire","team_id":"`+demo.ID("team", "1")+`"}`))
		if u["email"] != "new.hire@example.com" || u["role"] != "employee" {
			t.Fatalf("created user %v", u)
		}
		r := e.req("POST", "/api/v1/users/"+u["id"].(string)+"/tokens", "admin", `{"label":"laptop","ttl_hours":24}`)
		tok := e.must(201, r)
		plain := tok["token"].(string)
		if !strings.HasPrefix(plain, "perch_") || tok["expires_at"] == nil || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("token response %v", tok)
		}
		me := e.must(200, e.req("GET", "/api/v1/me", "token:"+plain, ""))
		if me["email"] != "new.hire@example.com" || me["role"] != "employee" {
			t.Fatalf("/me with the new token: %v", me)
		}
		// The new hire may not write the office model.
		e.must(403, e.req("POST", "/api/v1/teams", "token:"+plain, `{"name":"Shadow IT"}`))
		// Promote, and the same token carries the new role.
		e.must(200, e.req("PATCH", "/api/v1/users/"+u["id"].(string), "admin", `{"role":"reception"}`))
		if me := e.must(200, e.req("GET", "/api/v1/me", "token:"+plain, "")); me["role"] != "reception" {
			t.Fatalf("role after promotion: %v", me)
		}
		// A token in the query string is ignored (and not logged either).
		e.must(401, e.req("GET", "/api/v1/me?access_token="+plain, "", ""))

		// The database holds only the hash.
		var stored int64
		if err := db.Conn(context.Background()).Table("tokens").Where("hash = ?", plain).Count(&stored).Error; err != nil || stored != 0 {
			t.Fatalf("plain token stored (%d, %v)", stored, err)
		}
		logs := e.logs.String()
		for role, tk := range e.tokens {
			if strings.Contains(logs, tk) {
				t.Fatalf("the %s token appears in the logs", role)
			}
		}
		if strings.Contains(logs, plain) || strings.Contains(logs, bootstrapToken) {
			t.Fatal("a token appears in the logs")
		}
		if !strings.Contains(logs, "request_id=") || !strings.Contains(logs, "route=/api/v1/me") {
			t.Fatalf("request logs lack request id or route:\n%s", logs)
		}
	})
}

func TestRequestIDIsEchoedOrMinted(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	r := e.req("GET", "/healthz", "", "", "X-Request-Id", "abc-123")
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Fatalf("client request id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
	r = e.req("GET", "/healthz", "", "", "X-Request-Id", "evil\"id with spaces")
	if got := r.Header.Get("X-Request-Id"); got == "" || strings.Contains(got, " ") {
		t.Fatalf("unsafe request id accepted: %q", got)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	e.must(200, e.req("GET", "/healthz", "", ""))
	e.must(200, e.req("GET", "/readyz", "", ""))
	e.srv.SetReady(false) // shutting down
	if r := e.req("GET", "/readyz", "", ""); r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("not ready: %d %v", r.Status, r.Header)
	}
	e.srv.SetReady(true)
	e.db.Close() // the database goes away
	r := e.req("GET", "/readyz", "", "")
	if r.Status != 503 || r.json(t)["code"] != "unavailable" {
		t.Fatalf("database down: %d %s", r.Status, r.Body)
	}
	e.must(200, e.req("GET", "/healthz", "", "")) // the process is still alive
}

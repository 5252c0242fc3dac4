package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/users"
)

var berlin, _ = time.LoadLocation("Europe/Berlin")

// monday9 is the tests' "now": Monday 2026-03-23, 09:00 in Berlin.
var monday9 = time.Date(2026, 3, 23, 9, 0, 0, 0, berlin)

func bookingJSON(deskCode string, start, end time.Time) string {
	return fmt.Sprintf(`{"resource_type":"desk","resource_id":"%s","start":"%s","end":"%s"}`,
		demo.ID("desk", deskCode), start.Format(time.RFC3339), end.Format(time.RFC3339))
}

func berlinAt(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, berlin) }

// mintPeople creates n new employees with tokens.
func (e *env) mintPeople(n int) []string {
	e.t.Helper()
	svc := users.NewService(e.db)
	toks := make([]string, n)
	for i := range toks {
		u := &users.User{Email: fmt.Sprintf("p%s@example.com", database.NewID()), Name: fmt.Sprintf("Person %03d", i), Role: users.RoleEmployee}
		if err := svc.CreateUser(context.Background(), u); err != nil {
			e.t.Fatal(err)
		}
		tok, _, err := svc.MintToken(context.Background(), u.ID, "test", 0)
		if err != nil {
			e.t.Fatal(err)
		}
		toks[i] = tok
	}
	return toks
}

// The race through the real API: 200 people book one desk for overlapping
// slots at once; exactly one gets 201, 199 get 409, none a 500.
func TestAPIRaceOneDesk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		toks := e.mintPeople(200)
		statuses := make([]int, len(toks))
		var wg sync.WaitGroup
		for i, tok := range toks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := berlinAt(24, 10, 0).Add(time.Duration(i%45) * time.Minute)
				statuses[i] = e.with(t).req("POST", "/api/v1/bookings", "token:"+tok, bookingJSON("1A-01", start, start.Add(time.Hour))).Status
			}()
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[201] != 1 || count[409] != 199 {
			t.Fatalf("statuses %v, want exactly one 201 and 199 409s", count)
		}
	})
}

func TestBookingLifecycleOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		// A whole day by date and part, computed in Berlin.
		r := e.req("POST", "/api/v1/bookings", "employee",
			`{"resource_type":"desk","resource_id":"`+demo.ID("desk", "1A-01")+`","date":"2026-03-24","part":"day","title":"Focus"}`)
		b := e.must(201, r)
		id := b["id"].(string)
		if b["start"] != "2026-03-24T06:00:00Z" || b["local_start"] != "2026-03-24T07:00:00+01:00" || b["timezone"] != "Europe/Berlin" ||
			b["status"] != "confirmed" || b["etag"] != `"1"` || r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/bookings/"+id {
			t.Fatalf("created %v %v", b, r.Header)
		}
		// It shows on the floor's availability.
		floor := demo.ID("floor", "0")
		a := e.must(200, e.req("GET", "/api/v1/floors/"+floor+"/availability?from=2026-03-24T09:00:00%2B01:00&to=2026-03-24T10:00:00%2B01:00", "reception", ""))
		if st := stateOf(t, a, "1A-01"); st["state"] != "booked" || st["next_free_at"] != "2026-03-24T19:00:00Z" {
			t.Fatalf("1A-01 on the map: %v", st)
		}
		if n := len(a["resources"].([]any)); n != 64 {
			t.Fatalf("%d resources on the ground floor, want 60 desks + 4 rooms", n)
		}
		// Mine, in my list.
		l := e.must(200, e.req("GET", "/api/v1/bookings?user=me&from=2026-03-24T00:00:00Z", "employee", ""))
		if items := l["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
			t.Fatalf("my bookings: %v", l)
		}
		// Someone else may not see it or list other people's bookings.
		e.must(404, e.req("GET", "/api/v1/bookings/"+id, "token:"+e.mintPeople(1)[0], ""))
		e.must(403, e.req("GET", "/api/v1/bookings?user="+demo.ID("user", demo.AdminEmail), "employee", ""))

		// Change it: If-Match is required, a stale one refused.
		e.must(428, e.req("PATCH", "/api/v1/bookings/"+id, "employee", `{"title":"Deep work"}`))
		e.must(412, e.req("PATCH", "/api/v1/bookings/"+id, "employee", `{"title":"Deep work"}`, "If-Match", `"7"`))
		r = e.req("PATCH", "/api/v1/bookings/"+id, "employee", `{"resource_id":"`+demo.ID("desk", "1A-02")+`"}`, "If-Match", `"1"`)
		p := e.must(200, r)
		if p["resource_name"] != "1A-02" || p["etag"] != `"2"` || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("moved: %v", p)
		}
		e.must(412, e.req("PATCH", "/api/v1/bookings/"+id, "employee", `{"title":"again"}`, "If-Match", `"1"`))
		// Cancel keeps the row.
		c := e.must(200, e.req("DELETE", "/api/v1/bookings/"+id, "employee", ""))
		if c["cancelled"].([]any)[0].(map[string]any)["status"] != "cancelled" {
			t.Fatalf("cancel: %v", c)
		}
		if g := e.must(200, e.req("GET", "/api/v1/bookings/"+id, "employee", "")); g["status"] != "cancelled" {
			t.Fatalf("after cancel: %v", g)
		}
		// Policies answer 422 with a sentence.
		pr := e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1A-03", berlinAt(28, 10, 0), berlinAt(28, 11, 0)))
		if pr.Status != 422 || pr.json(t)["code"] != "policy_closed_day" {
			t.Fatalf("weekend: %d %s", pr.Status, pr.Body)
		}
	})
}

// stateOf finds a resource in an availability response.
func stateOf(t testing.TB, a map[string]any, name string) map[string]any {
	t.Helper()
	for _, r := range a["resources"].([]any) {
		if m := r.(map[string]any); m["name"] == name {
			return m
		}
	}
	t.Fatalf("%s not in availability", name)
	return nil
}

// A retry with the same Idempotency-Key returns the first response and
// books nothing more; the same key with another body is refused; concurrent
// requests with one key book once.
func TestIdempotentCreate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		body := bookingJSON("1B-01", berlinAt(24, 9, 0), berlinAt(24, 10, 0))
		first := e.req("POST", "/api/v1/bookings", "employee", body, "Idempotency-Key", "k-1")
		e.must(201, first)
		again := e.req("POST", "/api/v1/bookings", "employee", body, "Idempotency-Key", "k-1")
		if again.Status != 201 || string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s", again.Status, again.Body)
		}
		other := e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1B-02", berlinAt(25, 9, 0), berlinAt(25, 10, 0)), "Idempotency-Key", "k-1")
		if other.Status != 422 || other.json(t)["code"] != "idempotency_key_reused" {
			t.Fatalf("reused key: %d %s", other.Status, other.Body)
		}
		// A refusal is remembered too.
		conflict := bookingJSON("1B-01", berlinAt(24, 9, 30), berlinAt(24, 10, 30))
		c1 := e.req("POST", "/api/v1/bookings", "admin", conflict, "Idempotency-Key", "k-2")
		c2 := e.req("POST", "/api/v1/bookings", "admin", conflict, "Idempotency-Key", "k-2")
		if c1.Status != 409 || c2.Status != 409 || string(c1.Body) != string(c2.Body) {
			t.Fatalf("remembered refusal: %d %d", c1.Status, c2.Status)
		}
		// Keys are per caller: the same key from someone else is a new request.
		e.must(201, e.req("POST", "/api/v1/bookings", "reception", bookingJSON("1B-03", berlinAt(24, 9, 0), berlinAt(24, 10, 0)), "Idempotency-Key", "k-1"))

		// Twenty concurrent sends of one request with one key: one booking, one answer.
		body = bookingJSON("1B-04", berlinAt(26, 9, 0), berlinAt(26, 10, 0))
		var wg sync.WaitGroup
		res := make([]response, 20)
		for i := range res {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res[i] = e.with(t).req("POST", "/api/v1/bookings", "employee", body, "Idempotency-Key", "k-burst")
			}()
		}
		wg.Wait()
		ids := map[string]bool{}
		for _, r := range res {
			switch r.Status {
			case 201:
				ids[r.json(t)["id"].(string)] = true
			case 409: // still in flight when this one arrived: retry later
			default:
				t.Fatalf("burst: %d %s", r.Status, r.Body)
			}
		}
		var n int64
		db.Conn(context.Background()).Table("bookings").Where("resource_id = ?", demo.ID("desk", "1B-04")).Count(&n)
		if n != 1 || len(ids) != 1 {
			t.Fatalf("burst booked %d rows, answered with %d ids", n, len(ids))
		}
	})
}

// What the floor map shows depends on who looks: with the privacy setting
// off, colleagues see that a desk is booked but not by whom.
func TestAvailabilityPrivacyAndStates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		e.must(201, e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1A-01", berlinAt(24, 9, 0), berlinAt(24, 10, 0))))
		e.must(201, e.req("POST", "/api/v1/bookings", "employee",
			`{"resource_type":"room","resource_id":"`+demo.ID("room", "Spree")+`","start":"2026-03-24T11:00:00+01:00","end":"2026-03-24T12:00:00+01:00"}`))
		e.must(200, e.req("PUT", "/api/v1/sites/"+demo.SiteID+"/policy", "admin", `{"show_booker_to_colleagues":false}`))
		q := "/api/v1/floors/" + demo.ID("floor", "0") + "/availability?from=2026-03-24T09:00:00%2B01:00&to=2026-03-24T09:30:00%2B01:00"
		colleague := e.must(200, e.req("GET", q, "token:"+e.mintPeople(1)[0], ""))
		st := stateOf(t, colleague, "1A-01")
		if len(st["bookings"].([]any)) != 1 {
			t.Fatalf("1A-01: %v", st)
		}
		slot := st["bookings"].([]any)[0].(map[string]any)
		if st["state"] != "booked" || slot["user_name"] != nil || slot["mine"] != false {
			t.Fatalf("colleague sees %v", st)
		}
		mine := stateOf(t, e.must(200, e.req("GET", q, "employee", "")), "1A-01")["bookings"].([]any)[0].(map[string]any)
		admin := stateOf(t, e.must(200, e.req("GET", q, "admin", "")), "1A-01")["bookings"].([]any)[0].(map[string]any)
		if mine["mine"] != true || mine["user_name"] != "Emil Engel" || admin["user_name"] != "Emil Engel" {
			t.Fatalf("owner sees %v, admin sees %v", mine, admin)
		}
		// The room is free until 11:00; the broken desk says why it is not bookable.
		if r := stateOf(t, colleague, "Spree"); r["state"] != "free" || r["free_until"] != "2026-03-24T10:00:00Z" {
			t.Fatalf("room: %v", r)
		}
		if d := stateOf(t, colleague, "1F-10"); d["state"] != "not_bookable" || d["reason"] == "" {
			t.Fatalf("out-of-service desk: %v", d)
		}
		// Whereabouts follow the same privacy rule.
		w := e.must(200, e.req("GET", "/api/v1/users/"+demo.ID("user", demo.EmployeeEmail)+"/whereabouts?date=2026-03-24", "reception", ""))
		if len(w["items"].([]any)) != 2 {
			t.Fatalf("reception sees %v", w)
		}
		e.must(200, e.req("PUT", "/api/v1/sites/"+demo.SiteID+"/policy", "admin", `{"show_booker_to_colleagues":true}`))
		w = e.must(200, e.req("GET", "/api/v1/users/"+demo.ID("user", demo.EmployeeEmail)+"/whereabouts?date=2026-03-24", "token:"+e.mintPeople(1)[0], ""))
		if items := w["items"].([]any); len(items) != 2 || items[0].(map[string]any)["resource_name"] != "1A-01" {
			t.Fatalf("colleague's whereabouts: %v", w)
		}
	})
}

// The site search returns free desks with the asked amenities, those near
// the team first.
func TestSiteSearchNearTeam(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	e.clock.Set(monday9)
	// Ada (Engineering) sits at 2B-05 on the first floor.
	e.must(201, e.req("POST", "/api/v1/bookings", "admin",
		`{"resource_type":"desk","resource_id":"`+demo.ID("desk", "2B-05")+`","start":"2026-03-24T09:00:00+01:00","end":"2026-03-24T17:00:00+01:00","for_user_id":"`+demo.ID("user", "ada.arndt@example.com")+`"}`))
	q := "/api/v1/sites/" + demo.SiteID + "/availability?from=2026-03-24T09:00:00%2B01:00&to=2026-03-24T17:00:00%2B01:00&resource_type=desk&amenities=standing&near_team=" + demo.ID("team", "0") + "&limit=3"
	res := e.must(200, e.req("GET", q, "employee", ""))
	items := res["items"].([]any)
	if len(items) != 3 {
		t.Fatalf("%d results", len(items))
	}
	first := items[0].(map[string]any)
	if first["name"] != "2B-04" && first["name"] != "2B-06" {
		t.Fatalf("nearest standing desk to 2B-05: %v", first["name"])
	}
	for _, it := range items {
		m := it.(map[string]any)
		if m["state"] != "free" || !strings.Contains(fmt.Sprint(m["amenities"]), "standing") || m["team_distance"] == nil {
			t.Fatalf("result %v", m)
		}
	}
}

// FuzzCreateBookingBody: no request body makes the booking endpoint answer
// 500 or panic.
func FuzzCreateBookingBody(f *testing.F) {
	for _, seed := range []string{
		`{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","start":"2026-03-24T09:00:00+01:00","end":"2026-03-24T10:00:00+01:00"}`,
		`{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","part":"am","recurrence":"FREQ=DAILY;COUNT=3"}`,
		`{"resource_type":"room","resource_id":"` + demo.ID("room", "Spree") + `","start":"2026-03-24T09:00:00Z","end":"2026-03-24T09:00:00Z"}`,
		`{"resource_type":"desk","resource_id":"x","start":"yesterday"}`,
		`{"date":"2026-02-30","part":"noon"}`, `[]`, `null`, `{"override":"yes"}`, `{"skip_conflicts":1}`, `{"start":1e999}`,
	} {
		f.Add(seed)
	}
	e := newEnv(f, dbtest.OpenSQLite(f))
	e.clock.Set(monday9)
	f.Fuzz(func(t *testing.T, body string) {
		r := e.with(t).req("POST", "/api/v1/bookings", "employee", body)
		if r.Status >= 500 {
			t.Fatalf("status %d for %q: %s", r.Status, body, r.Body)
		}
		if r.Status >= 400 {
			var p map[string]any
			if json.Unmarshal(r.Body, &p) != nil || p["code"] == nil {
				t.Fatalf("not a problem document: %s", r.Body)
			}
		}
	})
}

var _ = http.StatusOK
var _ = booking.Desk

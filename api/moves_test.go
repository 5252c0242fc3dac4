package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/sim"
)

// The "done when": after 90 days of simulated history (what
// `perch demo --history 90d` writes), a move plan for two teams onto one
// floor of the demo office is proposed, simulated, applied and exported.
func TestMovePlanOnTheDemoOffice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		berlin, _ := time.LoadLocation("Europe/Berlin")
		today, _ := booking.ParseDate("2026-03-30")
		from, to := today.AddDays(-90), today.AddDays(-1)
		m, err := sim.LoadModel(ctx, db, demo.SiteID, 1)
		dbtest.Must(t, err)
		_, _, err = sim.Run(ctx, db, m, from, today, sim.Options{NoTruth: true})
		dbtest.Must(t, err)
		e.clock.Set(today.At(8*60, berlin))

		body := `{"name":"Engineering and Design to the first floor","site_id":"` + demo.SiteID + `","effective_date":"2026-03-30",
			"team_ids":["` + demo.ID("team", "0") + `","` + demo.ID("team", "1") + `"],"target_floor_ids":["` + demo.ID("floor", "1") + `"],
			"basis":{"from":"` + from.String() + `","to":"` + to.String() + `"},"buffer":0.1}`
		res := e.req("POST", "/api/v1/move-plans", "admin", body)
		pl := e.must(201, res)
		id, _ := pl["id"].(string)
		if res.Header.Get("Location") != "/api/v1/move-plans/"+id || pl["status"] != "draft" {
			t.Fatalf("created %v (Location %q)", pl, res.Header.Get("Location"))
		}
		prop := pl["proposal"].(map[string]any)
		teams := prop["teams"].([]any)
		for _, x := range teams {
			tp := x.(map[string]any)
			if tp["demand"].(float64) < 1 || tp["desks"] != tp["demand"] || tp["shortfall"].(float64) != 0 || tp["basis_days"].(float64) < 60 {
				t.Errorf("team plan %v", tp)
			}
		}
		e.must(200, e.req("GET", "/api/v1/move-plans/"+id, "admin", ""))
		if items := e.must(200, e.req("GET", "/api/v1/move-plans?site_id="+demo.SiteID, "admin", ""))["items"].([]any); len(items) != 1 {
			t.Fatalf("list: %v", items)
		}
		v := e.must(200, e.req("POST", "/api/v1/move-plans/"+id+"/validate", "admin", ""))
		if v["ok"] != true {
			t.Fatalf("validate: %v", v)
		}
		s := e.must(200, e.req("POST", "/api/v1/move-plans/"+id+"/simulate", "admin", ""))
		if s["days"].(float64) < 60 || len(s["teams"].([]any)) != 2 {
			t.Fatalf("simulate: %v", s)
		}
		// With the buffer over the 90th percentile, few days are over capacity.
		for _, x := range s["teams"].([]any) {
			ts := x.(map[string]any)
			if ts["days_over"].(float64) > s["days"].(float64)/10+1 {
				t.Errorf("team over capacity on too many days: %v", ts)
			}
		}
		ap := e.must(200, e.req("POST", "/api/v1/move-plans/"+id+"/apply", "admin", ""))
		again := e.must(200, e.req("POST", "/api/v1/move-plans/"+id+"/apply", "admin", ""))
		a, _ := json.Marshal(ap)
		b, _ := json.Marshal(again)
		if string(a) != string(b) || len(ap["restricted_zones"].(map[string]any)) == 0 {
			t.Fatalf("apply %s, again %s", a, b)
		}
		csv := e.req("GET", "/api/v1/move-plans/"+id+"/export.csv", "admin", "")
		lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n")
		if csv.Status != 200 || lines[0] != "team,person,floor,zone,desk" || len(lines) < 3 || !strings.Contains(lines[1], "First floor") {
			t.Fatalf("export %d: %s", csv.Status, csv.Body)
		}
		svg := e.req("GET", "/api/v1/move-plans/"+id+"/plan.svg?floor_id="+demo.ID("floor", "1"), "admin", "")
		if svg.Status != 200 || !strings.HasPrefix(svg.Header.Get("Content-Type"), "image/svg+xml") ||
			!strings.Contains(string(svg.Body), "Engineering") || !strings.Contains(string(svg.Body), "Design") {
			t.Fatalf("svg %d: %.300s", svg.Status, svg.Body)
		}
		if r := e.req("DELETE", "/api/v1/move-plans/"+id, "admin", ""); r.Status != 409 {
			t.Fatalf("deleting an applied plan: %d", r.Status)
		}
		// A draft can be deleted.
		d := e.must(201, e.req("POST", "/api/v1/move-plans", "admin", body))
		e.must(204, e.req("DELETE", "/api/v1/move-plans/"+d["id"].(string), "admin", ""))
		e.must(404, e.req("GET", "/api/v1/move-plans/"+d["id"].(string), "admin", ""))
	})
}

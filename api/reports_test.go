package api_test

import (
	"context"
	"encoding/csv"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/sim"
)

// simulate writes three weeks of the demo office's attendance.
func (e *env) simulate(from, to string) {
	e.t.Helper()
	ctx := context.Background()
	m, err := sim.LoadModel(ctx, e.db, demo.SiteID, 3)
	dbtest.Must(e.t, err)
	f, _ := booking.ParseDate(from)
	t, _ := booking.ParseDate(to)
	_, _, err = sim.Run(ctx, e.db, m, f, t, sim.Options{})
	dbtest.Must(e.t, err)
}

func TestReportsOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.simulate("2026-03-02", "2026-03-23")
		q := "site_id=" + demo.SiteID + "&from=2026-03-02&to=2026-03-22"

		occ := e.must(200, e.req("GET", "/api/v1/reports/occupancy?"+q+"&bucket=week", "admin", ""))
		rows := occ["rows"].([]any)
		if len(rows) != 3 || occ["timezone"] != "Europe/Berlin" || rows[0].(map[string]any)["peak"].(float64) == 0 {
			t.Fatalf("weekly occupancy: %v", occ)
		}

		// Privacy: demo teams have 8 members; a threshold of 9 hides them all.
		r := e.must(200, e.req("GET", "/api/v1/reports/occupancy?"+q+"&group_by=team", "admin", ""))
		if r["suppressed_groups"].(float64) != 1 || len(r["groups"].([]any)) != 5 { // "No team" (kiosk excluded: 0 people) is hidden
			t.Fatalf("team groups: %v suppressed, %v", r["suppressed_groups"], r["groups"])
		}
		set := e.must(200, e.req("PUT", "/api/v1/sites/"+demo.SiteID+"/report-settings", "admin", `{"min_group_size":9}`))
		if set["min_group_size"].(float64) != 9 {
			t.Fatalf("settings: %v", set)
		}
		if got := e.must(200, e.req("GET", "/api/v1/sites/"+demo.SiteID+"/report-settings", "admin", "")); got["min_group_size"].(float64) != 9 {
			t.Fatalf("settings read back: %v", got)
		}
		r = e.must(200, e.req("GET", "/api/v1/reports/occupancy?"+q+"&group_by=team", "admin", ""))
		if r["suppressed_groups"].(float64) != 6 || len(r["groups"].([]any)) != 0 || len(r["rows"].([]any)) != 0 {
			t.Fatalf("with threshold 9: %v suppressed, %v groups", r["suppressed_groups"], r["groups"])
		}

		// CSV: a header and one line per bucket.
		res := e.req("GET", "/api/v1/reports/occupancy?"+q+"&format=csv", "admin", "")
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		lines, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
		dbtest.Must(t, err)
		if len(lines) != 22 || lines[0][0] != "start" || lines[0][4] != "peak" {
			t.Fatalf("csv has %d lines: %v", len(lines), lines[:2])
		}

		util := e.must(200, e.req("GET", "/api/v1/reports/utilisation?"+q+"&group_by=floor", "admin", ""))
		urows := util["rows"].([]any)
		if len(urows) != 2 || urows[0].(map[string]any)["booked_rate"] == nil || util["bookable_hours_per_resource"].(float64) != 15*13 {
			t.Fatalf("utilisation: %v", util)
		}
		rooms := e.must(200, e.req("GET", "/api/v1/reports/utilisation?"+q+"&resource_type=room", "admin", ""))
		if rooms["meeting_size"] == "" || len(rooms["rows"].([]any)) != 8 {
			t.Fatalf("rooms: %v", rooms)
		}
		res = e.req("GET", "/api/v1/reports/utilisation?"+q+"&format=csv", "admin", "")
		if res.Status != 200 || !strings.Contains(string(res.Body), "1A-01,") {
			t.Fatalf("utilisation csv: %d %.200s", res.Status, res.Body)
		}

		// The charts are well-formed SVG with a title, a description and numbers.
		for _, path := range []string{
			"/api/v1/reports/occupancy/heatmap.svg?" + q,
			"/api/v1/reports/occupancy/daily.svg?" + q,
			"/api/v1/reports/utilisation/floor.svg?floor_id=" + demo.ID("floor", "0") + "&from=2026-03-02&to=2026-03-22",
		} {
			res := e.req("GET", path, "admin", "")
			if res.Status != 200 || res.Header.Get("Content-Type") != "image/svg+xml; charset=utf-8" {
				t.Fatalf("%s: %d %s %.300s", path, res.Status, res.Header.Get("Content-Type"), res.Body)
			}
			var doc struct {
				XMLName xml.Name
				Title   string `xml:"title"`
				Desc    string `xml:"desc"`
			}
			if err := xml.Unmarshal(res.Body, &doc); err != nil {
				t.Fatalf("%s: not XML: %v", path, err)
			}
			if doc.XMLName.Local != "svg" || doc.Title == "" || doc.Desc == "" || !strings.Contains(string(res.Body), "Legend") && !strings.Contains(path, "daily") {
				t.Fatalf("%s: %+v", path, doc)
			}
		}
		fl := string(e.req("GET", "/api/v1/reports/utilisation/floor.svg?floor_id="+demo.ID("floor", "0")+"&from=2026-03-02&to=2026-03-22", "admin", "").Body)
		if !strings.Contains(fl, "Desk 1A-01: ") || !strings.Contains(fl, "not bookable") {
			t.Fatalf("floor map lacks desk labels: %.500s", fl)
		}

		// Not for employees or reception.
		for _, role := range []string{"employee", "reception"} {
			e.must(403, e.req("GET", "/api/v1/reports/occupancy?"+q, role, ""))
		}
	})
}

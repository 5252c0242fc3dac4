package reports_test

import (
	"context"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/sim"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var berlin, _ = time.LoadLocation("Europe/Berlin")

func date(s string) booking.Date {
	d, err := booking.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// office loads the demo office and simulates [from, to) in it. One team
// works nights (00:30–05:00, across the DST switch) and every team comes
// on Sundays too, so the days the clocks change hold presence.
func office(t testing.TB, db *database.DB, from, to booking.Date, seed uint64) (*reports.Service, *sim.Truth, *demo.Office) {
	t.Helper()
	ctx := context.Background()
	o, err := demo.Load(ctx, db)
	dbtest.Must(t, err)
	m := sim.NewModel(o.Site, o.Teams, o.Users, o.Desks, o.Rooms, seed)
	for i := range m.Teams {
		m.Teams[i].Attendance[time.Sunday] = 0.4
	}
	m.Teams[3].Arrive, m.Teams[3].Leave = 30, 5*60
	truth, _, err := sim.Run(ctx, db, m, from, to, sim.Options{Batch: 300})
	dbtest.Must(t, err)
	fp := floorplans.NewService(db)
	bk := booking.NewService(db, fp)
	now := to.AddDays(1).In(berlin)
	return reports.NewService(db, fp, bk, reports.WithClock(func() time.Time { return now })), truth, o
}

// The occupancy report equals the simulated ground truth exactly, for
// every bucket size and breakdown, across the spring DST change
// (2026-03-29 in Europe/Berlin: a 23-hour day).
func TestOccupancyMatchesSimulation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		from, to := date("2026-03-16"), date("2026-04-06")
		svc, truth, o := office(t, db, from, to, 7)
		if len(truth.Stays) < 300 {
			t.Fatalf("the simulation made only %d stays", len(truth.Stays))
		}
		ctx := context.Background()
		teamOf := map[string]string{}
		for _, u := range o.Users {
			if u.TeamID != nil {
				teamOf[u.ID] = *u.TeamID
			}
		}
		for _, bucket := range []string{reports.Hour, reports.Day, reports.Week} {
			for _, by := range []string{reports.GroupNone, reports.GroupFloor, reports.GroupZone, reports.GroupTeam} {
				r, err := svc.Occupancy(ctx, reports.OccupancyQuery{Scope: reports.Scope{SiteID: demo.SiteID},
					Window: reports.Window{From: from, To: to.AddDays(-1)}, Bucket: bucket, GroupBy: by})
				dbtest.Must(t, err)
				checked := 0
				for _, row := range r.Rows {
					keep := func(s *sim.Stay) bool {
						switch by {
						case reports.GroupFloor:
							return s.FloorID == row.GroupID
						case reports.GroupZone:
							return s.ZoneID == row.GroupID
						case reports.GroupTeam:
							return teamOf[s.UserID] == row.GroupID
						}
						return true
					}
					peak, secs := truth.Occupancy(row.Start, row.End, keep)
					if row.Peak != peak || math.Abs(row.PersonHours*3600-secs) > 1e-6 {
						t.Fatalf("%s/%s %s %s: peak %d, %.4f person-hours; truth %d, %.4f",
							bucket, by, row.GroupID, row.Start, row.Peak, row.PersonHours, peak, secs/3600)
					}
					checked += peak
				}
				if checked == 0 {
					t.Fatalf("%s/%s: nobody present in any bucket", bucket, by)
				}
			}
		}
		// The day of the change is 23 hours long, in 23 hour buckets.
		r, err := svc.Occupancy(ctx, reports.OccupancyQuery{Scope: reports.Scope{SiteID: demo.SiteID},
			Window: reports.Window{From: date("2026-03-29"), To: date("2026-03-29")}, Bucket: reports.Hour})
		dbtest.Must(t, err)
		if len(r.Rows) != 23 || r.Rows[2].Start.Format("15:04 -07:00") != "03:00 +02:00" {
			t.Fatalf("DST day: %d hour buckets, third starts %s", len(r.Rows), r.Rows[2].Start)
		}
		present := 0
		for _, row := range r.Rows {
			present += row.Peak
		}
		if present == 0 {
			t.Fatal("nobody present on the DST day: the test would prove nothing")
		}
	})
}

// Utilisation figures equal those computed from the simulated bookings,
// within 1% for rates, exactly for counts.
func TestUtilisationMatchesSimulation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		from, to := date("2026-10-12"), date("2026-11-02") // holds 2026-10-25, a 25-hour day
		svc, truth, _ := office(t, db, from, to, 11)
		ctx := context.Background()
		w := reports.Window{From: from, To: to.AddDays(-1)}
		start, end := from.In(berlin), to.In(berlin)
		// Bookable hours: Mon–Fri 07:00–20:00 (the default policy), 15 days.
		for _, rt := range []booking.ResourceType{booking.Desk, booking.Room} {
			r, err := svc.Utilisation(ctx, reports.UtilisationQuery{Scope: reports.Scope{SiteID: demo.SiteID}, Window: w,
				ResourceType: rt, GroupBy: reports.ByFloor})
			dbtest.Must(t, err)
			if r.BookableHoursPerResource != 15*13 {
				t.Fatalf("bookable hours per resource %v, want %v", r.BookableHoursPerResource, 15*13)
			}
			for _, row := range r.Rows {
				var booked, checked float64
				var bookings, noShows, checkIns, walkUps int
				var leads []float64
				for _, b := range truth.Bookings {
					if b.FloorID != row.GroupID || b.ResourceType != rt {
						continue
					}
					booked += overlap(b.Start, b.End, start, end)
					if b.CheckedIn {
						checked += overlap(b.In, b.Out, start, end)
					}
					if b.Start.Before(start) || !b.Start.Before(end) {
						continue
					}
					bookings++
					if b.Status == booking.StatusReleased {
						noShows++
					}
					if b.CheckedIn {
						checkIns++
					}
					if b.WalkUp {
						walkUps++
					} else {
						leads = append(leads, b.Start.Sub(b.Created).Hours())
					}
				}
				if bookings == 0 || row.Bookings != bookings || row.NoShows != noShows || row.CheckIns != checkIns || row.WalkUps != walkUps {
					t.Fatalf("%s %s: bookings %d no-shows %d check-ins %d walk-ups %d; truth %d %d %d %d",
						rt, row.Name, row.Bookings, row.NoShows, row.CheckIns, row.WalkUps, bookings, noShows, checkIns, walkUps)
				}
				within(t, "booked rate", *row.BookedRate, booked/row.BookableHours)
				within(t, "checked-in rate", *row.CheckedInRate, checked/row.BookableHours)
				if rt == booking.Desk {
					within(t, "no-show rate", *row.NoShowRate, float64(noShows)/float64(bookings-walkUps))
					within(t, "walk-up share", *row.WalkUpShare, float64(walkUps)/float64(checkIns))
				}
				within(t, "median lead", *row.MedianLeadHours, median(leads))
			}
		}
		// Per resource: every bookable desk has a line.
		r, err := svc.Utilisation(ctx, reports.UtilisationQuery{Scope: reports.Scope{SiteID: demo.SiteID}, Window: w})
		dbtest.Must(t, err)
		if len(r.Rows) != 119 {
			t.Fatalf("%d desk lines, want 119 (bookable desks)", len(r.Rows))
		}
	})
}

func overlap(s, e, from, to time.Time) float64 {
	if s.Before(from) {
		s = from
	}
	if e.After(to) {
		e = to
	}
	if !e.After(s) {
		return 0
	}
	return e.Sub(s).Hours()
}

func within(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.01*math.Abs(want)+1e-9 {
		t.Fatalf("%s = %v, want %v (±1%%)", what, got, want)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	n := len(v)
	return (v[(n-1)/2] + v[n/2]) / 2
}

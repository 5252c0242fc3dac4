package reports_test

import (
	"context"
	"fmt"
	"sync"
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

// rollupOffice simulates [from, to) in the demo office and returns a
// report service that serves finished days from cells and one that
// computes everything live, both reading the time from *now.
func rollupOffice(t *testing.T, db *database.DB, from, to booking.Date, now *time.Time) (cells, live *reports.Service, o *demo.Office) {
	t.Helper()
	ctx := context.Background()
	o, err := demo.Load(ctx, db)
	dbtest.Must(t, err)
	m := sim.NewModel(o.Site, o.Teams, o.Users, o.Desks, o.Rooms, 5)
	for i := range m.Teams {
		m.Teams[i].Attendance[time.Sunday] = 0.4
	}
	m.Teams[3].Arrive, m.Teams[3].Leave = 30, 5*60 // nights, across the DST change
	_, _, err = sim.Run(ctx, db, m, from, to, sim.Options{Batch: 300, NoTruth: true})
	dbtest.Must(t, err)
	fp := floorplans.NewService(db)
	bk := booking.NewService(db, fp)
	clock := reports.WithClock(func() time.Time { return *now })
	return reports.NewService(db, fp, bk, clock), reports.NewService(db, fp, bk, clock, reports.WithoutCells()), o
}

// sameOccupancy fails unless the two reports have the same rows.
func sameOccupancy(t *testing.T, what string, got, want *reports.Occupancy) {
	t.Helper()
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("%s: %d rows, live %d", what, len(got.Rows), len(want.Rows))
	}
	for i, g := range got.Rows {
		w := want.Rows[i]
		if !g.Start.Equal(w.Start) || g.GroupID != w.GroupID || g.Peak != w.Peak || g.PersonHours != w.PersonHours || g.Mean != w.Mean {
			t.Fatalf("%s: row %d %s %q peak %d %.4f h; live %s %q peak %d %.4f h",
				what, i, g.Start, g.GroupID, g.Peak, g.PersonHours, w.Start, w.GroupID, w.Peak, w.PersonHours)
		}
	}
}

// A report over finished days (from cells) and the current day (live)
// equals the live computation over the whole window, for every bucket,
// breakdown and scope, across the spring DST change; and a late change to
// a past day's check-ins — a check-out the worker adds, a new check-in
// row for yesterday, a person changing team — shows in the next report.
func TestOccupancyCellsEqualLive(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		from, to := date("2026-03-23"), date("2026-04-01")
		// Today is 2026-03-31 (live, half over); 03-23 … 03-30 are finished.
		now := date("2026-03-31").In(berlin).Add(14 * time.Hour)
		cells, live, o := rollupOffice(t, db, from, to, &now)
		site := reports.Scope{SiteID: demo.SiteID}
		w := reports.Window{From: from, To: to.AddDays(-1)}
		compare := func(what string, sc reports.Scope, w reports.Window, bucket, by string) *reports.Occupancy {
			t.Helper()
			q := reports.OccupancyQuery{Scope: sc, Window: w, Bucket: bucket, GroupBy: by}
			got, err := cells.Occupancy(ctx, q)
			dbtest.Must(t, err)
			want, err := live.Occupancy(ctx, q)
			dbtest.Must(t, err)
			sameOccupancy(t, what, got, want)
			return got
		}
		present := 0
		for _, bucket := range []string{reports.Hour, reports.Day, reports.Week} {
			for _, by := range []string{reports.GroupNone, reports.GroupFloor, reports.GroupZone, reports.GroupTeam} {
				for _, sc := range []reports.Scope{site, {FloorID: o.Floors[0].ID}, {ZoneID: o.Zones[0].ID}} {
					r := compare(fmt.Sprintf("%s/%s/%+v", bucket, by, sc), sc, w, bucket, by)
					for _, row := range r.Rows {
						present += row.Peak
					}
				}
			}
		}
		if present == 0 {
			t.Fatal("nobody present: the comparison proves nothing")
		}
		// Windows that end before today (cells only) and start today (live only).
		compare("finished only", site, reports.Window{From: date("2026-03-28"), To: date("2026-03-30")}, reports.Hour, reports.GroupZone)
		compare("today only", site, reports.Window{From: date("2026-03-31"), To: date("2026-03-31")}, reports.Hour, reports.GroupNone)
		compare("day buckets", site, w, reports.Day, reports.GroupNone)

		// A past day's check-in left open, then checked out by the worker.
		var ci booking.CheckIn
		dbtest.Must(t, db.Conn(ctx).Where("site_id = ? AND checked_in_at >= ? AND checked_in_at < ?", demo.SiteID,
			date("2026-03-25").In(berlin).Add(9*time.Hour), date("2026-03-25").In(berlin).Add(12*time.Hour)).
			Order("checked_in_at, id").First(&ci).Error)
		dbtest.Must(t, db.Conn(ctx).Model(&booking.CheckIn{}).Where("id = ?", ci.ID).Update("checked_out_at", nil).Error)
		open := compare("a past check-in left open", site, w, reports.Hour, reports.GroupNone)
		out := ci.CheckedInAt.Add(10 * time.Minute)
		dbtest.Must(t, db.Conn(ctx).Model(&booking.CheckIn{}).Where("id = ?", ci.ID).Update("checked_out_at", out).Error)
		closed := compare("the worker's late check-out", site, w, reports.Hour, reports.GroupNone)
		if sum(open) == sum(closed) {
			t.Fatal("checking out a past check-in changed nothing: the test proves nothing")
		}

		// A new check-in row for yesterday: a no-show booking of 03-30 checked into late.
		var b booking.Booking
		dbtest.Must(t, db.Conn(ctx).Where("site_id = ? AND start_at >= ? AND start_at < ? AND NOT EXISTS (SELECT 1 FROM check_ins c WHERE c.booking_id = bookings.id)",
			demo.SiteID, date("2026-03-30").In(berlin), date("2026-03-31").In(berlin)).Order("start_at, id").First(&b).Error)
		end := b.EndAt
		dbtest.Must(t, db.Conn(ctx).Create(&booking.CheckIn{ID: database.NewID(), BookingID: b.ID, UserID: b.UserID,
			ResourceType: b.ResourceType, ResourceID: b.ResourceID, FloorID: b.FloorID, SiteID: b.SiteID,
			CheckedInAt: b.StartAt, CheckedOutAt: &end, Method: booking.MethodWeb}).Error)
		after := compare("a new check-in for yesterday", site, w, reports.Day, reports.GroupNone)
		if sum(after) <= sum(closed) {
			t.Fatal("a new check-in for yesterday added no presence")
		}

		// A person changes team: team cells follow the current team.
		compare("teams before the move", site, w, reports.Week, reports.GroupTeam)
		dbtest.Must(t, db.Conn(ctx).Table("users").Where("id = ?", o.Users[0].ID).Update("team_id", o.Teams[4].ID).Error)
		compare("teams after the move", site, w, reports.Week, reports.GroupTeam)

		// The day ends: today's cells are filled the next time.
		now = now.Add(24 * time.Hour)
		compare("a day later", site, w, reports.Hour, reports.GroupFloor)
	})
}

func sum(r *reports.Occupancy) float64 {
	var s float64
	for _, row := range r.Rows {
		s += row.PersonHours
	}
	return s
}

// Replicas asking for the same cold report at once fill the cells once
// and all get the live numbers.
func TestOccupancyCellsConcurrentFill(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		from, to := date("2026-03-02"), date("2026-03-21")
		now := to.In(berlin).Add(10 * time.Hour)
		cells, live, _ := rollupOffice(t, db, from, to, &now)
		q := reports.OccupancyQuery{Scope: reports.Scope{SiteID: demo.SiteID}, Window: reports.Window{From: from, To: to},
			Bucket: reports.Day, GroupBy: reports.GroupTeam}
		want, err := live.Occupancy(ctx, q)
		dbtest.Must(t, err)
		// Separate services share nothing but the database, like replicas.
		fp := floorplans.NewService(db)
		var wg sync.WaitGroup
		got := make([]*reports.Occupancy, 4)
		errs := make([]error, 4)
		for i := range got {
			svc := reports.NewService(db, fp, booking.NewService(db, fp), reports.WithClock(func() time.Time { return now }))
			if i == 0 {
				svc = cells
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = svc.Occupancy(ctx, q)
			}()
		}
		wg.Wait()
		for i := range got {
			dbtest.Must(t, errs[i])
			sameOccupancy(t, fmt.Sprint("replica ", i), got[i], want)
		}
		var days int64
		dbtest.Must(t, db.Conn(ctx).Table("report_cell_days").Where("kind = 'team'").Count(&days).Error)
		if days != 19 {
			t.Fatalf("%d team days filled, want 19", days)
		}
	})
}

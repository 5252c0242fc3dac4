package reports_test

import (
	"context"
	"testing"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/sim"
)

// BenchmarkReports times the reports in-process (query and aggregation,
// no HTTP) on a generated office of 800 people and 600 desks with 180
// simulated days (about 60,000 check-ins):
//
//	go test -run '^$' -bench BenchmarkReports ./reports/
//
// The 1,000,000 check-in figures come from `bench -scenario reports`
// (docs/PERFORMANCE.md).
func BenchmarkReports(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			db := dbtest.Open(b, d)
			o, err := sim.GenerateOffice(ctx, db, "Bench", "Europe/Berlin", 800, 600)
			dbtest.Must(b, err)
			from, to := date("2026-01-05"), date("2026-07-04")
			_, st, err := sim.Run(ctx, db, o.Model(1), from, to, sim.Options{NoTruth: true})
			dbtest.Must(b, err)
			fp := floorplans.NewService(db)
			svc := reports.NewService(db, fp, booking.NewService(db, fp))
			whole := reports.Window{From: from, To: to.AddDays(-1)}
			month := reports.Window{From: date("2026-06-01"), To: date("2026-06-30")}
			site := reports.Scope{SiteID: o.Site.ID}
			b.Logf("%d check-ins", st.CheckIns)
			for _, c := range []struct {
				name string
				run  func() error
			}{
				{"occupancy-whole-day", func() error {
					_, err := svc.Occupancy(ctx, reports.OccupancyQuery{Scope: site, Window: whole, Bucket: reports.Day})
					return err
				}},
				{"occupancy-month-hour", func() error {
					_, err := svc.Occupancy(ctx, reports.OccupancyQuery{Scope: site, Window: month, Bucket: reports.Hour})
					return err
				}},
				{"occupancy-month-team", func() error {
					_, err := svc.Occupancy(ctx, reports.OccupancyQuery{Scope: site, Window: month, Bucket: reports.Day, GroupBy: reports.GroupTeam})
					return err
				}},
				{"utilisation-whole-floor", func() error {
					_, err := svc.Utilisation(ctx, reports.UtilisationQuery{Scope: site, Window: whole, GroupBy: reports.ByFloor})
					return err
				}},
				{"utilisation-month-desk", func() error {
					_, err := svc.Utilisation(ctx, reports.UtilisationQuery{Scope: site, Window: month})
					return err
				}},
			} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						dbtest.Must(b, c.run())
					}
				})
			}
		})
	}
}

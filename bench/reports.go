package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/migrations"
	"github.com/perch-hq/perch/sim"
)

// The reports scenario: a generated office whose history the simulator
// writes straight into the database (-database-url), then report requests
// timed against the running server (-url), one at a time.
const (
	reportsSite    = "Perch reports bench"
	reportsPeople  = 3800
	reportsDesks   = 3000
	reportsMetaKey = "bench_reports"
	reportsRuns    = 3 // timed runs per request, after one warm-up
)

// runReports seeds (once) and measures the report requests.
func runReports(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.databaseURL == "" {
		return errors.New("-scenario reports writes its history straight into the database: pass -database-url or set PERCH_DATABASE_URL (the server's database)")
	}
	a, err := newAPI(cfg.url, cfg.token, 1)
	if err != nil {
		return err
	}
	var me struct{ Role string }
	if err := a.call(ctx, http.MethodGet, "/api/v1/me", nil, &me); err != nil {
		return err
	}
	if me.Role != "admin" {
		return fmt.Errorf("the token's role is %q; the bench needs an admin token", me.Role)
	}
	db, err := database.Open(ctx, database.Options{URL: cfg.databaseURL})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrations.Up(ctx, db.SQL(), string(db.Dialect()), nil); err != nil {
		return err
	}
	siteID, from, to, n, err := seedReports(ctx, db, cfg.reportsCheckIns, w)
	if err != nil {
		return err
	}
	last := to.AddDays(-1)
	month := last.AddDays(-29)
	fmt.Fprintf(w, "site %s: %d check-ins from %s to %s\n", siteID, n, from, last)
	whole := fmt.Sprintf("site_id=%s&from=%s&to=%s", siteID, from, last)
	oneMonth := fmt.Sprintf("site_id=%s&from=%s&to=%s", siteID, month, last)
	reqs := []struct{ name, path string }{
		{"occupancy, whole range, day buckets", "/api/v1/reports/occupancy?" + whole + "&bucket=day"},
		{"occupancy, whole range, week buckets by floor", "/api/v1/reports/occupancy?" + whole + "&bucket=week&group_by=floor"},
		{"utilisation, whole range, by floor", "/api/v1/reports/utilisation?" + whole + "&group_by=floor"},
		{"occupancy, one month, hour buckets", "/api/v1/reports/occupancy?" + oneMonth + "&bucket=hour"},
		{"occupancy, one month, day buckets by team", "/api/v1/reports/occupancy?" + oneMonth + "&bucket=day&group_by=team"},
		{"utilisation, one month, per desk", "/api/v1/reports/utilisation?" + oneMonth + "&group_by=resource"},
		{"heatmap.svg, one month", "/api/v1/reports/occupancy/heatmap.svg?" + oneMonth},
	}
	// "first" is the warm-up request: after seeding (or after emptying
	// report_cells) it is the one that fills the cells it needs.
	fmt.Fprintf(w, "\n%-48s %10s %10s %10s %10s %10s\n", "request (median of "+fmt.Sprint(reportsRuns)+")", "first", "median", "min", "max", "bytes")
	for _, r := range reqs {
		var took []time.Duration
		var first time.Duration
		var size int64
		for i := 0; i <= reportsRuns; i++ {
			start := time.Now()
			st, n, eb, err := a.send(ctx, http.MethodGet, r.path, nil)
			d := time.Since(start)
			if err != nil {
				return err
			}
			if st != http.StatusOK {
				return fmt.Errorf("%s: %d %s", r.name, st, eb)
			}
			if i > 0 {
				took = append(took, d)
			} else {
				first = d
			}
			size = n
		}
		slices.Sort(took)
		fmt.Fprintf(w, "%-48s %10s %10s %10s %10s %10d\n", r.name, millis(first), millis(took[len(took)/2]), millis(took[0]), millis(took[len(took)-1]), size)
	}
	fmt.Fprintf(w, "\n%d CPUs, %s/%s, %s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), db.Dialect())
	return nil
}

func millis(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// seedReports finds the bench office or generates it and simulates days
// back from yesterday until want check-ins are written. A marker in meta
// records the site and the simulated days.
func seedReports(ctx context.Context, db *database.DB, want int, w io.Writer) (string, booking.Date, booking.Date, int, error) {
	var marker []string
	if err := db.Conn(ctx).Table("meta").Where("key = ?", reportsMetaKey).Pluck("value", &marker).Error; err != nil {
		return "", booking.Date{}, booking.Date{}, 0, err
	}
	if len(marker) > 0 {
		var site, f, t string
		var n int
		if _, err := fmt.Sscanf(marker[0], "%s %s %s %d", &site, &f, &t, &n); err == nil && n >= want {
			from, err1 := booking.ParseDate(f)
			to, err2 := booking.ParseDate(t)
			if err1 == nil && err2 == nil {
				return site, from, to, n, nil
			}
		}
		return "", booking.Date{}, booking.Date{}, 0, fmt.Errorf("the database holds an earlier reports bench (%q) with fewer check-ins; use a fresh database", marker[0])
	}
	fmt.Fprintf(w, "generating %q: %d people, %d desks\n", reportsSite, reportsPeople, reportsDesks)
	o, err := sim.GenerateOffice(ctx, db, reportsSite, "Europe/Berlin", reportsPeople, reportsDesks)
	if err != nil {
		return "", booking.Date{}, booking.Date{}, 0, err
	}
	loc, _ := time.LoadLocation("Europe/Berlin")
	yesterday := booking.DateOf(time.Now().In(loc)).AddDays(-1)
	// Enough days to reach want check-ins (about 2,000 a working day); the
	// run stops early once it has them.
	days := want/1300 + 30
	from := yesterday.AddDays(-days + 1)
	start := time.Now()
	var last booking.Date
	_, st, err := sim.Run(ctx, db, o.Model(42), from, yesterday.AddDays(1), sim.Options{NoTruth: true, StopAfterCheckIns: want,
		Progress: func(day booking.Date, done, total int) {
			last = day
			if done%25 == 0 {
				fmt.Fprintf(w, "  simulated %d days (%s), %.0fs\n", done, day, time.Since(start).Seconds())
			}
		}})
	if err != nil {
		return "", booking.Date{}, booking.Date{}, 0, err
	}
	to := last.AddDays(1)
	fmt.Fprintf(w, "seeded %d bookings, %d check-ins (%d walk-ups), %d no-shows over %s to %s in %.0fs\n",
		st.Bookings, st.CheckIns, st.WalkUps, st.NoShows, from, last, time.Since(start).Seconds())
	if _, err := db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
		return "", booking.Date{}, booking.Date{}, 0, err
	}
	m := fmt.Sprintf("%s %s %s %d", o.Site.ID, from, to, st.CheckIns)
	err = db.Conn(ctx).Exec("INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)", reportsMetaKey, m, time.Now().UTC()).Error
	return o.Site.ID, from, to, st.CheckIns, err
}

package api_test

import (
	"bufio"
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
)

// scrape reads /metrics and returns every sample by its full series name
// (name{labels}).
func (e *env) scrape() map[string]float64 {
	e.t.Helper()
	r := e.req("GET", "/metrics", "", "")
	if r.Status != 200 {
		e.t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			e.t.Fatalf("bad sample line %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// A booking and a conflict move their counters; the latency histogram is
// labelled by the route template, never the raw URL.
func TestMetricsCountBookingsAndConflicts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		before := e.scrape()
		body := bookingJSON("1A-05", berlinAt(24, 9, 0), berlinAt(24, 12, 0))
		created := e.must(201, e.req("POST", "/api/v1/bookings", "employee", body))
		e.must(409, e.req("POST", "/api/v1/bookings", "admin", body))
		e.must(200, e.req("GET", "/api/v1/bookings/"+created["id"].(string), "employee", ""))

		// A weekend booking is refused by the policy; a check-in counts.
		e.problemCode(e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1A-03", berlinAt(28, 10, 0), berlinAt(28, 11, 0))), 422, "policy_closed_day")
		e.clock.Set(berlinAt(24, 9, 5))
		e.must(201, e.req("POST", "/api/v1/bookings/"+created["id"].(string)+"/check-in", "employee", ""))
		// The worker reports through booking.WithWorkerReport.
		e.srv.Metrics.WorkerRun("release_no_shows", 3, nil)
		e.srv.Metrics.WorkerRun("auto_check_out", 0, errors.New("database down"))
		after := e.scrape()

		for name, want := range map[string]float64{
			`perch_policy_refusals_total{code="policy_closed_day"}`: 1,
			"perch_checkins_total":                                                                              1,
			`perch_releases_total{reason="no_show"}`:                                                            3,
			`perch_worker_runs_total{job="release_no_shows"}`:                                                   1,
			`perch_worker_runs_total{job="auto_check_out"}`:                                                     1,
			`perch_worker_failures_total{job="auto_check_out"}`:                                                 1,
			`perch_worker_failures_total{job="release_no_shows"}`:                                               0,
			"perch_bookings_created_total":                                                                      1,
			"perch_booking_conflicts_total":                                                                     1,
			`perch_http_request_duration_seconds_count{method="POST",route="/api/v1/bookings",status="2xx"}`:    1,
			`perch_http_request_duration_seconds_count{method="POST",route="/api/v1/bookings",status="4xx"}`:    2,
			`perch_http_request_duration_seconds_count{method="GET",route="/api/v1/bookings/:id",status="2xx"}`: 1,
		} {
			if got := after[name] - before[name]; got != want {
				t.Errorf("%s moved by %v, want %v", name, got, want)
			}
		}
		for name := range after {
			if strings.Contains(name, created["id"].(string)) {
				t.Errorf("a raw URL leaked into a label: %s", name)
			}
		}
		for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
			if _, ok := after[name]; !ok {
				t.Errorf("%s missing: the Go and process collectors are registered", name)
			}
		}
	})
}

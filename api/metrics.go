package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/perch-hq/perch"
)

// Metrics are the server's Prometheus metrics, on a registry the server owns
// (never the global default one). The API counts the outcomes of its
// handlers here; cmd/perch registers what other parts report (the WebSocket
// hub, the outbox, the database pool) on Registry and feeds WorkerRun.
// Every metric is documented in docs/OPERATIONS.md.
type Metrics struct {
	Registry *prometheus.Registry

	requests        *prometheus.HistogramVec
	bookingsCreated prometheus.Counter
	conflicts       prometheus.Counter
	refusals        *prometheus.CounterVec
	checkIns        prometheus.Counter
	releases        *prometheus.CounterVec
	workerRuns      *prometheus.CounterVec
	workerFailures  *prometheus.CounterVec
	rateLimited     *prometheus.CounterVec
}

// NewMetrics returns the metrics on a fresh registry holding the Go runtime
// and process collectors too.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "perch_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route template and status class (2xx, 4xx, …).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route", "status"}),
		bookingsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perch_bookings_created_total",
			Help: "Successful booking creations (POST /api/v1/bookings and kiosk book-now answered 201).",
		}),
		conflicts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perch_booking_conflicts_total",
			Help: "Requests refused with 409 booking_conflict (the resource was already booked).",
		}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perch_policy_refusals_total",
			Help: "Requests refused by the site's booking policy, by problem code (policy_…).",
		}, []string{"code"}),
		checkIns: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perch_checkins_total",
			Help: "Successful check-ins (QR, booking and kiosk check-in endpoints).",
		}),
		releases: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perch_releases_total",
			Help: "Bookings released by the worker (reason no_show) and desk days released by their owner (reason owner).",
		}, []string{"reason"}),
		workerRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perch_worker_runs_total",
			Help: "Background worker job runs, by job.",
		}, []string{"job"}),
		workerFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perch_worker_failures_total",
			Help: "Background worker job runs that failed, by job.",
		}, []string{"job"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perch_rate_limited_total",
			Help: "Requests refused with 429 by a rate limit, by limit name.",
		}, []string{"limit"}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.bookingsCreated, m.conflicts, m.refusals, m.checkIns, m.releases,
		m.workerRuns, m.workerFailures, m.rateLimited,
	)
	// Zero-valued series exist from the start, so rate() works at once.
	m.releases.WithLabelValues("no_show")
	m.releases.WithLabelValues("owner")
	for _, job := range []string{"release_no_shows", "auto_check_out"} {
		m.workerRuns.WithLabelValues(job)
		m.workerFailures.WithLabelValues(job)
	}
	return m
}

// WorkerRun records one run of a background job (booking.WithWorkerReport).
func (m *Metrics) WorkerRun(job string, n int, err error) {
	if m == nil {
		return
	}
	m.workerRuns.WithLabelValues(job).Inc()
	if err != nil {
		m.workerFailures.WithLabelValues(job).Inc()
		return
	}
	if job == "release_no_shows" && n > 0 {
		m.releases.WithLabelValues("no_show").Add(float64(n))
	}
}

// Routes whose success is counted as an outcome.
var (
	createRoutes = map[string]bool{
		"POST /api/v1/bookings":       true,
		"POST /api/v1/kiosk/book-now": true,
	}
	checkInRoutes = map[string]bool{
		"POST /api/v1/checkins":              true,
		"POST /api/v1/bookings/:id/check-in": true,
		"POST /api/v1/kiosk/check-in":        true,
	}
)

// observe records one finished request: its latency, and the outcome
// counters its route and problem code stand for.
func (m *Metrics) observe(c *fiber.Ctx, route string, status int, code string, took time.Duration) {
	if m == nil {
		return
	}
	method := c.Method()
	m.requests.WithLabelValues(method, route, strconv.Itoa(status/100)+"xx").Observe(took.Seconds())
	key := method + " " + route
	switch {
	case status == fiber.StatusCreated && createRoutes[key]:
		m.bookingsCreated.Inc()
	case status/100 == 2 && checkInRoutes[key]:
		m.checkIns.Inc()
	case status == fiber.StatusCreated && key == "POST /api/v1/desks/:id/releases":
		m.releases.WithLabelValues("owner").Inc()
	case code == perch.EBOOKINGCONFLICT:
		m.conflicts.Inc()
	case strings.HasPrefix(code, "policy_"):
		m.refusals.WithLabelValues(code).Inc()
	}
}

// metrics serves the registry in the Prometheus text format.
func (m *Metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{
		Registry:          m.Registry, // promhttp's own error counter
		EnableOpenMetrics: false,
	}))
}

// Package api is Perch's HTTP interface and the only package that imports
// Fiber. It holds the route table (routes.go), the middleware, the one map
// from error codes to HTTP statuses (errors.go) and the request and response
// shapes. Handlers decode, call a feature package, and encode; they hold no
// business rules.
package api

import (
	"context"
	"log/slog"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/ratelimit"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/visitors"
	"github.com/perch-hq/perch/web"
)

// Deps is what the API needs; cmd/perch builds it.
type Deps struct {
	DB         *database.DB
	Users      *users.Service
	Floorplans *floorplans.Service
	Booking    *booking.Service
	// Kiosks pairs and authenticates kiosk devices ("perchk_" tokens) and
	// serves the room-door actions.
	Kiosks *kiosk.Devices
	// Reports computes occupancy and utilisation reports.
	Reports *reports.Service
	// Moves plans office moves.
	Moves *moves.Service
	// Visitors runs visits, the lobby kiosk's visitor actions, roll calls
	// and visitor privacy.
	Visitors *visitors.Service
	Logger   *slog.Logger
	// Bootstrap, when non-nil, accepts PERCH_BOOTSTRAP_TOKEN as an admin.
	Bootstrap *users.BootstrapAuth
	// PublicURL is where clients reach Perch (for links).
	PublicURL string
	// Version is the build's version string.
	Version string
	// RequestTimeout bounds each request's work (0: 30 s).
	RequestTimeout time.Duration
	// Metrics are served at /metrics (nil: a fresh set of the server's own).
	Metrics *Metrics
	// RateLimits of the token, pairing and kiosk endpoints (zero: off).
	RateLimits RateLimits
	// TrustedProxies are the peers whose X-Forwarded-For is believed
	// (none: the peer address is the client's).
	TrustedProxies []netip.Prefix
	// CORSOrigins may call the API from a browser (none: no CORS).
	CORSOrigins []string
	// BodyLimit caps request bodies in bytes (0: 8 MiB).
	BodyLimit int
	// ReadTimeout, WriteTimeout and IdleTimeout bound connections
	// (0: 30 s, 60 s, 120 s).
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Server is the HTTP API.
type Server struct {
	Deps
	log   *slog.Logger
	app   *fiber.App
	pages *web.Pages
	// assets is the web app (web/static), read once.
	assets map[string]asset
	ready  atomic.Bool

	limiter *ratelimit.Limiter
}

// Default limits of the HTTP server.
const (
	bodyLimit    = 8 << 20 // plan images later; JSON bodies are held to maxJSONBody
	readTimeout  = 30 * time.Second
	writeTimeout = 60 * time.Second
	idleTimeout  = 120 * time.Second
)

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// New builds the API with every route registered. It starts not ready;
// call SetReady when the process may take traffic.
func New(d Deps) *Server {
	pages, err := web.New()
	if err != nil {
		panic("api: embedded templates do not parse: " + err.Error()) // a build defect, caught by every test
	}
	files, err := assets()
	if err != nil {
		panic("api: embedded web app: " + err.Error())
	}
	s := &Server{Deps: d, log: d.Logger, pages: pages, assets: files}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if d.DB != nil {
		s.limiter = ratelimit.New(d.DB)
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	if s.RequestTimeout == 0 {
		s.RequestTimeout = 30 * time.Second
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "perch",
		DisableStartupMessage: true,
		// Values from the request (params, headers, body) are copied, so a
		// handler may keep them after it returns.
		Immutable:    true,
		BodyLimit:    orDefault(d.BodyLimit, bodyLimit),
		ReadTimeout:  orDefault(d.ReadTimeout, readTimeout),
		WriteTimeout: orDefault(d.WriteTimeout, writeTimeout),
		IdleTimeout:  orDefault(d.IdleTimeout, idleTimeout),
		ErrorHandler: s.handleError,
		// Case- and slash-exact routing: one URL per resource.
		StrictRouting: true,
		CaseSensitive: true,
	})
	s.routes()
	return s
}

// App returns the Fiber app (for Listener and tests).
func (s *Server) App() *fiber.App { return s.app }

// SetReady flips readiness (/readyz answers 503 while false).
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// Shutdown stops accepting connections and waits for in-flight requests.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.app.ShutdownWithContext(ctx)
}

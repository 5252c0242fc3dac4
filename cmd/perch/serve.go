package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/pressly/goose/v3"
	"github.com/soheilhy/cmux"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/migrations"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/ratelimit"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/visitors"
)

// serve runs the server until ctx is cancelled (SIGINT/SIGTERM), then stops
// being ready, drains in-flight requests and closes the database.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	log.Info("starting perch", append([]any{"version", version}, cfg.Masked()...)...)

	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log,
		MaxOpenConns: cfg.DBMaxConns, MaxIdleConns: cfg.DBMaxIdleConns, ConnMaxLifetime: cfg.DBConnLifetime})
	if err != nil {
		return err
	}
	defer db.Close()
	if cfg.AutoMigrate {
		res, err := migrations.Up(ctx, db.SQL(), string(db.Dialect()), log)
		if err != nil {
			return err
		}
		log.Info("database ready", "dialect", db.Dialect(), "location", db.Location, "schema_version", res.To)
	} else {
		st, err := migrations.Status(ctx, db.SQL(), string(db.Dialect()))
		if err != nil {
			return err
		}
		pending := 0
		for _, m := range st {
			if m.State != goose.StateApplied {
				pending++
			}
		}
		if pending > 0 {
			return fmt.Errorf("the database schema is behind (%d pending migrations) and PERCH_AUTO_MIGRATE=false: run `perch migrate up` first", pending)
		}
		log.Info("database ready", "dialect", db.Dialect(), "location", db.Location, "migrations", len(st))
	}

	userSvc := users.NewService(db)
	tokens, err := prepareDemo(ctx, cfg, db, userSvc, log)
	if err != nil {
		return err
	}

	fp := floorplans.NewService(db)
	// The outbox feed pushes every committed change to the WebSocket hub;
	// the booking service wakes it after each commit.
	var hub *kiosk.Hub
	pgURL := ""
	if db.Dialect() == database.Postgres {
		pgURL = cfg.DatabaseURL
	}
	feed := kiosk.NewFeed(db, func(ev []booking.Event) { hub.Dispatch(ev) }, kiosk.FeedOptions{PostgresURL: pgURL, Logger: log.With("component", "feed")})
	metrics := api.NewMetrics()
	bookings := booking.NewService(db, fp, booking.WithNotifier(feed), booking.WithWorkerReport(metrics.WorkerRun))
	go housekeeping(ctx, bookings, fp, ratelimit.New(db), log)
	go bookings.RunWorker(ctx, cfg.WorkerInterval, log.With("component", "worker"))
	rp := reports.NewService(db, fp, bookings)
	visitorSvc := visitors.NewService(db, visitors.WithNotifier(feed))
	go visitorSvc.RunWorker(ctx, cfg.WorkerInterval, log.With("component", "visitors-worker"))
	srv := api.New(api.Deps{
		DB:         db,
		Users:      userSvc,
		Floorplans: fp,
		Booking:    bookings,
		Kiosks:     kiosk.NewDevices(db, bookings),
		Reports:    rp,
		Moves:      moves.NewService(db, fp, bookings, rp),
		Visitors:   visitorSvc,
		Logger:     log,
		Bootstrap:  users.NewBootstrapAuth(cfg.BootstrapToken),
		PublicURL:  cfg.PublicURL,
		Version:    version,
		Metrics:    metrics,
		RateLimits: cfg.RateLimits, TrustedProxies: cfg.TrustedProxies, CORSOrigins: cfg.CORSOrigins,
		BodyLimit: cfg.BodyLimit, ReadTimeout: cfg.ReadTimeout, WriteTimeout: cfg.WriteTimeout, IdleTimeout: cfg.IdleTimeout,
	})
	hub = kiosk.NewHub(db, bookings, srv.Authenticate, kiosk.HubOptions{Touch: srv.Kiosks.Touch, Logger: log.With("component", "hub")})
	registerMetrics(metrics, hub, db)
	if err := feed.Start(ctx); err != nil {
		return err
	}
	hub.SetLast(feed.Last())
	feedCtx, stopFeed := context.WithCancel(context.Background())
	defer stopFeed()
	go feed.Run(feedCtx)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// One public port: connections whose first request asks to upgrade to
	// WebSocket go to net/http and gorilla (fasthttp cannot hand them over),
	// everything else to Fiber.
	mux := cmux.New(ln)
	mux.SetReadTimeout(10 * time.Second)
	wsLn := &childListener{Listener: mux.Match(cmux.HTTP1HeaderField("Upgrade", "websocket"), cmux.HTTP1HeaderField("Upgrade", "WebSocket"))}
	httpLn := &childListener{Listener: mux.Match(cmux.Any())}
	wsSrv := hub.Listen(wsLn)
	go func() { _ = mux.Serve() }()
	if getenv("PERCH_PUBLIC_URL") == "" && srv.PublicURL != "" {
		// Derived from PERCH_ADDR: use the port actually bound (PERCH_ADDR=:0).
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		u, _ := url.Parse(cfg.PublicURL)
		cfg.PublicURL = u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
		srv.PublicURL = cfg.PublicURL
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.App().Listener(httpLn) }()
	srv.SetReady(true)
	log.Info("serving", "addr", ln.Addr().String(), "url", cfg.PublicURL)
	fmt.Fprintf(stdout, "Perch %s is serving at %s (listening on %s)\n", version, cfg.PublicURL, ln.Addr())
	printTokens(stdout, cfg.PublicURL, tokens)

	select {
	case err := <-serveErr:
		return fmt.Errorf("server stopped: %w", err)
	case <-ctx.Done():
	}
	// Shutdown: stop being ready, close every socket with 1001 (clients
	// resume on another replica), drain HTTP, then close the database.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout, "websockets", hub.Connections())
	srv.SetReady(false)
	_ = ln.Close() // accept nothing new; connections already open are served
	hub.CloseAll()
	shutCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	_ = wsSrv.Shutdown(shutCtx)
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("drain requests: %w", err)
	}
	if err := <-serveErr; err != nil {
		return fmt.Errorf("server stopped: %w", err)
	}
	stopFeed()
	log.Info("stopped cleanly")
	return nil
}

// prepareDemo loads the demo office when PERCH_DEMO asks for it and returns
// fresh sign-in tokens when the demo office is present.
func prepareDemo(ctx context.Context, cfg Config, db *database.DB, svc *users.Service, log *slog.Logger) ([]demo.Token, error) {
	if cfg.Demo == "false" {
		return nil, nil
	}
	loaded, err := demo.Loaded(ctx, db)
	if err != nil {
		return nil, err
	}
	if !loaded {
		load := cfg.Demo == "true"
		if cfg.Demo == "auto" && db.Dialect() == database.SQLite {
			if load, err = demo.Empty(ctx, db); err != nil {
				return nil, err
			}
		}
		if !load {
			return nil, nil
		}
		start := time.Now()
		o, err := demo.Load(ctx, db)
		switch {
		case perch.ErrorCode(err) == perch.ECONFLICT:
			log.Info("demo office loaded by another process") // a replica starting at the same time
		case err != nil:
			return nil, fmt.Errorf("load demo office: %w", err)
		default:
			log.Info("demo office loaded", "site", o.Site.Name, "desks", len(o.Desks), "rooms", len(o.Rooms),
				"users", len(o.Users), "duration", time.Since(start))
		}
	}
	// Today's demo visitors (once per day; a failure only costs the demo).
	if n, err := demo.SeedVisits(ctx, db, time.Now()); err != nil {
		log.Warn("seed demo visitors", "error", err)
	} else if n > 0 {
		log.Info("demo visitors added for today", "count", n)
	}
	tokens, err := demo.MintTokens(ctx, svc)
	if errors.Is(err, context.Canceled) {
		return nil, err
	}
	return tokens, err
}

// housekeeping runs periodic clean-ups until ctx ends: expired idempotency
// keys, plan images no floor uses and rate-limit windows over a day old are
// deleted hourly (safe on several replicas: each is one DELETE).
func housekeeping(ctx context.Context, bookings *booking.Service, fp *floorplans.Service, limits *ratelimit.Limiter, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := bookings.PurgeIdempotency(ctx); err != nil {
				log.Warn("purge idempotency keys", "error", err)
			} else if n > 0 {
				log.Info("purged idempotency keys", "count", n)
			}
			if n, err := fp.PurgePlanImages(ctx); err != nil {
				log.Warn("purge plan images", "error", err)
			} else if n > 0 {
				log.Info("purged unused plan images", "count", n)
			}
			if n, err := limits.Purge(ctx, 25*time.Hour); err != nil {
				log.Warn("purge rate-limit windows", "error", err)
			} else if n > 0 {
				log.Info("purged rate-limit windows", "count", n)
			}
		}
	}
}

// childListener is a cmux listener whose Close leaves the shared root
// listener alone (cmux's would close it, cutting the other server's drain
// short); the root is closed once, when shutdown begins.
type childListener struct {
	net.Listener
	closed atomic.Bool
}

func (l *childListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil && (l.closed.Load() || errors.Is(err, cmux.ErrListenerClosed) || errors.Is(err, cmux.ErrServerClosed)) {
		return nil, net.ErrClosed // a clean stop for net/http and fasthttp
	}
	return c, err
}

func (l *childListener) Close() error {
	l.closed.Store(true)
	return nil
}

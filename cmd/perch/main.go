// Command perch is the one Perch binary: the server and its admin commands.
//
//	perch [serve]               serve the API (the default)
//	perch migrate [up|status]   apply or list schema migrations
//	perch demo [--history 90d]  load the demo office (and simulated history), print sign-in tokens
//	perch token --email ADDR    mint an API token for a user
//	perch kiosk-sim -n 1000     simulate door displays, print delivery latency
//	perch version
//
// Configuration comes from PERCH_* environment variables (see README.md).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/migrations"
	"github.com/perch-hq/perch/sim"
	"github.com/perch-hq/perch/users"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "perch:", err)
		os.Exit(1)
	}
}

// errUsage marks a usage error (already explained to the user).
var errUsage = errors.New("usage error")

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr)
	case "kiosk-sim":
		return kioskSimCmd(ctx, args, getenv, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "perch", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

const usage = `Usage: perch [command]

Commands:
  serve                 serve the API and web app (default)
  migrate [up|status]   apply pending schema migrations, or list them
  demo [--history 90d]  load the demo office ("Berlin HQ") and print sign-in tokens;
                        --history also simulates that many past days of attendance
  token --email ADDR    mint an API token for a user and print it
  kiosk-sim -n N        connect N simulated door displays to a running Perch
                        and print how fast changes reach them
  version               print the version

Configuration is read from PERCH_* environment variables; see README.md.
`

// openDB loads the config, opens the database and applies migrations.
func openDB(ctx context.Context, getenv func(string) string, stderr io.Writer) (Config, *database.DB, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return cfg, nil, err
	}
	log := newLogger(cfg, stderr)
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return cfg, nil, err
	}
	if _, err := migrations.Up(ctx, db.SQL(), string(db.Dialect()), log); err != nil {
		db.Close()
		return cfg, nil, err
	}
	return cfg, db, nil
}

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := database.Open(ctx, database.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir, Logger: log})
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "up":
		res, err := migrations.Up(ctx, db.SQL(), string(db.Dialect()), log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s database at %s: schema version %d -> %d (%d applied)\n",
			db.Dialect(), db.Location, res.From, res.To, len(res.Applied))
		return nil
	case "status":
		st, err := migrations.Status(ctx, db.SQL(), string(db.Dialect()))
		if err != nil {
			return err
		}
		for _, m := range st {
			when := "pending"
			if !m.AppliedAt.IsZero() {
				when = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%-40s %s\n", m.Source.Path, when)
		}
		return nil
	}
	fmt.Fprintf(stderr, "perch migrate: unknown subcommand %q (want up or status)\n", sub)
	return errUsage
}

func demoCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	history := fs.String("history", "", "also simulate this many past days of attendance, like 90d (bookings, check-ins, no-shows, walk-ups)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	days := 0
	if *history != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(*history, "d"))
		if err != nil || n < 1 || n > 3*366 {
			fmt.Fprintf(stderr, "perch demo: --history %q: want a number of days like 90d (at most 1098d)\n", *history)
			return errUsage
		}
		days = n
	}
	cfg, db, err := openDB(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	loaded, err := demo.Loaded(ctx, db)
	if err != nil {
		return err
	}
	if loaded {
		fmt.Fprintln(stdout, "The demo office is already loaded.")
	} else {
		o, err := demo.Load(ctx, db)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Loaded the demo office %q: %d floors, %d zones, %d desks, %d rooms, %d people in %d teams.\n",
			o.Site.Name, len(o.Floors), len(o.Zones), len(o.Desks), len(o.Rooms), len(o.Users)-1, len(o.Teams))
	}
	if days > 0 {
		if err := demoHistory(ctx, db, days, stdout, stderr); err != nil {
			return err
		}
	}
	tokens, err := demo.MintTokens(ctx, users.NewService(db))
	if err != nil {
		return err
	}
	printTokens(stdout, cfg.PublicURL, tokens)
	return nil
}

// historyKey (in meta) is the first day the demo's simulated history does
// not cover yet, so running --history again only adds the missing days.
const historyKey = "demo_history_until"

// demoHistory simulates the demo office's last days up to yesterday (local
// to the site), showing progress on stderr.
func demoHistory(ctx context.Context, db *database.DB, days int, stdout, stderr io.Writer) error {
	loc, err := time.LoadLocation(demo.Build().Site.Timezone)
	if err != nil {
		return err
	}
	to := booking.DateOf(time.Now().In(loc)) // yesterday is the last simulated day
	from := to.AddDays(-days)
	var until []string
	if err := db.Conn(ctx).Table("meta").Where("key = ?", historyKey).Pluck("value", &until).Error; err != nil {
		return database.Translate(err)
	}
	if len(until) > 0 {
		if d, err := booking.ParseDate(until[0]); err == nil && d.After(from) {
			from = d
		}
	}
	if !from.Before(to) {
		fmt.Fprintf(stdout, "The demo history already covers the last %d days (up to %s).\n", days, to.AddDays(-1))
		return nil
	}
	m, err := sim.LoadModel(ctx, db, demo.SiteID, 1)
	if err != nil {
		return err
	}
	start := time.Now()
	_, st, err := sim.Run(ctx, db, m, from, to, sim.Options{Progress: func(day booking.Date, done, total int) {
		if done%10 == 0 || done == total {
			fmt.Fprintf(stderr, "simulating attendance: %d/%d days (%s)\n", done, total, day)
		}
	}})
	if err != nil {
		return err
	}
	if err := db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM meta WHERE key = ?", historyKey).Error; err != nil {
			return err
		}
		return tx.Exec("INSERT INTO meta (key, value, updated_at) VALUES (?, ?, ?)", historyKey, to.String(), time.Now().UTC()).Error
	}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Simulated %s to %s: %d bookings, %d check-ins, %d no-shows, %d walk-ups, %d meetings (%.1fs).\n",
		from, to.AddDays(-1), st.Bookings, st.CheckIns, st.NoShows, st.WalkUps, st.Meetings, time.Since(start).Seconds())
	return nil
}

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the user's email address (required)")
	label := fs.String("label", "cli", "a label to recognise the token by")
	ttl := fs.Duration("ttl", 0, "lifetime, like 720h (0: no expiry)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *email == "" {
		fmt.Fprintln(stderr, "perch token: --email is required")
		fs.Usage()
		return errUsage
	}
	_, db, err := openDB(ctx, getenv, stderr)
	if err != nil {
		return err
	}
	defer db.Close()
	svc := users.NewService(db)
	u, err := svc.GetUserByEmail(ctx, *email)
	if err != nil {
		return fmt.Errorf("no user with email %s", *email)
	}
	plain, _, err := svc.MintToken(ctx, u.ID, *label, *ttl)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	return nil
}

// printTokens shows the demo sign-ins to the person who started Perch.
func printTokens(w io.Writer, publicURL string, tokens []demo.Token) {
	if len(tokens) == 0 {
		return
	}
	fmt.Fprintln(w, "\nDemo sign-in tokens (new at every start; mint lasting ones with `perch token --email ADDR`):")
	for _, t := range tokens {
		fmt.Fprintf(w, "  %-10s %-42s %s\n", t.Role, t.Name+" <"+t.Email+">", t.Token)
	}
	fmt.Fprintln(w, "\nOpen the web app signed in (the token travels in the fragment, never to the server's logs):")
	for _, t := range tokens {
		if t.Role == users.RoleKiosk {
			continue // a device account: kiosks pair at /kiosk
		}
		fmt.Fprintf(w, "  %-10s %s/#token=%s\n", t.Role, publicURL, t.Token)
	}
	fmt.Fprintf(w, "  kiosk      %s/kiosk  (shows a pairing code; pair it as admin in %s/admin)\n", publicURL, publicURL)
	fmt.Fprintf(w, "\nTry:\n  curl -H \"Authorization: Bearer %s\" %s/api/v1/sites\n\n", tokens[0].Token, publicURL)
}

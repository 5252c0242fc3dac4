// Package dbtest gives tests real databases: a fresh, migrated SQLite file per
// test, and a fresh, migrated PostgreSQL database per test, created from a
// template on a throwaway cluster that Main starts (initdb + pg_ctl on a free
// loopback port in a temp dir) or on the server PERCH_TEST_DATABASE_URL names.
//
// A package that uses PostgreSQL calls Main from its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
//
// When no PostgreSQL is available the PostgreSQL variants are skipped, unless
// CI or PERCH_REQUIRE_POSTGRES is set: then they fail.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/migrations"
)

// server is the PostgreSQL server of this test binary, set up by Main.
type server struct {
	adminURL string // a URL to a maintenance database
	template string // a migrated database to copy
	reason   string // why PostgreSQL is unavailable ("" when it is)
	stop     func()
	mu       sync.Mutex // CREATE DATABASE from one template, one at a time
}

// pg is set once by Main before any test runs and only read afterwards.
var pg = &server{reason: "dbtest.Main was not called from TestMain"}

// Main sets up PostgreSQL for the package's tests, runs them and tears it
// down. It returns the exit code for os.Exit.
func Main(m *testing.M) int {
	pg = setup()
	code := m.Run()
	if pg.stop != nil {
		pg.stop()
	}
	return code
}

func setup() *server {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := &server{}
	if u := os.Getenv("PERCH_TEST_DATABASE_URL"); u != "" {
		s.adminURL = u
	} else {
		c, err := StartCluster(ctx)
		if err != nil {
			s.reason = err.Error()
			return s
		}
		s.adminURL = c.URL
		s.stop = c.Stop
	}
	s.template = "perch_tpl_" + randomSuffix()
	if err := s.exec(ctx, "CREATE DATABASE "+s.template); err != nil {
		s.reason = "create template database: " + err.Error()
		return s
	}
	db, err := database.Open(ctx, database.Options{URL: withDatabase(s.adminURL, s.template), MaxOpenConns: 2})
	if err != nil {
		s.reason = err.Error()
		return s
	}
	if _, err := migrations.Up(ctx, db.SQL(), "postgres", nil); err != nil {
		db.Close()
		s.reason = "migrate template: " + err.Error()
		return s
	}
	db.Close()
	prevStop := s.stop
	s.stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.exec(ctx, "DROP DATABASE IF EXISTS "+s.template+" WITH (FORCE)")
		if prevStop != nil {
			prevStop()
		}
	}
	return s
}

// exec runs one statement on the maintenance database.
func (s *server) exec(ctx context.Context, stmt string) error {
	db, err := database.Open(ctx, database.Options{URL: s.adminURL, MaxOpenConns: 1})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.SQL().ExecContext(ctx, stmt)
	return err
}

// Dialects lists the dialects every database test runs on.
func Dialects() []database.Dialect { return []database.Dialect{database.SQLite, database.Postgres} }

// Each runs fn as one subtest per dialect, each with its own fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a fresh, migrated database of the dialect, closed (and for
// PostgreSQL dropped) when the test ends.
func Open(t testing.TB, d database.Dialect) *database.DB {
	t.Helper()
	switch d {
	case database.SQLite:
		return OpenSQLite(t)
	case database.Postgres:
		return OpenPostgres(t)
	}
	t.Fatalf("unknown dialect %q", d)
	return nil
}

// OpenSQLite returns a fresh, migrated SQLite database in a temp dir.
func OpenSQLite(t testing.TB) *database.DB {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "perch.db")
	db, err := database.Open(ctx, database.Options{URL: "sqlite:" + path})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := migrations.Up(ctx, db.SQL(), "sqlite", nil); err != nil {
		t.Fatalf("migrate sqlite: %v", err)
	}
	return db
}

// URL returns the URL of a fresh, migrated PostgreSQL database (dropped when
// the test ends), for tests that start whole servers.
func URL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, pg.template)
}

// EmptyURL returns the URL of a fresh PostgreSQL database with no schema.
func EmptyURL(t testing.TB) string {
	t.Helper()
	return createDatabase(t, "template0")
}

func createDatabase(t testing.TB, template string) string {
	t.Helper()
	if pg.reason != "" {
		if Required() {
			t.Fatalf("PostgreSQL is required here but unavailable: %s", pg.reason)
		}
		t.Skipf("PostgreSQL unavailable: %s", pg.reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "perch_t_" + randomSuffix()
	pg.mu.Lock()
	var err error
	for range 20 { // the template may be briefly busy
		if err = pg.exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, template)); err == nil ||
			!strings.Contains(err.Error(), "being accessed by other users") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	pg.mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = pg.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return withDatabase(pg.adminURL, name)
}

// OpenPostgres returns a fresh, migrated PostgreSQL database.
func OpenPostgres(t testing.TB) *database.DB {
	t.Helper()
	u := URL(t)
	db, err := database.Open(context.Background(), database.Options{URL: u, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Required reports whether PostgreSQL tests must run rather than skip.
func Required() bool {
	return os.Getenv("PERCH_REQUIRE_POSTGRES") != "" || os.Getenv("CI") != ""
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Package database opens Perch's database — embedded SQLite or PostgreSQL —
// and owns what every feature package needs to talk to it: transactions with
// the right locking, ids, keyset pagination and the translation of driver
// errors into perch errors. It holds no schema: that lives in migrations/.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. It is safe for concurrent use.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect Dialect
	// writers queues SQLite write transactions in Go: SQLite has one
	// writer at a time, and a writer waiting in SQLite's busy handler
	// sleeps in growing steps instead of starting the moment the lock frees.
	writers sync.Mutex
	// Location is a display form of where the data lives (a file path or a
	// host/database), with any password removed.
	Location string
}

// Options configure Open.
type Options struct {
	// URL is empty for the embedded SQLite database in DataDir,
	// "sqlite:PATH" / "file:PATH" for SQLite at PATH, or a postgres:// URL.
	URL     string
	DataDir string
	// MaxOpenConns bounds the pool (0: a default per dialect).
	MaxOpenConns int
	// MaxIdleConns is how many open connections may stay idle (0: as many
	// as MaxOpenConns).
	MaxIdleConns int
	// ConnMaxLifetime closes connections older than this (0: 30 minutes),
	// so a pool follows a database fail-over or a PgBouncer restart.
	ConnMaxLifetime time.Duration
	Logger          *slog.Logger
}

// Open opens (and for SQLite creates) the database and checks it answers.
func Open(ctx context.Context, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialect, dsn, location, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	var dialector gorm.Dialector
	maxOpen := opts.MaxOpenConns
	switch dialect {
	case SQLite:
		dialector = sqlite.Open(dsn)
		if maxOpen == 0 {
			maxOpen = 8
		}
	case Postgres:
		dialector = postgres.New(postgres.Config{DSN: dsn})
		if maxOpen == 0 {
			maxOpen = 20
		}
	}
	g, err := gorm.Open(dialector, &gorm.Config{
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		Logger: logger.New(slogWriter{log}, logger.Config{
			SlowThreshold:             500 * time.Millisecond,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			// Never log bound values: they carry tokens' hashes and personal data.
			ParameterizedQueries: true,
			Colorful:             false,
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database at %s: %w", dialect, location, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	pool := &utcPool{db: sqlDB}
	g.ConnPool = pool
	g.Statement.ConnPool = pool
	maxIdle := opts.MaxIdleConns
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	lifetime := opts.ConnMaxLifetime
	if lifetime <= 0 {
		lifetime = 30 * time.Minute
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxIdle)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(lifetime)
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, Location: location}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.Ping(pingCtx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database at %s: %w", dialect, location, err)
	}
	return db, nil
}

// resolve turns the options into a dialect, a driver DSN and a display location.
func resolve(opts Options) (Dialect, string, string, error) {
	raw := strings.TrimSpace(opts.URL)
	switch {
	case raw == "":
		dir := opts.DataDir
		if dir == "" {
			dir = "data"
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", "", "", fmt.Errorf("create data directory %s: %w", dir, err)
		}
		path := filepath.Join(dir, "perch.db")
		return SQLite, SQLiteDSN(path), path, nil
	case strings.HasPrefix(raw, "sqlite:") || strings.HasPrefix(raw, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "file:"), "//")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return "", "", "", errors.New("sqlite database URL names no file")
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return "", "", "", fmt.Errorf("create directory for %s: %w", path, err)
		}
		return SQLite, SQLiteDSN(path), path, nil
	case strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", "", errors.New("database URL is not a valid postgres:// URL")
		}
		return Postgres, raw, u.Redacted(), nil
	default:
		return "", "", "", errors.New("database URL must be empty (embedded SQLite), sqlite:PATH, or postgres://…")
	}
}

// SQLiteDSN is the DSN Perch opens SQLite files with: immediate transactions
// (a writer takes the write lock at BEGIN, so check-then-insert inside one
// transaction is atomic and racing writers queue instead of failing with
// "database is locked"), a busy timeout, WAL and foreign keys.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(1)"
}

// Dialect reports the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// SQL returns the underlying *sql.DB (for migrations and health checks).
func (db *DB) SQL() *sql.DB { return db.sql }

// Conn returns a GORM session bound to ctx. Use it for reads and single
// statements; use Tx for anything that must be atomic.
func (db *DB) Conn(ctx context.Context) *gorm.DB { return db.gorm.WithContext(ctx) }

// Tx runs fn in one transaction, committed when fn returns nil. On SQLite the
// transaction is BEGIN IMMEDIATE: it holds the write lock from the start, so
// a check followed by an insert cannot interleave with another writer.
// Errors come back translated (see Translate).
func (db *DB) Tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if db.dialect == SQLite {
		db.writers.Lock()
		defer db.writers.Unlock()
	}
	return Translate(db.gorm.WithContext(ctx).Transaction(fn))
}

// Ping checks the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.gorm.WithContext(ctx).Raw("SELECT 1").Scan(&one).Error
}

// Close closes the pool.
func (db *DB) Close() error { return db.sql.Close() }

// slogWriter adapts GORM's printf logger to slog.
type slogWriter struct{ log *slog.Logger }

func (w slogWriter) Printf(format string, args ...any) {
	w.log.Warn(strings.TrimSpace(fmt.Sprintf(format, args...)), "component", "gorm")
}

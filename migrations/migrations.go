// Package migrations holds Perch's schema as versioned SQL, one directory per
// dialect, embedded in the binary and applied with goose. Never AutoMigrate:
// every change to the schema is a new numbered file in both directories.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Result reports what Up did.
type Result struct {
	From, To int64
	Applied  []string
}

// Up applies every pending migration for the dialect ("postgres" or
// "sqlite"). On PostgreSQL a session advisory lock serialises concurrent
// callers, so two replicas starting at once apply each migration once.
// On SQLite the file has one writer at a time anyway.
func Up(ctx context.Context, db *sql.DB, dialect string, log *slog.Logger) (Result, error) {
	p, err := provider(db, dialect)
	if err != nil {
		return Result{}, err
	}
	from, err := p.GetDBVersion(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("read schema version: %w", err)
	}
	results, err := p.Up(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("apply migrations: %w", err)
	}
	res := Result{From: from, To: from}
	for _, r := range results {
		res.Applied = append(res.Applied, r.Source.Path)
		res.To = r.Source.Version
		if log != nil {
			log.Info("migration applied", "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return res, nil
}

// Status lists every known migration and whether it is applied.
func Status(ctx context.Context, db *sql.DB, dialect string) ([]*goose.MigrationStatus, error) {
	p, err := provider(db, dialect)
	if err != nil {
		return nil, err
	}
	return p.Status(ctx)
}

func provider(db *sql.DB, dialect string) (*goose.Provider, error) {
	var (
		gd   goose.Dialect
		opts []goose.ProviderOption
	)
	switch dialect {
	case "postgres":
		gd = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	case "sqlite":
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("no migrations for dialect %q", dialect)
	}
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, err
	}
	opts = append(opts, goose.WithDisableGlobalRegistry(true))
	return goose.NewProvider(gd, db, sub, opts...)
}

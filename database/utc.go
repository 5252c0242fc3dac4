package database

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"
)

// utcPool wraps GORM's connection pool so that every time.Time argument of
// every statement reaches the driver in UTC. Times are stored in UTC, and on
// SQLite they are stored and compared as text: a time built in a site's zone
// (a day booking starting at 07:00 Europe/Berlin) would otherwise be written
// as "…07:00:00+01:00" and compare wrongly with "…06:30:00+00:00". Doing it
// here, once, means no query anywhere has to remember to call UTC().
type utcPool struct {
	db *sql.DB
}

func utcArgs(args []any) []any {
	for i, a := range args {
		switch v := a.(type) {
		case time.Time:
			args[i] = v.UTC()
		case *time.Time:
			if v != nil {
				u := v.UTC()
				args[i] = &u
			}
		}
	}
	return args
}

func (p *utcPool) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return p.db.PrepareContext(ctx, q)
}

func (p *utcPool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.db.ExecContext(ctx, q, utcArgs(args)...)
}

func (p *utcPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.db.QueryContext(ctx, q, utcArgs(args)...)
}

func (p *utcPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.db.QueryRowContext(ctx, q, utcArgs(args)...)
}

// BeginTx starts a transaction whose statements are wrapped the same way.
func (p *utcPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &utcTx{tx}, nil
}

// GetDBConn lets gorm.DB.DB() find the pool.
func (p *utcPool) GetDBConn() (*sql.DB, error) { return p.db, nil }

type utcTx struct {
	tx *sql.Tx
}

func (t *utcTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	return t.tx.PrepareContext(ctx, q)
}

func (t *utcTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, q, utcArgs(args)...)
}

func (t *utcTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.tx.QueryContext(ctx, q, utcArgs(args)...)
}

func (t *utcTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return t.tx.QueryRowContext(ctx, q, utcArgs(args)...)
}

func (t *utcTx) Commit() error   { return t.tx.Commit() }
func (t *utcTx) Rollback() error { return t.tx.Rollback() }

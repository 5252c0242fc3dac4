package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	sqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/perch-hq/perch"
)

// PostgreSQL SQLSTATEs Perch reacts to.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
	pgCheckViolation      = "23514"
	pgNotNullViolation    = "23502"
	pgExclusionViolation  = "23P01"
	pgDeadlockDetected    = "40P01"
	pgSerialization       = "40001"
	pgLockNotAvailable    = "55P03"
	pgInvalidText         = "22P02"
	pgQueryCanceled       = "57014"
)

// SQLite extended result codes Perch reacts to.
const (
	sqliteBusy           = 5
	sqliteLocked         = 6
	sqliteBusySnapshot   = 517
	sqliteConstraintChk  = 275
	sqliteConstraintFK   = 787
	sqliteConstraintNN   = 1299
	sqliteConstraintPK   = 1555
	sqliteConstraintUniq = 2067
	sqliteConstraintTrig = 1811
)

// Translate turns a driver or GORM error into a *perch.Error with a stable
// code and a sentence safe for clients; the raw error is kept as the cause
// (logged, never sent). A *perch.Error already in the chain is returned as is.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	var pe *perch.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &perch.Error{Code: perch.ENOTFOUND, Message: "not found", Err: err}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &perch.Error{Code: perch.EUNAVAILABLE, Message: "The request was cancelled or took too long.", Err: err}
	}
	if IsUnavailable(err) {
		return &perch.Error{Code: perch.EUNAVAILABLE, Message: "The database is not reachable; try again shortly.", Err: err}
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case pgExclusionViolation:
			return &perch.Error{Code: perch.EBOOKINGCONFLICT, Message: "The resource is already booked for an overlapping time.", Err: err}
		case pgDeadlockDetected, pgSerialization, pgLockNotAvailable:
			return &perch.Error{Code: perch.ECONFLICT, Message: "A concurrent change got there first; try again.", Err: err}
		case pgUniqueViolation:
			return &perch.Error{Code: perch.ECONFLICT, Message: "It already exists.", Err: err}
		case pgForeignKeyViolation:
			return &perch.Error{Code: perch.ECONFLICT, Message: "It is still referenced by other records, or refers to one that does not exist.", Err: err}
		case pgCheckViolation, pgNotNullViolation, pgInvalidText:
			return &perch.Error{Code: perch.EINVALID, Message: "A value is out of range.", Err: err}
		case pgQueryCanceled:
			return &perch.Error{Code: perch.EUNAVAILABLE, Message: "The request took too long.", Err: err}
		}
		return &perch.Error{Code: perch.EINTERNAL, Message: "An internal error occurred.", Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteBusy, sqliteLocked, sqliteBusySnapshot:
			return &perch.Error{Code: perch.ECONFLICT, Message: "The database is busy with a concurrent change; try again.", Err: err}
		case sqliteConstraintUniq, sqliteConstraintPK:
			return &perch.Error{Code: perch.ECONFLICT, Message: "It already exists.", Err: err}
		case sqliteConstraintFK:
			return &perch.Error{Code: perch.ECONFLICT, Message: "It is still referenced by other records, or refers to one that does not exist.", Err: err}
		case sqliteConstraintChk, sqliteConstraintNN:
			return &perch.Error{Code: perch.EINVALID, Message: "A value is out of range.", Err: err}
		case sqliteConstraintTrig:
			if strings.Contains(se.Error(), "booking_too_long") {
				return &perch.Error{Code: perch.EINVALID, Message: "A booking lasts at most one day (25 hours).", Err: err}
			}
			if strings.Contains(se.Error(), "booking_conflict") {
				return &perch.Error{Code: perch.EBOOKINGCONFLICT, Message: "The resource is already booked for an overlapping time.", Err: err}
			}
			return &perch.Error{Code: perch.ECONFLICT, Message: "The change conflicts with the current state.", Err: err}
		}
	}
	return &perch.Error{Code: perch.EINTERNAL, Message: "An internal error occurred.", Err: err}
}

// IsUniqueViolation reports whether err (translated or raw) was caused by a
// unique constraint; constraint, when non-empty, must appear in the
// constraint name (PostgreSQL) or in the message (SQLite names the columns).
func IsUniqueViolation(err error, constraint string) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == pgUniqueViolation && strings.Contains(pg.ConstraintName, constraint)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return (c == sqliteConstraintUniq || c == sqliteConstraintPK) && strings.Contains(se.Error(), constraint)
	}
	return false
}

// IsForeignKeyViolation reports whether err was caused by a foreign key.
func IsForeignKeyViolation(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == pgForeignKeyViolation
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqliteConstraintFK
}

// IsUnavailable reports whether err means the database cannot be reached
// (refused or dropped connections, a server shutting down or starting up)
// rather than that a statement failed: the request may succeed later, and
// clients get 503 unavailable, not 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		// Class 08: connection exceptions; 57P01-57P03: admin or crash
		// shutdown, cannot connect now (starting up).
		return strings.HasPrefix(pg.Code, "08") || pg.Code == "57P01" || pg.Code == "57P02" || pg.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) {
		return true
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "conn closed") || strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "failed to connect") || strings.Contains(msg, "connection reset")
}

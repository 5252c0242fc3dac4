// Package perch holds what every feature package shares: the one error type
// with its stable codes. It imports nothing from the project, so every other
// package may import it.
package perch

import (
	"errors"
	"fmt"
)

// Stable error codes. Clients switch on these; never rename one.
// The API maps each code to an HTTP status in exactly one place (api/errors.go).
const (
	ECONFLICT        = "conflict"          // the change clashes with the current state
	EINTERNAL        = "internal"          // a bug or an unexpected failure
	EINVALID         = "validation_failed" // the request is malformed or breaks a rule of the model
	ENOTFOUND        = "not_found"         // the thing does not exist (or the caller may not know it does)
	EUNAUTHORIZED    = "unauthorized"      // no valid credentials
	EFORBIDDEN       = "forbidden"         // valid credentials, not allowed
	ETOOLARGE        = "payload_too_large" // the request body is over the limit
	EUNAVAILABLE     = "unavailable"       // a dependency (the database) is down; try again
	EUNSUPPORTED     = "unsupported_media_type"
	EBOOKINGCONFLICT = "booking_conflict"       // the resource is already booked for an overlapping interval
	EPRECONDITION    = "precondition_failed"    // If-Match names a version that is no longer current
	EPRECONDREQUIRED = "precondition_required"  // a change needs If-Match
	EIDEMPOTENCYKEY  = "idempotency_key_reused" // an Idempotency-Key was reused with a different request
)

// Error is the one error type that crosses package boundaries. Message is a
// sentence a person can read and is safe to show to the client; Err (the
// cause) is only ever logged.
type Error struct {
	Code    string
	Message string
	// Field names the request field at fault (JSON name, dotted path), if any.
	Field string
	// Details carries machine-readable extras for the client (for example the
	// conflicting interval of a booking conflict). Must be JSON-encodable.
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	msg := e.Code + ": " + e.Message
	if e.Field != "" {
		msg = e.Code + ": " + e.Field + ": " + e.Message
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a validation failure of one field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFound reports that a thing of the given kind does not exist.
func NotFound(kind string) *Error {
	return &Error{Code: ENOTFOUND, Message: kind + " not found"}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the client-safe message of err: the *Error's message,
// or a generic sentence for anything else (never the raw cause).
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "An internal error occurred."
	}
}

package database

import (
	"github.com/google/uuid"
)

// NewID returns a new identifier: a UUIDv7, so ids sort by creation time and
// index well. Ids are generated in Go (not by the database) so both dialects
// behave the same and callers know the id before the insert.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// ValidID reports whether s is a well-formed id (canonical UUID text).
func ValidID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// Package booking owns bookings of desks and rooms: the model, policies,
// availability, check-ins and the outbox of booking events. The database
// guarantees that two active bookings of one resource never overlap (see
// migrations/); this package never relies on a read-then-write in Go alone.
package booking

import "time"

// MaxLength is the longest a booking may last: one local day, 25 hours on
// the day the clocks go back. Longer stays are recurring series. Queries
// rely on it to find overlapping bookings by a range of start times.
const MaxLength = 25 * time.Hour

// Status is where a booking is in its life.
type Status string

const (
	StatusConfirmed Status = "confirmed"  // active, not yet checked in
	StatusCheckedIn Status = "checked_in" // active, the person arrived
	StatusCompleted Status = "completed"  // ended after a check-in
	StatusCancelled Status = "cancelled"  // cancelled by a person
	StatusReleased  Status = "released"   // released automatically (no-show)
)

// Active reports whether a booking in this status holds its resource.
func (s Status) Active() bool { return s == StatusConfirmed || s == StatusCheckedIn }

// ResourceType is what is booked.
type ResourceType string

const (
	Desk ResourceType = "desk"
	Room ResourceType = "room"
)

// Booking holds a desk or a room for a person over the half-open interval
// [StartAt, EndAt), stored in UTC.
type Booking struct {
	ID           string       `json:"id" gorm:"primaryKey"`
	SiteID       string       `json:"site_id"`
	FloorID      string       `json:"floor_id"`
	ResourceType ResourceType `json:"resource_type"`
	ResourceID   string       `json:"resource_id"`
	UserID       string       `json:"user_id"`
	CreatedBy    *string      `json:"created_by"`
	Title        string       `json:"title"`
	StartAt      time.Time    `json:"start"`
	EndAt        time.Time    `json:"end"`
	Status       Status       `json:"status"`
	// StatusReason says why a booking ended as it did ("no_show",
	// "checked_out", "ended").
	StatusReason string    `json:"status_reason"`
	SeriesID     *string   `json:"series_id"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Event is one row of the transactional outbox: written in the same
// transaction as the booking change it describes; Seq orders all events.
type Event struct {
	Seq        int64   `json:"seq" gorm:"primaryKey;autoIncrement"`
	Kind       string  `json:"kind"`
	SiteID     *string `json:"site_id"`
	FloorID    *string `json:"floor_id"`
	ResourceID *string `json:"resource_id"`
	BookingID  *string `json:"booking_id"`
	// UserID addresses an event to one person (their /ws/me sockets).
	UserID    *string   `json:"user_id,omitempty"`
	Payload   string    `json:"payload"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName maps Event to the outbox table.
func (Event) TableName() string { return "outbox" }

package booking

import (
	"encoding/json"
	"time"

	"gorm.io/gorm"
)

// Event kinds written to the outbox.
const (
	EventCreated   = "booking.created"
	EventUpdated   = "booking.updated"
	EventCancelled = "booking.cancelled"
)

// EventPayload is the JSON payload of a booking event: the booking as it is
// after the change.
type EventPayload struct {
	Booking      Booking `json:"booking"`
	Timezone     string  `json:"timezone"`
	ResourceName string  `json:"resource_name"`
	// Previous holds the booking's resource and times before an update.
	Previous *EventPrevious `json:"previous,omitempty"`
	// Reason says why someone other than the owner changed the booking
	// ("move_plan": an office move moved or cancelled it).
	Reason string `json:"reason,omitempty"`
}

// EventPrevious is where a moved booking was.
type EventPrevious struct {
	ResourceID string    `json:"resource_id"`
	FloorID    string    `json:"floor_id"`
	Start      time.Time `json:"start"`
	End        time.Time `json:"end"`
}

// writeEvent appends one event to the outbox inside tx, so it commits (or
// not) with the change it describes.
func writeEvent(tx *gorm.DB, kind string, v *View, now time.Time, prev ...*EventPrevious) error {
	var pv *EventPrevious
	if len(prev) > 0 {
		pv = prev[0]
	}
	return writeEventReason(tx, kind, v, now, pv, "")
}

// writeEventReason is writeEvent with a reason in the payload.
func writeEventReason(tx *gorm.DB, kind string, v *View, now time.Time, prev *EventPrevious, reason string) error {
	p := EventPayload{Booking: v.Booking, Timezone: v.Timezone, ResourceName: v.ResourceName, Previous: prev, Reason: reason}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	b := &v.Booking
	return tx.Create(&Event{
		Kind: kind, SiteID: &b.SiteID, FloorID: &b.FloorID, ResourceID: &b.ResourceID, BookingID: &b.ID, UserID: &b.UserID,
		Payload: string(raw), CreatedAt: now,
	}).Error
}

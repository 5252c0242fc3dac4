package kiosk

// Room-door actions: what a door panel may do, always to its own room.
//
// There is no room parameter anywhere here: the room is the one the kiosk
// was paired to (the principal's RoomID, set only by Authenticate for a
// paired room kiosk), so a door panel cannot touch another room at all.
// Anything else calling — a lobby display, a person, the demo kiosk account
// that is no paired device — is forbidden. The changes themselves are
// booking changes (booking.Service's door methods: one transaction, the
// policy, the overlap guarantee, an outbox event each).

import (
	"context"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/users"
)

// doorMinutes are the durations a door panel offers (book now, extend).
var doorMinutes = []int{15, 30, 60}

// doorRoom is the room a caller may act on at its door.
func doorRoom(p *users.Principal) (string, error) {
	switch {
	case p == nil || p.Role != users.RoleKiosk || p.KioskID == "":
		return "", perch.Errorf(perch.EFORBIDDEN, "Only a room's paired door kiosk may do this.")
	case p.RoomID == "":
		return "", perch.Errorf(perch.EFORBIDDEN, "A lobby kiosk cannot act on a room; only the room's door kiosk can.")
	}
	return p.RoomID, nil
}

// checkMinutes accepts the durations a door panel offers.
func checkMinutes(minutes int) (time.Duration, error) {
	for _, m := range doorMinutes {
		if minutes == m {
			return time.Duration(m) * time.Minute, nil
		}
	}
	return 0, perch.Invalid("minutes", "minutes must be 15, 30 or 60")
}

// Room returns the kiosk's room now: its state and the rest of its day.
func (d *Devices) Room(ctx context.Context, p *users.Principal) (*booking.ResourceNow, error) {
	room, err := doorRoom(p)
	if err != nil {
		return nil, err
	}
	return d.bookings.Now(ctx, p, booking.Room, room)
}

// BookNow books the kiosk's room from now for minutes (15, 30 or 60) —
// never past its next booking — for the device account, titled "Booked at
// the door", and checks it in. A room in use is a booking_conflict.
func (d *Devices) BookNow(ctx context.Context, p *users.Principal, minutes int) (*booking.CheckInResult, error) {
	room, err := doorRoom(p)
	if err != nil {
		return nil, err
	}
	dur, err := checkMinutes(minutes)
	if err != nil {
		return nil, err
	}
	return d.bookings.BookAtDoor(ctx, p, room, dur)
}

// CheckIn checks in the room's meeting whose check-in window is open
// (method kiosk); none is a conflict.
func (d *Devices) CheckIn(ctx context.Context, p *users.Principal) (*booking.CheckInResult, error) {
	room, err := doorRoom(p)
	if err != nil {
		return nil, err
	}
	return d.bookings.CheckInAtDoor(ctx, room)
}

// Extend extends the room's meeting under way by minutes (15, 30 or 60),
// never into the next booking (a booking_conflict naming it).
func (d *Devices) Extend(ctx context.Context, p *users.Principal, minutes int) (*booking.View, error) {
	room, err := doorRoom(p)
	if err != nil {
		return nil, err
	}
	dur, err := checkMinutes(minutes)
	if err != nil {
		return nil, err
	}
	return d.bookings.ExtendAtDoor(ctx, room, dur)
}

// EndEarly ends the room's meeting under way now, so the room turns free.
func (d *Devices) EndEarly(ctx context.Context, p *users.Principal) (*booking.View, error) {
	room, err := doorRoom(p)
	if err != nil {
		return nil, err
	}
	return d.bookings.EndAtDoor(ctx, room)
}

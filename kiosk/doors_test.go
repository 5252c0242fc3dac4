package kiosk_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/users"
)

// doorEmil is a demo employee.
var doorEmil = &users.Principal{UserID: demo.ID("user", demo.EmployeeEmail), Role: users.RoleEmployee}

// bookRoom books a room for Emil.
func (f *devFixture) bookRoom(name string, start, end time.Time) booking.View {
	f.t.Helper()
	res, err := f.bookings.Create(context.Background(), doorEmil,
		booking.CreateRequest{ResourceType: booking.Room, ResourceID: devRoom(name), Start: start, End: end, Title: "Meeting"}, nil)
	if err != nil {
		f.t.Fatalf("book %s: %v", name, err)
	}
	return res.Bookings[0]
}

// eventKinds lists the outbox's kinds for a booking, in order.
func (f *devFixture) eventKinds(bookingID string) string {
	f.t.Helper()
	var kinds []string
	if err := f.db.Conn(context.Background()).Model(&booking.Event{}).Where("booking_id = ?", bookingID).Order("seq").Pluck("kind", &kinds).Error; err != nil {
		f.t.Fatal(err)
	}
	return strings.Join(kinds, ",")
}

// Only a paired room kiosk acts at a door, and only on its own room.
func TestDoorScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		lobby, _, _ := f.pair(kiosk.KindLobby, demo.SiteID)
		spree, _, _ := f.pair(kiosk.KindRoom, devRoom("Spree"))
		demoKiosk := &users.Principal{UserID: demo.ID("user", demo.KioskEmail), Role: users.RoleKiosk} // an account, no device
		forged := &users.Principal{UserID: doorEmil.UserID, Role: users.RoleEmployee, KioskID: spree.KioskID, RoomID: devRoom("Spree")}
		for _, p := range []*users.Principal{lobby, demoKiosk, forged, doorEmil, nil} {
			if _, err := f.devices.Room(ctx, p); errCode(err) != perch.EFORBIDDEN {
				t.Fatalf("%+v reads the door: %v", p, err)
			}
			if _, err := f.devices.BookNow(ctx, p, 15); errCode(err) != perch.EFORBIDDEN {
				t.Fatalf("%+v books at the door: %v", p, err)
			}
			if _, err := f.devices.CheckIn(ctx, p); errCode(err) != perch.EFORBIDDEN {
				t.Fatalf("%+v checks in at the door: %v", p, err)
			}
			if _, err := f.devices.Extend(ctx, p, 15); errCode(err) != perch.EFORBIDDEN {
				t.Fatalf("%+v extends at the door: %v", p, err)
			}
			if _, err := f.devices.EndEarly(ctx, p); errCode(err) != perch.EFORBIDDEN {
				t.Fatalf("%+v ends at the door: %v", p, err)
			}
		}
		for _, m := range []int{0, 1, 14, 20, 45, 90, -15} {
			if _, err := f.devices.BookNow(ctx, spree, m); errCode(err) != perch.EINVALID {
				t.Fatalf("book now %d minutes: %v", m, err)
			}
			if _, err := f.devices.Extend(ctx, spree, m); errCode(err) != perch.EINVALID {
				t.Fatalf("extend %d minutes: %v", m, err)
			}
		}
		// A door booking lands in the kiosk's room, owned by its device account.
		res, err := f.devices.BookNow(ctx, spree, 15)
		if err != nil || res.Booking.ResourceID != devRoom("Spree") || res.Booking.UserID != spree.UserID ||
			*res.Booking.CreatedBy != spree.UserID || res.Booking.Title != booking.TitleBookedAtDoor {
			t.Fatalf("book now: %+v %v", res, err)
		}
		if k := f.eventKinds(res.Booking.ID); k != "booking.created,booking.checked_in" {
			t.Fatalf("events %s", k)
		}
		now, err := f.devices.Room(ctx, spree)
		if err != nil || now.ID != devRoom("Spree") || now.State != booking.StateCheckedIn || len(now.Today) != 1 || !now.Today[0].Mine {
			t.Fatalf("room now: %+v %v", now, err)
		}
	})
}

// Two doors of one room, pressed at once: one booking, the rest conflicts.
func TestDoorBookNowRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		east, _, _ := f.pair(kiosk.KindRoom, devRoom("Wannsee"))
		west, _, _ := f.pair(kiosk.KindRoom, devRoom("Wannsee"))
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := east
				if i%2 == 1 {
					p = west
				}
				_, errs[i] = f.devices.BookNow(ctx, p, 30)
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch errCode(err) {
			case "":
				won++
			case perch.EBOOKINGCONFLICT, perch.ECONFLICT:
			default:
				t.Fatalf("unexpected: %v", err)
			}
		}
		var active int64
		db.Conn(ctx).Table("bookings").Where("resource_id = ? AND status IN ('confirmed', 'checked_in')", devRoom("Wannsee")).Count(&active)
		if won != 1 || active != 1 {
			t.Fatalf("%d door bookings won, %d active, want 1", won, active)
		}
	})
}

// Book now stops at the next booking; too close to it is a conflict naming
// it; the site's policy applies.
func TestDoorBookNowLimits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		door, _, _ := f.pair(kiosk.KindRoom, devRoom("Kreuzberg"))
		f.bookRoom("Kreuzberg", devAt(23, 9, 10), devAt(23, 9, 40))
		_, err := f.devices.BookNow(ctx, door, 30)
		if errCode(err) != perch.EBOOKINGCONFLICT || !strings.Contains(perch.ErrorMessage(err), "09:10") {
			t.Fatalf("10 minutes before the next booking: %v", err)
		}
		f.setNow(devAt(23, 9, 40))
		res, err := f.devices.BookNow(ctx, door, 60)
		if err != nil || !res.Booking.EndAt.Equal(devAt(23, 10, 40)) || !res.Booking.StartAt.Equal(devAt(23, 9, 40)) {
			t.Fatalf("book now after the meeting: %+v %v", res, err)
		}
		// Out of service: the policy refuses.
		f.setNow(devAt(23, 11, 0))
		if _, err := f.fp.UpdateRoom(ctx, devRoom("Kreuzberg"), func(r *floorplans.Room) error { r.Bookable = false; return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.BookNow(ctx, door, 15); errCode(err) != "policy_not_bookable" {
			t.Fatalf("out of service: %v", err)
		}
	})
}

// Check-in at the door takes the meeting whose window is open, even while
// the one before it is still checked in.
func TestDoorCheckInPicksTheArrivingMeeting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		door, _, _ := f.pair(kiosk.KindRoom, devRoom("Mitte"))
		first := f.bookRoom("Mitte", devAt(23, 9, 0), devAt(23, 10, 0))
		second := f.bookRoom("Mitte", devAt(23, 10, 0), devAt(23, 11, 0))
		res, err := f.devices.CheckIn(ctx, door)
		if err != nil || res.Booking.ID != first.ID || res.CheckIn.Method != booking.MethodKiosk || res.CheckIn.UserID != doorEmil.UserID {
			t.Fatalf("first check-in: %+v %v", res, err)
		}
		f.setNow(devAt(23, 9, 50))
		res, err = f.devices.CheckIn(ctx, door)
		if err != nil || res.Booking.ID != second.ID || res.Already {
			t.Fatalf("the next meeting's check-in: %+v %v", res, err)
		}
		if k := f.eventKinds(second.ID); k != "booking.created,booking.checked_in" {
			t.Fatalf("events %s", k)
		}
		// Past the grace of an unchecked meeting: nothing to check in.
		f.setNow(devAt(23, 11, 0))
		third := f.bookRoom("Mitte", devAt(23, 11, 0), devAt(23, 12, 0))
		f.setNow(devAt(23, 11, 16))
		if _, err := f.devices.CheckIn(ctx, door); errCode(err) != perch.ECONFLICT || !strings.Contains(perch.ErrorMessage(err), "Mitte") {
			t.Fatalf("after the grace: %v", err)
		}
		if k := f.eventKinds(third.ID); k != "booking.created" {
			t.Fatalf("events %s", k)
		}
	})
}

// Extend: a new version and a booking.updated event with the previous
// interval; never into the next booking; the policy's maximum holds.
func TestDoorExtend(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newDevFixture(t, db)
		ctx := context.Background()
		door, _, _ := f.pair(kiosk.KindRoom, devRoom("Neukölln"))
		m := f.bookRoom("Neukölln", devAt(23, 9, 0), devAt(23, 9, 30))
		f.bookRoom("Neukölln", devAt(23, 10, 0), devAt(23, 11, 0))
		v, err := f.devices.Extend(ctx, door, 15)
		if err != nil || v.ID != m.ID || !v.EndAt.Equal(devAt(23, 9, 45)) || v.Version != 2 || v.UserID != doorEmil.UserID {
			t.Fatalf("extend: %+v %v", v, err)
		}
		_, err = f.devices.Extend(ctx, door, 30)
		if errCode(err) != perch.EBOOKINGCONFLICT || !strings.Contains(perch.ErrorMessage(err), "until 10:00 at most") {
			t.Fatalf("into the next booking: %v", err)
		}
		if k := f.eventKinds(m.ID); k != "booking.created,booking.updated" {
			t.Fatalf("events %s", k)
		}
		p := booking.DefaultPolicy()
		p.MaxDurationMinutes = 50
		if _, err := f.bookings.PutPolicy(ctx, demo.SiteID, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.devices.Extend(ctx, door, 15); errCode(err) != "policy_max_duration" {
			t.Fatalf("past the maximum duration: %v", err)
		}
	})
}

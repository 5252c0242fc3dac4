package booking_test

import (
	"context"
	"fmt"
	"path/filepath"
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
	"github.com/perch-hq/perch/migrations"
)

func (f *fixture) qr(code string) string {
	f.t.Helper()
	d, err := floorplans.NewService(f.db).GetDesk(context.Background(), desk(code))
	if err != nil {
		f.t.Fatal(err)
	}
	return d.QRCode
}

// The check-in window opens 15 minutes before the start and closes 15
// minutes after it (the defaults), to the second.
func TestCheckInWindowEdges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		b := f.mustBook(emil, deskReq("1A-01", at(2026, 3, 23, 10, 0), at(2026, 3, 23, 11, 0)))

		f.setNow(at(2026, 3, 23, 9, 44).Add(59 * time.Second))
		_, err := f.svc.CheckInByCode(ctx, emil, f.qr("1A-01"))
		if code(err) != "policy_checkin_window" || !strings.Contains(perch.ErrorMessage(err), "opens at 09:45") {
			t.Fatalf("a second early: %v", err)
		}
		f.setNow(at(2026, 3, 23, 9, 45))
		res, err := f.svc.CheckInByCode(ctx, emil, f.qr("1A-01"))
		if err != nil || res.Booking.ID != b.ID || res.Booking.Status != booking.StatusCheckedIn || res.CheckIn.Method != booking.MethodQR || res.WalkUp {
			t.Fatalf("on the second: %+v %v", res, err)
		}
		// Scanning again changes nothing.
		again, err := f.svc.CheckInByCode(ctx, emil, f.qr("1A-01"))
		if err != nil || !again.Already || again.CheckIn.ID != res.CheckIn.ID {
			t.Fatalf("second scan: %+v %v", again, err)
		}

		// The grace closes at start + 15 min: 10:14:59 is in, 10:15:00 is out.
		b2 := f.mustBook(ada, deskReq("1A-02", at(2026, 3, 23, 10, 0), at(2026, 3, 23, 11, 0)))
		b3 := f.mustBook(hanna, deskReq("1A-03", at(2026, 3, 23, 10, 0), at(2026, 3, 23, 11, 0)))
		f.setNow(at(2026, 3, 23, 10, 14).Add(59 * time.Second))
		if _, err := f.svc.CheckInBooking(ctx, ada, b2.ID, booking.MethodWeb); err != nil {
			t.Fatalf("last second of the grace: %v", err)
		}
		f.setNow(at(2026, 3, 23, 10, 15))
		_, err = f.svc.CheckInBooking(ctx, hanna, b3.ID, booking.MethodWeb)
		if code(err) != "policy_checkin_window" || !strings.Contains(perch.ErrorMessage(err), "closed at") {
			t.Fatalf("grace over: %v", err)
		}
		// Scanning the code after the grace releases the no-show and, the
		// desk being free, books it again as a walk-up.
		res, err = f.svc.CheckInByCode(ctx, hanna, f.qr("1A-03"))
		if err != nil || !res.WalkUp || res.Booking.ID == b3.ID {
			t.Fatalf("late scan: %+v %v", res, err)
		}
		old, _ := f.svc.Get(ctx, frieda, b3.ID)
		if old.Status != booking.StatusReleased || old.StatusReason != booking.ReasonNoShow {
			t.Fatalf("late booking: %s %s", old.Status, old.StatusReason)
		}
	})
}

// Scanning a free desk without a booking books it to the end of the day
// (a room: to its next booking) and checks in, in one transaction.
func TestWalkUps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.setNow(at(2026, 3, 23, 9, 30).Add(12 * time.Second))
		res, err := f.svc.CheckInByCode(ctx, emil, f.qr("1B-01"))
		if err != nil || !res.WalkUp || !res.CheckIn.WalkUp || !res.Booking.StartAt.Equal(at(2026, 3, 23, 9, 30).Add(12*time.Second)) ||
			!res.Booking.EndAt.Equal(at(2026, 3, 23, 20, 0)) {
			t.Fatalf("desk walk-up: %+v %v", res, err)
		}
		// A room walk-up ends where the next meeting starts.
		f.mustBook(ada, booking.CreateRequest{ResourceType: booking.Room, ResourceID: demo.ID("room", "Havel"), Start: at(2026, 3, 23, 11, 0), End: at(2026, 3, 23, 12, 0)})
		room, _ := floorplans.NewService(db).GetRoom(ctx, demo.ID("room", "Havel"))
		res, err = f.svc.CheckInByCode(ctx, hanna, room.QRCode)
		if err != nil || !res.Booking.EndAt.Equal(at(2026, 3, 23, 11, 0)) {
			t.Fatalf("room walk-up: %+v %v", res, err)
		}
		// Someone else's booking: a sentence, not the owner's name.
		_, err = f.svc.CheckInByCode(ctx, ada, f.qr("1B-01"))
		if code(err) != perch.EBOOKINGCONFLICT || !strings.Contains(perch.ErrorMessage(err), "booked by someone else until 20:00") {
			t.Fatalf("someone else's desk: %v", err)
		}
		// Out of service, and walk-ups switched off.
		if _, err := f.svc.CheckInByCode(ctx, ada, f.qr("1F-10")); code(err) != "policy_not_bookable" {
			t.Fatalf("broken desk: %v", err)
		}
		f.setPolicy(func(p *booking.Policy) { p.WalkUps = false })
		if _, err := f.svc.CheckInByCode(ctx, ada, f.qr("1C-01")); code(err) != "policy_walk_ups" {
			t.Fatalf("walk-ups off: %v", err)
		}
	})
}

// Two people scan the same free desk at once: one gets it.
func TestWalkUpRace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		people := makePeople(t, db, 10)
		code := f.qr("1D-01")
		errs := make([]error, len(people))
		var wg sync.WaitGroup
		for i, p := range people {
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = f.svc.CheckInByCode(context.Background(), p, code) }()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch perch.ErrorCode(err) {
			case "":
				won++
			case perch.EBOOKINGCONFLICT, perch.ECONFLICT:
			default:
				t.Errorf("loser: %v", err)
			}
		}
		var checkIns int64
		db.Conn(context.Background()).Table("check_ins").Count(&checkIns)
		if won != 1 || checkIns != 1 {
			t.Fatalf("%d winners, %d check-ins; want 1 and 1", won, checkIns)
		}
	})
}

// A rotated code stops working at once; the new one works.
func TestRotatedCodeIsRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		old := f.qr("1E-01")
		d, err := floorplans.NewService(db).RotateDeskQR(context.Background(), desk("1E-01"))
		if err != nil || d.QRCode == old || !floorplans.ValidQRCode(d.QRCode) {
			t.Fatalf("rotate: %v", err)
		}
		_, err = f.svc.CheckInByCode(context.Background(), emil, old)
		if code(err) != perch.ENOTFOUND || !strings.Contains(perch.ErrorMessage(err), "not valid any more") {
			t.Fatalf("old code: %v", err)
		}
		if _, err := f.svc.CheckInByCode(context.Background(), emil, d.QRCode); err != nil {
			t.Fatalf("new code: %v", err)
		}
	})
}

// openTwice returns two independent handles on one fresh, migrated database.
func openTwice(t *testing.T, d database.Dialect) (*database.DB, *database.DB) {
	t.Helper()
	ctx := context.Background()
	url := dbtest.URL
	if d == database.SQLite {
		path := "sqlite:" + filepath.Join(t.TempDir(), "perch.db")
		url = func(testing.TB) string { return path }
	}
	u := url(t)
	var out [2]*database.DB
	for i := range out {
		db, err := database.Open(ctx, database.Options{URL: u})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i] = db
	}
	if d == database.SQLite {
		if _, err := migrations.Up(ctx, out[0].SQL(), "sqlite", nil); err != nil {
			t.Fatal(err)
		}
	}
	return out[0], out[1]
}

// Two workers (as on two replicas) release each no-show exactly once and
// check each ended booking out exactly once.
func TestTwoWorkersReleaseEachNoShowOnce(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			db1, db2 := openTwice(t, d)
			f := newFixture(t, db1)
			people := makePeople(t, db1, 40)
			for i, p := range people {
				f.mustBook(p, deskReq(deskCode(i), at(2026, 3, 23, 10, 0), at(2026, 3, 23, 11, 0)))
			}
			// Ten of them check in.
			f.setNow(at(2026, 3, 23, 10, 5))
			for i := range 10 {
				if _, err := f.svc.CheckInByCode(context.Background(), people[i], f.qr(deskCode(i))); err != nil {
					t.Fatal(err)
				}
			}
			clock := func() time.Time { return at(2026, 3, 23, 10, 15).UTC() }
			w1 := booking.NewService(db1, floorplans.NewService(db1), booking.WithClock(clock))
			w2 := booking.NewService(db2, floorplans.NewService(db2), booking.WithClock(clock))
			var wg sync.WaitGroup
			counts := make([]int, 8)
			for i := range counts {
				w := w1
				if i%2 == 1 {
					w = w2
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					n, err := w.ReleaseNoShows(context.Background())
					if err != nil {
						t.Error(err)
					}
					counts[i] = n
				}()
			}
			wg.Wait()
			total := 0
			for _, n := range counts {
				total += n
			}
			var events int64
			db1.Conn(context.Background()).Table("outbox").Where("kind = ?", booking.EventReleased).Count(&events)
			if total != 30 || events != 30 {
				t.Fatalf("released %d (events %d), want 30 each", total, events)
			}
			// After the end, the checked-in ten are checked out, once.
			end := func() time.Time { return at(2026, 3, 23, 11, 0).UTC() }
			w1 = booking.NewService(db1, floorplans.NewService(db1), booking.WithClock(end))
			w2 = booking.NewService(db2, floorplans.NewService(db2), booking.WithClock(end))
			var n1, n2 int
			wg.Add(2)
			go func() { defer wg.Done(); n1, _ = w1.AutoCheckOut(context.Background()) }()
			go func() { defer wg.Done(); n2, _ = w2.AutoCheckOut(context.Background()) }()
			wg.Wait()
			var open int64
			db1.Conn(context.Background()).Table("check_ins").Where("checked_out_at IS NULL").Count(&open)
			var auto int64
			db1.Conn(context.Background()).Table("check_ins").Where("checkout_method = 'auto' AND checked_out_at = ?", at(2026, 3, 23, 11, 0)).Count(&auto)
			if n1+n2 != 10 || open != 0 || auto != 10 {
				t.Fatalf("checked out %d+%d, %d still open, %d closed at the end; want 10, 0, 10", n1, n2, open, auto)
			}
		})
	}
}

// deskCode is the i-th demo desk of the ground floor (rows A–F, 10 each).
func deskCode(i int) string { return fmt.Sprintf("1%c-%02d", 'A'+i/10, i%10+1) }

// Checking out early frees the rest of the booking for others.
func TestCheckOutFreesTheDesk(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		b := f.mustBook(emil, deskReq("1A-01", at(2026, 3, 23, 9, 30), at(2026, 3, 23, 17, 0)))
		f.setNow(at(2026, 3, 23, 9, 35))
		if _, err := f.svc.CheckInBooking(ctx, emil, b.ID, booking.MethodWeb); err != nil {
			t.Fatal(err)
		}
		f.setNow(at(2026, 3, 23, 12, 0))
		res, err := f.svc.CheckOutBooking(ctx, emil, b.ID, booking.MethodWeb)
		if err != nil || res.Booking.Status != booking.StatusCompleted || !res.Booking.EndAt.Equal(at(2026, 3, 23, 12, 0)) ||
			res.CheckIn.CheckedOutAt == nil || *res.CheckIn.CheckoutMethod != booking.MethodWeb {
			t.Fatalf("check-out: %+v %v", res, err)
		}
		f.mustBook(ada, deskReq("1A-01", at(2026, 3, 23, 13, 0), at(2026, 3, 23, 14, 0)))
		if _, err := f.svc.CheckOutBooking(ctx, emil, b.ID, booking.MethodWeb); code(err) != perch.ECONFLICT {
			t.Fatalf("second check-out: %v", err)
		}
	})
}

// A booking nobody checks into is released after the grace (the owner sees
// why), and its desk turns free on the floor's availability.
func TestNoShowFreesTheDeskOnTheMap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		b := f.mustBook(emil, deskReq("1A-07", at(2026, 3, 23, 10, 0), at(2026, 3, 23, 12, 0)))
		window := booking.Window{From: at(2026, 3, 23, 10, 30), To: at(2026, 3, 23, 11, 0)}
		state := func() booking.State {
			a, err := f.svc.FloorAvailability(ctx, ada, demo.ID("floor", "0"), window)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range a.Resources {
				if r.Name == "1A-07" {
					return r.State
				}
			}
			t.Fatal("1A-07 missing")
			return ""
		}
		if s := state(); s != booking.StateBooked {
			t.Fatalf("before: %s", s)
		}
		f.setNow(at(2026, 3, 23, 10, 14).Add(59 * time.Second)) // not yet
		if n, _ := f.svc.ReleaseNoShows(ctx); n != 0 {
			t.Fatalf("released %d inside the grace", n)
		}
		f.setNow(at(2026, 3, 23, 10, 15))
		if n, err := f.svc.ReleaseNoShows(ctx); n != 1 || err != nil {
			t.Fatalf("released %d, %v", n, err)
		}
		if s := state(); s != booking.StateFree {
			t.Fatalf("after the grace: %s", s)
		}
		v, _ := f.svc.Get(ctx, emil, b.ID)
		if v.Status != booking.StatusReleased || v.StatusReason != booking.ReasonNoShow {
			t.Fatalf("the owner sees %s (%s)", v.Status, v.StatusReason)
		}
	})
}

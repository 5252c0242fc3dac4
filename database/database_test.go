package database_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"gorm.io/gorm"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestMigrationsApplyAndAreIdempotent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var n int64
		if err := db.Conn(context.Background()).Table("sites").Count(&n).Error; err != nil {
			t.Fatalf("sites table missing: %v", err)
		}
	})
}

// insertBooking writes a minimal active booking of resource r.
func seedBookingParents(t *testing.T, db *database.DB) (siteID, floorID, userID string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	siteID, floorID, userID = database.NewID(), database.NewID(), database.NewID()
	g := db.Conn(ctx)
	dbtest.Must(t, g.Exec("INSERT INTO sites (id, name, timezone, created_at, updated_at) VALUES (?, 'S', 'UTC', ?, ?)", siteID, now, now).Error)
	dbtest.Must(t, g.Exec("INSERT INTO floors (id, site_id, name, width, height, created_at, updated_at) VALUES (?, ?, 'F', 10, 10, ?, ?)", floorID, siteID, now, now).Error)
	dbtest.Must(t, g.Exec("INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES (?, 'a@example.com', 'A', 'employee', ?, ?)", userID, now, now).Error)
	return
}

func insertBooking(g *gorm.DB, siteID, floorID, userID, resourceID string, start, end time.Time, status string) error {
	now := time.Now().UTC()
	return g.Exec(`INSERT INTO bookings (id, site_id, floor_id, resource_type, resource_id, user_id, start_at, end_at, status, created_at, updated_at)
		VALUES (?, ?, ?, 'desk', ?, ?, ?, ?, ?, ?, ?)`,
		database.NewID(), siteID, floorID, resourceID, userID, start.UTC(), end.UTC(), status, now, now).Error
}

// The schema itself refuses overlapping active bookings of one resource,
// whatever the application code does; half-open intervals may touch.
func TestSchemaRefusesOverlappingBookings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		site, floor, user := seedBookingParents(t, db)
		desk := database.NewID()
		base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		g := db.Conn(ctx)
		dbtest.Must(t, insertBooking(g, site, floor, user, desk, base, base.Add(time.Hour), "confirmed"))
		// Back to back: [11,12) touches [10,11) and is fine.
		dbtest.Must(t, insertBooking(g, site, floor, user, desk, base.Add(time.Hour), base.Add(2*time.Hour), "confirmed"))
		// Overlap refused, with the stable code.
		err := database.Translate(insertBooking(g, site, floor, user, desk, base.Add(30*time.Minute), base.Add(90*time.Minute), "confirmed"))
		if perch.ErrorCode(err) != perch.EBOOKINGCONFLICT {
			t.Fatalf("overlap: got %v, want booking_conflict", err)
		}
		// A cancelled booking does not block.
		dbtest.Must(t, insertBooking(g, site, floor, user, desk, base.Add(30*time.Minute), base.Add(90*time.Minute), "cancelled"))
		// Another desk is independent.
		dbtest.Must(t, insertBooking(g, site, floor, user, database.NewID(), base, base.Add(time.Hour), "confirmed"))
		// Sub-second precision compares correctly too.
		err = database.Translate(insertBooking(g, site, floor, user, desk, base.Add(2*time.Hour-time.Millisecond), base.Add(3*time.Hour), "confirmed"))
		if perch.ErrorCode(err) != perch.EBOOKINGCONFLICT {
			t.Fatalf("1 ms overlap: got %v, want booking_conflict", err)
		}
		// Re-activating a cancelled overlapping booking is refused too.
		err = database.Translate(g.Exec("UPDATE bookings SET status = 'confirmed' WHERE status = 'cancelled'").Error)
		if perch.ErrorCode(err) != perch.EBOOKINGCONFLICT {
			t.Fatalf("reactivate: got %v, want booking_conflict", err)
		}
		// A booking longer than one day (25 h, the autumn DST day) is refused.
		err = database.Translate(insertBooking(g, site, floor, user, database.NewID(), base, base.Add(25*time.Hour+time.Second), "confirmed"))
		if perch.ErrorCode(err) != perch.EINVALID {
			t.Fatalf("26 h booking: got %v, want validation_failed", err)
		}
		dbtest.Must(t, insertBooking(g, site, floor, user, database.NewID(), base, base.Add(25*time.Hour), "confirmed"))
		// An empty or inverted interval is refused.
		err = database.Translate(insertBooking(g, site, floor, user, database.NewID(), base, base, "confirmed"))
		if perch.ErrorCode(err) != perch.EINVALID {
			t.Fatalf("empty interval: got %v, want validation_failed", err)
		}
	})
}

// 100 transactions race to book one desk for overlapping slots: exactly one
// wins, every other gets a clean booking_conflict (never "database is locked").
func TestRacingTransactionsOneWinner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		site, floor, user := seedBookingParents(t, db)
		desk := database.NewID()
		base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		const n = 100
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := base.Add(time.Duration(i%7) * time.Minute)
				errs[i] = db.Tx(ctx, func(tx *gorm.DB) error {
					var clash int64
					if err := tx.Table("bookings").Where("resource_id = ? AND status IN ('confirmed','checked_in') AND start_at < ? AND end_at > ?",
						desk, start.Add(time.Hour), start).Count(&clash).Error; err != nil {
						return err
					}
					if clash > 0 {
						return perch.Errorf(perch.EBOOKINGCONFLICT, "taken")
					}
					return insertBooking(tx, site, floor, user, desk, start, start.Add(time.Hour), "confirmed")
				})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch perch.ErrorCode(err) {
			case "":
				won++
			case perch.EBOOKINGCONFLICT, perch.ECONFLICT:
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if won != 1 {
			t.Fatalf("%d winners, want exactly 1", won)
		}
	})
}

func TestTranslateKeepsPerchErrors(t *testing.T) {
	e := perch.Invalid("name", "name is required")
	if got := database.Translate(e); !errors.Is(got, e) {
		t.Fatalf("Translate changed a perch error: %v", got)
	}
	if got := perch.ErrorCode(database.Translate(gorm.ErrRecordNotFound)); got != perch.ENOTFOUND {
		t.Fatalf("record not found -> %q", got)
	}
}

func TestPageCursor(t *testing.T) {
	if _, err := database.NewPage(0, "not-a-cursor!"); perch.ErrorCode(err) != perch.EINVALID {
		t.Fatalf("bad cursor accepted: %v", err)
	}
	if _, err := database.NewPage(database.MaxLimit+1, ""); perch.ErrorCode(err) != perch.EINVALID {
		t.Fatalf("limit over max accepted: %v", err)
	}
	if _, err := database.NewPage(-1, ""); perch.ErrorCode(err) != perch.EINVALID {
		t.Fatalf("negative limit accepted: %v", err)
	}
}

// A time in any zone is stored in UTC: on SQLite the stored text must be the
// UTC form, or text comparison would misorder instants.
func TestTimesAreStoredInUTC(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		site, floor, user := seedBookingParents(t, db)
		berlin, _ := time.LoadLocation("Europe/Berlin")
		desk := database.NewID()
		start := time.Date(2026, 3, 24, 7, 0, 0, 0, berlin) // 06:00Z
		now := time.Now()
		dbtest.Must(t, db.Tx(ctx, func(tx *gorm.DB) error { // the times as they come, in Berlin
			return tx.Exec(`INSERT INTO bookings (id, site_id, floor_id, resource_type, resource_id, user_id, start_at, end_at, status, created_at, updated_at)
				VALUES (?, ?, ?, 'desk', ?, ?, ?, ?, 'confirmed', ?, ?)`, database.NewID(), site, floor, desk, user, start, start.Add(time.Hour), now, now).Error
		}))
		if db.Dialect() == database.SQLite {
			var raw string
			dbtest.Must(t, db.Conn(ctx).Raw("SELECT CAST(start_at AS TEXT) FROM bookings").Scan(&raw).Error)
			if raw != "2026-03-24 06:00:00+00:00" {
				t.Fatalf("stored %q, want the UTC text", raw)
			}
		}
		// 06:30Z overlaps 06:00Z–07:00Z, though 06:30 is "less" than 07:00+01:00 as text.
		err := database.Translate(insertBooking(db.Conn(ctx), site, floor, user, desk,
			time.Date(2026, 3, 24, 6, 30, 0, 0, time.UTC), time.Date(2026, 3, 24, 8, 0, 0, 0, time.UTC), "confirmed"))
		if perch.ErrorCode(err) != perch.EBOOKINGCONFLICT {
			t.Fatalf("overlap across zones: %v", err)
		}
		var n int64
		dbtest.Must(t, db.Conn(ctx).Table("bookings").Where("start_at < ?", time.Date(2026, 3, 24, 7, 30, 0, 0, berlin)).Count(&n).Error)
		if n != 1 {
			t.Fatalf("a query parameter in another zone found %d rows, want 1", n)
		}
	})
}

package booking_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// benchFloor builds a floor of 500 desks with ~40 one-hour bookings each
// spread over 20 days (20,000 bookings), as the bench harness does.
func benchFloor(b *testing.B, db *database.DB) (string, *booking.Service, *users.Principal) {
	b.Helper()
	ctx := context.Background()
	fp := floorplans.NewService(db)
	us := users.NewService(db)
	site := &floorplans.Site{Name: "Bench", Timezone: "Europe/Berlin"}
	if err := fp.CreateSite(ctx, site); err != nil {
		b.Fatal(err)
	}
	floor := &floorplans.Floor{SiteID: site.ID, Name: "F", Width: 10000, Height: 10000}
	if err := fp.CreateFloor(ctx, floor); err != nil {
		b.Fatal(err)
	}
	desks, _ := floorplans.DeskRow{Prefix: "B-", First: 1, Digits: 3, Count: 500, X: 10, Y: 10, StepX: 15, Bookable: true}.Desks()
	if err := fp.CreateDesks(ctx, floor.ID, desks); err != nil {
		b.Fatal(err)
	}
	u := &users.User{Email: "bench@example.com", Name: "Bench", Role: users.RoleEmployee}
	if err := us.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	day0 := time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	rows := make([]map[string]any, 0, 20000)
	for i, d := range desks {
		for k := range 40 {
			start := day0.Add(time.Duration(k/2)*24*time.Hour + time.Duration((i+k)%2*3)*time.Hour)
			rows = append(rows, map[string]any{"id": database.NewID(), "site_id": site.ID, "floor_id": floor.ID, "resource_type": "desk",
				"resource_id": d.ID, "user_id": u.ID, "start_at": start, "end_at": start.Add(time.Hour), "status": "confirmed",
				"version": 1, "created_at": now, "updated_at": now, "title": ""})
		}
	}
	if err := db.Conn(ctx).Table("bookings").CreateInBatches(rows, 500).Error; err != nil {
		b.Fatal(err)
	}
	return floor.ID, booking.NewService(db, fp), &users.Principal{UserID: u.ID, Role: users.RoleEmployee}
}

// BenchmarkFloorAvailability: one floor-map request (query and JSON) on a
// floor of 500 desks with 20,000 bookings. Target (issue 3): p95 ≤ 5 ms.
func BenchmarkFloorAvailability(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := dbtest.Open(b, d)
			floor, svc, viewer := benchFloor(b, db)
			w := booking.Window{From: time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 30, 10, 0, 0, 0, time.UTC)}
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				a, err := svc.FloorAvailability(ctx, viewer, floor, w)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(a); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

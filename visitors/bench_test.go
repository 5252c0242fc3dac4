package visitors_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/visitors"
)

// A lobby's day: 2,000 visits spread over 20 days, 100 of them today, 50
// of those checked in. BenchmarkKioskCheckIn invites and checks in one
// more visitor by QR code per iteration (two transactions);
// BenchmarkExpectedSearch is the kiosk's name search (20 of 50 expected
// match); BenchmarkOnSite lists the site with the 50 visitors on site.
func benchVisits(b *testing.B) (*visitors.Service, time.Time) {
	b.Helper()
	db := dbtest.OpenSQLite(b)
	day := time.Date(2026, 3, 23, 8, 0, 0, 0, berlin)
	svc, c := setupB(b, db, day.AddDate(0, 0, -20))
	ctx := context.Background()
	var today []string
	for d := -19; d <= 0; d++ {
		for i := 0; i < 100; i++ {
			at := day.AddDate(0, 0, d).Add(time.Duration(i) * 5 * time.Minute)
			v, err := svc.Invite(ctx, reception, visitors.InviteRequest{SiteID: siteID, HostID: emilID, ExpectedAt: at,
				Visitor: visitors.Visitor{Name: fmt.Sprintf("Visitor %04d Person", i), Email: fmt.Sprintf("v%d-%d@example.com", d, i), Company: "Acme"}})
			if err != nil {
				b.Fatal(err)
			}
			if d == 0 && i%2 == 0 {
				today = append(today, v.InviteCode)
			}
		}
	}
	c.Set(day)
	for _, code := range today {
		if _, err := svc.CheckInByCode(ctx, lobby, code, nil); err != nil {
			b.Fatal(err)
		}
	}
	return svc, day
}

func BenchmarkKioskCheckIn(b *testing.B) {
	svc, day := benchVisits(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v, err := svc.Invite(ctx, reception, visitors.InviteRequest{SiteID: siteID, HostID: emilID, ExpectedAt: day,
			Visitor: visitors.Visitor{Name: "Bench Visitor", Email: fmt.Sprintf("bench%d@example.com", i)}})
		if err != nil {
			b.Fatal(err)
		}
		if r, err := svc.CheckInByCode(ctx, lobby, v.InviteCode, nil); err != nil || r.Result != "checked_in" {
			b.Fatal(r, err)
		}
	}
}

func BenchmarkExpectedSearch(b *testing.B) {
	svc, _ := benchVisits(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := svc.Expected(ctx, lobby, "perso"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOnSite(b *testing.B) {
	svc, _ := benchVisits(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, err := svc.OnSite(ctx, siteID)
		if err != nil || o.Visitors != 50 {
			b.Fatal(o, err)
		}
	}
}

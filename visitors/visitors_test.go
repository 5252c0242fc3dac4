package visitors_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/visitors"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var berlin, _ = time.LoadLocation("Europe/Berlin")

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

var (
	reception = &users.Principal{UserID: demo.ID("user", demo.ReceptionEmail), Role: users.RoleReception, Name: "Rosa Richter"}
	lobby     = &users.Principal{UserID: demo.ID("user", demo.KioskEmail), Role: users.RoleKiosk, KioskID: "k1", SiteID: demo.SiteID}
	emilID    = demo.ID("user", demo.EmployeeEmail)
)

var siteID = demo.SiteID

func setup(t *testing.T, db *database.DB, now time.Time) (*visitors.Service, *clock) {
	return setupB(t, db, now)
}

func setupB(t testing.TB, db *database.DB, now time.Time) (*visitors.Service, *clock) {
	t.Helper()
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: now}
	return visitors.NewService(db, visitors.WithClock(c.Now)), c
}

// arrive invites a visitor for at and checks them in at the lobby kiosk.
func arrive(t *testing.T, svc *visitors.Service, at time.Time, name, email string) *visitors.View {
	t.Helper()
	ctx := context.Background()
	v, err := svc.Invite(ctx, reception, visitors.InviteRequest{SiteID: demo.SiteID, HostID: emilID, ExpectedAt: at,
		Visitor: visitors.Visitor{Name: name, Email: email}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := svc.CheckInByCode(ctx, lobby, v.InviteCode, nil)
	if err != nil || r.Result != "checked_in" {
		t.Fatalf("check-in: %v %v", r, err)
	}
	return v
}

func events(t *testing.T, db *database.DB, kind string) []booking.Event {
	t.Helper()
	var evs []booking.Event
	if err := db.Conn(context.Background()).Where("kind = ?", kind).Order("seq").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestShortNameAndCodes(t *testing.T) {
	for in, want := range map[string]string{"Grace Hopper": "Grace H.", "Cher": "Cher", "  Jean  Luc Picard ": "Jean P.", "Željko Öztürk": "Željko Ö.", "": ""} {
		if got := visitors.ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"ABCdef": "abcdef", "https://perch.example/v/ABC?x=1": "abc", " abc ": "abc", "/v/": ""} {
		if got := visitors.NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// The end of the day is the site's local midnight, also on the night the
// clocks go forward (Berlin, 2026-03-29: local midnight is 23:00 UTC).
func TestAutoCheckOutAtLocalMidnightAcrossDST(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc, c := setup(t, db, time.Date(2026, 3, 28, 20, 0, 0, 0, berlin))
		v := arrive(t, svc, time.Date(2026, 3, 28, 20, 0, 0, 0, berlin), "Night Owl", "owl@example.com")
		c.Set(time.Date(2026, 3, 28, 23, 59, 0, 0, berlin))
		if n, err := svc.AutoCheckOut(ctx); err != nil || n != 0 {
			t.Fatalf("before local midnight: %d %v", n, err)
		}
		c.Set(time.Date(2026, 3, 29, 0, 0, 30, 0, berlin)) // 23:00:30 UTC, still the 28th in UTC
		if n, err := svc.AutoCheckOut(ctx); err != nil || n != 1 {
			t.Fatalf("after local midnight: %d %v", n, err)
		}
		got, err := svc.Get(ctx, reception, v.ID, false)
		if err != nil || got.Status != visitors.StatusCheckedOut || *got.CheckoutMethod != visitors.CheckoutAuto {
			t.Fatalf("after the worker: %+v %v", got, err)
		}
	})
}

// Several workers at once (replicas): each visitor is checked out once,
// with one event.
func TestConcurrentWorkersCheckOutOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		day := time.Date(2026, 3, 23, 9, 0, 0, 0, berlin)
		svc, c := setup(t, db, day)
		for i := 0; i < 5; i++ {
			arrive(t, svc, day.Add(time.Duration(i)*time.Minute), "Visitor "+string(rune('A'+i))+" X", string(rune('a'+i))+"@example.com")
		}
		c.Set(day.Add(24 * time.Hour))
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := svc.AutoCheckOut(ctx)
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if evs := events(t, db, visitors.EventCheckedOut); len(evs) != 5 || total != 5 {
			t.Fatalf("%d visitor.checked_out events, %d checked out; want 5 and 5", len(evs), total)
		}
	})
}

// Retention counts from check-out; visitors still on site keep their data;
// each site has its own period.
func TestRetentionPerSite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		day := time.Date(2026, 3, 23, 9, 0, 0, 0, berlin)
		svc, c := setup(t, db, day)
		if _, err := svc.PutSettings(ctx, visitors.Settings{SiteID: demo.SiteID, RetentionDays: 7}); err != nil {
			t.Fatal(err)
		}
		gone := arrive(t, svc, day, "Short Stay", "short@example.com")
		if _, err := svc.CheckOut(ctx, reception, gone.ID); err != nil {
			t.Fatal(err)
		}
		stays := arrive(t, svc, day.Add(time.Minute), "Long Stay", "long@example.com") // never checked out, worker not run
		c.Set(day.AddDate(0, 0, 8))
		if n, err := svc.AnonymiseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("anonymised %d, %v; want 1", n, err)
		}
		g, _ := svc.Get(ctx, reception, gone.ID, false)
		s, _ := svc.Get(ctx, reception, stays.ID, false)
		if !g.Anonymised || g.Visitor != (visitors.Visitor{}) || s.Anonymised || s.Visitor.Name != "Long Stay" {
			t.Fatalf("after retention: %+v / %+v", g, s)
		}
		// A second run changes nothing.
		if n, _ := svc.AnonymiseExpired(ctx); n != 0 {
			t.Fatalf("second run anonymised %d", n)
		}
	})
}

package booking_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/perch-hq/perch/users"
)

var berlin = mustLoc("Europe/Berlin")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// at is a wall-clock time in Berlin.
func at(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, berlin)
}

// fixture is a booking service on the demo office with a settable clock.
type fixture struct {
	t   *testing.T
	db  *database.DB
	svc *booking.Service
	now time.Time
	mu  sync.Mutex
}

func newFixture(t *testing.T, db *database.DB) *fixture {
	t.Helper()
	if _, err := demo.Load(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, db: db, now: at(2026, 3, 23, 9, 0)} // a Monday morning
	f.svc = booking.NewService(db, floorplans.NewService(db), booking.WithClock(func() time.Time {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.now.UTC()
	}))
	return f
}

func (f *fixture) setNow(t time.Time) { f.mu.Lock(); f.now = t; f.mu.Unlock() }

// person is the principal of a demo user.
func person(email string, role users.Role, team int) *users.Principal {
	tid := demo.ID("team", fmt.Sprint(team))
	return &users.Principal{UserID: demo.ID("user", email), Email: email, Role: role, TeamID: &tid}
}

var (
	emil   = person(demo.EmployeeEmail, users.RoleEmployee, 0)       // Engineering
	ada    = person("ada.arndt@example.com", users.RoleEmployee, 0)  // Engineering
	hanna  = person("hanna.hahn@example.com", users.RoleEmployee, 1) // Design
	frieda = person(demo.AdminEmail, users.RoleAdmin, 4)
	rosa   = person(demo.ReceptionEmail, users.RoleReception, 4)
)

func desk(code string) string { return demo.ID("desk", code) }

func deskReq(code string, start, end time.Time) booking.CreateRequest {
	return booking.CreateRequest{ResourceType: booking.Desk, ResourceID: desk(code), Start: start, End: end}
}

func (f *fixture) book(actor *users.Principal, req booking.CreateRequest) (*booking.CreateResult, error) {
	f.t.Helper()
	return f.svc.Create(context.Background(), actor, req, nil)
}

func (f *fixture) mustBook(actor *users.Principal, req booking.CreateRequest) booking.View {
	f.t.Helper()
	res, err := f.book(actor, req)
	if err != nil {
		f.t.Fatalf("book: %v", err)
	}
	return res.Bookings[0]
}

func (f *fixture) setPolicy(mut func(*booking.Policy)) {
	f.t.Helper()
	p := booking.DefaultPolicy()
	mut(&p)
	if _, err := f.svc.PutPolicy(context.Background(), demo.SiteID, p); err != nil {
		f.t.Fatalf("put policy: %v", err)
	}
}

func code(err error) string { return perch.ErrorCode(err) }

// Half-open intervals: back-to-back bookings both fit; an overlap by a
// minute does not, and the refusal names the conflicting interval.
func TestBackToBackAndOverlap(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.mustBook(emil, deskReq("1A-01", at(2026, 3, 24, 10, 0), at(2026, 3, 24, 11, 0)))
		f.mustBook(ada, deskReq("1A-01", at(2026, 3, 24, 11, 0), at(2026, 3, 24, 12, 0)))
		f.mustBook(hanna, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)))
		_, err := f.book(rosa, deskReq("1A-01", at(2026, 3, 24, 11, 59), at(2026, 3, 24, 13, 0)))
		var pe *perch.Error
		if !errors.As(err, &pe) || pe.Code != perch.EBOOKINGCONFLICT {
			t.Fatalf("overlap: %v", err)
		}
		if !strings.Contains(pe.Message, "11:00 to 12:00") || pe.Details["conflicting_start"] != at(2026, 3, 24, 11, 0).UTC() {
			t.Fatalf("conflict does not name the interval: %q %v", pe.Message, pe.Details)
		}
	})
}

// The race: 200 concurrent requests for one desk and overlapping slots give
// exactly one booking; 200 for 20 desks give exactly 20. Every loser gets a
// clean conflict, never another error.
func TestConcurrentBookingNeverDoubleBooks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		people := makePeople(t, db, 200)
		race := func(day int, deskOf func(i int) string) (won int) {
			var wg sync.WaitGroup
			errs := make([]error, len(people))
			for i, p := range people {
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := at(2026, 3, day, 9, 0).Add(time.Duration(i%30) * time.Minute)
					_, errs[i] = f.book(p, deskReq(deskOf(i), start, start.Add(time.Hour)))
				}()
			}
			wg.Wait()
			for _, err := range errs {
				switch code(err) {
				case "":
					won++
				case perch.EBOOKINGCONFLICT, perch.ECONFLICT:
				default:
					t.Errorf("loser got %v, want a conflict", err)
				}
			}
			return won
		}
		if won := race(25, func(int) string { return "1B-01" }); won != 1 {
			t.Fatalf("one desk: %d bookings, want exactly 1", won)
		}
		f.setNow(at(2026, 3, 23, 9, 0))
		codes := make([]string, 20)
		for i := range codes {
			codes[i] = fmt.Sprintf("1C-%02d", i%10+1)
			if i >= 10 {
				codes[i] = fmt.Sprintf("1D-%02d", i%10+1)
			}
		}
		if won := race(26, func(i int) string { return codes[i%20] }); won != 20 {
			t.Fatalf("20 desks: %d bookings, want exactly 20", won)
		}
		var active int64
		db.Conn(context.Background()).Table("bookings").Where("status = 'confirmed'").Count(&active)
		if active != 21 {
			t.Fatalf("%d active bookings in the database, want 21", active)
		}
	})
}

// makePeople creates n employees in the Engineering team.
func makePeople(t *testing.T, db *database.DB, n int) []*users.Principal {
	t.Helper()
	svc := users.NewService(db)
	team := demo.ID("team", "0")
	out := make([]*users.Principal, n)
	for i := range out {
		u := &users.User{Email: fmt.Sprintf("racer%03d@example.com", i), Name: fmt.Sprintf("Racer %d", i), Role: users.RoleEmployee, TeamID: &team}
		if err := svc.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		out[i] = &users.Principal{UserID: u.ID, Role: users.RoleEmployee, TeamID: &team}
	}
	return out
}

// Every policy rule refuses with its own code and a sentence; an admin's
// override books anyway.
func TestPolicyRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		// An out-of-service desk, a day-only desk, an assigned desk, a restricted zone.
		quiet := demo.ID("zone", "Quiet zone")
		f.setPolicy(func(p *booking.Policy) {
			p.ClosedDates = []string{"2026-04-03"}
			p.MinNoticeMinutes = 30
			p.MaxDurationMinutes = 240
			p.MaxUpcomingBookings = 3
			p.CancellationCutoffMinutes = 60
			p.RestrictedZones = map[string][]string{quiet: {demo.ID("team", "1")}} // Design only
		})
		cases := []struct {
			name  string
			actor *users.Principal
			req   booking.CreateRequest
			want  string
		}{
			{"not bookable", emil, deskReq("1F-10", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)), "policy_not_bookable"},
			{"day-only desk by the hour", emil, deskReq("2D-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)), "policy_day_only"},
			{"in the past", emil, deskReq("1A-01", at(2026, 3, 23, 7, 0), at(2026, 3, 23, 8, 0)), "policy_in_past"},
			{"min notice", emil, deskReq("1A-01", at(2026, 3, 23, 9, 10), at(2026, 3, 23, 10, 0)), "policy_min_notice"},
			{"weekend", emil, deskReq("1A-01", at(2026, 3, 28, 9, 0), at(2026, 3, 28, 10, 0)), "policy_closed_day"},
			{"holiday", emil, deskReq("1A-01", at(2026, 4, 3, 9, 0), at(2026, 4, 3, 10, 0)), "policy_closed_day"},
			{"before hours", emil, deskReq("1A-01", at(2026, 3, 24, 6, 30), at(2026, 3, 24, 8, 0)), "policy_bookable_hours"},
			{"after hours", emil, deskReq("1A-01", at(2026, 3, 24, 19, 0), at(2026, 3, 24, 20, 1)), "policy_bookable_hours"},
			{"two days", emil, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 25, 9, 0)), "policy_multi_day"},
			{"too far ahead", emil, deskReq("1A-01", at(2026, 4, 21, 9, 0), at(2026, 4, 21, 10, 0)), "policy_max_days_ahead"},
			{"too short", emil, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 9, 10)), "policy_min_duration"},
			{"too long", emil, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 14, 0)), "policy_max_duration"},
			{"restricted zone", emil, deskReq("2A-05", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)), "policy_zone_restricted"},
			{"assigned desk", hanna, deskReq("2A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)), "policy_assigned_desk"},
		}
		for _, c := range cases {
			_, err := f.book(c.actor, c.req)
			if code(err) != c.want {
				t.Errorf("%s: got %v, want %s", c.name, err, c.want)
				continue
			}
			if msg := perch.ErrorMessage(err); len(msg) < 15 || !strings.HasSuffix(msg, ".") {
				t.Errorf("%s: message %q is not a sentence", c.name, msg)
			}
			// An admin may override every rule but the overlap.
			if c.name != "not bookable" && c.name != "assigned desk" {
				continue
			}
			over := c.req
			over.Override, over.ForUserID = true, c.actor.UserID
			if _, err := f.book(frieda, over); err != nil {
				t.Errorf("%s with override: %v", c.name, err)
			}
		}
		// Only admins override.
		req := deskReq("1F-10", at(2026, 3, 25, 9, 0), at(2026, 3, 25, 10, 0))
		req.Override = true
		if _, err := f.book(emil, req); code(err) != perch.EFORBIDDEN {
			t.Errorf("employee override: %v", err)
		}
		// Design may use the restricted zone; the assigned owner books their own desk.
		f.mustBook(hanna, deskReq("2A-05", at(2026, 3, 25, 9, 0), at(2026, 3, 25, 10, 0)))
		f.mustBook(frieda, deskReq("2A-01", at(2026, 3, 25, 9, 0), at(2026, 3, 25, 10, 0)))
		// A release opens the assigned desk to others on that day only.
		if _, err := f.svc.ReleaseDesk(ctx, frieda, desk("2A-01"), booking.Date{Year: 2026, Month: 3, Day: 26}); err != nil {
			t.Fatal(err)
		}
		f.mustBook(hanna, deskReq("2A-01", at(2026, 3, 26, 9, 0), at(2026, 3, 26, 10, 0)))
		if _, err := f.book(hanna, deskReq("2A-01", at(2026, 3, 27, 9, 0), at(2026, 3, 27, 10, 0))); code(err) != "policy_assigned_desk" {
			t.Errorf("unreleased day: %v", err)
		}
		if _, err := f.svc.ReleaseDesk(ctx, emil, desk("2A-01"), booking.Date{Year: 2026, Month: 3, Day: 27}); code(err) != perch.EFORBIDDEN {
			t.Errorf("a colleague released someone's desk: %v", err)
		}
		if err := f.svc.UnreleaseDesk(ctx, frieda, desk("2A-01"), booking.Date{Year: 2026, Month: 3, Day: 26}); code(err) != perch.ECONFLICT {
			t.Errorf("unrelease a booked day: %v", err)
		}

		// One desk per person per day (default), counted in the site's day.
		f.mustBook(ada, deskReq("1A-02", at(2026, 3, 30, 8, 0), at(2026, 3, 30, 9, 0)))
		if _, err := f.book(ada, deskReq("1A-03", at(2026, 3, 30, 15, 0), at(2026, 3, 30, 16, 0))); code(err) != "policy_max_desk_bookings_per_day" {
			t.Errorf("second desk that day: %v", err)
		}
		// Rooms do not count against the desk limit.
		if _, err := f.book(ada, booking.CreateRequest{ResourceType: booking.Room, ResourceID: demo.ID("room", "Spree"),
			Start: at(2026, 3, 30, 15, 0), End: at(2026, 3, 30, 16, 0)}); err != nil {
			t.Errorf("room on a desk day: %v", err)
		}
		f.mustBook(ada, deskReq("1A-04", at(2026, 3, 27, 9, 0), at(2026, 3, 27, 10, 0)))
		// Upcoming limit (3): ada holds 3 now (27th, 30th desk, 30th room).
		if _, err := f.book(ada, deskReq("1A-03", at(2026, 3, 31, 9, 0), at(2026, 3, 31, 10, 0))); code(err) != "policy_max_upcoming_bookings" {
			t.Errorf("fourth upcoming booking: %v", err)
		}
		// Cancellation cut-off: an hour before start; admins may still cancel.
		b := f.mustBook(emil, deskReq("1E-01", at(2026, 3, 23, 9, 45), at(2026, 3, 23, 10, 45)))
		if _, err := f.svc.Cancel(ctx, emil, b.ID, ""); code(err) != "policy_cancellation_cutoff" {
			t.Errorf("cancel inside the cut-off: %v", err)
		}
		if _, err := f.svc.Cancel(ctx, frieda, b.ID, ""); err != nil {
			t.Errorf("admin cancel inside the cut-off: %v", err)
		}
	})
}

// Day and half-day bookings are computed in the site's zone, right across
// both DST changes of 2026 in Berlin (both are Sundays: open the weekend).
func TestDayBookingsAcrossDST(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.setPolicy(func(p *booking.Policy) {
			p.Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
			p.MaxDaysAhead = 365
		})
		day := func(code, date, part string) booking.CreateRequest {
			return booking.CreateRequest{ResourceType: booking.Desk, ResourceID: desk(code), Date: date, Part: part}
		}
		cases := []struct {
			code, date, part string
			start, end       string // UTC
		}{
			{"1A-01", "2026-03-28", "day", "2026-03-28T06:00:00Z", "2026-03-28T19:00:00Z"}, // CET
			{"1A-01", "2026-03-29", "day", "2026-03-29T05:00:00Z", "2026-03-29T18:00:00Z"}, // CEST from 02:00
			{"1A-02", "2026-03-29", "am", "2026-03-29T05:00:00Z", "2026-03-29T11:00:00Z"},
			{"1A-03", "2026-03-29", "pm", "2026-03-29T11:00:00Z", "2026-03-29T18:00:00Z"},
			{"1A-01", "2026-10-25", "day", "2026-10-25T06:00:00Z", "2026-10-25T19:00:00Z"}, // CET again from 03:00
			{"1A-01", "2026-10-24", "day", "2026-10-24T05:00:00Z", "2026-10-24T18:00:00Z"},
		}
		for i, c := range cases {
			p := people(t, db, i)
			b := f.mustBook(p, day(c.code, c.date, c.part))
			if got := b.StartAt.UTC().Format(time.RFC3339) + " " + b.EndAt.UTC().Format(time.RFC3339); got != c.start+" "+c.end {
				t.Errorf("%s %s %s: %s, want %s %s", c.code, c.date, c.part, got, c.start, c.end)
			}
		}
		// With bookable hours around the clock, the spring day has 23 hours
		// and the autumn day 25.
		f.setPolicy(func(p *booking.Policy) {
			p.Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
			p.MaxDaysAhead = 365
			p.BookableFrom, p.BookableUntil, p.HalfDaySplit = "00:00", "24:00", "12:00"
		})
		for date, hours := range map[string]float64{"2026-03-29": 23, "2026-10-25": 25, "2026-06-01": 24} {
			b := f.mustBook(people(t, db, 10), day("1C-01", date, "day"))
			if got := b.EndAt.Sub(b.StartAt).Hours(); got != hours {
				t.Errorf("%s: %v hours, want %v", date, got, hours)
			}
		}
	})
}

// people returns the i-th of a set of extra employees (created on demand).
func people(t *testing.T, db *database.DB, i int) *users.Principal {
	t.Helper()
	svc := users.NewService(db)
	email := fmt.Sprintf("dst%02d@example.com", i)
	if u, err := svc.GetUserByEmail(context.Background(), email); err == nil {
		return &users.Principal{UserID: u.ID, Role: u.Role}
	}
	u := &users.User{Email: email, Name: email, Role: users.RoleEmployee}
	if err := svc.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return &users.Principal{UserID: u.ID, Role: u.Role}
}

// A booking made today for "day" after the day began starts now.
func TestDayBookingTodayStartsNow(t *testing.T) {
	f := newFixture(t, dbtest.OpenSQLite(t))
	f.setNow(at(2026, 3, 24, 10, 17).Add(30 * time.Second))
	b := f.mustBook(emil, booking.CreateRequest{ResourceType: booking.Desk, ResourceID: desk("1A-01"), Date: "2026-03-24", Part: "day"})
	if !b.StartAt.Equal(at(2026, 3, 24, 10, 17)) || !b.EndAt.Equal(at(2026, 3, 24, 20, 0)) {
		t.Fatalf("got %v – %v", b.StartAt.In(berlin), b.EndAt.In(berlin))
	}
}

// A weekly series keeps its wall-clock time across the spring DST change; a
// daily series over a holiday is refused whole, or booked around it with
// skip_conflicts, which says what it skipped and why.
func TestRecurringBookings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		f.setNow(at(2026, 3, 20, 9, 0))
		req := deskReq("1A-05", at(2026, 3, 23, 9, 0), at(2026, 3, 23, 10, 0))
		req.Recurrence = "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
		res, err := f.book(emil, req)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range res.Bookings {
			got = append(got, b.StartAt.UTC().Format("01-02 15:04Z"))
			if b.SeriesID == nil || *b.SeriesID != res.Bookings[0].ID {
				t.Errorf("occurrence not in the series: %v", b.SeriesID)
			}
		}
		if strings.Join(got, ",") != "03-23 08:00Z,03-30 07:00Z,04-06 07:00Z" {
			t.Fatalf("weekly across DST: %v", got)
		}

		f.setPolicy(func(p *booking.Policy) { p.ClosedDates = []string{"2026-04-03"} })
		daily := deskReq("1B-05", at(2026, 3, 31, 9, 0), at(2026, 3, 31, 17, 0))
		daily.Recurrence = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=5" // Tue 31 … Mon 6, Friday 3 is a holiday
		_, err = f.book(ada, daily)
		if code(err) != "policy_closed_day" || !strings.Contains(perch.ErrorMessage(err), "Occurrence 4 of 5") {
			t.Fatalf("all-or-nothing series over a holiday: %v", err)
		}
		var n int64
		db.Conn(context.Background()).Table("bookings").Where("user_id = ?", ada.UserID).Count(&n)
		if n != 0 {
			t.Fatalf("a refused series wrote %d bookings", n)
		}
		// Someone holds the desk on Thursday 2 April too.
		f.mustBook(hanna, deskReq("1B-05", at(2026, 4, 2, 12, 0), at(2026, 4, 2, 13, 0)))
		daily.SkipConflicts = true
		res, err = f.book(ada, daily)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Bookings) != 3 || len(res.Skipped) != 2 || res.Skipped[0].Code != perch.EBOOKINGCONFLICT || res.Skipped[1].Code != "policy_closed_day" {
			t.Fatalf("skip_conflicts: %d booked, skipped %+v", len(res.Bookings), res.Skipped)
		}

		// Cancel one occurrence, then the rest of the series.
		ctx := context.Background()
		series := res.Bookings
		if _, err := f.svc.Cancel(ctx, ada, series[0].ID, booking.ScopeThis); err != nil {
			t.Fatal(err)
		}
		cancelled, err := f.svc.Cancel(ctx, ada, series[1].ID, booking.ScopeFollowing)
		if err != nil || len(cancelled) != 2 {
			t.Fatalf("cancel following: %d, %v", len(cancelled), err)
		}
		var statuses []string
		db.Conn(ctx).Table("bookings").Where("user_id = ?", ada.UserID).Order("start_at").Pluck("status", &statuses)
		if strings.Join(statuses, ",") != "cancelled,cancelled,cancelled" {
			t.Fatalf("rows after cancel: %v", statuses)
		}
		// Unbounded and unsupported rules are refused.
		for _, rule := range []string{"FREQ=DAILY", "FREQ=MONTHLY;COUNT=2", "FREQ=DAILY;COUNT=400"} {
			r := deskReq("1C-05", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0))
			r.Recurrence = rule
			if _, err := f.book(emil, r); code(err) != perch.EINVALID {
				t.Errorf("%s: %v", rule, err)
			}
		}
	})
}

// Every booking change writes an outbox event in the same transaction; a
// refused change writes none.
func TestOutboxEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		b := f.mustBook(emil, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)))
		_, _ = f.book(ada, deskReq("1A-01", at(2026, 3, 24, 9, 30), at(2026, 3, 24, 10, 30))) // refused
		start := at(2026, 3, 24, 14, 0)
		end := start.Add(time.Hour)
		if _, err := f.svc.Update(ctx, emil, b.ID, 1, booking.Change{Start: &start, End: &end}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Cancel(ctx, emil, b.ID, ""); err != nil {
			t.Fatal(err)
		}
		var events []booking.Event
		db.Conn(ctx).Order("seq").Find(&events)
		var kinds []string
		for i, e := range events {
			kinds = append(kinds, e.Kind)
			if e.BookingID == nil || *e.BookingID != b.ID || *e.FloorID != b.FloorID || (i > 0 && e.Seq <= events[i-1].Seq) {
				t.Errorf("event %d: %+v", i, e)
			}
		}
		if strings.Join(kinds, ",") != "booking.created,booking.updated,booking.cancelled" {
			t.Fatalf("outbox: %v", kinds)
		}
		if !strings.Contains(events[1].Payload, `"previous"`) {
			t.Errorf("update event lacks the previous interval: %s", events[1].Payload)
		}
	})
}

// Moving a booking needs the current version; a stale one is refused, and
// a move onto a taken slot is a conflict that leaves the booking as it was.
func TestUpdateWithVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		b := f.mustBook(emil, deskReq("1A-01", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)))
		f.mustBook(ada, deskReq("1A-02", at(2026, 3, 24, 9, 0), at(2026, 3, 24, 10, 0)))
		other := desk("1A-02")
		if _, err := f.svc.Update(ctx, emil, b.ID, 1, booking.Change{ResourceID: &other}); code(err) != perch.EBOOKINGCONFLICT {
			t.Fatalf("move onto a booked desk: %v", err)
		}
		third := desk("1A-03")
		v, err := f.svc.Update(ctx, emil, b.ID, 1, booking.Change{ResourceID: &third})
		if err != nil || v.Version != 2 || v.ResourceName != "1A-03" {
			t.Fatalf("move: %+v %v", v, err)
		}
		if _, err := f.svc.Update(ctx, emil, b.ID, 1, booking.Change{ResourceID: &third}); code(err) != perch.EPRECONDITION {
			t.Fatalf("stale version: %v", err)
		}
		if _, err := f.svc.Update(ctx, hanna, b.ID, 2, booking.Change{}); code(err) != perch.ENOTFOUND {
			t.Fatalf("someone else's booking: %v", err)
		}
		// Cancelling twice is harmless and keeps the row.
		for range 2 {
			vs, err := f.svc.Cancel(ctx, emil, b.ID, "")
			if err != nil || vs[0].Status != booking.StatusCancelled {
				t.Fatalf("cancel: %v %v", vs, err)
			}
		}
	})
}

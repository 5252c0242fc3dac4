// Package sim simulates an office's attendance from a known model and
// writes it into Perch's real schema: bookings, check-ins, no-shows
// (bookings released by the worker) and walk-ups (a booking made by the
// scan, checked in at once). It is deterministic for a seed and returns the
// ground truth, so tests can check reports against it exactly; the demo
// (`perch demo --history 90d`) and the reports bench load history with it.
//
// The model, per team: the probability a member comes on each weekday, the
// share of those who walk up instead of booking, the share of bookings that
// end as no-shows, and the typical arrival and leaving times. Each day every
// person who comes (or booked and does not) gets a different desk, so the
// schema's no-overlap guarantee holds; some present people also hold a
// one-hour room meeting they check into.
package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
)

// Team is the attendance model of one team.
type Team struct {
	ID string
	// Members are the team's user ids.
	Members []string
	// Attendance[w] is the probability a member plans to come on weekday w
	// (indexed by time.Weekday: 0 is Sunday).
	Attendance [7]float64
	// WalkUpRate: share of planned visits made as walk-ups (no booking ahead).
	WalkUpRate float64
	// NoShowRate: share of bookings nobody checks into (released by the worker).
	NoShowRate float64
	// Arrive and Leave are the typical wall-clock times (site zone); each
	// person's times vary uniformly by ±SpreadMinutes.
	Arrive, Leave booking.Clock
	SpreadMinutes int
}

// Model is what the simulator draws from.
type Model struct {
	SiteID   string
	Timezone string
	Teams    []Team
	// Desks people sit at (bookable, not assigned); each day every person
	// gets a different one.
	Desks []floorplans.Desk
	// Rooms for meetings: each room holds at most one meeting at each of
	// MeetingSlots, organised by a present person with probability
	// MeetingRate, checked into at its start and ended automatically.
	Rooms        []floorplans.Room
	MeetingSlots []booking.Clock
	MeetingRate  float64
	// SelfCheckoutRate: share of booked visits checked out by the person
	// (the booking ends then); the rest end automatically at the booking's end.
	SelfCheckoutRate float64
	// NoShowGraceMinutes: when the worker releases a no-show after its start.
	NoShowGraceMinutes int
	// BookableUntil: the end of a walk-up's booking before its check-out.
	BookableUntil booking.Clock
	Seed          uint64
}

// Options tune a run.
type Options struct {
	// Batch is how many bookings go to the database per transaction (default 5000).
	Batch int
	// Progress, when set, is called after each simulated day is written.
	Progress func(day booking.Date, done, total int)
	// NoTruth skips keeping the ground truth (for very large runs).
	NoTruth bool
	// StopAfterCheckIns, when > 0, ends the run after the day on which
	// this many check-ins have been written.
	StopAfterCheckIns int
}

// Stay is one check-in interval: a person present at a desk or in a room
// over [In, Out).
type Stay struct {
	UserID, TeamID  string
	FloorID, ZoneID string // ZoneID "" when the resource has no zone
	ResourceType    booking.ResourceType
	ResourceID      string
	In, Out         time.Time
	WalkUp          bool
	BookingID       string
}

// Booked is one booking as written (final times and status).
type Booked struct {
	ID                  string
	UserID, TeamID      string
	FloorID, ZoneID     string
	ResourceType        booking.ResourceType
	ResourceID          string
	Start, End, Created time.Time
	Status              booking.Status
	Reason              string
	// CheckedIn: the booking has a check-in over [In, Out).
	WalkUp, CheckedIn bool
	In, Out           time.Time
}

// Truth is what was written, for tests to compare reports with.
type Truth struct {
	Stays    []Stay
	Bookings []Booked
	// Counts over the whole run.
	CheckIns, NoShows, WalkUps, BookingsMade int
}

// Stats are a run's counts (kept even with NoTruth).
type Stats struct {
	Days, Bookings, CheckIns, NoShows, WalkUps, Meetings int
}

// Run simulates the local days [from, to) of the model's site and writes
// them. Days must lie in the past for the statuses to make sense (the
// caller picks them). It returns the ground truth (nil with NoTruth).
func Run(ctx context.Context, db *database.DB, m Model, from, to booking.Date, opts Options) (*Truth, Stats, error) {
	loc, err := floorplans.LoadTimezone(m.Timezone)
	if err != nil {
		return nil, Stats{}, err
	}
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if m.BookableUntil == 0 {
		m.BookableUntil = 20 * 60
	}
	if m.NoShowGraceMinutes == 0 {
		m.NoShowGraceMinutes = 15
	}
	rng := rand.New(rand.NewPCG(m.Seed, 0x9e3779b97f4a7c15))
	var truth *Truth
	if !opts.NoTruth {
		truth = &Truth{}
	}
	var st Stats
	w := &writer{db: db, batch: opts.Batch}
	total := booking.DaysBetween(from, to)
	zoneOf := map[string]string{}
	for _, d := range m.Desks {
		if d.ZoneID != nil {
			zoneOf[d.ID] = *d.ZoneID
		}
	}
	for _, r := range m.Rooms {
		if r.ZoneID != nil {
			zoneOf[r.ID] = *r.ZoneID
		}
	}
	for i := 0; i < total; i++ {
		if err := ctx.Err(); err != nil {
			return truth, st, err
		}
		day := from.AddDays(i)
		sim := daySim{m: &m, loc: loc, day: day, rng: rng, zoneOf: zoneOf}
		sim.run()
		for j := range sim.bookings {
			w.add(sim.bookings[j], sim.checkIns[sim.bookings[j].ID])
		}
		st.Days++
		st.Bookings += len(sim.bookings)
		st.CheckIns += len(sim.checkIns)
		st.NoShows += sim.noShows
		st.WalkUps += sim.walkUps
		st.Meetings += sim.meetings
		if truth != nil {
			truth.Stays = append(truth.Stays, sim.stays...)
			truth.Bookings = append(truth.Bookings, sim.booked...)
			truth.CheckIns += len(sim.checkIns)
			truth.NoShows += sim.noShows
			truth.WalkUps += sim.walkUps
			truth.BookingsMade += len(sim.bookings)
		}
		last := i == total-1 || (opts.StopAfterCheckIns > 0 && st.CheckIns >= opts.StopAfterCheckIns)
		if w.full() || last {
			if err := w.flush(ctx); err != nil {
				return truth, st, err
			}
		}
		if opts.Progress != nil {
			opts.Progress(day, i+1, total)
		}
		if last {
			break
		}
	}
	return truth, st, w.flush(ctx)
}

// writer batches rows into transactions.
type writer struct {
	db       *database.DB
	batch    int
	bookings []booking.Booking
	checkIns []booking.CheckIn
}

func (w *writer) add(b booking.Booking, ci *booking.CheckIn) {
	w.bookings = append(w.bookings, b)
	if ci != nil {
		w.checkIns = append(w.checkIns, *ci)
	}
}

func (w *writer) full() bool { return len(w.bookings) >= w.batch }

func (w *writer) flush(ctx context.Context) error {
	if len(w.bookings) == 0 {
		return nil
	}
	err := w.db.Tx(ctx, func(tx *gorm.DB) error {
		// 1000 rows × 17 columns stays under both engines' parameter limits.
		if err := tx.CreateInBatches(w.bookings, 1000).Error; err != nil {
			return err
		}
		if len(w.checkIns) == 0 {
			return nil
		}
		return tx.CreateInBatches(w.checkIns, 1000).Error
	})
	if err != nil {
		return fmt.Errorf("write simulated bookings: %w", err)
	}
	w.bookings, w.checkIns = w.bookings[:0], w.checkIns[:0]
	return nil
}

// daySim simulates one local day.
type daySim struct {
	m      *Model
	loc    *time.Location
	day    booking.Date
	rng    *rand.Rand
	zoneOf map[string]string

	bookings []booking.Booking
	checkIns map[string]*booking.CheckIn
	stays    []Stay
	booked   []Booked
	noShows  int
	walkUps  int
	meetings int
}

func (s *daySim) clock(c booking.Clock, spread int) time.Time {
	if spread > 0 {
		c += booking.Clock(s.rng.IntN(2*spread+1) - spread)
	}
	return s.day.At(c, s.loc)
}

func (s *daySim) run() {
	s.checkIns = map[string]*booking.CheckIn{}
	m := s.m
	wd := s.day.Weekday()
	desks := s.rng.Perm(len(m.Desks))
	next := 0
	var present []Stay
	for ti := range m.Teams {
		t := &m.Teams[ti]
		for _, uid := range t.Members {
			// Every draw is made whatever the outcome, so a person's
			// sequence does not depend on the others' (stable under edits).
			plans := s.rng.Float64() < t.Attendance[wd]
			walkUp := s.rng.Float64() < t.WalkUpRate
			noShow := s.rng.Float64() < t.NoShowRate
			selfOut := s.rng.Float64() < m.SelfCheckoutRate
			arrive := s.clock(t.Arrive, t.SpreadMinutes)
			leave := s.clock(t.Leave, t.SpreadMinutes)
			jitter := time.Duration(s.rng.IntN(m.NoShowGraceMinutes)) * time.Minute
			early := time.Duration(s.rng.IntN(60)+1) * time.Minute
			lead := time.Duration(60+s.rng.IntN(7*24*60)) * time.Minute
			if !plans || !leave.After(arrive.Add(time.Hour)) {
				continue
			}
			if next >= len(desks) {
				continue // no desk left today
			}
			desk := &m.Desks[desks[next]]
			next++
			b := booking.Booking{ID: database.NewID(), SiteID: m.SiteID, FloorID: desk.FloorID, ResourceType: booking.Desk,
				ResourceID: desk.ID, UserID: uid, CreatedBy: &uid, Version: 1}
			rec := Booked{UserID: uid, TeamID: t.ID, FloorID: desk.FloorID, ZoneID: s.zoneOf[desk.ID], ResourceType: booking.Desk, ResourceID: desk.ID}
			var ci *booking.CheckIn
			switch {
			case walkUp:
				// Scanned a free desk on arrival: booked to the end of the
				// bookable day, checked in, checked out on leaving.
				b.Title = "Walk-up"
				b.StartAt, b.EndAt, b.CreatedAt = arrive, leave, arrive
				b.Status, b.StatusReason, b.Version = booking.StatusCompleted, booking.ReasonCheckedOut, 3
				ci = s.checkIn(&b, arrive, leave, booking.MethodQR, booking.MethodQR, true)
				s.walkUps++
			case noShow:
				// Booked ahead, never came: released at start + grace.
				b.StartAt, b.EndAt, b.CreatedAt = arrive.Truncate(15*time.Minute), leave.Truncate(15*time.Minute), arrive.Add(-lead)
				b.Status, b.StatusReason, b.Version = booking.StatusReleased, booking.ReasonNoShow, 2
				b.UpdatedAt = b.StartAt.Add(time.Duration(m.NoShowGraceMinutes) * time.Minute)
				s.noShows++
			default:
				start := arrive.Truncate(15 * time.Minute)
				end := leave.Truncate(15 * time.Minute)
				b.StartAt, b.EndAt, b.CreatedAt = start, end, start.Add(-lead)
				in := start.Add(jitter)
				if selfOut {
					out := end.Add(-early)
					if !out.After(in) {
						out = in.Add(time.Minute)
					}
					b.EndAt, b.Status, b.StatusReason = out, booking.StatusCompleted, booking.ReasonCheckedOut
					ci = s.checkIn(&b, in, out, booking.MethodQR, booking.MethodQR, false)
				} else {
					b.Status, b.StatusReason = booking.StatusCompleted, booking.ReasonEnded
					ci = s.checkIn(&b, in, end, booking.MethodQR, booking.MethodAuto, false)
				}
				b.Version = 3
			}
			if b.UpdatedAt.IsZero() {
				b.UpdatedAt = b.EndAt
			}
			s.add(b, ci, rec, t.ID)
			if ci != nil {
				present = append(present, s.stays[len(s.stays)-1])
			}
		}
	}
	s.meetingsFor(present)
}

// meetingsFor books each room at each meeting slot with probability
// MeetingRate, organised by a present person whose stay covers the hour.
func (s *daySim) meetingsFor(present []Stay) {
	m := s.m
	for ri := range m.Rooms {
		r := &m.Rooms[ri]
		for _, slot := range m.MeetingSlots {
			hold := s.rng.Float64() < m.MeetingRate
			pick := s.rng.IntN(1 << 30)
			lead := time.Duration(30+s.rng.IntN(3*24*60)) * time.Minute
			if !hold || len(present) == 0 {
				continue
			}
			start := s.day.At(slot, s.loc)
			end := start.Add(time.Hour)
			var cands []int
			for i := range present {
				if !present[i].In.After(start) && !present[i].Out.Before(end) {
					cands = append(cands, i)
				}
			}
			if len(cands) == 0 {
				continue
			}
			p := present[cands[pick%len(cands)]]
			uid := p.UserID
			b := booking.Booking{ID: database.NewID(), SiteID: m.SiteID, FloorID: r.FloorID, ResourceType: booking.Room,
				ResourceID: r.ID, UserID: uid, CreatedBy: &uid, Title: "Meeting", StartAt: start, EndAt: end,
				Status: booking.StatusCompleted, StatusReason: booking.ReasonEnded, Version: 3, CreatedAt: start.Add(-lead), UpdatedAt: end}
			ci := s.checkIn(&b, start, end, booking.MethodKiosk, booking.MethodAuto, false)
			rec := Booked{UserID: uid, TeamID: p.TeamID, FloorID: r.FloorID, ZoneID: s.zoneOf[r.ID], ResourceType: booking.Room, ResourceID: r.ID}
			s.add(b, ci, rec, p.TeamID)
			s.meetings++
		}
	}
}

// checkIn is a check-in over [in, out): made with m, closed with out.
func (s *daySim) checkIn(b *booking.Booking, in, out time.Time, m, outBy booking.Method, walkUp bool) *booking.CheckIn {
	return &booking.CheckIn{ID: database.NewID(), BookingID: b.ID, UserID: b.UserID, ResourceType: b.ResourceType, ResourceID: b.ResourceID,
		FloorID: b.FloorID, SiteID: b.SiteID, CheckedInAt: in, CheckedOutAt: &out, Method: m, CheckoutMethod: &outBy, WalkUp: walkUp}
}

func (s *daySim) add(b booking.Booking, ci *booking.CheckIn, rec Booked, teamID string) {
	s.bookings = append(s.bookings, b)
	rec.ID, rec.Start, rec.End, rec.Created, rec.Status, rec.Reason = b.ID, b.StartAt, b.EndAt, b.CreatedAt, b.Status, b.StatusReason
	if ci != nil {
		s.checkIns[b.ID] = ci
		rec.CheckedIn, rec.WalkUp, rec.In, rec.Out = true, ci.WalkUp, ci.CheckedInAt, *ci.CheckedOutAt
		s.stays = append(s.stays, Stay{UserID: b.UserID, TeamID: teamID, FloorID: b.FloorID, ZoneID: rec.ZoneID,
			ResourceType: b.ResourceType, ResourceID: b.ResourceID, In: ci.CheckedInAt, Out: *ci.CheckedOutAt, WalkUp: ci.WalkUp, BookingID: b.ID})
	}
	s.booked = append(s.booked, rec)
}

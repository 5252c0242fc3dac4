package moves_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/sim"
	"github.com/perch-hq/perch/users"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

var berlin, _ = time.LoadLocation("Europe/Berlin")

func date(s string) booking.Date {
	d, err := booking.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// clock is settable by tests.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

type fixture struct {
	db    *database.DB
	clk   *clock
	bk    *booking.Service
	mv    *moves.Service
	truth *sim.Truth
	o     *demo.Office
	admin *users.Principal
}

// setup loads the demo office and simulates [from, to] (seed 3); the clock
// stands at 08:00 on the day after.
func setup(t *testing.T, db *database.DB, from, to booking.Date) *fixture {
	t.Helper()
	ctx := context.Background()
	o, err := demo.Load(ctx, db)
	dbtest.Must(t, err)
	m := sim.NewModel(o.Site, o.Teams, o.Users, o.Desks, o.Rooms, 3)
	truth, _, err := sim.Run(ctx, db, m, from, to.AddDays(1), sim.Options{Batch: 500})
	dbtest.Must(t, err)
	f := &fixture{db: db, clk: &clock{now: to.AddDays(1).At(8*60, berlin).UTC()}, truth: truth, o: o}
	fp := floorplans.NewService(db)
	f.bk = booking.NewService(db, fp, booking.WithClock(f.clk.Now))
	rp := reports.NewService(db, fp, f.bk, reports.WithClock(f.clk.Now))
	f.mv = moves.NewService(db, fp, f.bk, rp, moves.WithClock(f.clk.Now))
	f.admin = &users.Principal{UserID: demo.ID("user", demo.AdminEmail), Role: users.RoleAdmin}
	return f
}

var (
	engineering = demo.ID("team", "0")
	design      = demo.ID("team", "1")
	sales       = demo.ID("team", "2")
	firstFloor  = demo.ID("floor", "1")
	quietZone   = demo.ID("zone", "Quiet zone")
)

func (f *fixture) desk(code string) *floorplans.Desk {
	for i := range f.o.Desks {
		if f.o.Desks[i].Code == code {
			return &f.o.Desks[i]
		}
	}
	panic("no desk " + code)
}

func (f *fixture) deskByID(id string) *floorplans.Desk {
	for i := range f.o.Desks {
		if f.o.Desks[i].ID == id {
			return &f.o.Desks[i]
		}
	}
	panic("no desk " + id)
}

// truthDemand is the plain computation of a team's demand from the
// simulator's ground truth: each weekday's peak presence, the 90th
// percentile by nearest rank, times 1 + buffer, rounded up.
func (f *fixture) truthDemand(team string, from, to booking.Date, buffer float64) (p90, demand int) {
	teamOf := map[string]string{}
	for _, u := range f.o.Users {
		if u.TeamID != nil {
			teamOf[u.ID] = *u.TeamID
		}
	}
	var peaks []int
	for d := from; !d.After(to); d = d.AddDays(1) {
		if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		p, _ := f.truth.Occupancy(d.In(berlin), d.AddDays(1).In(berlin), func(s *sim.Stay) bool { return teamOf[s.UserID] == team })
		peaks = append(peaks, p)
	}
	slices.Sort(peaks)
	p90 = peaks[int(math.Ceil(0.9*float64(len(peaks))))-1]
	return p90, int(math.Ceil(float64(p90) * (1 + buffer)))
}

// Demand equals the simulated truth; each team gets a contiguous run (each
// desk next to the previous one on the plan); ratios and shortfalls add up.
func TestProposalFromSimulatedHistory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		from, to := date("2026-03-02"), date("2026-03-27")
		f := setup(t, db, from, to)
		ctx := context.Background()
		pl, err := f.mv.Create(ctx, f.admin, moves.Request{Name: "Eng and Design upstairs", SiteID: demo.SiteID, EffectiveDate: "2026-03-30",
			TeamIDs: []string{engineering, design}, TargetFloorIDs: []string{firstFloor},
			Basis: moves.Basis{From: from.String(), To: to.String()}, Buffer: 0.1})
		dbtest.Must(t, err)
		if pl.Status != moves.StatusDraft || len(pl.Proposal.Teams) != 2 {
			t.Fatalf("plan = %+v", pl)
		}
		seen := map[string]bool{}
		for _, tp := range pl.Proposal.Teams {
			p90, want := f.truthDemand(tp.TeamID, from, to, 0.1)
			if tp.P90Peak != p90 || tp.Demand != want || tp.BasisDays != 20 {
				t.Errorf("%s: p90 %d demand %d over %d days, truth says p90 %d demand %d over 20", tp.TeamName, tp.P90Peak, tp.Demand, tp.BasisDays, p90, want)
			}
			if p90 == 0 {
				t.Errorf("%s: nobody came in the simulation", tp.TeamName)
			}
			if tp.Desks != want || len(tp.DeskIDs) != want || tp.Shortfall != 0 || tp.Members != 8 {
				t.Errorf("%s: %d desks (%d ids) for demand %d, shortfall %d, members %d", tp.TeamName, tp.Desks, len(tp.DeskIDs), want, tp.Shortfall, tp.Members)
			}
			if wantRatio := math.Round(float64(want)/8*100) / 100; tp.DeskRatio != wantRatio {
				t.Errorf("%s: ratio %v, want %v", tp.TeamName, tp.DeskRatio, wantRatio)
			}
			for i, id := range tp.DeskIDs {
				d := f.deskByID(id)
				if d.FloorID != firstFloor || seen[id] || d.Code == "2A-01" {
					t.Errorf("%s: desk %s off the target, given twice or an assigned accessible desk", tp.TeamName, d.Code)
				}
				seen[id] = true
				if i > 0 {
					p := f.deskByID(tp.DeskIDs[i-1])
					if dist := math.Hypot(d.X-p.X, d.Y-p.Y); dist > 400 {
						t.Errorf("%s: %s follows %s at %.0f cm: the run is not contiguous", tp.TeamName, d.Code, p.Code, dist)
					}
				}
			}
		}
		// Reading it back gives the same plan.
		got, err := f.mv.Get(ctx, pl.ID)
		dbtest.Must(t, err)
		a, _ := json.Marshal(got.Proposal)
		b, _ := json.Marshal(pl.Proposal)
		if string(a) != string(b) {
			t.Fatalf("stored proposal differs:\n%s\n%s", a, b)
		}
	})
}

// A target too small: the first team is served in full, the next gets
// what is left and the shortfall is stated (and validate warns).
func TestShortfall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		from, to := date("2026-03-02"), date("2026-03-13")
		f := setup(t, db, from, to)
		ctx := context.Background()
		pl, err := f.mv.Create(ctx, f.admin, moves.Request{Name: "Squeeze", SiteID: demo.SiteID, EffectiveDate: "2026-03-16",
			TeamIDs: []string{engineering, design, sales}, TargetZoneIDs: []string{quietZone},
			Basis: moves.Basis{From: from.String(), To: to.String()}, Buffer: 2})
		dbtest.Must(t, err)
		total := 0
		for _, tp := range pl.Proposal.Teams {
			total += tp.Desks
			if tp.Shortfall != max(0, tp.Demand-tp.Desks) {
				t.Errorf("%s: shortfall %d for %d desks and demand %d", tp.TeamName, tp.Shortfall, tp.Desks, tp.Demand)
			}
		}
		// The quiet zone: 30 desks, less 2A-01 (accessible, assigned to someone outside the plan).
		if total != 29 || pl.Proposal.UnusedDesks != 0 || pl.Proposal.Teams[2].Shortfall == 0 || pl.Proposal.Teams[0].Shortfall != 0 {
			t.Fatalf("total %d, unused %d, teams %+v", total, pl.Proposal.UnusedDesks, pl.Proposal.Teams)
		}
		v, err := f.mv.Validate(ctx, pl.ID)
		dbtest.Must(t, err)
		if !v.OK || !slices.ContainsFunc(v.Findings, func(fd moves.Finding) bool { return fd.Code == "shortfall" && fd.TeamID == sales }) {
			t.Fatalf("validate = %+v", v)
		}
	})
}

type outboxRow struct {
	Kind    string
	UserID  *string
	Payload string
}

// Apply: the zone is restricted, assignments change, invalidated future
// bookings are moved (team member into the team's desks; an outsider out
// of the plan's area) or cancelled (no equivalent desk), each with a
// move_plan event addressed to its owner; valid bookings stay; a second
// apply changes nothing.
func TestApply(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		from, to := date("2026-03-02"), date("2026-03-27")
		f := setup(t, db, from, to)
		ctx := context.Background()
		pl, err := f.mv.Create(ctx, f.admin, moves.Request{Name: "Move", SiteID: demo.SiteID, EffectiveDate: "2026-03-31",
			TeamIDs: []string{engineering, design}, TargetFloorIDs: []string{firstFloor},
			Basis: moves.Basis{From: from.String(), To: to.String()}})
		dbtest.Must(t, err)
		ids := func(codes ...string) []string {
			var out []string
			for _, c := range codes {
				out = append(out, f.desk(c).ID)
			}
			return out
		}
		emil, ada, clara := demo.ID("user", "emil.engel@example.com"), demo.ID("user", "ada.arndt@example.com"), demo.ID("user", "clara.conrad@example.com")
		paula := demo.ID("user", "paula.peters@example.com")
		// An accessible desk held by someone else cannot go to a team.
		_, err = f.mv.Update(ctx, pl.ID, moves.Edit{Teams: []moves.TeamEdit{{TeamID: design, DeskIDs: ids("2A-01", "2B-02")}}})
		dbtest.Must(t, err)
		v, err := f.mv.Validate(ctx, pl.ID)
		dbtest.Must(t, err)
		if v.OK || !slices.ContainsFunc(v.Findings, func(fd moves.Finding) bool { return fd.Code == "accessibility_desk" && fd.Severity == "error" }) {
			t.Fatalf("validate = %+v", v)
		}
		_, err = f.mv.Apply(ctx, f.admin, pl.ID)
		dbtest.WantErr(t, err, moves.EInvalidPlan, "")

		pins := []moves.PinEdit{{UserID: ada, DeskID: f.desk("2A-03").ID}}
		pl, err = f.mv.Update(ctx, pl.ID, moves.Edit{Teams: []moves.TeamEdit{
			{TeamID: engineering, DeskIDs: ids("2A-02", "2A-03", "2A-04", "2A-05", "2A-06", "2A-07")},
			{TeamID: design, DeskIDs: ids("2B-02", "2B-03", "2B-04", "2B-05", "2B-06")},
		}, Pins: &pins})
		dbtest.Must(t, err)
		v, err = f.mv.Validate(ctx, pl.ID)
		dbtest.Must(t, err)
		if !v.OK || !slices.ContainsFunc(v.Findings, func(fd moves.Finding) bool { return fd.Code == "assigned_desk" && fd.DeskID == f.desk("2A-02").ID }) {
			t.Fatalf("validate = %+v", v)
		}

		// Bookings for 2026-03-31, made on the 30th.
		f.clk.now = date("2026-03-30").At(8*60, berlin).UTC()
		book := func(user, code string) string {
			r, err := f.bk.Create(ctx, f.admin, booking.CreateRequest{ForUserID: user, ResourceType: booking.Desk, ResourceID: f.desk(code).ID,
				Start: date("2026-03-31").At(9*60, berlin), End: date("2026-03-31").At(17*60, berlin)}, nil)
			dbtest.Must(t, err)
			return r.Bookings[0].ID
		}
		emilB := book(emil, "1A-03")   // old area: moved into Engineering's desks
		claraB := book(clara, "1A-01") // accessible: no equivalent in the new area, cancelled
		adaB := book(ada, "2A-03")     // already right: kept
		paulaB := book(paula, "2A-05") // an outsider on Engineering's desk: moved out
		_ = adaB

		// Not before the effective date.
		_, err = f.mv.Apply(ctx, f.admin, pl.ID)
		dbtest.WantErr(t, err, perch.ECONFLICT, "")
		f.clk.now = date("2026-03-31").At(7*60, berlin).UTC()
		var seq int64
		dbtest.Must(t, db.Conn(ctx).Table("outbox").Select("COALESCE(MAX(seq), 0)").Scan(&seq).Error)

		res, err := f.mv.Apply(ctx, f.admin, pl.ID)
		dbtest.Must(t, err)
		if res.Moved != 2 || res.Cancelled != 1 || len(res.Bookings) != 3 {
			t.Fatalf("result = %+v", res)
		}
		byID := map[string]moves.BookingChange{}
		for _, c := range res.Bookings {
			byID[c.BookingID] = c
		}
		if c := byID[emilB]; c.Action != "moved" || c.ToDeskCode != "2A-02" {
			t.Errorf("Emil's booking: %+v", c)
		}
		if c := byID[claraB]; c.Action != "cancelled" {
			t.Errorf("Clara's booking: %+v", c)
		}
		if c := byID[paulaB]; c.Action != "moved" || f.deskByID(c.ToDeskID).FloorID == firstFloor && c.ToDeskCode[:2] != "2D" {
			t.Errorf("Paula's booking: %+v", c)
		}
		// The bookings in the database.
		var bs []booking.Booking
		dbtest.Must(t, db.Conn(ctx).Where("id IN ?", []string{emilB, claraB, adaB, paulaB}).Find(&bs).Error)
		for _, b := range bs {
			switch b.ID {
			case emilB:
				if b.ResourceID != f.desk("2A-02").ID || b.Status != booking.StatusConfirmed {
					t.Errorf("Emil's booking is %+v", b)
				}
			case claraB:
				if b.Status != booking.StatusCancelled || b.StatusReason != moves.Reason {
					t.Errorf("Clara's booking is %s (%s)", b.Status, b.StatusReason)
				}
			case adaB:
				if b.ResourceID != f.desk("2A-03").ID || b.Version != 1 {
					t.Errorf("Ada's booking changed: %+v", b)
				}
			}
		}
		// Events: one per changed booking, to its owner, with the reason.
		var evs []outboxRow
		dbtest.Must(t, db.Conn(ctx).Table("outbox").Where("seq > ?", seq).Order("seq").Find(&evs).Error)
		kinds := map[string]string{}
		for _, ev := range evs {
			var p booking.EventPayload
			dbtest.Must(t, json.Unmarshal([]byte(ev.Payload), &p))
			if p.Reason != moves.Reason || ev.UserID == nil || *ev.UserID != p.Booking.UserID {
				t.Errorf("event %s: reason %q, user %v", ev.Kind, p.Reason, ev.UserID)
			}
			kinds[p.Booking.ID] = ev.Kind
		}
		if len(evs) != 3 || kinds[emilB] != booking.EventUpdated || kinds[paulaB] != booking.EventUpdated || kinds[claraB] != booking.EventCancelled {
			t.Fatalf("events: %+v", evs)
		}
		// Zone restrictions and assignments.
		pol, err := f.bk.GetPolicy(ctx, demo.SiteID)
		dbtest.Must(t, err)
		want := []string{engineering, design}
		slices.Sort(want)
		if got := pol.RestrictedZones[quietZone]; !slices.Equal(got, want) {
			t.Errorf("quiet zone restricted to %v, want %v", got, want)
		}
		var desks []floorplans.Desk
		dbtest.Must(t, db.Conn(ctx).Where("code IN ?", []string{"2A-01", "2A-02", "2A-03"}).Order("code").Find(&desks).Error)
		if desks[0].AssignedUserID == nil || desks[1].AssignedUserID != nil || desks[2].AssignedUserID == nil || *desks[2].AssignedUserID != ada {
			t.Errorf("assignments after apply: 2A-01 %v, 2A-02 %v, 2A-03 %v", desks[0].AssignedUserID, desks[1].AssignedUserID, desks[2].AssignedUserID)
		}
		// Idempotent.
		again, err := f.mv.Apply(ctx, f.admin, pl.ID)
		dbtest.Must(t, err)
		a, _ := json.Marshal(res)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("second apply differs:\n%s\n%s", a, b)
		}
		var after int64
		dbtest.Must(t, db.Conn(ctx).Table("outbox").Where("seq > ?", seq).Count(&after).Error)
		if after != 3 {
			t.Fatalf("a second apply wrote events: %d", after)
		}
		got, err := f.mv.Get(ctx, pl.ID)
		dbtest.Must(t, err)
		if got.Status != moves.StatusApplied || got.AppliedAt == nil {
			t.Fatalf("plan after apply: %+v", got)
		}
		_, err = f.mv.Update(ctx, pl.ID, moves.Edit{Name: ptr("x")})
		dbtest.WantErr(t, err, perch.ECONFLICT, "")
		dbtest.WantErr(t, f.mv.Delete(ctx, pl.ID), perch.ECONFLICT, "")
	})
}

func ptr[T any](v T) *T { return &v }

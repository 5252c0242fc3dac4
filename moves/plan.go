package moves

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// AccessibleAmenity marks a desk built for accessibility (floorplans amenity tag).
const AccessibleAmenity = "accessible"

// MethodRuns describes how Create hands out desks.
const MethodRuns = "runs: target desks ordered by floor (level), zone (name), row (y) and, snaking, position in the row (x), " +
	"so consecutive desks are neighbours; each team in the order of team_ids takes the next run of its demand"

// office is a site's plan and the plan teams' people, as one snapshot.
type office struct {
	site    floorplans.Site
	floors  map[string]*floorplans.Floor
	zones   map[string]*floorplans.Zone
	desks   []floorplans.Desk // ordered (see order)
	desk    map[string]*floorplans.Desk
	rooms   []floorplans.Room
	teams   map[string]*users.Team
	members map[string][]users.User // team id → members
	person  map[string]*users.User  // every plan-team member and every assignee
}

// loadOffice reads a site's floors, zones, desks and rooms, the named teams
// (all must exist) and their members, and the people desks are assigned to.
func loadOffice(tx *gorm.DB, siteID string, teamIDs []string) (*office, error) {
	o := &office{floors: map[string]*floorplans.Floor{}, zones: map[string]*floorplans.Zone{}, desk: map[string]*floorplans.Desk{},
		teams: map[string]*users.Team{}, members: map[string][]users.User{}, person: map[string]*users.User{}}
	if err := tx.Where("id = ?", siteID).Take(&o.site).Error; err != nil {
		if perch.ErrorCode(database.Translate(err)) == perch.ENOTFOUND {
			return nil, perch.NotFound("site")
		}
		return nil, database.Translate(err)
	}
	var floors []floorplans.Floor
	var zones []floorplans.Zone
	var teams []users.Team
	var people []users.User
	for _, q := range []struct {
		dst   any
		query *gorm.DB
	}{
		{&floors, tx.Where("site_id = ?", siteID)},
		{&zones, tx.Where("site_id = ?", siteID)},
		{&o.desks, tx.Where("site_id = ?", siteID)},
		{&o.rooms, tx.Where("site_id = ?", siteID).Order("name, id")},
		{&teams, tx.Where("id IN ?", teamIDs)},
		{&people, tx.Where("(team_id IN ? AND role <> ?) OR id IN (SELECT assigned_user_id FROM desks WHERE site_id = ?)",
			teamIDs, users.RoleKiosk, siteID).Order("name, id")},
	} {
		if err := q.query.Find(q.dst).Error; err != nil {
			return nil, database.Translate(err)
		}
	}
	for i := range floors {
		o.floors[floors[i].ID] = &floors[i]
	}
	for i := range zones {
		o.zones[zones[i].ID] = &zones[i]
	}
	for i := range teams {
		o.teams[teams[i].ID] = &teams[i]
	}
	for i, id := range teamIDs {
		if o.teams[id] == nil {
			return nil, perch.Invalid(fmt.Sprintf("team_ids[%d]", i), "team %s does not exist", id)
		}
	}
	for i := range people {
		u := &people[i]
		o.person[u.ID] = u
		if u.TeamID != nil && o.teams[*u.TeamID] != nil && u.Role != users.RoleKiosk {
			o.members[*u.TeamID] = append(o.members[*u.TeamID], *u)
		}
	}
	o.order()
	for i := range o.desks {
		o.desk[o.desks[i].ID] = &o.desks[i]
	}
	return o, nil
}

// order sorts the desks for runs: by floor level, zone name (desks without
// a zone last), row (y) and position in the row (x), left to right on even
// rows of the floor and right to left on odd ones, so the last desk of a
// row and the first of the next are neighbours.
func (o *office) order() {
	type key struct {
		level          int
		floor, zn, zid string
		noZone         bool
		row            int
		x              float64
	}
	rowsOf := map[string][]float64{} // floor → distinct ys (rows count per floor, so the snake runs on across zones)
	group := func(d *floorplans.Desk) string { return d.FloorID }
	for i := range o.desks {
		g := group(&o.desks[i])
		if !slices.Contains(rowsOf[g], o.desks[i].Y) {
			rowsOf[g] = append(rowsOf[g], o.desks[i].Y)
		}
	}
	for _, ys := range rowsOf {
		slices.Sort(ys)
	}
	keys := map[string]key{}
	for i := range o.desks {
		d := &o.desks[i]
		k := key{floor: d.FloorID, noZone: d.ZoneID == nil, x: d.X}
		if f := o.floors[d.FloorID]; f != nil {
			k.level = f.Level
		}
		if d.ZoneID != nil {
			k.zid = *d.ZoneID
			if z := o.zones[*d.ZoneID]; z != nil {
				k.zn = z.Name
			}
		}
		k.row = slices.Index(rowsOf[group(d)], d.Y)
		if k.row%2 == 1 {
			k.x = -d.X
		}
		keys[d.ID] = k
	}
	slices.SortStableFunc(o.desks, func(a, b floorplans.Desk) int {
		ka, kb := keys[a.ID], keys[b.ID]
		return cmp.Or(cmp.Compare(ka.level, kb.level), cmp.Compare(ka.floor, kb.floor), boolCmp(ka.noZone, kb.noZone),
			cmp.Compare(ka.zn, kb.zn), cmp.Compare(ka.zid, kb.zid), cmp.Compare(ka.row, kb.row), cmp.Compare(ka.x, kb.x), cmp.Compare(a.Code, b.Code))
	})
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// accessibleHeld reports whether d is an accessible desk assigned to someone.
func accessibleHeld(d *floorplans.Desk) bool {
	return d.AssignedUserID != nil && d.Amenities.Has(AccessibleAmenity)
}

// targetDesks returns the bookable desks of the request's target area, in order.
func (o *office) targetDesks(r Request) ([]*floorplans.Desk, error) {
	for i, id := range r.TargetZoneIDs {
		if o.zones[id] == nil {
			return nil, perch.Invalid(fmt.Sprintf("target_zone_ids[%d]", i), "zone %s is not a zone of this site", id)
		}
	}
	for i, id := range r.TargetFloorIDs {
		if o.floors[id] == nil {
			return nil, perch.Invalid(fmt.Sprintf("target_floor_ids[%d]", i), "floor %s is not a floor of this site", id)
		}
	}
	var out []*floorplans.Desk
	for i := range o.desks {
		d := &o.desks[i]
		in := slices.Contains(r.TargetFloorIDs, d.FloorID) || (d.ZoneID != nil && slices.Contains(r.TargetZoneIDs, *d.ZoneID))
		if in && d.Bookable {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		field := "target_zone_ids"
		if len(r.TargetFloorIDs) > 0 {
			field = "target_floor_ids"
		}
		return nil, perch.Invalid(field, "the target area has no bookable desks")
	}
	return out, nil
}

// teamDemand is a team's measured demand.
type teamDemand struct {
	days, p90, demand int
}

// openDays returns the basis days the site is open on (the policy's
// weekdays, less its closed dates).
func (s *Service) openDays(ctx context.Context, siteID string, from, to booking.Date) (map[booking.Date]bool, error) {
	pol, err := s.bk.GetPolicy(ctx, siteID)
	if err != nil {
		return nil, err
	}
	out := map[booking.Date]bool{}
	for d := from; !d.After(to); d = d.AddDays(1) {
		wd := [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[d.Weekday()]
		if slices.Contains(pol.Weekdays, wd) && !slices.Contains(pol.ClosedDates, d.String()) {
			out[d] = true
		}
	}
	if len(out) == 0 {
		return nil, perch.Invalid("basis.to", "the basis window holds no day the site is open")
	}
	return out, nil
}

// demand sizes each team from its daily peaks over the basis window's open
// days: the 90th percentile by nearest rank (the ⌈0.9·n⌉-th smallest), times
// 1 + buffer, rounded up.
func (s *Service) demand(ctx context.Context, o *office, teamIDs []string, from, to booking.Date, buffer float64) (map[string]teamDemand, error) {
	open, err := s.openDays(ctx, o.site.ID, from, to)
	if err != nil {
		return nil, err
	}
	peaks, err := s.rp.TeamDailyPeaks(ctx, o.site.ID, from, to)
	if err != nil {
		return nil, err
	}
	byTeam := map[string][]int{}
	for _, p := range peaks {
		if open[p.Date] {
			byTeam[p.TeamID] = append(byTeam[p.TeamID], p.Peak)
		}
	}
	out := map[string]teamDemand{}
	for _, id := range teamIDs {
		v := byTeam[id]
		if len(v) == 0 {
			v = make([]int, len(open)) // a team nobody of which came
		}
		p := Percentile90(v)
		out[id] = teamDemand{days: len(v), p90: p, demand: Demand(p, buffer)}
	}
	return out, nil
}

// Percentile90 is the 90th percentile of v by nearest rank.
func Percentile90(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	rank := int(math.Ceil(0.9*float64(len(s)) - 1e-9))
	return s[max(rank, 1)-1]
}

// Demand is ceil(peak × (1 + buffer)), robust to floating-point noise
// (10 × 1.1 is 11, not 12).
func Demand(peak int, buffer float64) int {
	return int(math.Ceil(float64(peak)*(1+buffer) - 1e-9))
}

// propose hands out the target desks: accessible desks assigned to a member
// of a plan team stay that person's (a pin, counted for the team); those
// assigned to anyone else are left out; each team in order then takes the
// next run of the ordered desks, as many as its demand still needs.
func propose(o *office, teamIDs []string, target []*floorplans.Desk, demand map[string]teamDemand) Proposal {
	p := Proposal{Method: MethodRuns, TargetDesks: len(target), Pins: []Pin{}}
	teamOf := map[string]string{}
	for _, id := range teamIDs {
		for _, u := range o.members[id] {
			teamOf[u.ID] = id
		}
	}
	// Accessibility pins: every accessible desk of the site held by a plan-team member.
	for i := range o.desks {
		d := &o.desks[i]
		if accessibleHeld(d) {
			if t, ok := teamOf[*d.AssignedUserID]; ok {
				p.Pins = append(p.Pins, o.pin(d, *d.AssignedUserID, t, PinAccessibility))
			}
		}
	}
	var seq []*floorplans.Desk
	for _, d := range target {
		if !accessibleHeld(d) {
			seq = append(seq, d)
		}
	}
	pos := 0
	for _, id := range teamIDs {
		tp := TeamPlan{TeamID: id, TeamName: o.teams[id].Name, Members: len(o.members[id]), DeskIDs: []string{}}
		dm := demand[id]
		tp.BasisDays, tp.P90Peak, tp.Demand = dm.days, dm.p90, dm.demand
		need := dm.demand - countPins(p.Pins, id, PinAccessibility)
		for need > 0 && pos < len(seq) {
			tp.DeskIDs = append(tp.DeskIDs, seq[pos].ID)
			pos++
			need--
		}
		p.Teams = append(p.Teams, tp)
	}
	p.UnusedDesks = len(seq) - pos
	o.recount(&p)
	return p
}

func countPins(pins []Pin, teamID, kind string) int {
	n := 0
	for _, p := range pins {
		if p.TeamID == teamID && p.Kind == kind {
			n++
		}
	}
	return n
}

func (o *office) pin(d *floorplans.Desk, userID, teamID, kind string) Pin {
	p := Pin{UserID: userID, TeamID: teamID, DeskID: d.ID, DeskCode: d.Code, Kind: kind}
	if u := o.person[userID]; u != nil {
		p.UserName = u.Name
	}
	return p
}

// recount fills each team's desk count, ratio, shortfall, zones and floors.
func (o *office) recount(p *Proposal) {
	for i := range p.Teams {
		t := &p.Teams[i]
		ids := slices.Clone(t.DeskIDs)
		for _, pn := range p.Pins {
			if pn.TeamID == t.TeamID && pn.Kind == PinAccessibility && !slices.Contains(ids, pn.DeskID) {
				ids = append(ids, pn.DeskID)
			}
		}
		t.Desks = len(ids)
		t.Members = len(o.members[t.TeamID])
		t.DeskRatio = 0
		if t.Members > 0 {
			t.DeskRatio = math.Round(float64(t.Desks)/float64(t.Members)*100) / 100
		}
		t.Shortfall = max(0, t.Demand-t.Desks)
		t.ZoneIDs, t.FloorIDs = []string{}, []string{}
		for _, id := range t.DeskIDs {
			d := o.desk[id]
			if d == nil {
				continue
			}
			if d.ZoneID != nil && !slices.Contains(t.ZoneIDs, *d.ZoneID) {
				t.ZoneIDs = append(t.ZoneIDs, *d.ZoneID)
			}
			if !slices.Contains(t.FloorIDs, d.FloorID) {
				t.FloorIDs = append(t.FloorIDs, d.FloorID)
			}
		}
	}
}

// teamIDs lists the plan's teams in order.
func (p *Proposal) teamIDs() []string {
	out := make([]string, len(p.Teams))
	for i, t := range p.Teams {
		out[i] = t.TeamID
	}
	return out
}

// deskTeam maps every desk of the plan (runs and pins) to its team.
func (p *Proposal) deskTeam() map[string]string {
	out := map[string]string{}
	for _, t := range p.Teams {
		for _, id := range t.DeskIDs {
			out[id] = t.TeamID
		}
	}
	for _, pn := range p.Pins {
		if _, ok := out[pn.DeskID]; !ok {
			out[pn.DeskID] = pn.TeamID
		}
	}
	return out
}

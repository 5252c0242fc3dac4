package moves

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// ApplyResult is what applying a plan did; a second apply returns it again.
type ApplyResult struct {
	AppliedAt time.Time `json:"applied_at"`
	// RestrictedZones: the zones the plan's teams now hold, each with the
	// teams that may book in it; OpenedZones: zones a plan team left that
	// no team holds any longer (open to everyone again).
	RestrictedZones map[string][]string `json:"restricted_zones"`
	OpenedZones     []string            `json:"opened_zones"`
	Assignments     []AssignmentChange  `json:"assignments"`
	// Bookings the plan invalidated, from the effective date on: moved
	// to an equivalent desk or cancelled.
	Bookings  []BookingChange `json:"bookings"`
	Moved     int             `json:"moved"`
	Cancelled int             `json:"cancelled"`
}

// AssignmentChange is a desk whose assigned person changed.
type AssignmentChange struct {
	DeskID     string  `json:"desk_id"`
	DeskCode   string  `json:"desk_code"`
	FromUserID *string `json:"from_user_id"`
	ToUserID   *string `json:"to_user_id"`
}

// BookingChange is one invalidated booking and what became of it.
type BookingChange struct {
	BookingID    string    `json:"booking_id"`
	UserID       string    `json:"user_id"`
	Start        time.Time `json:"start"`
	End          time.Time `json:"end"`
	Action       string    `json:"action"` // moved | cancelled
	FromDeskID   string    `json:"from_desk_id"`
	FromDeskCode string    `json:"from_desk_code"`
	ToDeskID     string    `json:"to_desk_id,omitempty"`
	ToDeskCode   string    `json:"to_desk_code,omitempty"`
}

// Apply carries a draft out, in one transaction: the plan's zones are
// restricted to its teams, assigned desks change (pins become assignments;
// desks in a team's area assigned to someone outside it, and moving
// people's old assigned desks, are unassigned; accessible desks stay with
// their holders), and every confirmed desk booking from the effective date
// on that the plan invalidates is moved to an equivalent free desk (same
// booking mode, at least the same amenities) in the owner's new team area —
// or, for people outside the plan's teams, outside the plan's area — or
// cancelled, through the booking service with reason move_plan (outbox
// events to the owners). Applying an applied plan changes nothing and
// returns the first result. A plan with errors (Validate) is refused, and
// so is one whose effective date has not come yet: changes take effect
// when apply runs.
func (s *Service) Apply(ctx context.Context, actor *users.Principal, id string) (*ApplyResult, error) {
	var out *ApplyResult
	err := s.bk.InTx(ctx, func(tx *gorm.DB) error {
		row, err := getRow(tx, id, true)
		if err != nil {
			return err
		}
		pl, err := row.plan()
		if err != nil {
			return err
		}
		if row.Status == StatusApplied {
			out = pl.Result
			return nil
		}
		o, err := loadOffice(tx, pl.SiteID, pl.Proposal.teamIDs())
		if err != nil {
			return err
		}
		if v := o.validate(&pl.Proposal); !v.OK {
			return &perch.Error{Code: EInvalidPlan, Message: "The plan has errors; POST …/validate lists them.",
				Details: map[string]any{"findings": v.Findings}}
		}
		eff, err := booking.ParseDate(pl.EffectiveDate)
		if err != nil {
			return err
		}
		today, err := s.siteToday(o)
		if err != nil {
			return err
		}
		if today.Before(eff) {
			return perch.Errorf(perch.ECONFLICT, "The plan takes effect on %s; apply it on or after that day (today is %s at the site).", eff, today)
		}
		loc, _ := o.site.Location()
		now := s.now().UTC()
		res := &ApplyResult{AppliedAt: now.Truncate(time.Microsecond), RestrictedZones: map[string][]string{},
			OpenedZones: []string{}, Assignments: []AssignmentChange{}, Bookings: []BookingChange{}}
		if err := s.applyZones(tx, o, &pl.Proposal, res); err != nil {
			return err
		}
		assigned := s.applyAssignments(o, &pl.Proposal, res)
		for _, a := range res.Assignments {
			if err := tx.Table("desks").Where("id = ?", a.DeskID).
				Updates(map[string]any{"assigned_user_id": a.ToUserID, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		admin := &users.Principal{Role: users.RoleAdmin, UserID: actor.UserID, Name: actor.Name}
		if err := s.applyBookings(ctx, tx, admin, o, &pl.Proposal, assigned, res, eff.In(loc), now); err != nil {
			return err
		}
		result := toJSON(res)
		if err := tx.Model(&planRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": StatusApplied, "result": result, "applied_at": res.AppliedAt, "version": row.Version + 1, "updated_at": res.AppliedAt,
		}).Error; err != nil {
			return err
		}
		out = res
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyZones restricts each zone holding a team's run to the plan teams
// there, and takes the plan's teams off zones they left.
func (s *Service) applyZones(tx *gorm.DB, o *office, p *Proposal, res *ApplyResult) error {
	pol, err := booking.LoadPolicyTx(tx, o.site.ID)
	if err != nil {
		return err
	}
	if pol.RestrictedZones == nil {
		pol.RestrictedZones = map[string][]string{}
	}
	for _, t := range p.Teams {
		for _, z := range t.ZoneIDs {
			if !slices.Contains(res.RestrictedZones[z], t.TeamID) {
				res.RestrictedZones[z] = append(res.RestrictedZones[z], t.TeamID)
			}
		}
	}
	plan := p.teamIDs()
	for z, teams := range pol.RestrictedZones {
		if _, ours := res.RestrictedZones[z]; ours {
			continue
		}
		left := slices.DeleteFunc(slices.Clone(teams), func(t string) bool { return slices.Contains(plan, t) })
		if len(left) == len(teams) {
			continue
		}
		if len(left) == 0 {
			delete(pol.RestrictedZones, z)
			res.OpenedZones = append(res.OpenedZones, z)
		} else {
			pol.RestrictedZones[z] = left
		}
	}
	for z, teams := range res.RestrictedZones {
		slices.Sort(teams)
		pol.RestrictedZones[z] = teams
	}
	slices.Sort(res.OpenedZones)
	_, err = s.bk.PutPolicyTx(tx, o.site.ID, pol)
	return err
}

// applyAssignments works out the desks whose assigned person changes and
// returns every desk's assignee after the plan.
func (s *Service) applyAssignments(o *office, p *Proposal, res *ApplyResult) map[string]*string {
	after := map[string]*string{}
	for i := range o.desks {
		after[o.desks[i].ID] = o.desks[i].AssignedUserID
	}
	inTeam := map[string]string{}
	for _, t := range p.Teams {
		for _, u := range o.members[t.TeamID] {
			inTeam[u.ID] = t.TeamID
		}
	}
	runs := map[string]string{}
	for _, t := range p.Teams {
		for _, id := range t.DeskIDs {
			runs[id] = t.TeamID
		}
	}
	for i := range o.desks {
		d := &o.desks[i]
		if d.AssignedUserID == nil || accessibleHeld(d) {
			continue
		}
		holderTeam, moving := inTeam[*d.AssignedUserID]
		team, inRun := runs[d.ID]
		if (inRun && holderTeam != team) || (moving && runs[d.ID] != holderTeam) {
			after[d.ID] = nil
		}
	}
	for _, pn := range p.Pins {
		if pn.Kind != PinPlanner {
			continue
		}
		for id, u := range after { // the person's other (not accessible) desks
			if u != nil && *u == pn.UserID && id != pn.DeskID && !accessibleHeld(o.desk[id]) {
				after[id] = nil
			}
		}
		uid := pn.UserID
		after[pn.DeskID] = &uid
	}
	for i := range o.desks {
		d := &o.desks[i]
		if !samePtr(d.AssignedUserID, after[d.ID]) {
			res.Assignments = append(res.Assignments, AssignmentChange{DeskID: d.ID, DeskCode: d.Code, FromUserID: d.AssignedUserID, ToUserID: after[d.ID]})
		}
	}
	return after
}

func samePtr(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// applyBookings moves or cancels the confirmed desk bookings from the
// effective date on that the plan invalidates.
func (s *Service) applyBookings(ctx context.Context, tx *gorm.DB, admin *users.Principal, o *office, p *Proposal,
	assigned map[string]*string, res *ApplyResult, effStart, now time.Time) error {
	var bs []booking.Booking
	if err := tx.Where("site_id = ? AND resource_type = ? AND status = ? AND start_at >= ? AND end_at > ?",
		o.site.ID, booking.Desk, booking.StatusConfirmed, effStart, now).Order("start_at, id").Find(&bs).Error; err != nil {
		return err
	}
	inTeam := map[string]string{}
	for _, t := range p.Teams {
		for _, u := range o.members[t.TeamID] {
			inTeam[u.ID] = t.TeamID
		}
	}
	deskTeam := p.deskTeam()
	planZone := map[string]bool{}
	for z := range res.RestrictedZones {
		planZone[z] = true
	}
	freeFor := func(d *floorplans.Desk, user string) bool {
		a := assigned[d.ID]
		return d.Bookable && (a == nil || *a == user)
	}
	outside := func(d *floorplans.Desk) bool {
		_, ours := deskTeam[d.ID]
		return !ours && (d.ZoneID == nil || !planZone[*d.ZoneID])
	}
	valid := func(b *booking.Booking, d *floorplans.Desk) bool {
		if t, ok := inTeam[b.UserID]; ok {
			return deskTeam[d.ID] == t && freeFor(d, b.UserID)
		}
		return outside(d) && freeFor(d, b.UserID)
	}
	for i := range bs {
		b := &bs[i]
		d := o.desk[b.ResourceID]
		if d == nil || valid(b, d) {
			continue
		}
		var cands []*floorplans.Desk
		if t, ok := inTeam[b.UserID]; ok {
			for _, tp := range p.Teams {
				if tp.TeamID == t {
					for _, id := range tp.DeskIDs {
						cands = append(cands, o.desk[id])
					}
				}
			}
		} else {
			for k := range o.desks {
				if outside(&o.desks[k]) {
					cands = append(cands, &o.desks[k])
				}
			}
			slices.SortStableFunc(cands, func(a, c *floorplans.Desk) int { // same floor first
				return boolCmp(a.FloorID != d.FloorID, c.FloorID != d.FloorID)
			})
		}
		ch := BookingChange{BookingID: b.ID, UserID: b.UserID, Start: b.StartAt, End: b.EndAt, FromDeskID: d.ID, FromDeskCode: d.Code}
		tries := 0
		for _, c := range cands {
			if c == nil || c.ID == d.ID || !freeFor(c, b.UserID) || c.BookingMode != d.BookingMode || !c.Amenities.Has(d.Amenities...) {
				continue
			}
			var busy int64
			if err := tx.Table("bookings").Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at < ? AND end_at > ?",
				c.ID, b.EndAt, b.StartAt).Count(&busy).Error; err != nil {
				return err
			}
			if busy > 0 {
				continue
			}
			if tries++; tries > 5 {
				break
			}
			desk := c.ID
			err := tx.Transaction(func(sp *gorm.DB) error { // a savepoint: a refused move leaves the rest intact
				_, err := s.bk.UpdateTx(ctx, sp, admin, b.ID, b.Version, booking.Change{ResourceID: &desk, Reason: Reason})
				return err
			})
			if err == nil {
				ch.Action, ch.ToDeskID, ch.ToDeskCode = "moved", c.ID, c.Code
				break
			}
			if code := perch.ErrorCode(err); code == perch.EINTERNAL || code == perch.EUNAVAILABLE {
				return err
			}
		}
		if ch.Action == "" {
			if _, err := s.bk.CancelTx(tx, admin, b.ID, Reason); err != nil {
				return err
			}
			ch.Action = "cancelled"
			res.Cancelled++
		} else {
			res.Moved++
		}
		res.Bookings = append(res.Bookings, ch)
	}
	return nil
}

package moves

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/users"
)

// Edit is a planner's change to a draft. Nil fields stay as they are.
type Edit struct {
	Name          *string
	EffectiveDate *string
	// Teams gives teams other desks: each entry replaces the team's run
	// with DeskIDs, or with every bookable desk of ZoneIDs; the desks are
	// taken away from any other team of the plan.
	Teams []TeamEdit
	// Pins, when set, replaces the planner's pins (accessibility pins stay).
	Pins *[]PinEdit
}

// TeamEdit moves one team.
type TeamEdit struct {
	TeamID  string   `json:"team_id"`
	DeskIDs []string `json:"desk_ids,omitempty"`
	ZoneIDs []string `json:"zone_ids,omitempty"`
}

// PinEdit pins a person to a desk.
type PinEdit struct {
	UserID string `json:"user_id"`
	DeskID string `json:"desk_id"`
}

// Update applies a planner's edit to a draft.
func (s *Service) Update(ctx context.Context, id string, e Edit) (*Plan, error) {
	var out *Plan
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		row, err := getRow(tx, id, true)
		if err != nil {
			return err
		}
		if row.Status != StatusDraft {
			return perch.Errorf(perch.ECONFLICT, "The plan was applied and can no longer be changed.")
		}
		pl, err := row.plan()
		if err != nil {
			return err
		}
		if e.Name != nil {
			pl.Name = strings.TrimSpace(*e.Name)
			if err := users.CheckName("name", pl.Name, 200); err != nil {
				return err
			}
		}
		if e.EffectiveDate != nil {
			if _, err := booking.ParseDate(*e.EffectiveDate); err != nil {
				return perch.Invalid("effective_date", "effective_date must be a day like 2026-06-01")
			}
			pl.EffectiveDate = *e.EffectiveDate
		}
		o, err := loadOffice(tx, pl.SiteID, pl.Proposal.teamIDs())
		if err != nil {
			return err
		}
		if err := o.edit(&pl.Proposal, e); err != nil {
			return err
		}
		o.recount(&pl.Proposal)
		now := s.now().UTC().Truncate(time.Microsecond)
		res := tx.Model(&planRow{}).Where("id = ? AND version = ?", id, row.Version).Updates(map[string]any{
			"name": pl.Name, "effective_date": pl.EffectiveDate, "proposal": toJSON(pl.Proposal),
			"version": row.Version + 1, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.ECONFLICT, "The plan changed while you edited it; read it again.")
		}
		pl.Version, pl.UpdatedAt = row.Version+1, now
		out = pl
		return nil
	})
	return out, err
}

// edit checks the edit's ids against the office and applies it.
func (o *office) edit(p *Proposal, e Edit) error {
	if len(e.Teams) > MaxTeams {
		return perch.Invalid("teams", "at most %d teams per edit", MaxTeams)
	}
	for i, te := range e.Teams {
		f := fmt.Sprintf("teams[%d]", i)
		ti := slices.IndexFunc(p.Teams, func(t TeamPlan) bool { return t.TeamID == te.TeamID })
		if ti < 0 {
			return perch.Invalid(f+".team_id", "team %q is not a team of this plan", te.TeamID)
		}
		if (len(te.DeskIDs) == 0) == (len(te.ZoneIDs) == 0) {
			return perch.Invalid(f+".desk_ids", "name desk_ids or zone_ids (one of them)")
		}
		var desks []string
		if len(te.DeskIDs) > 0 {
			if len(te.DeskIDs) > 10000 {
				return perch.Invalid(f+".desk_ids", "at most 10000 desks")
			}
			for j, id := range te.DeskIDs {
				d := o.desk[id]
				if d == nil {
					return perch.Invalid(fmt.Sprintf("%s.desk_ids[%d]", f, j), "desk %q is not a desk of this site", id)
				}
				if slices.Contains(desks, id) {
					return perch.Invalid(fmt.Sprintf("%s.desk_ids[%d]", f, j), "desk %s is named twice", d.Code)
				}
				desks = append(desks, id)
			}
		} else {
			if err := checkIDs(f+".zone_ids", te.ZoneIDs); err != nil {
				return err
			}
			for j, id := range te.ZoneIDs {
				if o.zones[id] == nil {
					return perch.Invalid(fmt.Sprintf("%s.zone_ids[%d]", f, j), "zone %s is not a zone of this site", id)
				}
			}
			for k := range o.desks {
				d := &o.desks[k]
				if d.ZoneID != nil && slices.Contains(te.ZoneIDs, *d.ZoneID) && d.Bookable && !accessibleHeld(d) {
					desks = append(desks, d.ID)
				}
			}
		}
		for k := range p.Teams {
			p.Teams[k].DeskIDs = slices.DeleteFunc(p.Teams[k].DeskIDs, func(id string) bool { return slices.Contains(desks, id) })
		}
		p.Teams[ti].DeskIDs = desks
	}
	if e.Pins != nil {
		if len(*e.Pins) > 10000 {
			return perch.Invalid("pins", "at most 10000 pins")
		}
		keep := []Pin{}
		for _, pn := range p.Pins {
			if pn.Kind == PinAccessibility {
				keep = append(keep, pn)
			}
		}
		teamOf := map[string]string{}
		for _, t := range p.Teams {
			for _, u := range o.members[t.TeamID] {
				teamOf[u.ID] = t.TeamID
			}
		}
		for i, pe := range *e.Pins {
			f := fmt.Sprintf("pins[%d]", i)
			t, ok := teamOf[pe.UserID]
			if !ok {
				return perch.Invalid(f+".user_id", "user %q is not a member of a team of this plan", pe.UserID)
			}
			d := o.desk[pe.DeskID]
			if d == nil {
				return perch.Invalid(f+".desk_id", "desk %q is not a desk of this site", pe.DeskID)
			}
			if slices.ContainsFunc(keep, func(p Pin) bool { return p.UserID == pe.UserID && p.Kind == PinPlanner }) {
				return perch.Invalid(f+".user_id", "a person is pinned to one desk")
			}
			keep = append(keep, o.pin(d, pe.UserID, t, PinPlanner))
		}
		p.Pins = keep
	}
	return nil
}

// Finding is one thing validate found. Severity "error" blocks apply;
// "warning" says what apply will do or what the plan lacks.
type Finding struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	TeamID   string `json:"team_id,omitempty"`
	DeskID   string `json:"desk_id,omitempty"`
	UserID   string `json:"user_id,omitempty"`
}

// Validation is validate's answer.
type Validation struct {
	OK       bool      `json:"ok"`
	Errors   int       `json:"errors"`
	Warnings int       `json:"warnings"`
	Findings []Finding `json:"findings"`
}

// Validate checks a plan against the office as it is now.
func (s *Service) Validate(ctx context.Context, id string) (*Validation, error) {
	pl, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	o, err := loadOffice(s.db.Conn(ctx), pl.SiteID, pl.Proposal.teamIDs())
	if err != nil {
		return nil, err
	}
	return o.validate(&pl.Proposal), nil
}

// validate: capacity (shortfalls), desks that no longer exist or are not
// bookable, desks given twice, accessibility desks kept by their holders,
// planner pins inside the person's team's desks, and the assigned desks
// apply will change.
func (o *office) validate(p *Proposal) *Validation {
	v := &Validation{Findings: []Finding{}}
	add := func(sev, code, team, desk, user, format string, args ...any) {
		v.Findings = append(v.Findings, Finding{Severity: sev, Code: code, Message: fmt.Sprintf(format, args...), TeamID: team, DeskID: desk, UserID: user})
		if sev == "error" {
			v.Errors++
		} else {
			v.Warnings++
		}
	}
	name := func(uid string) string {
		if u := o.person[uid]; u != nil {
			return u.Name
		}
		return uid
	}
	inTeam := map[string]string{} // user → plan team
	for _, t := range p.Teams {
		for _, u := range o.members[t.TeamID] {
			inTeam[u.ID] = t.TeamID
		}
	}
	owner := map[string]string{} // desk → team holding it in a run
	for _, t := range p.Teams {
		if t.Shortfall > 0 {
			add("warning", "shortfall", t.TeamID, "", "", "%s gets %d desks for a demand of %d (short by %d).", t.TeamName, t.Desks, t.Demand, t.Shortfall)
		}
		for _, id := range t.DeskIDs {
			d := o.desk[id]
			if d == nil {
				add("error", "desk_missing", t.TeamID, id, "", "A desk of %s no longer exists.", t.TeamName)
				continue
			}
			if prev, ok := owner[id]; ok {
				add("error", "desk_twice", t.TeamID, id, "", "%s is given to two teams (%s and %s).", d.Code, o.teams[prev].Name, t.TeamName)
				continue
			}
			owner[id] = t.TeamID
			if !d.Bookable {
				add("error", "desk_not_bookable", t.TeamID, id, "", "%s is not bookable.", d.Code)
			}
			if d.AssignedUserID != nil && inTeam[*d.AssignedUserID] != t.TeamID {
				if accessibleHeld(d) {
					add("error", "accessibility_desk", t.TeamID, id, *d.AssignedUserID,
						"%s is an accessible desk assigned to %s; it stays with them and cannot go to %s.", d.Code, name(*d.AssignedUserID), t.TeamName)
				} else {
					add("warning", "assigned_desk", t.TeamID, id, *d.AssignedUserID,
						"%s is assigned to %s; applying the plan removes the assignment so %s can use it.", d.Code, name(*d.AssignedUserID), t.TeamName)
				}
			}
		}
	}
	pinned := map[string]string{} // desk → user
	for _, pn := range p.Pins {
		d := o.desk[pn.DeskID]
		if d == nil {
			add("error", "desk_missing", pn.TeamID, pn.DeskID, pn.UserID, "The desk pinned to %s no longer exists.", name(pn.UserID))
			continue
		}
		if u, ok := pinned[pn.DeskID]; ok && u != pn.UserID {
			add("error", "desk_twice", pn.TeamID, pn.DeskID, pn.UserID, "%s is pinned to both %s and %s.", d.Code, name(u), name(pn.UserID))
			continue
		}
		pinned[pn.DeskID] = pn.UserID
		if pn.Kind == PinAccessibility {
			if d.AssignedUserID == nil || *d.AssignedUserID != pn.UserID {
				add("warning", "accessibility_desk", pn.TeamID, pn.DeskID, pn.UserID, "%s is no longer assigned to %s.", d.Code, name(pn.UserID))
			}
			continue
		}
		if accessibleHeld(d) && *d.AssignedUserID != pn.UserID {
			add("error", "accessibility_desk", pn.TeamID, pn.DeskID, pn.UserID,
				"%s is an accessible desk assigned to %s; it cannot be pinned to %s.", d.Code, name(*d.AssignedUserID), name(pn.UserID))
			continue
		}
		if owner[pn.DeskID] != pn.TeamID {
			add("error", "pin_outside_team", pn.TeamID, pn.DeskID, pn.UserID,
				"%s is pinned to %s, which is not among the desks of their team.", name(pn.UserID), d.Code)
		}
	}
	// Assigned desks of moving people outside their team's new desks.
	for i := range o.desks {
		d := &o.desks[i]
		if d.AssignedUserID == nil || accessibleHeld(d) {
			continue
		}
		t, ok := inTeam[*d.AssignedUserID]
		if !ok || owner[d.ID] == t {
			continue
		}
		if _, taken := owner[d.ID]; taken {
			continue // reported above
		}
		add("warning", "assigned_desk", t, d.ID, *d.AssignedUserID,
			"%s is assigned to %s, outside their team's new desks; applying the plan removes the assignment.", d.Code, name(*d.AssignedUserID))
	}
	v.OK = v.Errors == 0
	return v
}

// Simulation replays the basis window against the plan.
type Simulation struct {
	Basis Basis `json:"basis"`
	// Days: the open days replayed.
	Days  int        `json:"days"`
	Teams []TeamSim  `json:"teams"`
	Over  []OverDay  `json:"over_capacity"`
	Daily []DailySim `json:"daily"`
}

// TeamSim is one team's summary.
type TeamSim struct {
	TeamID    string `json:"team_id"`
	TeamName  string `json:"team_name"`
	Desks     int    `json:"desks"`
	MaxPeak   int    `json:"max_peak"`
	MaxDay    string `json:"max_day"`
	DaysOver  int    `json:"days_over"`
	WorstOver int    `json:"worst_over"`
}

// OverDay is one team over its desks on one day.
type OverDay struct {
	Date     string `json:"date"`
	TeamID   string `json:"team_id"`
	TeamName string `json:"team_name"`
	Peak     int    `json:"peak"`
	Desks    int    `json:"desks"`
	Over     int    `json:"over"`
}

// DailySim is one open day: the teams' peaks (in plan order).
type DailySim struct {
	Date  string `json:"date"`
	Peaks []int  `json:"peaks"`
}

// Simulate replays each open day of the basis window — every team's peak
// presence that day — against the desks the plan gives the team.
func (s *Service) Simulate(ctx context.Context, id string) (*Simulation, error) {
	pl, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	from, err1 := booking.ParseDate(pl.Request.Basis.From)
	to, err2 := booking.ParseDate(pl.Request.Basis.To)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("move plan %s: stored basis does not parse", id)
	}
	open, err := s.openDays(ctx, pl.SiteID, from, to)
	if err != nil {
		return nil, err
	}
	peaks, err := s.rp.TeamDailyPeaks(ctx, pl.SiteID, from, to)
	if err != nil {
		return nil, err
	}
	idx := map[string]int{}
	sim := &Simulation{Basis: pl.Request.Basis, Teams: []TeamSim{}, Over: []OverDay{}, Daily: []DailySim{}}
	for i, t := range pl.Proposal.Teams {
		idx[t.TeamID] = i
		sim.Teams = append(sim.Teams, TeamSim{TeamID: t.TeamID, TeamName: t.TeamName, Desks: t.Desks})
	}
	days := map[booking.Date]int{}
	for d := from; !d.After(to); d = d.AddDays(1) {
		if open[d] {
			days[d] = len(sim.Daily)
			sim.Daily = append(sim.Daily, DailySim{Date: d.String(), Peaks: make([]int, len(sim.Teams))})
		}
	}
	sim.Days = len(sim.Daily)
	for _, p := range peaks {
		i, ok := idx[p.TeamID]
		di, open := days[p.Date]
		if !ok || !open {
			continue
		}
		sim.Daily[di].Peaks[i] = p.Peak
	}
	for _, day := range sim.Daily {
		for i, peak := range day.Peaks {
			ts := &sim.Teams[i]
			if peak > ts.MaxPeak {
				ts.MaxPeak, ts.MaxDay = peak, day.Date
			}
			if peak > ts.Desks {
				ts.DaysOver++
				ts.WorstOver = max(ts.WorstOver, peak-ts.Desks)
				sim.Over = append(sim.Over, OverDay{Date: day.Date, TeamID: ts.TeamID, TeamName: ts.TeamName, Peak: peak, Desks: ts.Desks, Over: peak - ts.Desks})
			}
		}
	}
	return sim, nil
}

// siteToday is the site's local date now.
func (s *Service) siteToday(o *office) (booking.Date, error) {
	loc, err := o.site.Location()
	if err != nil {
		return booking.Date{}, err
	}
	return booking.DateOf(s.now().In(loc)), nil
}

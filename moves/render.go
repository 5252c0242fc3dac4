package moves

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/perch-hq/perch"
)

// palette colours teams in plan order (colour-blind friendly Tableau 10).
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

// row is one desk of the plan, for the export.
type exportRow struct {
	team, person, floor, zone, desk string
}

// Export writes the plan as CSV: team, person (where pinned), floor, zone,
// desk — one line per desk a team gets, in the desks' plan order.
func (s *Service) Export(ctx context.Context, id string, w io.Writer) error {
	pl, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	o, err := loadOffice(s.db.Conn(ctx), pl.SiteID, pl.Proposal.teamIDs())
	if err != nil {
		return err
	}
	pinned := map[string]string{}
	for _, pn := range pl.Proposal.Pins {
		pinned[pn.DeskID] = pn.UserName
	}
	team := pl.Proposal.deskTeam()
	names := map[string]string{}
	for _, t := range pl.Proposal.Teams {
		names[t.TeamID] = t.TeamName
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"team", "person", "floor", "zone", "desk"})
	for i := range o.desks {
		d := &o.desks[i]
		t, ok := team[d.ID]
		if !ok {
			continue
		}
		r := exportRow{team: names[t], person: pinned[d.ID], desk: d.Code}
		if f := o.floors[d.FloorID]; f != nil {
			r.floor = f.Name
		}
		if d.ZoneID != nil && o.zones[*d.ZoneID] != nil {
			r.zone = o.zones[*d.ZoneID].Name
		}
		_ = cw.Write([]string{csvSafe(r.team), csvSafe(r.person), csvSafe(r.floor), csvSafe(r.zone), csvSafe(r.desk)})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// FloorSVG draws one floor of the plan: every desk coloured by the team
// that gets it (grey: no team), pinned desks ringed, rooms outlined, and a
// legend naming the teams with their desks. floorID "" draws the first
// floor (by level) holding desks of the plan.
func (s *Service) FloorSVG(ctx context.Context, id, floorID string) ([]byte, error) {
	pl, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	o, err := loadOffice(s.db.Conn(ctx), pl.SiteID, pl.Proposal.teamIDs())
	if err != nil {
		return nil, err
	}
	team := pl.Proposal.deskTeam()
	if floorID == "" {
		for i := range o.desks { // desks are ordered by floor level
			if _, ok := team[o.desks[i].ID]; ok {
				floorID = o.desks[i].FloorID
				break
			}
		}
	}
	f := o.floors[floorID]
	if f == nil {
		return nil, invalidFloor()
	}
	color := map[string]string{}
	for i, t := range pl.Proposal.Teams {
		color[t.TeamID] = palette[i%len(palette)]
	}
	pinned := map[string]string{}
	for _, pn := range pl.Proposal.Pins {
		pinned[pn.DeskID] = pn.UserName
	}
	const width = 960.0
	scale := width / f.Width
	planH := f.Height * scale
	legendH := 30 + 22*float64(len(pl.Proposal.Teams)+1)
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12" role="img" aria-labelledby="title">`+"\n",
		width, planH+legendH+40, width, planH+legendH+40)
	fmt.Fprintf(&b, `<title id="title">%s — %s, %s (effective %s, %s)</title>`+"\n", esc(pl.Name), esc(o.site.Name), esc(f.Name), esc(pl.EffectiveDate), esc(pl.Status))
	fmt.Fprintf(&b, `<text x="8" y="20" font-size="15" font-weight="bold">%s — %s (effective %s, %s)</text>`+"\n", esc(pl.Name), esc(f.Name), esc(pl.EffectiveDate), esc(pl.Status))
	fmt.Fprintf(&b, `<g transform="translate(0,32)"><rect x="0" y="0" width="%.1f" height="%.1f" fill="#fafafa" stroke="#999"/>`+"\n", width, planH)
	for _, r := range o.rooms {
		if r.FloorID != f.ID {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#bbb"/><text x="%.1f" y="%.1f" fill="#888">%s</text>`+"\n",
			r.X*scale, r.Y*scale, r.Width*scale, r.Height*scale, r.X*scale+4, r.Y*scale+14, esc(r.Name))
	}
	rad := max(4, min(12, 60*scale))
	for i := range o.desks {
		d := &o.desks[i]
		if d.FloorID != f.ID {
			continue
		}
		fill, label := "#d9d9d9", "no team"
		if t, ok := team[d.ID]; ok {
			fill = color[t]
			label = teamName(pl, t)
		}
		stroke := ""
		if p, ok := pinned[d.ID]; ok {
			stroke = ` stroke="#000" stroke-width="2"`
			label += ", pinned: " + p
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s"%s><title>%s — %s</title></circle>`+"\n",
			d.X*scale, d.Y*scale, rad, fill, stroke, esc(d.Code), esc(label))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="8" text-anchor="middle">%s</text>`+"\n", d.X*scale, d.Y*scale+rad+9, esc(d.Code))
	}
	b.WriteString("</g>\n")
	y := planH + 52
	fmt.Fprintf(&b, `<g transform="translate(8,%.1f)"><text x="0" y="0" font-weight="bold">Teams</text>`+"\n", y)
	for i, t := range pl.Proposal.Teams {
		ly := 20 + 22*float64(i)
		fmt.Fprintf(&b, `<rect x="0" y="%.1f" width="14" height="14" fill="%s"/><text x="20" y="%.1f">%s — %d desks for demand %d, %d members (ratio %.2f)%s</text>`+"\n",
			ly-11, color[t.TeamID], ly, esc(t.TeamName), t.Desks, t.Demand, t.Members, t.DeskRatio, shortNote(t.Shortfall))
	}
	ly := 20 + 22*float64(len(pl.Proposal.Teams))
	fmt.Fprintf(&b, `<rect x="0" y="%.1f" width="14" height="14" fill="#d9d9d9"/><text x="20" y="%.1f">No team (ringed desks: a person is pinned)</text>`+"\n", ly-11, ly)
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes(), nil
}

func teamName(pl *Plan, id string) string {
	i := slices.IndexFunc(pl.Proposal.Teams, func(t TeamPlan) bool { return t.TeamID == id })
	if i < 0 {
		return id
	}
	return pl.Proposal.Teams[i].TeamName
}

func shortNote(n int) string {
	if n > 0 {
		return fmt.Sprintf(", short by %d", n)
	}
	return ""
}

func invalidFloor() error {
	return perch.Invalid("floor_id", "floor_id must be a floor of the plan's site")
}

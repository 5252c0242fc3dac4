package reports

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
)

// CSV writes the occupancy report, one row per bucket and group.
func (r *Occupancy) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"start", "end", "group_id", "group_name", "peak", "mean", "person_hours"})
	for _, row := range r.Rows {
		_ = cw.Write([]string{row.Start.Format(time.RFC3339), row.End.Format(time.RFC3339), row.GroupID, safeCell(r.groupName(row.GroupID)),
			strconv.Itoa(row.Peak), num(row.Mean), num(row.PersonHours)})
	}
	cw.Flush()
	return cw.Error()
}

// CSV writes the utilisation report, one row per resource, zone or floor;
// a rate without a denominator is an empty field.
func (r *Utilisation) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"group_id", "name", "resources", "capacity", "bookable_hours", "booked_hours", "checked_in_hours",
		"booked_rate", "checked_in_rate", "bookings", "no_shows", "no_show_rate", "check_ins", "walk_ups", "walk_up_share", "median_lead_hours"})
	for _, x := range r.Rows {
		_ = cw.Write([]string{x.GroupID, safeCell(x.Name), strconv.Itoa(x.Resources), strconv.Itoa(x.Capacity), num(x.BookableHours),
			num(x.BookedHours), num(x.CheckedInHours), opt(x.BookedRate), opt(x.CheckedInRate), strconv.Itoa(x.Bookings),
			strconv.Itoa(x.NoShows), opt(x.NoShowRate), strconv.Itoa(x.CheckIns), strconv.Itoa(x.WalkUps), opt(x.WalkUpShare), opt(x.MedianLeadHours)})
	}
	cw.Flush()
	return cw.Error()
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func opt(v *float64) string {
	if v == nil {
		return ""
	}
	return num(*v)
}

// safeCell keeps a spreadsheet from reading a name as a formula.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// palette is a colour-blind-safe sequential scale (viridis), low to high;
// ink is the text colour readable on each.
var (
	palette = []string{"#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"}
	ink     = []string{"#ffffff", "#ffffff", "#ffffff", "#000000", "#000000"}
)

// shade picks the palette step of v in [0, top].
func shade(v, top float64) int {
	if top <= 0 || v <= 0 {
		return 0
	}
	i := int(v / top * float64(len(palette)))
	return min(max(i, 0), len(palette)-1)
}

func esc(s string) string { return html.EscapeString(s) }

// legend draws the colour steps with their number ranges at (x, y).
func legend(b *bytes.Buffer, x, y float64, top float64, unit string, size float64) {
	fmt.Fprintf(b, `<g class="legend" font-size="%g"><text x="%g" y="%g">Legend (%s)</text>`, size, x, y, esc(unit))
	step := top / float64(len(palette))
	for i, c := range palette {
		yy := y + size*0.6 + float64(i)*size*1.4
		lo, hi := step*float64(i), step*float64(i+1)
		fmt.Fprintf(b, `<rect x="%g" y="%g" width="%g" height="%g" fill="%s" stroke="#333"/><text x="%g" y="%g">%s – %s</text>`,
			x, yy, size, size, c, x+size*1.5, yy+size*0.85, trim(lo), trim(hi))
	}
	b.WriteString(`</g>`)
}

func trim(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

var weekdays = []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}

// Heatmap renders the mean peak presence per local hour of day (columns)
// and weekday (rows) of an hourly occupancy report (no breakdown), each
// cell labelled with its number.
func (r *Occupancy) Heatmap() ([]byte, error) {
	if r.Bucket != Hour {
		return nil, perch.Invalid("bucket", "the heatmap needs hour buckets")
	}
	var sum [7][24]float64
	var cnt [7][24]int
	for _, row := range r.Rows {
		wd := (int(row.Start.Weekday()) + 6) % 7
		h := row.Start.Hour()
		sum[wd][h] += float64(row.Peak)
		cnt[wd][h]++
	}
	var avg [7][24]float64
	top := 1.0
	for d := range 7 {
		for h := range 24 {
			if cnt[d][h] > 0 {
				avg[d][h] = sum[d][h] / float64(cnt[d][h])
				top = math.Max(top, avg[d][h])
			}
		}
	}
	top = math.Ceil(top)
	const cw, ch, left, head = 40.0, 30.0, 50.0, 60.0
	width, height := left+24*cw+160, head+7*ch+40
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="t d" font-family="sans-serif">`, width, height, width, height)
	fmt.Fprintf(&b, `<title id="t">Occupancy heatmap: people present by hour and weekday</title>`)
	fmt.Fprintf(&b, `<desc id="d">Mean of the hourly peak of people present, per weekday (rows) and local hour (columns), %s. Each cell shows its number.</desc>`, esc(r.describe()))
	fmt.Fprintf(&b, `<text x="%g" y="20" font-size="16">People present by hour and weekday (mean hourly peak), %s</text>`, left, esc(r.describe()))
	for h := range 24 {
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" text-anchor="middle">%02d</text>`, left+float64(h)*cw+cw/2, head-8, h)
	}
	for d := range 7 {
		y := head + float64(d)*ch
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12">%s</text>`, 8.0, y+ch*0.65, weekdays[d])
		for h := range 24 {
			x := left + float64(h)*cw
			i := shade(avg[d][h], top)
			label := trim(math.Round(avg[d][h]*10) / 10)
			fmt.Fprintf(&b, `<g><title>%s %02d:00: %s people</title><rect x="%g" y="%g" width="%g" height="%g" fill="%s" stroke="#fff"/>`+
				`<text x="%g" y="%g" font-size="10" text-anchor="middle" fill="%s">%s</text></g>`,
				weekdays[d], h, label, x, y, cw, ch, palette[i], x+cw/2, y+ch*0.62, ink[i], label)
		}
	}
	legend(&b, left+24*cw+15, head, top, "people", 14)
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}

// DailyChart renders a daily occupancy report (no breakdown) as a line
// chart of the daily peak and mean, with labelled axes and every point's
// numbers in its tooltip.
func (r *Occupancy) DailyChart() ([]byte, error) {
	if r.Bucket != Day {
		return nil, perch.Invalid("bucket", "the daily chart needs day buckets")
	}
	const left, right, top0, bottom, width, height = 60.0, 140.0, 40.0, 50.0, 900.0, 360.0
	n := len(r.Rows)
	maxV := 1.0
	for _, row := range r.Rows {
		maxV = math.Max(maxV, float64(row.Peak))
	}
	maxV = math.Ceil(maxV/5) * 5
	pw, ph := width-left-right, height-top0-bottom
	x := func(i int) float64 {
		if n <= 1 {
			return left + pw/2
		}
		return left + pw*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return top0 + ph*(1-v/maxV) }
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="%g" height="%g" role="img" aria-labelledby="t d" font-family="sans-serif">`, width, height, width, height)
	b.WriteString(`<title id="t">Daily occupancy: peak and mean people present per day</title>`)
	fmt.Fprintf(&b, `<desc id="d">Line chart, %s: the solid line is the most people present at once each day, the dashed line the mean over the day. Each point's tooltip gives its numbers.</desc>`, esc(r.describe()))
	fmt.Fprintf(&b, `<text x="%g" y="22" font-size="16">People present per day, %s</text>`, left, esc(r.describe()))
	for k := 0; k <= 5; k++ {
		v := maxV * float64(k) / 5
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="#ddd"/><text x="%g" y="%g" font-size="11" text-anchor="end">%s</text>`,
			left, left+pw, y(v), y(v), left-6, y(v)+4, trim(v))
	}
	fmt.Fprintf(&b, `<text x="14" y="%g" font-size="12" transform="rotate(-90 14 %g)" text-anchor="middle">people</text>`, top0+ph/2, top0+ph/2)
	every := max(1, n/10)
	var peak, mean strings.Builder
	for i, row := range r.Rows {
		fmt.Fprintf(&peak, "%g,%g ", x(i), y(float64(row.Peak)))
		fmt.Fprintf(&mean, "%g,%g ", x(i), y(row.Mean))
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="11" text-anchor="middle">%s</text>`, x(i), top0+ph+18, row.Start.Format("Jan 2"))
		}
	}
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.TrimSpace(peak.String()), palette[1])
	fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`, strings.TrimSpace(mean.String()), palette[2])
	for i, row := range r.Rows {
		fmt.Fprintf(&b, `<circle cx="%g" cy="%g" r="3" fill="%s"><title>%s: peak %d, mean %.1f people</title></circle>`,
			x(i), y(float64(row.Peak)), palette[1], row.Start.Format("Mon 2 Jan 2006"), row.Peak, row.Mean)
	}
	lx := left + pw + 15
	fmt.Fprintf(&b, `<g font-size="12"><line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="2"/><text x="%g" y="%g">peak</text>`,
		lx, lx+24, top0+10, top0+10, palette[1], lx+30, top0+14)
	fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/><text x="%g" y="%g">mean</text></g>`,
		lx, lx+24, top0+30, top0+30, palette[2], lx+30, top0+34)
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}

// FloorMap renders a floor plan with each bookable desk and room coloured
// by its checked-in rate (checked-in hours ÷ bookable hours) over the
// window, labelled with its code and percentage, with a legend.
func (s *Service) FloorMap(ctx context.Context, floorID string, w Window) ([]byte, error) {
	f, err := s.fp.GetFloor(ctx, floorID)
	if err != nil {
		return nil, err
	}
	desks, rooms, err := s.fp.FloorResources(ctx, floorID)
	if err != nil {
		return nil, err
	}
	rate := map[string]*float64{}
	for _, rt := range []booking.ResourceType{booking.Desk, booking.Room} {
		u, err := s.Utilisation(ctx, UtilisationQuery{Scope: Scope{FloorID: floorID}, Window: w, ResourceType: rt, GroupBy: ByResource})
		if err != nil {
			return nil, err
		}
		for _, row := range u.Rows {
			rate[row.GroupID] = row.CheckedInRate
		}
	}
	pct := func(id string) (string, int, string) {
		v, ok := rate[id]
		if !ok || v == nil {
			return "not bookable", -1, "#cccccc"
		}
		p := *v * 100
		i := shade(p, 100)
		return fmt.Sprintf("%.0f%%", p), i, palette[i]
	}
	side := f.Width * 0.22
	fs := math.Max(f.Width, f.Height) / 80
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %g %g" width="1000" role="img" aria-labelledby="t d" font-family="sans-serif">`,
		f.Width+side, f.Height+fs*3)
	fmt.Fprintf(&b, `<title id="t">Utilisation of %s</title>`, esc(f.Name))
	fmt.Fprintf(&b, `<desc id="d">Floor plan of %s; each desk and room is coloured by checked-in hours as a share of bookable hours from %s to %s, and labelled with its code and percentage.</desc>`,
		esc(f.Name), w.From, w.To)
	fmt.Fprintf(&b, `<text x="0" y="%g" font-size="%g">%s: checked-in hours ÷ bookable hours, %s to %s</text>`, fs*1.5, fs*1.4, esc(f.Name), w.From, w.To)
	fmt.Fprintf(&b, `<g transform="translate(0 %g)"><rect x="0" y="0" width="%g" height="%g" fill="#fafafa" stroke="#333"/>`, fs*3, f.Width, f.Height)
	for _, r := range rooms {
		label, i, c := pct(r.ID)
		fg := "#000000"
		if i >= 0 {
			fg = ink[i]
		}
		fmt.Fprintf(&b, `<g><title>Room %s (%d seats): %s</title><rect x="%g" y="%g" width="%g" height="%g" fill="%s" stroke="#333"/>`+
			`<text x="%g" y="%g" font-size="%g" text-anchor="middle" fill="%s">%s %s</text></g>`,
			esc(r.Name), r.Capacity, label, r.X, r.Y, r.Width, r.Height, c, r.X+r.Width/2, r.Y+r.Height/2, fs, fg, esc(r.Name), label)
	}
	for _, d := range desks {
		label, i, c := pct(d.ID)
		fg := "#000000"
		if i >= 0 {
			fg = ink[i]
		}
		rad := fs * 1.6
		fmt.Fprintf(&b, `<g><title>Desk %s: %s</title><circle cx="%g" cy="%g" r="%g" fill="%s" stroke="#333"/>`+
			`<text x="%g" y="%g" font-size="%g" text-anchor="middle" fill="%s">%s</text>`+
			`<text x="%g" y="%g" font-size="%g" text-anchor="middle">%s</text></g>`,
			esc(d.Code), label, d.X, d.Y, rad, c, d.X, d.Y+fs*0.35, fs*0.8, fg, label, d.X, d.Y+rad+fs, fs*0.8, esc(d.Code))
	}
	b.WriteString(`</g>`)
	legend(&b, f.Width+fs*2, fs*5, 100, "% of bookable hours checked in", fs*1.2)
	fmt.Fprintf(&b, `<g font-size="%g"><rect x="%g" y="%g" width="%g" height="%g" fill="#cccccc" stroke="#333"/><text x="%g" y="%g">not bookable</text></g>`,
		fs*1.2, f.Width+fs*2, fs*5+fs*1.2*0.6+5*fs*1.2*1.4, fs*1.2, fs*1.2, f.Width+fs*2+fs*1.8, fs*5+fs*1.2*0.6+5*fs*1.2*1.4+fs)
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}

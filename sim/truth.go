package sim

import (
	"slices"
	"time"
)

// Occupancy is the ground truth of presence over [from, to) among the stays
// keep selects (nil: all): the most people present at once (a person with
// overlapping stays counts once) and the person-seconds present. It is
// computed the plain way — every instant a stay starts is a candidate for
// the peak — so it shares nothing with the reports' SQL.
func (t *Truth) Occupancy(from, to time.Time, keep func(*Stay) bool) (peak int, personSeconds float64) {
	byUser := map[string][][2]time.Time{}
	for i := range t.Stays {
		s := &t.Stays[i]
		if (keep != nil && !keep(s)) || !s.In.Before(to) || !s.Out.After(from) || !s.Out.After(s.In) {
			continue
		}
		byUser[s.UserID] = append(byUser[s.UserID], [2]time.Time{s.In, s.Out})
	}
	var merged [][2]time.Time
	for _, iv := range byUser {
		slices.SortFunc(iv, func(a, b [2]time.Time) int { return a[0].Compare(b[0]) })
		cur := iv[0]
		for _, x := range iv[1:] {
			if x[0].Before(cur[1]) {
				if x[1].After(cur[1]) {
					cur[1] = x[1]
				}
				continue
			}
			merged = append(merged, cur)
			cur = x
		}
		merged = append(merged, cur)
	}
	points := []time.Time{from}
	for _, m := range merged {
		if !m[0].Before(from) && m[0].Before(to) {
			points = append(points, m[0])
		}
		s, e := m[0], m[1]
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		personSeconds += e.Sub(s).Seconds()
	}
	for _, p := range points {
		n := 0
		for _, m := range merged {
			if !m[0].After(p) && m[1].After(p) {
				n++
			}
		}
		peak = max(peak, n)
	}
	return peak, personSeconds
}

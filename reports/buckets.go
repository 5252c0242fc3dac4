package reports

import (
	"time"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
)

// Bucket sizes.
const (
	Hour = "hour"
	Day  = "day"
	Week = "week"
)

// Bucket is one period of a report, [Start, End) in the site's zone.
type Bucket struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Buckets splits the window's local days into buckets:
//   - day: each local day, from local midnight to the next (23 or 25 hours
//     when the clocks change);
//   - hour: each local day split into real hours from its midnight, so a
//     day has 23, 24 or 25 hour buckets;
//   - week: weeks starting on Monday, the first and last cut at the window.
func Buckets(w Window, size string, loc *time.Location) ([]Bucket, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	days := booking.DaysBetween(w.From, w.To) + 1
	var out []Bucket
	switch size {
	case Day, "":
		for i := range days {
			d := w.From.AddDays(i)
			out = append(out, Bucket{d.In(loc), d.AddDays(1).In(loc)})
		}
	case Hour:
		if days*24 > MaxBuckets {
			return nil, perch.Invalid("bucket", "hour buckets cover at most %d days; use day or week", MaxBuckets/25)
		}
		for i := range days {
			d := w.From.AddDays(i)
			start, end := d.In(loc), d.AddDays(1).In(loc)
			for t := start; t.Before(end); t = t.Add(time.Hour) {
				e := t.Add(time.Hour)
				if e.After(end) {
					e = end
				}
				out = append(out, Bucket{t, e})
			}
		}
	case Week:
		d := w.From
		for !d.After(w.To) {
			next := d.AddDays(1)
			for next.Weekday() != time.Monday && !next.After(w.To) {
				next = next.AddDays(1)
			}
			out = append(out, Bucket{d.In(loc), next.In(loc)})
			d = next
		}
	default:
		return nil, perch.Invalid("bucket", "bucket must be hour, day or week")
	}
	return out, nil
}

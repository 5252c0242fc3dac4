package floorplans

import (
	"fmt"
	"math"
	"strings"

	"github.com/perch-hq/perch"
)

// DeskRow describes a straight row of desks to create at once: Count desks
// coded Prefix + a zero-padded number from First, the first at (X, Y) and
// each next one StepX, StepY further on.
type DeskRow struct {
	Prefix    string
	First     int
	Digits    int
	Count     int
	X, Y      float64
	StepX     float64
	StepY     float64
	ZoneID    *string
	Amenities Amenities
	Bookable  bool
	Mode      Mode
}

// MaxRow bounds one bulk create.
const MaxRow = 500

// Desks expands the row into desks (not yet validated against a floor).
func (r DeskRow) Desks() ([]*Desk, error) {
	if r.Count < 1 || r.Count > MaxRow {
		return nil, perch.Invalid("count", "count must be between 1 and %d", MaxRow)
	}
	if r.First < 0 || r.First > 1_000_000 {
		return nil, perch.Invalid("first", "first must be between 0 and 1000000")
	}
	if r.Digits < 0 || r.Digits > 6 {
		return nil, perch.Invalid("digits", "digits must be between 0 and 6")
	}
	if r.Prefix = strings.TrimSpace(r.Prefix); len(r.Prefix) > 20 {
		return nil, perch.Invalid("prefix", "prefix must be at most 20 characters")
	}
	for _, v := range []struct {
		field string
		v     float64
	}{{"step_x", r.StepX}, {"step_y", r.StepY}} {
		if math.IsNaN(v.v) || math.Abs(v.v) > maxPlan {
			return nil, perch.Invalid(v.field, "%s is out of range", v.field)
		}
	}
	desks := make([]*Desk, r.Count)
	for i := range desks {
		desks[i] = &Desk{
			Code:        fmt.Sprintf("%s%0*d", r.Prefix, r.Digits, r.First+i),
			X:           r.X + float64(i)*r.StepX,
			Y:           r.Y + float64(i)*r.StepY,
			ZoneID:      r.ZoneID,
			Amenities:   append(Amenities(nil), r.Amenities...),
			Bookable:    r.Bookable,
			BookingMode: r.Mode,
		}
	}
	return desks, nil
}

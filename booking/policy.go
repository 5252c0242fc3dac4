package booking

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// Policy is a site's booking rules. A site without a stored policy has
// DefaultPolicy. Times of day are wall-clock times in the site's zone.
type Policy struct {
	// Bookable hours: bookings lie inside [BookableFrom, BookableUntil) of
	// one local day. "day" bookings cover exactly these hours, "am" runs
	// to HalfDaySplit and "pm" from it.
	BookableFrom  string `json:"bookable_from"`
	BookableUntil string `json:"bookable_until"`
	HalfDaySplit  string `json:"half_day_split"`
	// Weekdays open for booking ("mon" … "sun").
	Weekdays []string `json:"weekdays"`
	// ClosedDates are holidays (YYYY-MM-DD, local).
	ClosedDates []string `json:"closed_dates"`
	// MaxDaysAhead: how many days ahead of today a booking may start.
	MaxDaysAhead int `json:"max_days_ahead"`
	// MinNoticeMinutes: how long before its start a booking must be made.
	MinNoticeMinutes int `json:"min_notice_minutes"`
	// MinDurationMinutes and MaxDurationMinutes (0: no maximum).
	MinDurationMinutes int `json:"min_duration_minutes"`
	MaxDurationMinutes int `json:"max_duration_minutes"`
	// MaxDeskBookingsPerDay: active desk bookings one person may hold on one day.
	MaxDeskBookingsPerDay int `json:"max_desk_bookings_per_day"`
	// MaxUpcomingBookings one person may hold (0: no limit).
	MaxUpcomingBookings int `json:"max_upcoming_bookings"`
	// CancellationCutoffMinutes: bookings cannot be cancelled later than
	// this long before their start (0: until the start).
	CancellationCutoffMinutes int `json:"cancellation_cutoff_minutes"`
	// ShowBookerToColleagues: whether colleagues see who booked a desk or
	// room (admins and reception always do).
	ShowBookerToColleagues bool `json:"show_booker_to_colleagues"`
	// RestrictedZones maps a zone id to the team ids that may book in it.
	RestrictedZones map[string][]string `json:"restricted_zones"`
	// CheckInOpensMinutesBefore: how early before its start a booking can
	// be checked into.
	CheckInOpensMinutesBefore int `json:"checkin_opens_minutes_before"`
	// NoShowGraceMinutes: a booking not checked into by start + grace is
	// released (0: never released; check-in stays open until the end).
	NoShowGraceMinutes int `json:"no_show_grace_minutes"`
	// WalkUps: scanning a free desk or room without a booking books it
	// (desk: to the end of the day; room: to the next booking) and checks in.
	WalkUps bool `json:"walk_ups"`
}

// DefaultPolicy is the policy of a site that has none stored.
func DefaultPolicy() Policy {
	return Policy{
		BookableFrom:           "07:00",
		BookableUntil:          "20:00",
		HalfDaySplit:           "13:00",
		Weekdays:               []string{"mon", "tue", "wed", "thu", "fri"},
		ClosedDates:            []string{},
		MaxDaysAhead:           28,
		MinDurationMinutes:     15,
		MaxDeskBookingsPerDay:  1,
		ShowBookerToColleagues: true,
		RestrictedZones:        map[string][]string{},
		// Check-in opens 15 minutes before the start; a booking nobody
		// checks into within 15 minutes of its start is released.
		CheckInOpensMinutesBefore: 15,
		NoShowGraceMinutes:        15,
		WalkUps:                   true,
	}
}

var weekdayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// rules is a validated policy in the form the checks use.
type rules struct {
	Policy
	from, until, split Clock
	weekdays           [7]bool
	closed             map[Date]bool
}

// compile validates p and prepares it for checking.
func (p Policy) compile() (*rules, error) {
	r := &rules{Policy: p, closed: map[Date]bool{}}
	var err error
	if r.from, err = ParseClock(p.BookableFrom); err != nil {
		return nil, perch.Invalid("bookable_from", "bookable_from must be a time like 07:00")
	}
	if r.until, err = ParseClock(p.BookableUntil); err != nil {
		return nil, perch.Invalid("bookable_until", "bookable_until must be a time like 20:00 (24:00 for midnight)")
	}
	if r.until <= r.from {
		return nil, perch.Invalid("bookable_until", "bookable_until must be after bookable_from")
	}
	if r.split, err = ParseClock(p.HalfDaySplit); err != nil || r.split <= r.from || r.split >= r.until {
		return nil, perch.Invalid("half_day_split", "half_day_split must be a time between bookable_from and bookable_until")
	}
	if len(p.Weekdays) == 0 {
		return nil, perch.Invalid("weekdays", "weekdays must name at least one day, like [\"mon\", \"tue\"]")
	}
	for _, d := range p.Weekdays {
		i := slices.Index(weekdayNames, strings.ToLower(d))
		if i < 0 {
			return nil, perch.Invalid("weekdays", "weekdays are mon, tue, wed, thu, fri, sat, sun (got %q)", d)
		}
		r.weekdays[i] = true
	}
	if len(p.ClosedDates) > 1000 {
		return nil, perch.Invalid("closed_dates", "at most 1000 closed dates")
	}
	for i, s := range p.ClosedDates {
		d, err := ParseDate(s)
		if err != nil {
			return nil, perch.Invalid(fmt.Sprintf("closed_dates[%d]", i), "closed dates are dates like 2026-12-25 (got %q)", s)
		}
		r.closed[d] = true
	}
	for _, c := range []struct {
		field    string
		v        int
		min, max int
	}{
		{"max_days_ahead", p.MaxDaysAhead, 0, 730},
		{"min_notice_minutes", p.MinNoticeMinutes, 0, 7 * 24 * 60},
		{"min_duration_minutes", p.MinDurationMinutes, 1, 24 * 60},
		{"max_duration_minutes", p.MaxDurationMinutes, 0, 24 * 60},
		{"max_desk_bookings_per_day", p.MaxDeskBookingsPerDay, 1, 48},
		{"max_upcoming_bookings", p.MaxUpcomingBookings, 0, 10000},
		{"cancellation_cutoff_minutes", p.CancellationCutoffMinutes, 0, 7 * 24 * 60},
		{"checkin_opens_minutes_before", p.CheckInOpensMinutesBefore, 0, 240},
		{"no_show_grace_minutes", p.NoShowGraceMinutes, 0, 240},
	} {
		if c.v < c.min || c.v > c.max {
			return nil, perch.Invalid(c.field, "%s must be between %d and %d", c.field, c.min, c.max)
		}
	}
	if p.MaxDurationMinutes != 0 && p.MaxDurationMinutes < p.MinDurationMinutes {
		return nil, perch.Invalid("max_duration_minutes", "max_duration_minutes must be 0 (no limit) or at least min_duration_minutes")
	}
	for zone, teams := range p.RestrictedZones {
		if !database.ValidID(zone) {
			return nil, perch.Invalid("restricted_zones", "restricted_zones keys are zone ids (got %q)", zone)
		}
		if len(teams) == 0 {
			return nil, perch.Invalid("restricted_zones", "zone %s must list at least one team (remove it to open the zone to everyone)", zone)
		}
		for _, t := range teams {
			if !database.ValidID(t) {
				return nil, perch.Invalid("restricted_zones", "restricted_zones values are lists of team ids (got %q)", t)
			}
		}
	}
	return r, nil
}

// normalize returns p with empty lists and maps instead of nil, and
// weekdays lower-cased, so stored and served policies look alike.
func (p Policy) normalize() Policy {
	if p.ClosedDates == nil {
		p.ClosedDates = []string{}
	}
	if p.RestrictedZones == nil {
		p.RestrictedZones = map[string][]string{}
	}
	for i, d := range p.Weekdays {
		p.Weekdays[i] = strings.ToLower(d)
	}
	return p
}

// slot returns the interval of a day or half day on date d in loc.
func (r *rules) slot(d Date, part string, loc *time.Location) (time.Time, time.Time, error) {
	switch part {
	case "", "day":
		return d.At(r.from, loc), d.At(r.until, loc), nil
	case "am":
		return d.At(r.from, loc), d.At(r.split, loc), nil
	case "pm":
		return d.At(r.split, loc), d.At(r.until, loc), nil
	}
	return time.Time{}, time.Time{}, perch.Invalid("part", "part must be day, am or pm")
}

// isSlot reports whether [start, end) is exactly a day or half-day slot.
func (r *rules) isSlot(start, end time.Time, loc *time.Location) bool {
	d := DateOf(start.In(loc))
	for _, part := range []string{"day", "am", "pm"} {
		s, e, _ := r.slot(d, part, loc)
		if s.Equal(start) && e.Equal(end) {
			return true
		}
	}
	return false
}

// policyError is a 422 policy violation with a sentence a person understands.
func policyError(rule, format string, args ...any) *perch.Error {
	return perch.Errorf("policy_"+rule, format, args...)
}

// loadPolicy reads a site's policy (the default when none is stored).
func loadPolicy(tx *gorm.DB, siteID string) (Policy, error) {
	var row struct{ Policy string }
	err := tx.Table("site_policies").Select("policy").Where("site_id = ?", siteID).Take(&row).Error
	if err != nil {
		if perch.ErrorCode(database.Translate(err)) == perch.ENOTFOUND {
			return DefaultPolicy(), nil
		}
		return Policy{}, database.Translate(err)
	}
	return parsePolicy(row.Policy)
}

func parsePolicy(raw string) (Policy, error) {
	p := DefaultPolicy()
	if raw == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return Policy{}, fmt.Errorf("stored policy is not valid JSON: %w", err)
	}
	return p.normalize(), nil
}

// GetPolicy returns a site's policy.
func (s *Service) GetPolicy(ctx context.Context, siteID string) (Policy, error) {
	if _, err := s.fp.GetSite(ctx, siteID); err != nil {
		return Policy{}, err
	}
	return loadPolicy(s.db.Conn(ctx), siteID)
}

// PutPolicy validates and stores a site's whole policy.
func (s *Service) PutPolicy(ctx context.Context, siteID string, p Policy) (Policy, error) {
	p = p.normalize()
	if _, err := p.compile(); err != nil {
		return Policy{}, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return Policy{}, err
	}
	err = s.db.Tx(ctx, func(tx *gorm.DB) error { return s.putPolicy(tx, siteID, p, raw) })
	if err != nil {
		return Policy{}, err
	}
	return p, nil
}

// PutPolicyTx is PutPolicy inside a transaction the caller holds (see InTx).
func (s *Service) PutPolicyTx(tx *gorm.DB, siteID string, p Policy) (Policy, error) {
	p = p.normalize()
	if _, err := p.compile(); err != nil {
		return Policy{}, err
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return Policy{}, err
	}
	if err := s.putPolicy(tx, siteID, p, raw); err != nil {
		return Policy{}, database.Translate(err)
	}
	return p, nil
}

// LoadPolicyTx reads a site's policy inside tx (the default when none is stored).
func LoadPolicyTx(tx *gorm.DB, siteID string) (Policy, error) { return loadPolicy(tx, siteID) }

func (s *Service) putPolicy(tx *gorm.DB, siteID string, p Policy, raw []byte) error {
	var n int64
	if err := tx.Table("sites").Where("id = ?", siteID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return perch.NotFound("site")
	}
	for zone, teams := range p.RestrictedZones {
		var z struct{ SiteID string }
		if err := tx.Table("zones").Select("site_id").Where("id = ?", zone).Take(&z).Error; err != nil || z.SiteID != siteID {
			return perch.Invalid("restricted_zones", "zone %s is not a zone of this site", zone)
		}
		var found int64
		if err := tx.Table("teams").Where("id IN ?", teams).Count(&found).Error; err != nil {
			return err
		}
		if int(found) != len(dedupe(teams)) {
			return perch.Invalid("restricted_zones", "zone %s lists a team that does not exist", zone)
		}
	}
	row := map[string]any{"site_id": siteID, "policy": string(raw), "updated_at": s.now()}
	return tx.Table("site_policies").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "site_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"policy", "updated_at"}),
	}).Create(row).Error
}

func dedupe(list []string) []string {
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

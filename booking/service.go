package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// Service books desks and rooms.
type Service struct {
	db     *database.DB
	fp     *floorplans.Service
	now    func() time.Time
	notify func()
	report func(job string, n int, err error)
	cache  resourceCache
}

// Notifier is told after a transaction that wrote outbox events commits,
// so readers of the outbox wake at once instead of at their next poll.
// It must not block.
type Notifier interface{ Notify() }

// WithNotifier makes the service tell n after each commit that wrote events.
func WithNotifier(n Notifier) Option { return func(s *Service) { s.notify = n.Notify } }

// eventTx runs fn in a transaction (see database.DB.Tx) that writes outbox
// events, and wakes the outbox readers once it has committed.
func (s *Service) eventTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := s.db.Tx(ctx, fn)
	if err == nil && s.notify != nil {
		s.notify()
	}
	return err
}

// InTx runs fn in one transaction and wakes the outbox readers after it
// commits: for packages (moves) that change many bookings atomically with
// UpdateTx and CancelTx.
func (s *Service) InTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.eventTx(ctx, fn)
}

// WithWorkerReport makes RunWorker tell report the outcome of every job
// run: the job's name ("release_no_shows", "auto_check_out"), how many
// bookings it changed and its error (nil on success). cmd/perch turns these
// into metrics; report must not block.
func WithWorkerReport(report func(job string, n int, err error)) Option {
	return func(s *Service) { s.report = report }
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a booking service on db.
func NewService(db *database.DB, fp *floorplans.Service, opts ...Option) *Service {
	s := &Service{db: db, fp: fp, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// View is a booking with what a reader needs to show it.
type View struct {
	Booking
	Timezone     string
	ResourceName string
}

// Location is the booking's site's time zone.
func (v *View) Location() *time.Location {
	loc, err := time.LoadLocation(v.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ETag identifies this version of the booking.
func (b *Booking) ETag() string { return fmt.Sprintf(`"%d"`, b.Version) }

// resource is a desk or room with its site's zone and policy.
type resource struct {
	Type           ResourceType
	ID             string
	SiteID         string
	FloorID        string
	ZoneID         *string
	Name           string
	Bookable       bool
	BookingMode    floorplans.Mode
	AssignedUserID *string
	Timezone       string
	Policy         *string

	loc   *time.Location
	rules *rules
}

// loadResource reads a desk or room, its site's time zone and policy in one
// query.
func loadResource(tx *gorm.DB, typ ResourceType, id string) (*resource, error) {
	var q string
	switch typ {
	case Desk:
		q = `SELECT d.id, d.site_id, d.floor_id, d.zone_id, d.code AS name, d.bookable, d.booking_mode, d.assigned_user_id,
			s.timezone, p.policy
			FROM desks d JOIN sites s ON s.id = d.site_id LEFT JOIN site_policies p ON p.site_id = d.site_id WHERE d.id = ?`
	case Room:
		q = `SELECT r.id, r.site_id, r.floor_id, r.zone_id, r.name, r.bookable, r.booking_mode, NULL AS assigned_user_id,
			s.timezone, p.policy
			FROM rooms r JOIN sites s ON s.id = r.site_id LEFT JOIN site_policies p ON p.site_id = r.site_id WHERE r.id = ?`
	default:
		return nil, perch.Invalid("resource_type", "resource_type must be desk or room")
	}
	var rs []resource
	if err := tx.Raw(q, id).Scan(&rs).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(rs) == 0 {
		return nil, perch.NotFound(string(typ))
	}
	r := &rs[0]
	r.Type = typ
	loc, err := time.LoadLocation(r.Timezone)
	if err != nil {
		return nil, fmt.Errorf("site %s has an unusable time zone %q: %w", r.SiteID, r.Timezone, err)
	}
	r.loc = loc
	raw := ""
	if r.Policy != nil {
		raw = *r.Policy
	}
	p, err := parsePolicy(raw)
	if err != nil {
		return nil, err
	}
	if r.rules, err = p.compile(); err != nil {
		return nil, fmt.Errorf("site %s has an invalid stored policy: %w", r.SiteID, err)
	}
	return r, nil
}

// label names the resource for messages: "Desk 1A-01", "Room Spree".
func (r *resource) label() string {
	if r.Type == Desk {
		return "Desk " + r.Name
	}
	return "Room " + r.Name
}

// owner is the person a booking is for.
type owner struct {
	ID     string
	TeamID *string
}

// lockOwner reads the booking's owner and, on PostgreSQL, locks their row
// for the transaction, so one person's concurrent bookings are checked
// against per-person limits one at a time. (SQLite has one writer anyway.)
func (s *Service) lockOwner(tx *gorm.DB, id string) (*owner, error) {
	q := s.locking(tx.Table("users").Select("id, team_id").Where("id = ?", id))
	var o []owner
	if err := q.Scan(&o).Error; err != nil {
		return nil, err
	}
	if len(o) == 0 {
		return nil, perch.Invalid("for_user_id", "for_user_id names no user")
	}
	return &o[0], nil
}

// interval is one occurrence to book.
type interval struct {
	Start, End time.Time
	// fromSlot: computed from a date and part (a day or half-day booking).
	fromSlot bool
}

// CreateRequest asks for a booking (or a series).
type CreateRequest struct {
	ResourceType ResourceType
	ResourceID   string
	// Either Start and End …
	Start, End time.Time
	// … or a local Date ("2026-03-29") and Part ("day", "am", "pm").
	Date, Part    string
	Title         string
	ForUserID     string
	Recurrence    string
	SkipConflicts bool
	Override      bool
}

// Skipped is an occurrence of a series that was not booked.
type Skipped struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Code   string    `json:"code"`
	Reason string    `json:"reason"`
}

// CreateResult is what Create booked.
type CreateResult struct {
	Bookings []View
	Skipped  []Skipped
}

// Create books a desk or room for a person: one booking, or a recurring
// series (all or nothing unless SkipConflicts). Everything happens in one
// transaction that also writes the outbox; overlaps are refused by the
// database itself.
func (s *Service) Create(ctx context.Context, actor *users.Principal, req CreateRequest, idem *Idempotency) (*CreateResult, error) {
	if req.Override && actor.Role != users.RoleAdmin {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only admins may override the booking policy.")
	}
	ownerID := actor.UserID
	if req.ForUserID != "" && req.ForUserID != actor.UserID {
		if actor.Role != users.RoleAdmin && actor.Role != users.RoleReception {
			return nil, perch.Errorf(perch.EFORBIDDEN, "Only admins and reception may book for someone else.")
		}
		ownerID = req.ForUserID
	}
	if ownerID == "" {
		return nil, perch.Invalid("for_user_id", "for_user_id is required: this token belongs to no person")
	}
	title := strings.TrimSpace(req.Title)
	if len([]rune(title)) > 200 {
		return nil, perch.Invalid("title", "title must be at most 200 characters")
	}
	now := s.now()
	var res *CreateResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		if idem != nil {
			if err := idem.claim(tx, now); err != nil {
				return err
			}
		}
		r, err := loadResource(tx, req.ResourceType, req.ResourceID)
		if err != nil {
			return err
		}
		ivs, err := s.intervals(r, req, now)
		if err != nil {
			return err
		}
		o, err := s.lockOwner(tx, ownerID)
		if err != nil {
			return err
		}
		res = &CreateResult{}
		var seriesID *string
		for i, iv := range ivs {
			b := &Booking{
				ID: database.NewID(), SiteID: r.SiteID, FloorID: r.FloorID, ResourceType: r.Type, ResourceID: r.ID,
				UserID: o.ID, Title: title, StartAt: iv.Start, EndAt: iv.End, Status: StatusConfirmed, Version: 1,
				SeriesID: seriesID,
			}
			if actor.UserID != "" {
				b.CreatedBy = &actor.UserID
			}
			if len(ivs) > 1 && i == 0 {
				seriesID = &b.ID
				b.SeriesID = seriesID
			}
			err := s.check(tx, r, o, iv, now, "", req.Override)
			if err == nil && req.SkipConflicts {
				err = overlapping(tx, r, iv.Start, iv.End, "")
			}
			if err != nil {
				if req.SkipConflicts && len(ivs) > 1 && isRefusal(err) {
					res.Skipped = append(res.Skipped, Skipped{Start: iv.Start, End: iv.End, Code: perch.ErrorCode(err), Reason: perch.ErrorMessage(err)})
					continue
				}
				return occurrenceError(err, i, len(ivs), iv, r.loc)
			}
			if err := tx.Create(b).Error; err != nil {
				return occurrenceError(database.Translate(err), i, len(ivs), iv, r.loc)
			}
			v := View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
			if err := writeEvent(tx, EventCreated, &v, now); err != nil {
				return err
			}
			res.Bookings = append(res.Bookings, v)
		}
		if len(res.Bookings) == 0 {
			first := res.Skipped[0]
			return &perch.Error{Code: first.Code, Message: "No occurrence could be booked. The first: " + first.Reason}
		}
		if idem != nil {
			return idem.complete(tx, res)
		}
		return nil
	})
	if err != nil {
		return nil, s.explainConflict(ctx, err, req)
	}
	return res, nil
}

// isRefusal reports whether err refuses one occurrence (rather than the
// whole request).
func isRefusal(err error) bool {
	code := perch.ErrorCode(err)
	return code == perch.EBOOKINGCONFLICT || strings.HasPrefix(code, "policy_")
}

// occurrenceError says which occurrence of a series failed.
func occurrenceError(err error, i, n int, iv interval, loc *time.Location) error {
	var pe *perch.Error
	if n <= 1 || !errors.As(err, &pe) || !isRefusal(err) {
		return err
	}
	return &perch.Error{Code: pe.Code, Field: pe.Field, Err: pe.Err, Details: pe.Details,
		Message: fmt.Sprintf("Occurrence %d of %d (%s): %s", i+1, n, iv.Start.In(loc).Format("Mon 2006-01-02 15:04"), pe.Message)}
}

// overlapping returns a booking_conflict when an active booking of the
// resource overlaps [start, end) (other than the booking except).
func overlapping(tx *gorm.DB, r *resource, start, end time.Time, except string) error {
	var other []struct{ StartAt, EndAt time.Time }
	q := tx.Table("bookings").Select("start_at, end_at").
		Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at >= ? AND start_at < ? AND end_at > ?",
			r.ID, start.Add(-MaxLength), end, start)
	if except != "" {
		q = q.Where("id <> ?", except)
	}
	if err := q.Order("start_at").Limit(1).Scan(&other).Error; err != nil {
		return err
	}
	if len(other) == 0 {
		return nil
	}
	return conflictError(r, other[0].StartAt, other[0].EndAt)
}

func conflictError(r *resource, start, end time.Time) *perch.Error {
	ls, le := start.In(r.loc), end.In(r.loc)
	return &perch.Error{
		Code: perch.EBOOKINGCONFLICT,
		Message: fmt.Sprintf("%s is already booked from %s to %s (%s).", r.label(),
			ls.Format("Mon 2006-01-02 15:04"), le.Format("15:04"), r.Timezone),
		Details: map[string]any{"conflicting_start": start.UTC(), "conflicting_end": end.UTC()},
	}
}

// explainConflict turns a bare booking_conflict from the database (a race
// lost to the exclusion constraint or the SQLite trigger) into one that
// names the conflicting interval.
func (s *Service) explainConflict(ctx context.Context, err error, req CreateRequest) error {
	var pe *perch.Error
	if !errors.As(err, &pe) || pe.Code != perch.EBOOKINGCONFLICT || pe.Details != nil {
		return err
	}
	r, rerr := loadResource(s.db.Conn(ctx), req.ResourceType, req.ResourceID)
	if rerr != nil {
		return err
	}
	start, end := req.Start, req.End
	if ivs, ierr := s.intervals(r, req, s.now()); ierr == nil && len(ivs) > 0 {
		start, end = ivs[0].Start, ivs[len(ivs)-1].End
	}
	return s.nameConflict(ctx, err, r, start, end, "")
}

// intervals computes the occurrences a request asks for.
func (s *Service) intervals(r *resource, req CreateRequest, now time.Time) ([]interval, error) {
	var first interval
	switch {
	case req.Date != "":
		if !req.Start.IsZero() || !req.End.IsZero() {
			return nil, perch.Invalid("date", "send either date and part, or start and end, not both")
		}
		d, err := ParseDate(req.Date)
		if err != nil {
			return nil, perch.Invalid("date", "date must be a day like 2026-03-29")
		}
		start, end, err := r.rules.slot(d, req.Part, r.loc)
		if err != nil {
			return nil, err
		}
		first = interval{Start: start, End: end, fromSlot: true}
	case req.Part != "":
		return nil, perch.Invalid("date", "part needs a date")
	default:
		if req.Start.IsZero() {
			return nil, perch.Invalid("start", "start is required (or date and part)")
		}
		if req.End.IsZero() {
			return nil, perch.Invalid("end", "end is required")
		}
		first = interval{Start: req.Start.UTC().Truncate(time.Second), End: req.End.UTC().Truncate(time.Second)}
		if !first.End.After(first.Start) {
			return nil, perch.Invalid("end", "end must be after start")
		}
		if err := checkLength(first.Start, first.End); err != nil {
			return nil, err
		}
	}
	if req.Recurrence == "" {
		return []interval{clampToday(first, now)}, nil
	}
	rule, err := ParseRule(req.Recurrence)
	if err != nil {
		return nil, err
	}
	ls, le := first.Start.In(r.loc), first.End.In(r.loc)
	if ls.Second() != 0 || le.Second() != 0 || ls.Nanosecond() != 0 {
		return nil, perch.Invalid("start", "a recurring booking starts and ends on whole minutes")
	}
	firstDate := DateOf(ls)
	startClock := Clock(ls.Hour()*60 + ls.Minute())
	endDays := DaysBetween(firstDate, DateOf(le))
	endClock := Clock(le.Hour()*60 + le.Minute())
	if endClock == 0 && endDays > 0 {
		endDays, endClock = endDays-1, 24*60
	}
	occ := func(d Date) interval {
		if first.fromSlot {
			st, en, _ := r.rules.slot(d, req.Part, r.loc)
			return interval{Start: st, End: en, fromSlot: true}
		}
		return interval{Start: d.At(startClock, r.loc), End: d.AddDays(endDays).At(endClock, r.loc)}
	}
	dates, err := rule.Occurrences(firstDate, func(d Date) time.Time { return occ(d).Start }, MaxOccurrences)
	if err != nil {
		return nil, err
	}
	out := make([]interval, len(dates))
	for i, d := range dates {
		out[i] = occ(d)
		if !out[i].End.After(out[i].Start) { // a wall time pushed forward by a DST gap
			return nil, perch.Invalid("recurrence", "the occurrence on %s would end before it starts (a daylight-saving change); choose other times", d)
		}
	}
	out[0] = clampToday(out[0], now)
	return out, nil
}

// checkLength refuses a booking longer than MaxLength (even with an
// admin's override: queries rely on the bound).
func checkLength(start, end time.Time) error {
	if end.Sub(start) > MaxLength {
		return perch.Invalid("end", "A booking lasts at most one day (25 hours); book longer stays as a recurring series.")
	}
	return nil
}

// clampToday lets a day or half-day booking made after its slot began
// start now (rounded down to the minute): booking "today" at 10:30 books
// the rest of the day.
func clampToday(iv interval, now time.Time) interval {
	if iv.fromSlot && iv.Start.Before(now) && iv.End.After(now) {
		iv.Start = now.Truncate(time.Minute)
	}
	return iv
}

// check applies the site's policy to one occurrence. except is the id of a
// booking being moved (not counted against limits). Admins' override skips
// every rule; the database still refuses overlaps.
func (s *Service) check(tx *gorm.DB, r *resource, o *owner, iv interval, now time.Time, except string, override bool) error {
	if override {
		return nil
	}
	p := r.rules
	loc := r.loc
	if !r.Bookable {
		return policyError("not_bookable", "%s is not bookable.", r.label())
	}
	if r.BookingMode == floorplans.DayOnly && !iv.fromSlot && !p.isSlot(iv.Start, iv.End, loc) {
		return policyError("day_only", "%s is booked by whole or half days: send date and part (day, am or pm).", r.label())
	}
	if !iv.End.After(now) || (!iv.fromSlot && iv.Start.Before(now.Add(-time.Minute))) {
		return policyError("in_past", "The booking would start in the past.")
	}
	if p.MinNoticeMinutes > 0 && iv.Start.Before(now.Add(time.Duration(p.MinNoticeMinutes)*time.Minute)) {
		return policyError("min_notice", "Bookings must be made at least %d minutes ahead.", p.MinNoticeMinutes)
	}
	ls := iv.Start.In(loc)
	day := DateOf(ls)
	if DateOf(iv.End.Add(-time.Nanosecond).In(loc)) != day {
		return policyError("multi_day", "A booking must lie within one day; book several days as a recurring series.")
	}
	if !p.weekdays[day.Weekday()] {
		return policyError("closed_day", "The site does not take bookings on %ss.", day.Weekday())
	}
	if p.closed[day] {
		return policyError("closed_day", "The site is closed on %s.", day)
	}
	if iv.Start.Before(day.At(p.from, loc)) || iv.End.After(day.At(p.until, loc)) {
		return policyError("bookable_hours", "Bookings run from %s to %s (%s).", p.from, p.until, r.Timezone)
	}
	today := DateOf(now.In(loc))
	if ahead := DaysBetween(today, day); ahead > p.MaxDaysAhead {
		return policyError("max_days_ahead", "Bookings open %d days ahead; %s is %d days away.", p.MaxDaysAhead, day, ahead)
	}
	dur := iv.End.Sub(iv.Start)
	if !iv.fromSlot && dur < time.Duration(p.MinDurationMinutes)*time.Minute {
		return policyError("min_duration", "A booking lasts at least %d minutes.", p.MinDurationMinutes)
	}
	if p.MaxDurationMinutes > 0 && dur > time.Duration(p.MaxDurationMinutes)*time.Minute {
		return policyError("max_duration", "A booking lasts at most %d minutes.", p.MaxDurationMinutes)
	}
	ownDesk := r.AssignedUserID != nil && *r.AssignedUserID == o.ID
	if r.ZoneID != nil && !ownDesk {
		if teams, ok := p.RestrictedZones[*r.ZoneID]; ok && (o.TeamID == nil || !contains(teams, *o.TeamID)) {
			return policyError("zone_restricted", "%s is in a zone reserved for other teams.", r.label())
		}
	}
	if r.AssignedUserID != nil && *r.AssignedUserID != o.ID {
		var released int64
		if err := tx.Table("desk_releases").Where("desk_id = ? AND date = ?", r.ID, day.String()).Count(&released).Error; err != nil {
			return err
		}
		if released == 0 {
			return policyError("assigned_desk", "%s is assigned to someone; others may book it only on days its owner releases it.", r.label())
		}
	}
	if r.Type == Desk {
		var n int64
		dayStart := day.In(loc)
		q := tx.Table("bookings").Where("user_id = ? AND resource_type = 'desk' AND status IN ('confirmed', 'checked_in') AND start_at >= ? AND start_at < ? AND end_at > ?",
			o.ID, dayStart.Add(-MaxLength), day.AddDays(1).In(loc), dayStart)
		if except != "" {
			q = q.Where("id <> ?", except)
		}
		if err := q.Count(&n).Error; err != nil {
			return err
		}
		if int(n) >= p.MaxDeskBookingsPerDay {
			return policyError("max_desk_bookings_per_day", "You already have %d desk booking(s) on %s; the limit is %d.", n, day, p.MaxDeskBookingsPerDay)
		}
	}
	if p.MaxUpcomingBookings > 0 {
		var n int64
		q := tx.Table("bookings").Where("user_id = ? AND status IN ('confirmed', 'checked_in') AND end_at > ?", o.ID, now)
		if except != "" {
			q = q.Where("id <> ?", except)
		}
		if err := q.Count(&n).Error; err != nil {
			return err
		}
		if int(n) >= p.MaxUpcomingBookings {
			return policyError("max_upcoming_bookings", "You already have %d upcoming bookings; the limit is %d.", n, p.MaxUpcomingBookings)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

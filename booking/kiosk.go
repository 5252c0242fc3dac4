package booking

// Door actions: what a room's door kiosk may do to the room's bookings.
//
// A door kiosk is a device account, not the owner of the meetings it shows,
// so Update, CheckInBooking and CheckOutBooking — which admit only the
// owner, admins and reception (canManage) — refuse it. The methods below
// act on "the room's meeting now" rather than on a booking id, and skip the
// owner check on purpose: the whole authorization of a door panel is that
// it is the panel of this room (whoever stands at the door may act on the
// meeting inside), and the caller — package kiosk, which resolves the room
// from the kiosk's own principal — has checked exactly that. Nothing else is
// relaxed: each runs in one transaction with its outbox event (eventTx),
// checks the site's policy and relies on the database's overlap guarantee,
// like any other booking change.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// TitleBookedAtDoor is the title of a booking made at a room's door.
const TitleBookedAtDoor = "Booked at the door"

// ReasonEndedAtDoor: a meeting nobody had checked into was ended early at
// the room's door (the booking is cancelled, its end set to that moment).
const ReasonEndedAtDoor = "ended_at_door"

// EventTx runs fn in one transaction that writes outbox rows (see
// database.DB.Tx) and wakes the outbox readers after it commits, as every
// booking change does. It lets other feature packages append their own
// events atomically with their change (package kiosk: kiosk.revoked).
func (s *Service) EventTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.eventTx(ctx, fn)
}

// BookAtDoor books the room from now for the actor (the door kiosk's device
// account) for d, but never past the room's next booking nor the end of the
// bookable hours, and checks it in at once (method kiosk, a walk-up: the
// person is at the door; unchecked, the no-show worker would release it).
// A room in use now is a booking_conflict.
func (s *Service) BookAtDoor(ctx context.Context, actor *users.Principal, roomID string, d time.Duration) (*CheckInResult, error) {
	if actor.UserID == "" {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Book at the door with a kiosk's token.")
	}
	if d <= 0 {
		return nil, perch.Invalid("minutes", "minutes must be positive")
	}
	now := s.now()
	start := now.Truncate(time.Second)
	var r *resource
	var end time.Time
	var res *CheckInResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		var err error
		if r, err = loadResource(tx, Room, roomID); err != nil {
			return err
		}
		cur, err := s.meetingNow(tx, r, now, false)
		if err != nil {
			return err
		}
		if cur != nil {
			return &perch.Error{Code: perch.EBOOKINGCONFLICT,
				Message: fmt.Sprintf("%s is in use until %s; it cannot be booked now.", r.label(), cur.EndAt.In(r.loc).Format("15:04")),
				Details: map[string]any{"conflicting_start": cur.StartAt.UTC(), "conflicting_end": cur.EndAt.UTC()}}
		}
		end = start.Add(d)
		closing := DateOf(now.In(r.loc)).At(r.rules.until, r.loc)
		var next []Booking
		if err := tx.Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at > ? AND start_at < ?", r.ID, start, end).
			Order("start_at").Limit(1).Find(&next).Error; err != nil {
			return err
		}
		byNext := len(next) > 0
		if byNext {
			end = next[0].StartAt
		}
		byClosing := end.After(closing)
		if byClosing {
			end = closing
		}
		minimum := time.Duration(r.rules.MinDurationMinutes) * time.Minute
		switch {
		case byClosing && end.Sub(start) < max(minimum, time.Second):
			return policyError("bookable_hours", "%s cannot be booked now: bookings run from %s to %s (%s).",
				r.label(), r.rules.from, r.rules.until, r.Timezone)
		case byNext && end.Sub(start) < minimum:
			return &perch.Error{Code: perch.EBOOKINGCONFLICT,
				Message: fmt.Sprintf("%s is booked from %s, too soon to book it now (a booking lasts at least %d minutes).",
					r.label(), next[0].StartAt.In(r.loc).Format("15:04"), r.rules.MinDurationMinutes),
				Details: map[string]any{"conflicting_start": next[0].StartAt.UTC(), "conflicting_end": next[0].EndAt.UTC()}}
		}
		o, err := s.lockOwner(tx, actor.UserID)
		if err != nil {
			return err
		}
		if err := s.check(tx, r, o, interval{Start: start, End: end}, now, "", false); err != nil {
			return err
		}
		b := &Booking{ID: database.NewID(), SiteID: r.SiteID, FloorID: r.FloorID, ResourceType: Room, ResourceID: r.ID,
			UserID: o.ID, CreatedBy: &actor.UserID, Title: TitleBookedAtDoor, StartAt: start, EndAt: end,
			Status: StatusConfirmed, Version: 1}
		if err := tx.Create(b).Error; err != nil {
			return err
		}
		if err := writeEvent(tx, EventCreated, &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}, now); err != nil {
			return err
		}
		if res, err = s.checkIn(tx, r, b, MethodKiosk, now); err != nil {
			return err
		}
		res.WalkUp, res.CheckIn.WalkUp = true, true
		return tx.Model(&CheckIn{}).Where("id = ?", res.CheckIn.ID).Update("walk_up", true).Error
	})
	if err != nil {
		return nil, s.nameConflict(ctx, err, r, start, end, "")
	}
	return res, nil
}

// CheckInAtDoor checks in the room's meeting whose check-in window is open
// now (method kiosk). When the meeting under way is already checked in and
// no other one can be checked in, it is returned with Already set. With
// neither, it is a conflict with a sentence.
func (s *Service) CheckInAtDoor(ctx context.Context, roomID string) (*CheckInResult, error) {
	now := s.now()
	var res *CheckInResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		r, err := loadResource(tx, Room, roomID)
		if err != nil {
			return err
		}
		opens := time.Duration(r.rules.CheckInOpensMinutesBefore) * time.Minute
		q := tx.Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at <= ? AND end_at > ?", r.ID, now.Add(opens), now)
		var bs []Booking
		if err := s.locking(q).Order("start_at").Find(&bs).Error; err != nil {
			return err
		}
		var inside *Booking
		for i := range bs {
			b := &bs[i]
			if b.Status == StatusCheckedIn {
				if !b.StartAt.After(now) {
					inside = b
				}
				continue
			}
			// A meeting about to start (its window open) wins over one already
			// checked in and ending: the people at the door are its people.
			if open, close := r.rules.checkInWindow(b); !now.Before(open) && now.Before(close) {
				res, err = s.checkIn(tx, r, b, MethodKiosk, now)
				return err
			}
		}
		if inside != nil {
			res, err = s.existingCheckIn(tx, r, inside)
			return err
		}
		return perch.Errorf(perch.ECONFLICT, "There is no meeting in %s to check in now.", r.label())
	})
	return res, err
}

// ExtendAtDoor moves the end of the room's meeting under way later by d,
// as Update would (a new version, a booking.updated event with the previous
// interval, the policy checked), but never into the next booking: that is a
// booking_conflict naming it and saying how far the meeting can run.
func (s *Service) ExtendAtDoor(ctx context.Context, roomID string, d time.Duration) (*View, error) {
	if d <= 0 {
		return nil, perch.Invalid("minutes", "minutes must be positive")
	}
	now := s.now()
	var out *View
	var r *resource
	var b *Booking
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		var err error
		if r, err = loadResource(tx, Room, roomID); err != nil {
			return err
		}
		if b, err = s.meetingNow(tx, r, now, true); err != nil {
			return err
		}
		if b == nil {
			return perch.Errorf(perch.ECONFLICT, "There is no meeting in %s now to extend.", r.label())
		}
		end := b.EndAt.Add(d)
		if err := overlapping(tx, r, b.EndAt, end, b.ID); err != nil {
			return extendConflict(err, b, r)
		}
		o, err := s.lockOwner(tx, b.UserID)
		if err != nil {
			return err
		}
		// Under way: only the new end is checked (as Update does).
		if err := s.check(tx, r, o, interval{Start: b.StartAt, End: end, fromSlot: true}, now, b.ID, false); err != nil {
			return err
		}
		prev := &EventPrevious{ResourceID: b.ResourceID, FloorID: b.FloorID, Start: b.StartAt, End: b.EndAt}
		res := tx.Table("bookings").Where("id = ? AND version = ?", b.ID, b.Version).
			Updates(map[string]any{"end_at": end, "version": b.Version + 1, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.ECONFLICT, "The meeting changed meanwhile; try again.")
		}
		b.EndAt, b.Version, b.UpdatedAt = end, b.Version+1, now
		out = &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
		return writeEvent(tx, EventUpdated, out, now, prev)
	})
	if err != nil {
		// A race lost to the constraint: name the booking that won.
		if r != nil && b != nil && perch.ErrorCode(err) == perch.EBOOKINGCONFLICT {
			if cerr := overlapping(s.db.Conn(ctx), r, b.EndAt, b.EndAt.Add(d), b.ID); cerr != nil {
				return nil, extendConflict(cerr, b, r)
			}
		}
		return nil, err
	}
	return out, nil
}

// extendConflict adds to a conflict how long the meeting may run.
func extendConflict(err error, b *Booking, r *resource) error {
	var pe *perch.Error
	if !errors.As(err, &pe) || pe.Code != perch.EBOOKINGCONFLICT {
		return err
	}
	next, _ := pe.Details["conflicting_start"].(time.Time)
	msg := pe.Message
	if next.After(b.EndAt) {
		msg += fmt.Sprintf(" The meeting can be extended until %s at most.", next.In(r.loc).Format("15:04"))
	} else {
		msg += " The meeting cannot be extended."
	}
	return &perch.Error{Code: pe.Code, Message: msg, Details: pe.Details, Err: pe.Err}
}

// EndAtDoor ends the room's meeting under way now, so the room turns free:
// a checked-in meeting is checked out (method kiosk, status completed); one
// nobody checked into is cancelled with its end set to now (status_reason
// ended_at_door). Either writes its event.
func (s *Service) EndAtDoor(ctx context.Context, roomID string) (*View, error) {
	now := s.now()
	var out *View
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		r, err := loadResource(tx, Room, roomID)
		if err != nil {
			return err
		}
		b, err := s.meetingNow(tx, r, now, true)
		if err != nil {
			return err
		}
		if b == nil {
			return perch.Errorf(perch.ECONFLICT, "There is no meeting in %s now to end.", r.label())
		}
		if b.Status == StatusCheckedIn {
			out, err = s.checkOut(tx, r, b, MethodKiosk, now)
			return err
		}
		end := now.Truncate(time.Second)
		if !end.After(b.StartAt) { // starting this very second: cancel it whole
			end = b.EndAt
		}
		upd := tx.Table("bookings").Where("id = ? AND status = ?", b.ID, StatusConfirmed).Updates(map[string]any{
			"status": StatusCancelled, "status_reason": ReasonEndedAtDoor, "end_at": end,
			"version": gorm.Expr("version + 1"), "updated_at": now,
		})
		if upd.Error != nil {
			return upd.Error
		}
		if upd.RowsAffected == 0 {
			return perch.Errorf(perch.ECONFLICT, "The meeting changed meanwhile; try again.")
		}
		b.Status, b.StatusReason, b.EndAt, b.Version, b.UpdatedAt = StatusCancelled, ReasonEndedAtDoor, end, b.Version+1, now
		out = &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
		return writeEvent(tx, EventCancelled, out, now)
	})
	return out, err
}

// meetingNow returns the room's active booking under way at now (nil if
// none), locked for the transaction on PostgreSQL when lock is set.
func (s *Service) meetingNow(tx *gorm.DB, r *resource, now time.Time, lock bool) (*Booking, error) {
	q := tx.Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at <= ? AND end_at > ?", r.ID, now, now)
	if lock {
		q = s.locking(q)
	}
	var bs []Booking
	if err := q.Order("start_at").Limit(1).Find(&bs).Error; err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return nil, nil
	}
	return &bs[0], nil
}

// locking adds SELECT … FOR UPDATE on PostgreSQL (SQLite has one writer).
func (s *Service) locking(q *gorm.DB) *gorm.DB {
	if s.db.Dialect() == database.Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// checkOut completes a checked-in booking now and closes its check-in with
// method m (what CheckOutBooking does once the booking is locked).
func (s *Service) checkOut(tx *gorm.DB, r *resource, b *Booking, m Method, now time.Time) (*View, error) {
	end := now.Truncate(time.Second)
	if !end.After(b.StartAt) {
		end = b.StartAt.Add(time.Second)
	}
	if end.After(b.EndAt) {
		end = b.EndAt
	}
	upd := tx.Model(&Booking{}).Where("id = ? AND status = ?", b.ID, StatusCheckedIn).Updates(map[string]any{
		"status": StatusCompleted, "status_reason": ReasonCheckedOut, "end_at": end,
		"version": gorm.Expr("version + 1"), "updated_at": now,
	})
	if upd.Error != nil {
		return nil, upd.Error
	}
	if upd.RowsAffected == 0 {
		return nil, perch.Errorf(perch.ECONFLICT, "The meeting changed meanwhile; try again.")
	}
	b.Status, b.StatusReason, b.EndAt, b.Version, b.UpdatedAt = StatusCompleted, ReasonCheckedOut, end, b.Version+1, now
	if err := tx.Model(&CheckIn{}).Where("booking_id = ? AND checked_out_at IS NULL", b.ID).
		Updates(map[string]any{"checked_out_at": end, "checkout_method": m}).Error; err != nil {
		return nil, err
	}
	v := &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
	return v, writeEvent(tx, EventCheckedOut, v, now)
}

// nameConflict turns a bare booking_conflict from the database (a race
// lost to the exclusion constraint or the SQLite trigger) into one naming
// the booking that won.
func (s *Service) nameConflict(ctx context.Context, err error, r *resource, start, end time.Time, except string) error {
	var pe *perch.Error
	if r == nil || !errors.As(err, &pe) || pe.Code != perch.EBOOKINGCONFLICT || pe.Details != nil || !end.After(start) {
		return err
	}
	if cerr := overlapping(s.db.Conn(ctx), r, start, end, except); cerr != nil {
		var ce *perch.Error
		if errors.As(cerr, &ce) {
			ce.Err = err
			return ce
		}
	}
	return err
}

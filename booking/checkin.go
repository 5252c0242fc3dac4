package booking

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Method is how a check-in or check-out happened.
type Method string

const (
	MethodQR    Method = "qr"    // a person scanned the resource's code
	MethodKiosk Method = "kiosk" // at a room-door kiosk
	MethodWeb   Method = "web"   // from the app
	MethodAuto  Method = "auto"  // by the worker (auto check-out)
)

// Reasons a booking ended.
const (
	ReasonNoShow     = "no_show"     // released: nobody checked in within the grace
	ReasonCheckedOut = "checked_out" // the person checked out early
	ReasonEnded      = "ended"       // checked out automatically at its end
)

// More outbox event kinds.
const (
	EventCheckedIn  = "booking.checked_in"
	EventCheckedOut = "booking.checked_out"
	EventReleased   = "booking.released"
)

// CheckIn records that a person arrived: the source of every occupancy
// report.
type CheckIn struct {
	ID             string       `json:"id" gorm:"primaryKey"`
	BookingID      string       `json:"booking_id"`
	UserID         string       `json:"user_id"`
	ResourceType   ResourceType `json:"resource_type"`
	ResourceID     string       `json:"resource_id"`
	FloorID        string       `json:"floor_id"`
	SiteID         string       `json:"site_id"`
	CheckedInAt    time.Time    `json:"checked_in_at"`
	CheckedOutAt   *time.Time   `json:"checked_out_at"`
	Method         Method       `json:"method"`
	CheckoutMethod *Method      `json:"checkout_method"`
	WalkUp         bool         `json:"walk_up"`
}

// TableName maps CheckIn to check_ins.
func (CheckIn) TableName() string { return "check_ins" }

// CheckInResult is the booking checked into and its check-in.
type CheckInResult struct {
	Booking View    `json:"booking"`
	CheckIn CheckIn `json:"check_in"`
	// WalkUp: the booking was made by this scan.
	WalkUp bool `json:"walk_up"`
	// Already: the booking was checked into before; nothing changed.
	Already bool `json:"already"`
}

// window is when a booking can be checked into: from its start minus the
// opening time until start plus the no-show grace (or its end, with no
// grace), half-open.
func (r *rules) checkInWindow(b *Booking) (time.Time, time.Time) {
	open := b.StartAt.Add(-time.Duration(r.CheckInOpensMinutesBefore) * time.Minute)
	if r.NoShowGraceMinutes == 0 {
		return open, b.EndAt
	}
	close := b.StartAt.Add(time.Duration(r.NoShowGraceMinutes) * time.Minute)
	if close.After(b.EndAt) {
		close = b.EndAt
	}
	return open, close
}

// CheckInByCode checks the actor in at the desk or room whose QR code they
// scanned: into their own booking of it when the check-in window is open,
// or, when they have none and the resource is free now, by a walk-up
// booking made in the same transaction (same guarantees as any booking).
func (s *Service) CheckInByCode(ctx context.Context, actor *users.Principal, code string) (*CheckInResult, error) {
	if actor.UserID == "" {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Check in with a person's token.")
	}
	coded, err := s.fp.ByQRCode(ctx, code)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var res *CheckInResult
	err = s.eventTx(ctx, func(tx *gorm.DB) error {
		r, err := loadResource(tx, ResourceType(coded.Type), coded.ID)
		if err != nil {
			return err
		}
		var mine []Booking
		if err := tx.Where("resource_id = ? AND user_id = ? AND status IN ('confirmed', 'checked_in') AND end_at > ?", r.ID, actor.UserID, now).
			Order("start_at").Limit(1).Find(&mine).Error; err != nil {
			return err
		}
		if len(mine) > 0 {
			b := &mine[0]
			open, close := r.rules.checkInWindow(b)
			switch {
			case b.Status == StatusCheckedIn:
				res, err = s.existingCheckIn(tx, r, b)
				return err
			case now.Before(open):
				return policyError("checkin_window", "Check-in for your booking of %s opens at %s (%s).",
					r.Name, open.In(r.loc).Format("15:04"), r.Timezone)
			case now.Before(close):
				res, err = s.checkIn(tx, r, b, MethodQR, now)
				return err
			}
			// Too late: the booking is a no-show. Release it now (the worker
			// would) and fall through to a walk-up if the desk is still free.
			if err := s.release(tx, r, b, now); err != nil {
				return err
			}
		}
		res, err = s.walkUp(tx, r, actor, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// walkUp books a free resource from now and checks the actor in.
func (s *Service) walkUp(tx *gorm.DB, r *resource, actor *users.Principal, now time.Time) (*CheckInResult, error) {
	if !r.rules.WalkUps {
		return nil, policyError("walk_ups", "You have no booking of %s now, and walk-ups are not allowed here: book it first.", r.label())
	}
	// Someone else holds it now?
	var current []Booking
	if err := tx.Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at <= ? AND end_at > ?", r.ID, now, now).
		Limit(1).Find(&current).Error; err != nil {
		return nil, err
	}
	if len(current) > 0 {
		return nil, &perch.Error{Code: perch.EBOOKINGCONFLICT,
			Message: fmt.Sprintf("%s is booked by someone else until %s.", r.label(), current[0].EndAt.In(r.loc).Format("15:04"))}
	}
	day := DateOf(now.In(r.loc))
	end := day.At(r.rules.until, r.loc)
	var next []Booking
	if err := tx.Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND start_at > ? AND start_at < ?", r.ID, now, end).
		Order("start_at").Limit(1).Find(&next).Error; err != nil {
		return nil, err
	}
	if len(next) > 0 {
		end = next[0].StartAt
	}
	start := now.Truncate(time.Second)
	if !end.After(start) {
		return nil, policyError("bookable_hours", "%s cannot be booked now: bookings run from %s to %s.", r.label(), r.rules.from, r.rules.until)
	}
	o, err := s.lockOwner(tx, actor.UserID)
	if err != nil {
		return nil, err
	}
	if err := s.check(tx, r, o, interval{Start: start, End: end, fromSlot: true}, now, "", false); err != nil {
		return nil, err
	}
	b := &Booking{ID: database.NewID(), SiteID: r.SiteID, FloorID: r.FloorID, ResourceType: r.Type, ResourceID: r.ID,
		UserID: o.ID, CreatedBy: &actor.UserID, Title: "Walk-up", StartAt: start, EndAt: end, Status: StatusConfirmed, Version: 1}
	if err := tx.Create(b).Error; err != nil {
		return nil, err
	}
	v := &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
	if err := writeEvent(tx, EventCreated, v, now); err != nil {
		return nil, err
	}
	res, err := s.checkIn(tx, r, b, MethodQR, now)
	if err != nil {
		return nil, err
	}
	res.WalkUp, res.CheckIn.WalkUp = true, true
	return res, tx.Model(&CheckIn{}).Where("id = ?", res.CheckIn.ID).Update("walk_up", true).Error
}

// checkIn marks a confirmed booking checked in and records the check-in.
func (s *Service) checkIn(tx *gorm.DB, r *resource, b *Booking, m Method, now time.Time) (*CheckInResult, error) {
	upd := tx.Model(&Booking{}).Where("id = ? AND status = ?", b.ID, StatusConfirmed).
		Updates(map[string]any{"status": StatusCheckedIn, "version": gorm.Expr("version + 1"), "updated_at": now})
	if upd.Error != nil {
		return nil, upd.Error
	}
	if upd.RowsAffected == 0 {
		return nil, perch.Errorf(perch.ECONFLICT, "The booking changed meanwhile; try again.")
	}
	b.Status, b.Version, b.UpdatedAt = StatusCheckedIn, b.Version+1, now
	ci := CheckIn{ID: database.NewID(), BookingID: b.ID, UserID: b.UserID, ResourceType: b.ResourceType, ResourceID: b.ResourceID,
		FloorID: b.FloorID, SiteID: b.SiteID, CheckedInAt: now, Method: m}
	if err := tx.Create(&ci).Error; err != nil {
		return nil, err
	}
	v := View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
	if err := writeEvent(tx, EventCheckedIn, &v, now); err != nil {
		return nil, err
	}
	return &CheckInResult{Booking: v, CheckIn: ci}, nil
}

func (s *Service) existingCheckIn(tx *gorm.DB, r *resource, b *Booking) (*CheckInResult, error) {
	var ci CheckIn
	if err := tx.Where("booking_id = ?", b.ID).Take(&ci).Error; err != nil {
		return nil, err
	}
	return &CheckInResult{Booking: View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}, CheckIn: ci, Already: true}, nil
}

// release marks a confirmed booking released as a no-show.
func (s *Service) release(tx *gorm.DB, r *resource, b *Booking, now time.Time) error {
	upd := tx.Model(&Booking{}).Where("id = ? AND status = ?", b.ID, StatusConfirmed).
		Updates(map[string]any{"status": StatusReleased, "status_reason": ReasonNoShow, "version": gorm.Expr("version + 1"), "updated_at": now})
	if upd.Error != nil || upd.RowsAffected == 0 {
		return upd.Error
	}
	b.Status, b.StatusReason, b.Version, b.UpdatedAt = StatusReleased, ReasonNoShow, b.Version+1, now
	return writeEvent(tx, EventReleased, &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}, now)
}

// CheckInBooking checks a booking in from the app (or a kiosk): its owner,
// admins and reception, inside the check-in window.
func (s *Service) CheckInBooking(ctx context.Context, actor *users.Principal, id string, m Method) (*CheckInResult, error) {
	now := s.now()
	var res *CheckInResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockBooking(tx, actor, id)
		if err != nil {
			return err
		}
		r, err := loadResource(tx, b.ResourceType, b.ResourceID)
		if err != nil {
			return err
		}
		switch b.Status {
		case StatusCheckedIn:
			res, err = s.existingCheckIn(tx, r, b)
			return err
		case StatusConfirmed:
		default:
			return perch.Errorf(perch.ECONFLICT, "The booking is %s; it can no longer be checked into.", b.Status)
		}
		open, close := r.rules.checkInWindow(b)
		if now.Before(open) {
			return policyError("checkin_window", "Check-in opens at %s (%s).", open.In(r.loc).Format("Mon 15:04"), r.Timezone)
		}
		if !now.Before(close) {
			return policyError("checkin_window", "Check-in closed at %s (%s); the booking is released as a no-show.",
				close.In(r.loc).Format("Mon 15:04"), r.Timezone)
		}
		res, err = s.checkIn(tx, r, b, m, now)
		return err
	})
	return res, err
}

// CheckOutBooking ends a checked-in booking now: the rest of its time is
// free for others.
func (s *Service) CheckOutBooking(ctx context.Context, actor *users.Principal, id string, m Method) (*CheckInResult, error) {
	now := s.now()
	var res *CheckInResult
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockBooking(tx, actor, id)
		if err != nil {
			return err
		}
		if b.Status != StatusCheckedIn {
			return perch.Errorf(perch.ECONFLICT, "The booking is %s, not checked in.", b.Status)
		}
		r, err := loadResource(tx, b.ResourceType, b.ResourceID)
		if err != nil {
			return err
		}
		v, err := s.checkOut(tx, r, b, m, now)
		if err != nil {
			return err
		}
		var ci CheckIn
		if err := tx.Where("booking_id = ?", b.ID).Take(&ci).Error; err != nil {
			return err
		}
		res = &CheckInResult{Booking: *v, CheckIn: ci}
		return nil
	})
	return res, err
}

// ReleaseNoShows releases every confirmed booking whose no-show grace has
// passed, site by site (each site has its own grace), with an outbox event
// each. Safe with several workers on one database: the conditional UPDATE
// … WHERE status = 'confirmed' RETURNING hands each booking to exactly one
// of them.
func (s *Service) ReleaseNoShows(ctx context.Context) (int, error) {
	now := s.now()
	var sites []siteContext
	if err := s.db.Conn(ctx).Raw(`SELECT s.id AS site_id, s.timezone, p.policy FROM sites s LEFT JOIN site_policies p ON p.site_id = s.id`).
		Scan(&sites).Error; err != nil {
		return 0, database.Translate(err)
	}
	total := 0
	for i := range sites {
		sc := &sites[i]
		if err := sc.prepare(); err != nil {
			return total, err
		}
		if sc.rules.NoShowGraceMinutes == 0 {
			continue
		}
		cutoff := now.Add(-time.Duration(sc.rules.NoShowGraceMinutes) * time.Minute)
		err := s.eventTx(ctx, func(tx *gorm.DB) error {
			var released []View
			if err := tx.Raw(`UPDATE bookings SET status = 'released', status_reason = ?, version = version + 1, updated_at = ?
				WHERE site_id = ? AND status = 'confirmed' AND start_at <= ? RETURNING *`,
				ReasonNoShow, now, sc.SiteID, cutoff).Scan(&released).Error; err != nil {
				return err
			}
			for j := range released {
				v, err := s.view(tx, &released[j].Booking)
				if err != nil {
					return err
				}
				if err := writeEvent(tx, EventReleased, v, now); err != nil {
					return err
				}
			}
			total += len(released)
			return nil
		})
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// AutoCheckOut completes every checked-in booking that has ended and closes
// its check-in at the booking's end (method auto). Safe with several
// workers for the same reason as ReleaseNoShows.
func (s *Service) AutoCheckOut(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		var ended []View
		if err := tx.Raw(`UPDATE bookings SET status = 'completed', status_reason = ?, version = version + 1, updated_at = ?
			WHERE status = 'checked_in' AND end_at <= ? RETURNING *`, ReasonEnded, now, now).Scan(&ended).Error; err != nil {
			return err
		}
		if len(ended) == 0 {
			return nil
		}
		ids := make([]string, len(ended))
		for i := range ended {
			ids[i] = ended[i].ID
		}
		if err := tx.Exec(`UPDATE check_ins SET checked_out_at = (SELECT end_at FROM bookings WHERE bookings.id = check_ins.booking_id),
			checkout_method = 'auto' WHERE booking_id IN ? AND checked_out_at IS NULL`, ids).Error; err != nil {
			return err
		}
		for i := range ended {
			v, err := s.view(tx, &ended[i].Booking)
			if err != nil {
				return err
			}
			if err := writeEvent(tx, EventCheckedOut, v, now); err != nil {
				return err
			}
		}
		n = len(ended)
		return nil
	})
	return n, err
}

// RunWorker releases no-shows and checks out ended bookings every interval
// until ctx ends. Several replicas may each run one.
func (s *Service) RunWorker(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.ReleaseNoShows(ctx)
		s.reportRun(ctx, "release_no_shows", n, err)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("release no-shows", "error", err)
			}
		} else if n > 0 {
			log.Info("released no-show bookings", "count", n)
		}
		n, err = s.AutoCheckOut(ctx)
		s.reportRun(ctx, "auto_check_out", n, err)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("auto check-out", "error", err)
			}
		} else if n > 0 {
			log.Info("checked out ended bookings", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// reportRun tells the WithWorkerReport callback about one job run (a run cut
// short by shutdown is not a failure and is not reported).
func (s *Service) reportRun(ctx context.Context, job string, n int, err error) {
	if s.report == nil || (err != nil && ctx.Err() != nil) {
		return
	}
	s.report(job, n, err)
}

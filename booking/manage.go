package booking

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// viewQuery selects bookings with their site's zone and resource's name.
func viewQuery(tx *gorm.DB) *gorm.DB {
	return tx.Table("bookings").
		Select("bookings.*, sites.timezone AS timezone, COALESCE(desks.code, rooms.name) AS resource_name").
		Joins("JOIN sites ON sites.id = bookings.site_id").
		Joins("LEFT JOIN desks ON desks.id = bookings.resource_id").
		Joins("LEFT JOIN rooms ON rooms.id = bookings.resource_id")
}

// canManage: the owner, admins and reception may read and change a booking.
func canManage(actor *users.Principal, b *Booking) bool {
	return actor.Role == users.RoleAdmin || actor.Role == users.RoleReception || (actor.UserID != "" && actor.UserID == b.UserID)
}

// Get returns one booking the actor may see (others are not_found).
func (s *Service) Get(ctx context.Context, actor *users.Principal, id string) (*View, error) {
	var vs []View
	if err := viewQuery(s.db.Conn(ctx)).Where("bookings.id = ?", id).Scan(&vs).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(vs) == 0 || !canManage(actor, &vs[0].Booking) {
		return nil, perch.NotFound("booking")
	}
	return &vs[0], nil
}

// Filter narrows List.
type Filter struct {
	UserID     string // "" for everyone (admins and reception only)
	ResourceID string
	FloorID    string
	From, To   time.Time // bookings overlapping [From, To)
	Statuses   []Status
}

// List lists bookings by start time. Employees list only their own.
func (s *Service) List(ctx context.Context, actor *users.Principal, f Filter, p database.Page) ([]View, string, error) {
	if actor.Role != users.RoleAdmin && actor.Role != users.RoleReception && f.UserID != actor.UserID {
		return nil, "", perch.Errorf(perch.EFORBIDDEN, "You may list only your own bookings.")
	}
	q := viewQuery(s.db.Conn(ctx))
	if f.UserID != "" {
		q = q.Where("bookings.user_id = ?", f.UserID)
	}
	if f.ResourceID != "" {
		q = q.Where("bookings.resource_id = ?", f.ResourceID)
	}
	if f.FloorID != "" {
		q = q.Where("bookings.floor_id = ?", f.FloorID)
	}
	if !f.From.IsZero() {
		q = q.Where("bookings.end_at > ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("bookings.start_at < ?", f.To.UTC())
	}
	if len(f.Statuses) > 0 {
		q = q.Where("bookings.status IN ?", f.Statuses)
	}
	return database.Paginate(q, p, "bookings.start_at", func(v *View) (any, string) {
		return database.TimeKey(v.StartAt), v.ID
	})
}

// Change moves a booking in time and/or to another resource.
type Change struct {
	ResourceType *ResourceType
	ResourceID   *string
	Start, End   *time.Time
	Title        *string
	Override     bool
	// Reason goes into the booking.updated event ("move_plan").
	Reason string
}

// Update applies a change to a booking whose version is still version
// (optimistic concurrency: a stale version is precondition_failed). Policy
// and overlap are checked as for a new booking.
func (s *Service) Update(ctx context.Context, actor *users.Principal, id string, version int, ch Change) (*View, error) {
	if ch.Override && actor.Role != users.RoleAdmin {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only admins may override the booking policy.")
	}
	var out *View
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		v, err := s.update(ctx, tx, actor, id, version, ch, false)
		out = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateTx is Update inside a transaction the caller holds (see InTx); the
// caller decides what a failure means for the rest of its transaction
// (wrap the call in tx.Transaction for a savepoint).
func (s *Service) UpdateTx(ctx context.Context, tx *gorm.DB, actor *users.Principal, id string, version int, ch Change) (*View, error) {
	if ch.Override && actor.Role != users.RoleAdmin {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only admins may override the booking policy.")
	}
	return s.update(ctx, tx, actor, id, version, ch, true)
}

func (s *Service) update(ctx context.Context, tx *gorm.DB, actor *users.Principal, id string, version int, ch Change, nested bool) (*View, error) {
	now := s.now()
	var out *View
	err := func() error {
		b, err := s.lockBooking(tx, actor, id)
		if err != nil {
			return err
		}
		if b.Version != version {
			return perch.Errorf(perch.EPRECONDITION, "The booking changed since you read it (it is at version %d); read it again.", b.Version)
		}
		if !b.Status.Active() {
			return perch.Errorf(perch.ECONFLICT, "The booking is %s and can no longer be changed.", b.Status)
		}
		if !b.EndAt.After(now) {
			return perch.Errorf(perch.ECONFLICT, "The booking has ended and can no longer be changed.")
		}
		prev := &EventPrevious{ResourceID: b.ResourceID, FloorID: b.FloorID, Start: b.StartAt, End: b.EndAt}
		typ, rid := b.ResourceType, b.ResourceID
		if ch.ResourceType != nil {
			typ = *ch.ResourceType
		}
		if ch.ResourceID != nil {
			rid = *ch.ResourceID
		}
		r, err := loadResource(tx, typ, rid)
		if err != nil {
			return err
		}
		iv := interval{Start: b.StartAt, End: b.EndAt}
		if ch.Start != nil {
			iv.Start = ch.Start.UTC().Truncate(time.Second)
		}
		if ch.End != nil {
			iv.End = ch.End.UTC().Truncate(time.Second)
		}
		if !iv.End.After(iv.Start) {
			return perch.Invalid("end", "end must be after start")
		}
		if err := checkLength(iv.Start, iv.End); err != nil {
			return err
		}
		if b.Status == StatusCheckedIn && (r.ID != b.ResourceID || !iv.Start.Equal(b.StartAt)) {
			return perch.Errorf(perch.ECONFLICT, "A checked-in booking can only be extended or shortened, not moved.")
		}
		moved := r.ID != b.ResourceID || !iv.Start.Equal(b.StartAt) || !iv.End.Equal(b.EndAt)
		if moved {
			o, err := s.lockOwner(tx, b.UserID)
			if err != nil {
				return err
			}
			// A booking already under way keeps its start; only what changes is checked.
			check := iv
			if b.Status == StatusCheckedIn || !b.StartAt.After(now) {
				check.fromSlot = true
			}
			if err := s.check(tx, r, o, check, now, b.ID, ch.Override); err != nil {
				return err
			}
		}
		b.ResourceType, b.ResourceID, b.SiteID, b.FloorID = r.Type, r.ID, r.SiteID, r.FloorID
		b.StartAt, b.EndAt = iv.Start, iv.End
		if ch.Title != nil {
			b.Title = *ch.Title
		}
		res := tx.Table("bookings").Where("id = ? AND version = ?", b.ID, version).Updates(map[string]any{
			"resource_type": b.ResourceType, "resource_id": b.ResourceID, "site_id": b.SiteID, "floor_id": b.FloorID,
			"start_at": b.StartAt, "end_at": b.EndAt, "title": b.Title, "version": version + 1, "updated_at": now,
		})
		if res.Error != nil {
			if !nested && perch.ErrorCode(database.Translate(res.Error)) == perch.EBOOKINGCONFLICT {
				if cerr := overlapping(s.db.Conn(ctx), r, iv.Start, iv.End, b.ID); cerr != nil {
					return cerr
				}
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.EPRECONDITION, "The booking changed since you read it; read it again.")
		}
		b.Version, b.UpdatedAt = version+1, now
		out = &View{Booking: *b, Timezone: r.Timezone, ResourceName: r.Name}
		return writeEventReason(tx, EventUpdated, out, now, prev, ch.Reason)
	}()
	if err != nil {
		return nil, database.Translate(err)
	}
	return out, nil
}

// lockBooking loads a booking the actor may manage, locked on PostgreSQL.
func (s *Service) lockBooking(tx *gorm.DB, actor *users.Principal, id string) (*Booking, error) {
	q := s.locking(tx.Where("id = ?", id))
	var bs []Booking
	if err := q.Find(&bs).Error; err != nil {
		return nil, err
	}
	if len(bs) == 0 || !canManage(actor, &bs[0]) {
		return nil, perch.NotFound("booking")
	}
	return &bs[0], nil
}

// Scope of a cancellation in a series.
const (
	ScopeThis      = "this"
	ScopeFollowing = "following"
)

// Cancel cancels a booking (scope "this") or it and every later occurrence
// of its series ("following"). Cancelled bookings keep their row with
// status cancelled. Cancelling an already cancelled booking changes
// nothing and returns it.
func (s *Service) Cancel(ctx context.Context, actor *users.Principal, id, scope string) ([]View, error) {
	if scope == "" {
		scope = ScopeThis
	}
	if scope != ScopeThis && scope != ScopeFollowing {
		return nil, perch.Invalid("scope", "scope must be this or following")
	}
	now := s.now()
	var out []View
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		b, err := s.lockBooking(tx, actor, id)
		if err != nil {
			return err
		}
		targets := []Booking{*b}
		if scope == ScopeFollowing && b.SeriesID != nil {
			targets = nil
			if err := tx.Where("series_id = ? AND start_at >= ? AND status IN ('confirmed', 'checked_in')", *b.SeriesID, b.StartAt).
				Order("start_at").Find(&targets).Error; err != nil {
				return err
			}
		}
		if !b.Status.Active() && scope == ScopeThis {
			v, err := s.view(tx, b)
			if err != nil {
				return err
			}
			out = []View{*v}
			return nil
		}
		for i := range targets {
			t := &targets[i]
			if !t.EndAt.After(now) {
				return perch.Errorf(perch.ECONFLICT, "The booking has already ended.")
			}
			if actor.Role != users.RoleAdmin {
				r, err := loadResource(tx, t.ResourceType, t.ResourceID)
				if err != nil {
					return err
				}
				cut := time.Duration(r.rules.CancellationCutoffMinutes) * time.Minute
				if cut > 0 && now.After(t.StartAt.Add(-cut)) {
					return policyError("cancellation_cutoff", "Bookings can be cancelled up to %d minutes before they start.", r.rules.CancellationCutoffMinutes)
				}
			}
			res := tx.Table("bookings").Where("id = ? AND status IN ('confirmed', 'checked_in')", t.ID).
				Updates(map[string]any{"status": StatusCancelled, "version": gorm.Expr("version + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			t.Status, t.Version, t.UpdatedAt = StatusCancelled, t.Version+1, now
			v, err := s.view(tx, t)
			if err != nil {
				return err
			}
			if err := writeEvent(tx, EventCancelled, v, now); err != nil {
				return err
			}
			out = append(out, *v)
		}
		return nil
	})
	return out, err
}

// CancelTx cancels one active booking inside a transaction the caller
// holds (see InTx), as an admin acting for the site: the booking's
// status_reason and its booking.cancelled event carry reason.
func (s *Service) CancelTx(tx *gorm.DB, actor *users.Principal, id, reason string) (*View, error) {
	now := s.now()
	b, err := s.lockBooking(tx, actor, id)
	if err != nil {
		return nil, err
	}
	if !b.Status.Active() {
		return nil, perch.Errorf(perch.ECONFLICT, "The booking is %s and can no longer be cancelled.", b.Status)
	}
	res := tx.Table("bookings").Where("id = ? AND status IN ('confirmed', 'checked_in')", b.ID).
		Updates(map[string]any{"status": StatusCancelled, "status_reason": reason, "version": gorm.Expr("version + 1"), "updated_at": now})
	if res.Error != nil {
		return nil, database.Translate(res.Error)
	}
	b.Status, b.StatusReason, b.Version, b.UpdatedAt = StatusCancelled, reason, b.Version+1, now
	v, err := s.view(tx, b)
	if err != nil {
		return nil, database.Translate(err)
	}
	return v, database.Translate(writeEventReason(tx, EventCancelled, v, now, nil, reason))
}

// view adds the zone and resource name to a booking.
func (s *Service) view(tx *gorm.DB, b *Booking) (*View, error) {
	var row struct {
		Timezone     string
		ResourceName string
	}
	err := tx.Raw(`SELECT sites.timezone, COALESCE((SELECT code FROM desks WHERE id = ?), (SELECT name FROM rooms WHERE id = ?), '') AS resource_name
		FROM sites WHERE sites.id = ?`, b.ResourceID, b.ResourceID, b.SiteID).Scan(&row).Error
	if err != nil {
		return nil, err
	}
	return &View{Booking: *b, Timezone: row.Timezone, ResourceName: row.ResourceName}, nil
}

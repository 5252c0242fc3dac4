package booking

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Release is a day on which an assigned desk's owner lets others book it.
type Release struct {
	DeskID     string    `json:"desk_id"`
	Date       string    `json:"date"`
	ReleasedBy *string   `json:"released_by"`
	CreatedAt  time.Time `json:"created_at"`
}

// deskForRelease loads an assigned desk the actor may release: its owner
// or an admin.
func deskForRelease(tx *gorm.DB, actor *users.Principal, deskID string) (*resource, error) {
	r, err := loadResource(tx, Desk, deskID)
	if err != nil {
		return nil, err
	}
	if r.AssignedUserID == nil {
		return nil, perch.Errorf(perch.ECONFLICT, "%s is not assigned to anyone; it is bookable by everyone already.", r.label())
	}
	if actor.Role != users.RoleAdmin && *r.AssignedUserID != actor.UserID {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only the desk's owner or an admin may release it.")
	}
	return r, nil
}

// ListReleases lists a desk's releases from today on.
func (s *Service) ListReleases(ctx context.Context, deskID string) ([]Release, error) {
	r, err := loadResource(s.db.Conn(ctx), Desk, deskID)
	if err != nil {
		return nil, err
	}
	today := DateOf(s.now().In(r.loc)).String()
	out := []Release{}
	err = s.db.Conn(ctx).Table("desk_releases").Where("desk_id = ? AND date >= ?", deskID, today).Order("date").Find(&out).Error
	return out, database.Translate(err)
}

// ReleaseDesk lets others book an assigned desk on a date (idempotent).
func (s *Service) ReleaseDesk(ctx context.Context, actor *users.Principal, deskID string, date Date) (*Release, error) {
	now := s.now()
	var rel *Release
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		r, err := deskForRelease(tx, actor, deskID)
		if err != nil {
			return err
		}
		if date.Before(DateOf(now.In(r.loc))) {
			return perch.Invalid("date", "date is in the past")
		}
		var existing []Release
		if err := tx.Table("desk_releases").Where("desk_id = ? AND date = ?", deskID, date.String()).Find(&existing).Error; err != nil {
			return err
		}
		if len(existing) > 0 {
			rel = &existing[0]
			return nil
		}
		rel = &Release{DeskID: deskID, Date: date.String(), CreatedAt: now}
		if actor.UserID != "" {
			rel.ReleasedBy = &actor.UserID
		}
		return tx.Table("desk_releases").Create(rel).Error
	})
	return rel, err
}

// UnreleaseDesk takes a release back, unless someone else booked the desk
// that day.
func (s *Service) UnreleaseDesk(ctx context.Context, actor *users.Principal, deskID string, date Date) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		r, err := deskForRelease(tx, actor, deskID)
		if err != nil {
			return err
		}
		var n int64
		if err := tx.Table("bookings").Where("resource_id = ? AND user_id <> ? AND status IN ('confirmed', 'checked_in') AND start_at < ? AND end_at > ?",
			deskID, *r.AssignedUserID, date.AddDays(1).In(r.loc), date.In(r.loc)).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return perch.Errorf(perch.ECONFLICT, "Someone has booked %s on %s; cancel that booking first.", r.Name, date)
		}
		res := tx.Exec("DELETE FROM desk_releases WHERE desk_id = ? AND date = ?", deskID, date.String())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.NotFound("release")
		}
		return nil
	})
}

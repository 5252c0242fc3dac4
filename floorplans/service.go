package floorplans

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// Service reads and writes the office model.
type Service struct {
	db *database.DB
}

// NewService returns a Service on db.
func NewService(db *database.DB) *Service { return &Service{db: db} }

// take loads one row of T by id, or not_found naming the kind.
func take[T any](tx *gorm.DB, kind, id string) (*T, error) {
	var v T
	if err := tx.Take(&v, "id = ?", id).Error; err != nil {
		if isNotFound(err) {
			return nil, perch.NotFound(kind)
		}
		return nil, database.Translate(err)
	}
	return &v, nil
}

// update loads a T in a transaction, lets apply change and check it, and
// saves it.
func update[T any](ctx context.Context, db *database.DB, kind, id string, apply func(tx *gorm.DB, v *T) error) (*T, error) {
	var out *T
	err := db.Tx(ctx, func(tx *gorm.DB) error {
		v, err := take[T](tx, kind, id)
		if err != nil {
			return err
		}
		if err := apply(tx, v); err != nil {
			return err
		}
		out = v
		return tx.Save(v).Error
	})
	return out, err
}

// remove deletes a T by id after guard says it may go.
func remove[T any](ctx context.Context, db *database.DB, kind, id string, guard func(tx *gorm.DB) error) error {
	return db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := take[T](tx, kind, id); err != nil {
			return err
		}
		if err := guard(tx); err != nil {
			return err
		}
		return tx.Delete(new(T), "id = ?", id).Error
	})
}

// refuseIfAny returns a conflict when the query counts any row.
func refuseIfAny(q *gorm.DB, format string) error {
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return perch.Errorf(perch.ECONFLICT, format, n)
	}
	return nil
}

// ---- sites ----

// ListSites lists sites by name.
func (s *Service) ListSites(ctx context.Context, p database.Page) ([]Site, string, error) {
	return database.Paginate(s.db.Conn(ctx).Model(&Site{}), p, "name", func(v *Site) (any, string) { return v.Name, v.ID })
}

// GetSite returns one site.
func (s *Service) GetSite(ctx context.Context, id string) (*Site, error) {
	return take[Site](s.db.Conn(ctx), "site", id)
}

// CreateSite validates and inserts a site.
func (s *Service) CreateSite(ctx context.Context, v *Site) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if v.ID == "" {
		v.ID = database.NewID()
	}
	return database.Translate(s.db.Conn(ctx).Create(v).Error)
}

// UpdateSite changes a site.
func (s *Service) UpdateSite(ctx context.Context, id string, apply func(*Site) error) (*Site, error) {
	return update(ctx, s.db, "site", id, func(_ *gorm.DB, v *Site) error {
		if err := apply(v); err != nil {
			return err
		}
		return v.Validate()
	})
}

// DeleteSite deletes a site that has no floors left.
func (s *Service) DeleteSite(ctx context.Context, id string) error {
	return remove[Site](ctx, s.db, "site", id, func(tx *gorm.DB) error {
		return refuseIfAny(tx.Model(&Floor{}).Where("site_id = ?", id), "The site still has %d floor(s); delete them first.")
	})
}

// ---- floors ----

// ListFloors lists a site's floors by level.
func (s *Service) ListFloors(ctx context.Context, siteID string, p database.Page) ([]Floor, string, error) {
	if _, err := s.GetSite(ctx, siteID); err != nil {
		return nil, "", err
	}
	return database.Paginate(s.db.Conn(ctx).Model(&Floor{}).Where("site_id = ?", siteID), p, "level",
		func(v *Floor) (any, string) { return v.Level, v.ID })
}

// GetFloor returns one floor.
func (s *Service) GetFloor(ctx context.Context, id string) (*Floor, error) {
	return take[Floor](s.db.Conn(ctx), "floor", id)
}

// CreateFloor validates and inserts a floor of an existing site.
func (s *Service) CreateFloor(ctx context.Context, v *Floor) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if v.ID == "" {
		v.ID = database.NewID()
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := take[Site](tx, "site", v.SiteID); err != nil {
			return err
		}
		return tx.Create(v).Error
	})
}

// UpdateFloor changes a floor; the plan may not shrink below what stands on it.
func (s *Service) UpdateFloor(ctx context.Context, id string, apply func(*Floor) error) (*Floor, error) {
	return update(ctx, s.db, "floor", id, func(tx *gorm.DB, v *Floor) error {
		if err := apply(v); err != nil {
			return err
		}
		if err := v.Validate(); err != nil {
			return err
		}
		var out struct{ Wide, Tall int64 }
		err := tx.Raw(`SELECT
			(SELECT COUNT(*) FROM desks WHERE floor_id = ? AND x > ?) + (SELECT COUNT(*) FROM rooms WHERE floor_id = ? AND x + width > ?) AS wide,
			(SELECT COUNT(*) FROM desks WHERE floor_id = ? AND y > ?) + (SELECT COUNT(*) FROM rooms WHERE floor_id = ? AND y + height > ?) AS tall`,
			id, v.Width, id, v.Width, id, v.Height, id, v.Height).Scan(&out).Error
		if err != nil {
			return err
		}
		if out.Wide > 0 {
			return perch.Invalid("width", "%d desk(s) or room(s) would lie outside a plan %g wide; move them first", out.Wide, v.Width)
		}
		if out.Tall > 0 {
			return perch.Invalid("height", "%d desk(s) or room(s) would lie outside a plan %g high; move them first", out.Tall, v.Height)
		}
		return nil
	})
}

// DeleteFloor deletes an empty floor.
func (s *Service) DeleteFloor(ctx context.Context, id string) error {
	return remove[Floor](ctx, s.db, "floor", id, func(tx *gorm.DB) error {
		var counts struct{ Desks, Rooms, Zones int64 }
		err := tx.Raw(`SELECT (SELECT COUNT(*) FROM desks WHERE floor_id = ?) AS desks,
			(SELECT COUNT(*) FROM rooms WHERE floor_id = ?) AS rooms,
			(SELECT COUNT(*) FROM zones WHERE floor_id = ?) AS zones`, id, id, id).Scan(&counts).Error
		if err != nil {
			return err
		}
		if counts.Desks+counts.Rooms+counts.Zones > 0 {
			return perch.Errorf(perch.ECONFLICT, "The floor still has %d desk(s), %d room(s) and %d zone(s); delete them first.",
				counts.Desks, counts.Rooms, counts.Zones)
		}
		return refuseIfAny(tx.Table("bookings").Where("floor_id = ?", id), "The floor has %d booking(s) on record; it cannot be deleted.")
	})
}

// ---- zones ----

// ListZones lists a floor's zones by name.
func (s *Service) ListZones(ctx context.Context, floorID string, p database.Page) ([]Zone, string, error) {
	if _, err := s.GetFloor(ctx, floorID); err != nil {
		return nil, "", err
	}
	return database.Paginate(s.db.Conn(ctx).Model(&Zone{}).Where("floor_id = ?", floorID), p, "name",
		func(v *Zone) (any, string) { return v.Name, v.ID })
}

// GetZone returns one zone.
func (s *Service) GetZone(ctx context.Context, id string) (*Zone, error) {
	return take[Zone](s.db.Conn(ctx), "zone", id)
}

// CreateZone validates and inserts a zone on an existing floor.
func (s *Service) CreateZone(ctx context.Context, v *Zone) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if v.ID == "" {
		v.ID = database.NewID()
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		f, err := take[Floor](tx, "floor", v.FloorID)
		if err != nil {
			return err
		}
		v.SiteID = f.SiteID
		return tx.Create(v).Error
	})
}

// UpdateZone changes a zone.
func (s *Service) UpdateZone(ctx context.Context, id string, apply func(*Zone) error) (*Zone, error) {
	return update(ctx, s.db, "zone", id, func(_ *gorm.DB, v *Zone) error {
		if err := apply(v); err != nil {
			return err
		}
		return v.Validate()
	})
}

// DeleteZone deletes a zone; its desks and rooms stay, in no zone.
func (s *Service) DeleteZone(ctx context.Context, id string) error {
	return remove[Zone](ctx, s.db, "zone", id, func(*gorm.DB) error { return nil })
}

// ---- desks ----

// ListDesks lists a floor's desks by code.
func (s *Service) ListDesks(ctx context.Context, floorID string, p database.Page) ([]Desk, string, error) {
	if _, err := s.GetFloor(ctx, floorID); err != nil {
		return nil, "", err
	}
	return database.Paginate(s.db.Conn(ctx).Model(&Desk{}).Where("floor_id = ?", floorID), p, "code",
		func(v *Desk) (any, string) { return v.Code, v.ID })
}

// GetDesk returns one desk.
func (s *Service) GetDesk(ctx context.Context, id string) (*Desk, error) {
	return take[Desk](s.db.Conn(ctx), "desk", id)
}

// checkPlacement checks what a desk or room refers to: the zone must be on
// the same floor and the assigned user must exist.
func checkPlacement(tx *gorm.DB, floorID string, zoneID, userID *string) error {
	if zoneID != nil {
		if !database.ValidID(*zoneID) {
			return perch.Invalid("zone_id", "zone_id is not a valid id")
		}
		var z Zone
		if err := tx.Take(&z, "id = ?", *zoneID).Error; err != nil {
			if isNotFound(err) {
				return perch.Invalid("zone_id", "zone_id names no zone")
			}
			return err
		}
		if z.FloorID != floorID {
			return perch.Invalid("zone_id", "the zone is on another floor")
		}
	}
	if userID != nil {
		if !database.ValidID(*userID) {
			return perch.Invalid("assigned_user_id", "assigned_user_id is not a valid id")
		}
		var n int64
		if err := tx.Table("users").Where("id = ?", *userID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return perch.Invalid("assigned_user_id", "assigned_user_id names no user")
		}
	}
	return nil
}

func deskWriteErr(err error, code string) error {
	if database.IsUniqueViolation(err, "code") {
		return &perch.Error{Code: perch.ECONFLICT, Field: "code", Message: fmt.Sprintf("A desk with code %s already exists at this site.", code), Err: err}
	}
	return err
}

// CreateDesk validates and inserts a desk on an existing floor.
func (s *Service) CreateDesk(ctx context.Context, v *Desk) error {
	return s.CreateDesks(ctx, v.FloorID, []*Desk{v})
}

// CreateDesks inserts several desks on one floor, all or none.
func (s *Service) CreateDesks(ctx context.Context, floorID string, desks []*Desk) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		f, err := take[Floor](tx, "floor", floorID)
		if err != nil {
			return err
		}
		for i, d := range desks {
			d.FloorID, d.SiteID = f.ID, f.SiteID
			err := d.Validate(f)
			if err == nil {
				err = checkPlacement(tx, f.ID, d.ZoneID, d.AssignedUserID)
			}
			if err != nil {
				if len(desks) > 1 {
					return inRow(err, i, d.Code)
				}
				return err
			}
			if d.ID == "" {
				d.ID = database.NewID()
			}
			if d.QRCode == "" {
				d.QRCode = NewQRCode()
			}
			if err := deskWriteErr(tx.Create(d).Error, d.Code); err != nil {
				return err
			}
		}
		return nil
	})
}

// UpdateDesk changes a desk (it stays on its floor).
func (s *Service) UpdateDesk(ctx context.Context, id string, apply func(*Desk) error) (*Desk, error) {
	d, err := update(ctx, s.db, "desk", id, func(tx *gorm.DB, v *Desk) error {
		floorID := v.FloorID
		if err := apply(v); err != nil {
			return err
		}
		v.FloorID = floorID
		f, err := take[Floor](tx, "floor", v.FloorID)
		if err != nil {
			return err
		}
		if err := v.Validate(f); err != nil {
			return err
		}
		return checkPlacement(tx, v.FloorID, v.ZoneID, v.AssignedUserID)
	})
	if err != nil && d != nil {
		return nil, deskWriteErr(err, d.Code)
	}
	return d, err
}

// activeFutureBookings counts a resource's bookings that are still to come.
func activeFutureBookings(tx *gorm.DB, resourceID string) *gorm.DB {
	return tx.Table("bookings").Where("resource_id = ? AND status IN ('confirmed', 'checked_in') AND end_at > ?",
		resourceID, time.Now().UTC())
}

// DeleteDesk deletes a desk with no upcoming bookings.
func (s *Service) DeleteDesk(ctx context.Context, id string) error {
	return remove[Desk](ctx, s.db, "desk", id, func(tx *gorm.DB) error {
		return refuseIfAny(activeFutureBookings(tx, id), "The desk has %d upcoming booking(s); cancel them first.")
	})
}

// ---- rooms ----

// ListRooms lists a floor's rooms by name.
func (s *Service) ListRooms(ctx context.Context, floorID string, p database.Page) ([]Room, string, error) {
	if _, err := s.GetFloor(ctx, floorID); err != nil {
		return nil, "", err
	}
	return database.Paginate(s.db.Conn(ctx).Model(&Room{}).Where("floor_id = ?", floorID), p, "name",
		func(v *Room) (any, string) { return v.Name, v.ID })
}

// GetRoom returns one room.
func (s *Service) GetRoom(ctx context.Context, id string) (*Room, error) {
	return take[Room](s.db.Conn(ctx), "room", id)
}

// CreateRoom validates and inserts a room on an existing floor.
func (s *Service) CreateRoom(ctx context.Context, v *Room) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		f, err := take[Floor](tx, "floor", v.FloorID)
		if err != nil {
			return err
		}
		v.SiteID = f.SiteID
		if err := v.Validate(f); err != nil {
			return err
		}
		if err := checkPlacement(tx, f.ID, v.ZoneID, nil); err != nil {
			return err
		}
		if v.ID == "" {
			v.ID = database.NewID()
		}
		if v.QRCode == "" {
			v.QRCode = NewQRCode()
		}
		return tx.Create(v).Error
	})
}

// UpdateRoom changes a room (it stays on its floor).
func (s *Service) UpdateRoom(ctx context.Context, id string, apply func(*Room) error) (*Room, error) {
	return update(ctx, s.db, "room", id, func(tx *gorm.DB, v *Room) error {
		floorID := v.FloorID
		if err := apply(v); err != nil {
			return err
		}
		v.FloorID = floorID
		f, err := take[Floor](tx, "floor", v.FloorID)
		if err != nil {
			return err
		}
		if err := v.Validate(f); err != nil {
			return err
		}
		return checkPlacement(tx, v.FloorID, v.ZoneID, nil)
	})
}

// DeleteRoom deletes a room with no upcoming bookings.
func (s *Service) DeleteRoom(ctx context.Context, id string) error {
	return remove[Room](ctx, s.db, "room", id, func(tx *gorm.DB) error {
		return refuseIfAny(activeFutureBookings(tx, id), "The room has %d upcoming booking(s); cancel them first.")
	})
}

// inRow says which desk of a bulk create a validation error is about.
func inRow(err error, i int, code string) error {
	var pe *perch.Error
	if errors.As(err, &pe) && pe.Code == perch.EINVALID {
		return &perch.Error{Code: pe.Code, Field: pe.Field, Message: fmt.Sprintf("desk %d (%s): %s", i+1, code, pe.Message)}
	}
	return err
}

// FloorResources returns all desks (by code) and rooms (by name) of a
// floor, unpaginated, for printing.
func (s *Service) FloorResources(ctx context.Context, floorID string) ([]Desk, []Room, error) {
	var desks []Desk
	var rooms []Room
	db := s.db.Conn(ctx)
	if err := db.Where("floor_id = ?", floorID).Order("code").Find(&desks).Error; err != nil {
		return nil, nil, database.Translate(err)
	}
	if err := db.Where("floor_id = ?", floorID).Order("name").Find(&rooms).Error; err != nil {
		return nil, nil, database.Translate(err)
	}
	return desks, rooms, nil
}

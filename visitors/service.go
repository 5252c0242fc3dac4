package visitors

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
)

// Service runs visits.
type Service struct {
	db     *database.DB
	now    func() time.Time
	notify func()
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithNotifier makes the service wake the outbox readers after each commit
// that wrote events.
func WithNotifier(n booking.Notifier) Option { return func(s *Service) { s.notify = n.Notify } }

// NewService returns the visitors service on db.
func NewService(db *database.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// eventTx is a transaction that writes outbox events; the readers are
// woken after it commits.
func (s *Service) eventTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := s.db.Tx(ctx, fn)
	if err == nil && s.notify != nil {
		s.notify()
	}
	return err
}

// writeEvent appends a visitor event to the outbox inside tx. toHost
// addresses it to the host (their /ws/me sockets).
func writeEvent(tx *gorm.DB, kind string, v *Visit, now time.Time, payload any, toHost bool) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	ev := booking.Event{Kind: kind, SiteID: &v.SiteID, Payload: string(raw), CreatedAt: now}
	if toHost {
		ev.UserID = &v.HostID
	}
	return tx.Create(&ev).Error
}

// staff reports whether p sees every visit (reception and admins).
func staff(p *users.Principal) bool {
	return p != nil && (p.Role == users.RoleAdmin || p.Role == users.RoleReception)
}

// lobbySite is the site a paired lobby kiosk acts for.
func lobbySite(p *users.Principal) (string, error) {
	if p == nil || p.Role != users.RoleKiosk || p.KioskID == "" || p.SiteID == "" || p.RoomID != "" {
		return "", perch.Errorf(perch.EFORBIDDEN, "Only a site's paired lobby kiosk may do this.")
	}
	return p.SiteID, nil
}

// visible: staff see every visit; a host sees their own; a lobby kiosk
// those of its site when kiosk is true. Anyone else: not found (an employee
// must not learn that someone else's visit exists).
func visible(p *users.Principal, v *Visit, kiosk bool) bool {
	switch {
	case staff(p):
		return true
	case p != nil && p.Role == users.RoleEmployee:
		return v.HostID == p.UserID
	case kiosk && p != nil && p.Role == users.RoleKiosk:
		site, err := lobbySite(p)
		return err == nil && site == v.SiteID
	}
	return false
}

var errVisitNotFound = perch.NotFound("visit")

// load reads one visit with its host and site; lock takes the row lock on
// PostgreSQL (inside a transaction).
func (s *Service) load(tx *gorm.DB, id string, lock bool) (*visitRow, error) {
	if !database.ValidID(id) {
		return nil, perch.Invalid("id", "id is not a valid id")
	}
	if lock && s.db.Dialect() == database.Postgres {
		var one []string
		if err := tx.Raw("SELECT id FROM visits WHERE id = ? FOR UPDATE", id).Scan(&one).Error; err != nil {
			return nil, err
		}
	}
	var rows []visitRow
	err := tx.Table("visits v").Select(visitSelect).Joins(visitJoins).Where("v.id = ?", id).Limit(1).Find(&rows).Error
	if err != nil {
		return nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return nil, errVisitNotFound
	}
	return &rows[0], nil
}

// site is what the service needs of a site.
type site struct {
	ID                  string
	Name                string
	Address             string
	Timezone            string
	RetentionDays       *int
	ArrivalInstructions *string
}

func (s *Service) site(tx *gorm.DB, id string) (*site, *time.Location, error) {
	var rows []site
	err := tx.Raw(`SELECT s.id, s.name, s.address, s.timezone, vs.retention_days, vs.arrival_instructions
		FROM sites s LEFT JOIN visitor_settings vs ON vs.site_id = s.id WHERE s.id = ?`, id).Scan(&rows).Error
	if err != nil {
		return nil, nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return nil, nil, perch.NotFound("site")
	}
	return &rows[0], loadLocation(rows[0].Timezone), nil
}

// host checks that id is a person who can host (not a device account).
func host(tx *gorm.DB, field, id string) (string, error) {
	if !database.ValidID(id) {
		return "", perch.Invalid(field, "%s is not a valid id", field)
	}
	var names []string
	if err := tx.Raw("SELECT name FROM users WHERE id = ? AND role IN ('admin', 'employee', 'reception')", id).Scan(&names).Error; err != nil {
		return "", database.Translate(err)
	}
	if len(names) == 0 {
		return "", perch.Invalid(field, "%s names no person who can host a visitor", field)
	}
	return names[0], nil
}

// checkRoomBooking requires a room booking at the site.
func checkRoomBooking(tx *gorm.DB, id, siteID string) error {
	if !database.ValidID(id) {
		return perch.Invalid("room_booking_id", "room_booking_id is not a valid id")
	}
	var n int64
	if err := tx.Table("bookings").Where("id = ? AND site_id = ? AND resource_type = 'room'", id, siteID).Count(&n).Error; err != nil {
		return database.Translate(err)
	}
	if n == 0 {
		return perch.Invalid("room_booking_id", "room_booking_id names no room booking at this site")
	}
	return nil
}

// InviteRequest pre-registers a visitor.
type InviteRequest struct {
	SiteID        string
	HostID        string // "" : the caller
	ExpectedAt    time.Time
	Visitor       Visitor
	Purpose       string
	RoomBookingID string
}

// Invite pre-registers a visit. Employees invite for themselves only;
// reception and admins for anyone.
func (s *Service) Invite(ctx context.Context, p *users.Principal, r InviteRequest) (*View, error) {
	if p == nil || p.Role == users.RoleKiosk {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only people invite visitors.")
	}
	if r.HostID == "" {
		if p.UserID == "" {
			return nil, perch.Invalid("host_id", "host_id is required (the bootstrap admin hosts nobody)")
		}
		r.HostID = p.UserID
	}
	if !staff(p) && r.HostID != p.UserID {
		return nil, perch.Errorf(perch.EFORBIDDEN, "You may invite visitors only for yourself; reception invites for others.")
	}
	if r.SiteID == "" {
		return nil, perch.Invalid("site_id", "site_id is required")
	}
	if !database.ValidID(r.SiteID) {
		return nil, perch.Invalid("site_id", "site_id is not a valid id")
	}
	if r.ExpectedAt.IsZero() {
		return nil, perch.Invalid("expected_at", "expected_at is required")
	}
	r.Visitor.Normalize()
	if err := r.Visitor.Validate(true); err != nil {
		return nil, err
	}
	if err := checkText("purpose", r.Purpose, 500); err != nil {
		return nil, err
	}
	now := s.clock()
	if r.ExpectedAt.Before(now.Add(-24 * time.Hour)) {
		return nil, perch.Invalid("expected_at", "expected_at is in the past")
	}
	v := &Visit{
		ID: database.NewID(), SiteID: r.SiteID, HostID: r.HostID, Status: StatusExpected,
		ExpectedAt:  r.ExpectedAt.UTC().Truncate(time.Second),
		VisitorName: r.Visitor.Name, VisitorEmail: r.Visitor.Email, VisitorCompany: r.Visitor.Company,
		VisitorPhone: r.Visitor.Phone, SearchText: searchText(r.Visitor), Purpose: r.Purpose,
		InviteCode: floorplans.NewQRCode(), Version: 1, CreatedAt: now, UpdatedAt: now,
	}
	if p.UserID != "" {
		v.CreatedBy = &p.UserID
	}
	if r.RoomBookingID != "" {
		v.RoomBookingID = &r.RoomBookingID
	}
	var row *visitRow
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if _, _, err := s.site(tx, r.SiteID); err != nil {
			if perch.ErrorCode(err) == perch.ENOTFOUND {
				return perch.Invalid("site_id", "site_id names no site")
			}
			return err
		}
		if _, err := host(tx, "host_id", r.HostID); err != nil {
			return err
		}
		if v.RoomBookingID != nil {
			if err := checkRoomBooking(tx, *v.RoomBookingID, v.SiteID); err != nil {
				return err
			}
		}
		if err := tx.Create(v).Error; err != nil {
			return err
		}
		var err error
		row, err = s.load(tx, v.ID, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	view := row.view()
	return &view, nil
}

// Get returns a visit the caller may see; kiosk admits the site's lobby
// kiosk too.
func (s *Service) Get(ctx context.Context, p *users.Principal, id string, kiosk bool) (*View, error) {
	row, err := s.load(s.db.Conn(ctx), id, false)
	if err != nil {
		return nil, err
	}
	if !visible(p, &row.Visit, kiosk) {
		return nil, errVisitNotFound
	}
	v := row.view()
	return &v, nil
}

// ListFilter narrows List.
type ListFilter struct {
	SiteID string
	Date   *booking.Date // a day in the site's time zone (needs SiteID)
	HostID string
	Status Status
}

// List lists visits by expected time. Employees see only their own.
func (s *Service) List(ctx context.Context, p *users.Principal, f ListFilter, page database.Page) ([]View, string, error) {
	if !staff(p) {
		if p == nil || p.Role != users.RoleEmployee {
			return nil, "", perch.Errorf(perch.EFORBIDDEN, "Only people list visits.")
		}
		if f.HostID != "" && f.HostID != p.UserID {
			return nil, "", perch.Errorf(perch.EFORBIDDEN, "You see only your own visitors.")
		}
		f.HostID = p.UserID
	}
	conn := s.db.Conn(ctx)
	q := conn.Table("visits v").Select(visitSelect).Joins(visitJoins)
	if f.SiteID != "" {
		q = q.Where("v.site_id = ?", f.SiteID)
	}
	if f.Date != nil {
		if f.SiteID == "" {
			return nil, "", perch.Invalid("site_id", "site_id is required with date (the day is in the site's time zone)")
		}
		_, loc, err := s.site(conn, f.SiteID)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("v.expected_at >= ? AND v.expected_at < ?", f.Date.In(loc), f.Date.AddDays(1).In(loc))
	}
	if f.HostID != "" {
		q = q.Where("v.host_id = ?", f.HostID)
	}
	if f.Status != "" {
		q = q.Where("v.status = ?", f.Status)
	}
	rows, next, err := database.Paginate(q, page, "v.expected_at", func(r *visitRow) (any, string) {
		return database.TimeKey(r.ExpectedAt), r.ID
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]View, len(rows))
	for i := range rows {
		out[i] = rows[i].view()
	}
	return out, next, nil
}

// UpdateRequest changes an expected visit; nil fields stay.
type UpdateRequest struct {
	ExpectedAt    *time.Time
	HostID        *string
	Visitor       *Visitor // replaces the visitor's details
	Purpose       *string
	RoomBookingID **string
}

// Update reschedules or edits an expected visit (host, reception, admin).
func (s *Service) Update(ctx context.Context, p *users.Principal, id string, r UpdateRequest) (*View, error) {
	if r.Visitor != nil {
		r.Visitor.Normalize()
		if err := r.Visitor.Validate(true); err != nil {
			return nil, err
		}
	}
	if r.Purpose != nil {
		if err := checkText("purpose", *r.Purpose, 500); err != nil {
			return nil, err
		}
	}
	now := s.clock()
	var row *visitRow
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if !visible(p, &cur.Visit, false) {
			return errVisitNotFound
		}
		if cur.Status != StatusExpected {
			return perch.Errorf(perch.ECONFLICT, "Only an expected visit can be changed; this one is %s.", cur.Status)
		}
		v := cur.Visit
		if r.ExpectedAt != nil {
			if r.ExpectedAt.Before(now.Add(-24 * time.Hour)) {
				return perch.Invalid("expected_at", "expected_at is in the past")
			}
			v.ExpectedAt = r.ExpectedAt.UTC().Truncate(time.Second)
		}
		if r.HostID != nil && *r.HostID != v.HostID {
			if !staff(p) {
				return perch.Errorf(perch.EFORBIDDEN, "Only reception hands a visitor to another host.")
			}
			if _, err := host(tx, "host_id", *r.HostID); err != nil {
				return err
			}
			v.HostID = *r.HostID
		}
		if r.Visitor != nil {
			v.VisitorName, v.VisitorEmail, v.VisitorCompany, v.VisitorPhone = r.Visitor.Name, r.Visitor.Email, r.Visitor.Company, r.Visitor.Phone
			v.SearchText = searchText(*r.Visitor)
		}
		if r.Purpose != nil {
			v.Purpose = *r.Purpose
		}
		if r.RoomBookingID != nil {
			v.RoomBookingID = *r.RoomBookingID
			if v.RoomBookingID != nil {
				if err := checkRoomBooking(tx, *v.RoomBookingID, v.SiteID); err != nil {
					return err
				}
			}
		}
		v.Version++
		v.UpdatedAt = now
		res := tx.Model(&Visit{}).Where("id = ? AND version = ?", v.ID, cur.Version).Updates(map[string]any{
			"expected_at": v.ExpectedAt, "host_id": v.HostID, "visitor_name": v.VisitorName, "visitor_email": v.VisitorEmail,
			"visitor_company": v.VisitorCompany, "visitor_phone": v.VisitorPhone, "search_text": v.SearchText,
			"purpose": v.Purpose, "room_booking_id": v.RoomBookingID, "version": v.Version, "updated_at": now,
		})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.Errorf(perch.ECONFLICT, "The visit changed meanwhile; try again.")
		}
		row, err = s.load(tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	view := row.view()
	return &view, nil
}

// Cancel calls off an expected visit.
func (s *Service) Cancel(ctx context.Context, p *users.Principal, id string) error {
	now := s.clock()
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		cur, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if !visible(p, &cur.Visit, false) {
			return errVisitNotFound
		}
		switch cur.Status {
		case StatusCancelled:
			return nil
		case StatusExpected:
		default:
			return perch.Errorf(perch.ECONFLICT, "Only an expected visit can be cancelled; this one is %s.", cur.Status)
		}
		return tx.Model(&Visit{}).Where("id = ? AND status = ?", id, StatusExpected).
			Updates(map[string]any{"status": StatusCancelled, "version": gorm.Expr("version + 1"), "updated_at": now}).Error
	})
}

// CheckIn checks a visitor in at reception (reception and admins): also a
// flagged visitor, once reception has decided to let them in. The site's
// documents must be accepted as at the kiosk.
func (s *Service) CheckIn(ctx context.Context, p *users.Principal, id string, accepted []Acceptance) (*View, error) {
	if !staff(p) {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only reception checks visitors in here.")
	}
	var row *visitRow
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		cur, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if _, err := s.checkIn(tx, cur, accepted, true); err != nil {
			return err
		}
		row, err = s.load(tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	v := row.view()
	return &v, nil
}

// CheckOut checks a visitor out (reception and admins; the kiosk uses the
// badge code).
func (s *Service) CheckOut(ctx context.Context, p *users.Principal, id string) (*View, error) {
	if !staff(p) {
		return nil, perch.Errorf(perch.EFORBIDDEN, "Only reception checks visitors out here.")
	}
	var row *visitRow
	err := s.eventTx(ctx, func(tx *gorm.DB) error {
		cur, err := s.load(tx, id, true)
		if err != nil {
			return err
		}
		if err := s.checkOut(tx, &cur.Visit, CheckoutReception); err != nil {
			return err
		}
		row, err = s.load(tx, id, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	v := row.view()
	return &v, nil
}

// checkOut ends a checked-in visit and tells the host. Checking out twice
// is no error and writes no second event.
func (s *Service) checkOut(tx *gorm.DB, v *Visit, method string) error {
	switch v.Status {
	case StatusCheckedOut:
		return nil
	case StatusCheckedIn:
	default:
		return perch.Errorf(perch.ECONFLICT, "This visitor is not checked in (the visit is %s).", v.Status)
	}
	now := s.clock()
	res := tx.Model(&Visit{}).Where("id = ? AND status = ?", v.ID, StatusCheckedIn).Updates(map[string]any{
		"status": StatusCheckedOut, "checked_out_at": now, "checkout_method": method,
		"version": gorm.Expr("version + 1"), "updated_at": now,
	})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil
	}
	return writeEvent(tx, EventCheckedOut, v, now, checkedOutPayload(v, now, method), true)
}

type arrivedPayload struct {
	VisitID     string    `json:"visit_id"`
	Visitor     string    `json:"visitor"`
	Company     string    `json:"company"`
	SiteID      string    `json:"site_id"`
	HostID      string    `json:"host_id"`
	CheckedInAt time.Time `json:"checked_in_at"`
}

type checkedOutPayload2 struct {
	VisitID      string    `json:"visit_id"`
	Visitor      string    `json:"visitor"`
	SiteID       string    `json:"site_id"`
	HostID       string    `json:"host_id"`
	CheckedOutAt time.Time `json:"checked_out_at"`
	Method       string    `json:"method"`
}

func checkedOutPayload(v *Visit, now time.Time, method string) checkedOutPayload2 {
	return checkedOutPayload2{VisitID: v.ID, Visitor: v.VisitorName, SiteID: v.SiteID, HostID: v.HostID, CheckedOutAt: now, Method: method}
}

// forUpdate adds FOR UPDATE on PostgreSQL.
func (s *Service) forUpdate(q *gorm.DB) *gorm.DB {
	if s.db.Dialect() == database.Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

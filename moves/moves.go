// Package moves plans office moves: it sizes each team's space from its
// measured attendance (reports.TeamDailyPeaks), proposes a seating plan that
// keeps every team together on the floor plan, lets planners edit and check
// it, replays the measured attendance against it, and applies it — zone
// restrictions and assigned desks change, and the future bookings it
// invalidates are moved or cancelled through the booking service. Method and
// definitions: docs/API.md#move-plans.
package moves

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/users"
)

// Plan statuses.
const (
	StatusDraft   = "draft"
	StatusApplied = "applied"
)

// EInvalidPlan: apply refused because validate found errors (422).
const EInvalidPlan = "move_plan_invalid"

// Reason is the reason carried by the booking events and cancelled
// bookings an applied plan causes.
const Reason = "move_plan"

// Limits of one plan.
const (
	MaxTeams   = 50
	MaxTargets = 200
	MaxBuffer  = 5.0
)

// Service plans office moves.
type Service struct {
	db  *database.DB
	fp  *floorplans.Service
	bk  *booking.Service
	rp  *reports.Service
	now func() time.Time
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a move planner.
func NewService(db *database.DB, fp *floorplans.Service, bk *booking.Service, rp *reports.Service, opts ...Option) *Service {
	s := &Service{db: db, fp: fp, bk: bk, rp: rp, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Basis is the window of measured attendance a plan is sized from: local
// days From to To, both included.
type Basis struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Request is what a planner asks for.
type Request struct {
	Name           string   `json:"name"`
	SiteID         string   `json:"site_id"`
	EffectiveDate  string   `json:"effective_date"`
	TeamIDs        []string `json:"team_ids"`
	TargetZoneIDs  []string `json:"target_zone_ids,omitempty"`
	TargetFloorIDs []string `json:"target_floor_ids,omitempty"`
	Basis          Basis    `json:"basis"`
	// Buffer is added to the measured demand: 0.1 plans 10 % more desks.
	Buffer float64 `json:"buffer"`
}

// Plan is a stored move plan.
type Plan struct {
	ID            string       `json:"id"`
	SiteID        string       `json:"site_id"`
	Name          string       `json:"name"`
	Status        string       `json:"status"`
	EffectiveDate string       `json:"effective_date"`
	Request       Request      `json:"request"`
	Proposal      Proposal     `json:"proposal"`
	Result        *ApplyResult `json:"result"`
	Version       int          `json:"version"`
	CreatedBy     *string      `json:"created_by"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
	AppliedAt     *time.Time   `json:"applied_at"`
}

// Proposal is the seating plan: which desks each team gets, and who is
// pinned to which desk.
type Proposal struct {
	// Method names how the desks were ordered and handed out.
	Method string `json:"method"`
	// TargetDesks counts the bookable desks of the target area;
	// UnusedDesks those no team got.
	TargetDesks int        `json:"target_desks"`
	UnusedDesks int        `json:"unused_desks"`
	Teams       []TeamPlan `json:"teams"`
	Pins        []Pin      `json:"pins"`
}

// TeamPlan is one team's share of the plan.
type TeamPlan struct {
	TeamID   string `json:"team_id"`
	TeamName string `json:"team_name"`
	Members  int    `json:"members"`
	// BasisDays: open days of the basis window; P90Peak: the 90th
	// percentile (nearest rank) of the team's daily peak presence over them.
	BasisDays int `json:"basis_days"`
	P90Peak   int `json:"p90_peak"`
	// Demand is ceil(P90Peak × (1 + buffer)).
	Demand int `json:"demand"`
	// Desks the team gets (its run plus its accessibility pins); DeskRatio
	// is Desks / Members; Shortfall is Demand − Desks when positive.
	Desks     int      `json:"desks"`
	DeskRatio float64  `json:"desk_ratio"`
	Shortfall int      `json:"shortfall"`
	DeskIDs   []string `json:"desk_ids"`
	ZoneIDs   []string `json:"zone_ids"`
	FloorIDs  []string `json:"floor_ids"`
}

// Pin keeps a person at a desk. Kind "accessibility": an accessible desk
// already assigned to the person, which the plan never hands to anyone
// else; "planner": set by a planner (PATCH). Applying a plan makes every
// pin an assigned desk.
type Pin struct {
	UserID   string `json:"user_id"`
	UserName string `json:"user_name"`
	TeamID   string `json:"team_id"`
	DeskID   string `json:"desk_id"`
	DeskCode string `json:"desk_code"`
	Kind     string `json:"kind"`
}

// Pin kinds.
const (
	PinAccessibility = "accessibility"
	PinPlanner       = "planner"
)

type planRow struct {
	ID            string
	SiteID        string
	Name          string
	Status        string
	EffectiveDate string
	Request       string
	Proposal      string
	Result        *string
	Version       int
	CreatedBy     *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	AppliedAt     *time.Time
}

func (planRow) TableName() string { return "move_plans" }

func (r *planRow) plan() (*Plan, error) {
	p := &Plan{ID: r.ID, SiteID: r.SiteID, Name: r.Name, Status: r.Status, EffectiveDate: r.EffectiveDate,
		Version: r.Version, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, AppliedAt: r.AppliedAt}
	if err := json.Unmarshal([]byte(r.Request), &p.Request); err != nil {
		return nil, fmt.Errorf("move plan %s: request: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.Proposal), &p.Proposal); err != nil {
		return nil, fmt.Errorf("move plan %s: proposal: %w", r.ID, err)
	}
	if r.Result != nil {
		p.Result = &ApplyResult{}
		if err := json.Unmarshal([]byte(*r.Result), p.Result); err != nil {
			return nil, fmt.Errorf("move plan %s: result: %w", r.ID, err)
		}
	}
	return p, nil
}

func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("moves: " + err.Error()) // plain structs always encode
	}
	return string(b)
}

// checkRequest validates the request's shape (the database checks follow).
func checkRequest(r *Request) (from, to, eff booking.Date, err error) {
	r.Name = strings.TrimSpace(r.Name)
	if err = users.CheckName("name", r.Name, 200); err != nil {
		return
	}
	if !database.ValidID(r.SiteID) {
		err = perch.Invalid("site_id", "site_id must be a site's id")
		return
	}
	if eff, err = booking.ParseDate(r.EffectiveDate); err != nil {
		err = perch.Invalid("effective_date", "effective_date must be a day like 2026-06-01")
		return
	}
	if len(r.TeamIDs) == 0 || len(r.TeamIDs) > MaxTeams {
		err = perch.Invalid("team_ids", "team_ids must name between 1 and %d teams", MaxTeams)
		return
	}
	if err = checkIDs("team_ids", r.TeamIDs); err != nil {
		return
	}
	switch {
	case len(r.TargetZoneIDs) > 0 && len(r.TargetFloorIDs) > 0:
		err = perch.Invalid("target_zone_ids", "name target_zone_ids or target_floor_ids, not both")
		return
	case len(r.TargetZoneIDs) > 0:
		err = checkIDs("target_zone_ids", r.TargetZoneIDs)
	case len(r.TargetFloorIDs) > 0:
		err = checkIDs("target_floor_ids", r.TargetFloorIDs)
	default:
		err = perch.Invalid("target_zone_ids", "name the target area: target_zone_ids or target_floor_ids")
	}
	if err != nil {
		return
	}
	if from, err = booking.ParseDate(r.Basis.From); err != nil {
		err = perch.Invalid("basis.from", "basis.from must be a day like 2026-03-01")
		return
	}
	if to, err = booking.ParseDate(r.Basis.To); err != nil {
		err = perch.Invalid("basis.to", "basis.to must be a day like 2026-03-31")
		return
	}
	if to.Before(from) {
		err = perch.Invalid("basis.to", "basis.to must be on or after basis.from")
		return
	}
	if booking.DaysBetween(from, to) >= reports.MaxDays {
		err = perch.Invalid("basis.to", "the basis covers at most %d days", reports.MaxDays)
		return
	}
	if r.Buffer != r.Buffer || r.Buffer < 0 || r.Buffer > MaxBuffer {
		err = perch.Invalid("buffer", "buffer must be between 0 and %g (0.1 is 10 %% more desks)", MaxBuffer)
	}
	return
}

func checkIDs(field string, ids []string) error {
	if len(ids) > MaxTargets {
		return perch.Invalid(field, "%s names at most %d ids", field, MaxTargets)
	}
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if !database.ValidID(id) {
			return perch.Invalid(f, "%s is not a valid id", f)
		}
		if seen[id] {
			return perch.Invalid(f, "%s is named twice", id)
		}
		seen[id] = true
	}
	return nil
}

// Create computes the demand, proposes a plan and stores it as a draft.
func (s *Service) Create(ctx context.Context, actor *users.Principal, r Request) (*Plan, error) {
	from, to, _, err := checkRequest(&r)
	if err != nil {
		return nil, err
	}
	o, err := loadOffice(s.db.Conn(ctx), r.SiteID, r.TeamIDs)
	if err != nil {
		return nil, err
	}
	target, err := o.targetDesks(r)
	if err != nil {
		return nil, err
	}
	demand, err := s.demand(ctx, o, r.TeamIDs, from, to, r.Buffer)
	if err != nil {
		return nil, err
	}
	prop := propose(o, r.TeamIDs, target, demand)
	now := s.now().UTC().Truncate(time.Microsecond)
	row := planRow{ID: database.NewID(), SiteID: r.SiteID, Name: r.Name, Status: StatusDraft, EffectiveDate: r.EffectiveDate,
		Request: toJSON(r), Proposal: toJSON(prop), Version: 1, CreatedAt: now, UpdatedAt: now}
	if actor != nil && actor.UserID != "" {
		row.CreatedBy = &actor.UserID
	}
	if err := s.db.Tx(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return nil, err
	}
	return row.plan()
}

// Get returns one plan.
func (s *Service) Get(ctx context.Context, id string) (*Plan, error) {
	row, err := getRow(s.db.Conn(ctx), id, false)
	if err != nil {
		return nil, err
	}
	return row.plan()
}

func getRow(tx *gorm.DB, id string, lock bool) (*planRow, error) {
	q := tx.Where("id = ?", id)
	if lock && tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []planRow
	if err := q.Limit(1).Find(&rows).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return nil, perch.NotFound("move plan")
	}
	return &rows[0], nil
}

// List lists plans, newest last (keyset pagination by creation).
func (s *Service) List(ctx context.Context, siteID string, p database.Page) ([]Plan, string, error) {
	q := s.db.Conn(ctx).Model(&planRow{})
	if siteID != "" {
		q = q.Where("site_id = ?", siteID)
	}
	rows, next, err := database.Paginate(q, p, "created_at", func(r *planRow) (any, string) {
		return database.TimeKey(r.CreatedAt), r.ID
	})
	if err != nil {
		return nil, "", err
	}
	out := make([]Plan, 0, len(rows))
	for i := range rows {
		pl, err := rows[i].plan()
		if err != nil {
			return nil, "", err
		}
		out = append(out, *pl)
	}
	return out, next, nil
}

// Delete deletes a draft; an applied plan is kept as the record of the move.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		row, err := getRow(tx, id, true)
		if err != nil {
			return err
		}
		if row.Status != StatusDraft {
			return perch.Errorf(perch.ECONFLICT, "The plan was applied; applied plans are kept as the record of the move.")
		}
		return tx.Where("id = ?", id).Delete(&planRow{}).Error
	})
}

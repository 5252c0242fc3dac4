// Package reports computes occupancy and utilisation from bookings and
// check-ins, by SQL aggregation in the database (never by loading rows into
// Go), in the site's time zone; it renders them as JSON-ready values, CSV
// and SVG charts, and owns the per-site report settings (the privacy
// threshold of team breakdowns). Definitions of every figure are in
// docs/API.md#reports.
package reports

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/floorplans"
)

// DefaultMinGroupSize is the privacy threshold of a site without settings.
const DefaultMinGroupSize = 5

// MaxDays is the longest window a report covers.
const MaxDays = 3 * 366

// MaxBuckets bounds the buckets of one report (hour buckets over about 13 months).
const MaxBuckets = 10000

// Service computes reports.
type Service struct {
	db  *database.DB
	fp  *floorplans.Service
	bk  *booking.Service
	now func() time.Time
	// live: compute every report from check-ins, never from cells (tests).
	live bool
}

// Option configures a Service.
type Option func(*Service)

// WithClock makes the service read the time from now (tests): check-ins
// still open count as present until now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// NewService returns a report service.
func NewService(db *database.DB, fp *floorplans.Service, bk *booking.Service, opts ...Option) *Service {
	s := &Service{db: db, fp: fp, bk: bk, now: func() time.Time { return time.Now().UTC() }}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Scope is what a report covers: a whole site, one floor or one zone.
// Exactly one of the ids is set by the caller; Resolve fills the rest.
type Scope struct {
	SiteID  string `json:"site_id"`
	FloorID string `json:"floor_id,omitempty"`
	ZoneID  string `json:"zone_id,omitempty"`
	// Timezone is the site's IANA zone; every bucket and day is local to it.
	Timezone string         `json:"timezone"`
	loc      *time.Location `json:"-"`
}

// resolve checks that exactly one id is set and loads the site's zone.
func (s *Service) resolve(ctx context.Context, sc *Scope) error {
	n := 0
	for _, id := range []string{sc.SiteID, sc.FloorID, sc.ZoneID} {
		if id != "" {
			n++
		}
	}
	if n != 1 {
		return perch.Invalid("site_id", "name exactly one of site_id, floor_id or zone_id")
	}
	switch {
	case sc.ZoneID != "":
		z, err := s.fp.GetZone(ctx, sc.ZoneID)
		if err != nil {
			return err
		}
		sc.SiteID, sc.FloorID = z.SiteID, z.FloorID
	case sc.FloorID != "":
		f, err := s.fp.GetFloor(ctx, sc.FloorID)
		if err != nil {
			return err
		}
		sc.SiteID = f.SiteID
	}
	site, err := s.fp.GetSite(ctx, sc.SiteID)
	if err != nil {
		return err
	}
	loc, err := site.Location()
	if err != nil {
		return err
	}
	sc.Timezone, sc.loc = site.Timezone, loc
	return nil
}

// Window is a report's local days [From, To], both included.
type Window struct {
	From, To booking.Date
}

func (w Window) check() error {
	if w.To.Before(w.From) {
		return perch.Invalid("to", "to must be on or after from")
	}
	if booking.DaysBetween(w.From, w.To) >= MaxDays {
		return perch.Invalid("to", "a report covers at most %d days", MaxDays)
	}
	return nil
}

// start and end are the window's instants in loc: [start, end).
func (w Window) start(loc *time.Location) time.Time { return w.From.In(loc) }
func (w Window) end(loc *time.Location) time.Time   { return w.To.AddDays(1).In(loc) }

// Settings are a site's report settings.
type Settings struct {
	SiteID string `json:"site_id"`
	// MinGroupSize: teams with fewer members are not shown in team breakdowns.
	MinGroupSize int       `json:"min_group_size"`
	UpdatedAt    time.Time `json:"updated_at"`
}

type settingsRow struct {
	SiteID       string
	MinGroupSize int
	UpdatedAt    time.Time
}

func (settingsRow) TableName() string { return "report_settings" }

// GetSettings returns a site's report settings (the defaults when none are stored).
func (s *Service) GetSettings(ctx context.Context, siteID string) (*Settings, error) {
	if _, err := s.fp.GetSite(ctx, siteID); err != nil {
		return nil, err
	}
	var rows []settingsRow
	if err := s.db.Conn(ctx).Where("site_id = ?", siteID).Limit(1).Find(&rows).Error; err != nil {
		return nil, database.Translate(err)
	}
	if len(rows) == 0 {
		return &Settings{SiteID: siteID, MinGroupSize: DefaultMinGroupSize}, nil
	}
	return &Settings{SiteID: siteID, MinGroupSize: rows[0].MinGroupSize, UpdatedAt: rows[0].UpdatedAt}, nil
}

// PutSettings stores a site's report settings.
func (s *Service) PutSettings(ctx context.Context, siteID string, v Settings) (*Settings, error) {
	if v.MinGroupSize < 1 || v.MinGroupSize > 1000 {
		return nil, perch.Invalid("min_group_size", "min_group_size must be between 1 and 1000")
	}
	row := settingsRow{SiteID: siteID, MinGroupSize: v.MinGroupSize, UpdatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("sites").Where("id = ?", siteID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return perch.NotFound("site")
		}
		return tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "site_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"min_group_size", "updated_at"}),
		}).Create(&row).Error
	})
	if err != nil {
		return nil, err
	}
	return &Settings{SiteID: siteID, MinGroupSize: row.MinGroupSize, UpdatedAt: row.UpdatedAt}, nil
}

// sqlDialect writes the few expressions that differ between the engines.
type sqlDialect struct{ pg bool }

// epoch is a timestamp expression as whole seconds since 1970.
func (d sqlDialect) epoch(expr string) string {
	if d.pg {
		return "CAST(EXTRACT(EPOCH FROM " + expr + ") AS bigint)"
	}
	return "CAST(strftime('%s', " + expr + ") AS INTEGER)"
}

func (d sqlDialect) greatest(a, b string) string {
	if d.pg {
		return "GREATEST(" + a + ", " + b + ")"
	}
	return "max(" + a + ", " + b + ")"
}

func (d sqlDialect) least(a, b string) string {
	if d.pg {
		return "LEAST(" + a + ", " + b + ")"
	}
	return "min(" + a + ", " + b + ")"
}

// text casts an id column to text (ids are uuid on PostgreSQL).
func (d sqlDialect) text(expr string) string {
	if d.pg {
		return "CAST(" + expr + " AS text)"
	}
	return expr
}

// jsonInts is a table (idx, t) of a JSON array of integers passed as one
// parameter, numbered from 1.
func (d sqlDialect) jsonInts() string {
	if d.pg {
		return "SELECT CAST(x.ord AS bigint) AS idx, CAST(x.v AS bigint) AS t FROM jsonb_array_elements_text(CAST(? AS jsonb)) WITH ORDINALITY AS x(v, ord)"
	}
	return "SELECT key + 1 AS idx, CAST(value AS INTEGER) AS t FROM json_each(?)"
}

// param is a placeholder cast to typ on PostgreSQL (where a bare
// parameter in a SELECT list has no type).
func (d sqlDialect) param(typ string) string {
	if d.pg {
		return "CAST(? AS " + typ + ")"
	}
	return "?"
}

func (s *Service) dialect() sqlDialect { return sqlDialect{pg: s.db.Dialect() == database.Postgres} }

// EUnsupported: a report parameter Perch does not support yet (422).
const EUnsupported = "unsupported_parameter"

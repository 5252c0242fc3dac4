// Package floorplans owns the office model: sites (each with its IANA time
// zone), floors with a plan size, zones, desks and rooms with positions on
// the plan. Everyone signed in reads it; admins write it (the API enforces
// who; this package enforces what is valid).
package floorplans

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones inside the binary: sites' time zones work on any machine

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
	"gorm.io/gorm"
)

// Site is an office building with its own time zone.
type Site struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Location returns the site's time zone.
func (s *Site) Location() (*time.Location, error) { return LoadTimezone(s.Timezone) }

// Floor is one level of a site; its plan is Width × Height plan units, with
// the origin at the top left.
type Floor struct {
	ID     string  `json:"id" gorm:"primaryKey"`
	SiteID string  `json:"site_id"`
	Name   string  `json:"name"`
	Level  int     `json:"level"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	// PlanImageID names the floor's plan image (see SetPlanImage); the
	// image is served at PlanImageURL.
	PlanImageID  *string   `json:"-"`
	PlanImageURL *string   `json:"plan_image_url" gorm:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// AfterFind fills in the plan image's URL.
func (f *Floor) AfterFind(*gorm.DB) error {
	f.PlanImageURL = nil
	if f.PlanImageID != nil {
		u := PlanImagePath + *f.PlanImageID
		f.PlanImageURL = &u
	}
	return nil
}

// Zone is a named area of a floor (a neighbourhood, a quiet zone).
type Zone struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	SiteID    string    `json:"site_id"`
	FloorID   string    `json:"floor_id"`
	Name      string    `json:"name"`
	Color     string    `json:"color"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Desk is a bookable workplace at a point on the floor plan.
type Desk struct {
	ID             string    `json:"id" gorm:"primaryKey"`
	SiteID         string    `json:"site_id"`
	FloorID        string    `json:"floor_id"`
	ZoneID         *string   `json:"zone_id"`
	Code           string    `json:"code"`
	Name           string    `json:"name"`
	X              float64   `json:"x"`
	Y              float64   `json:"y"`
	Amenities      Amenities `json:"amenities"`
	Bookable       bool      `json:"bookable"`
	BookingMode    Mode      `json:"booking_mode"`
	AssignedUserID *string   `json:"assigned_user_id"`
	// QRCode is the secret in the desk's check-in QR code; never served
	// with the office model (whoever holds it can check in).
	QRCode    string    `json:"-" gorm:"column:qr_code"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Room is a bookable meeting room, a rectangle on the floor plan.
type Room struct {
	ID          string    `json:"id" gorm:"primaryKey"`
	SiteID      string    `json:"site_id"`
	FloorID     string    `json:"floor_id"`
	ZoneID      *string   `json:"zone_id"`
	Name        string    `json:"name"`
	Capacity    int       `json:"capacity"`
	Amenities   Amenities `json:"amenities"`
	X           float64   `json:"x"`
	Y           float64   `json:"y"`
	Width       float64   `json:"width"`
	Height      float64   `json:"height"`
	Bookable    bool      `json:"bookable"`
	BookingMode Mode      `json:"booking_mode"`
	// QRCode: as Desk.QRCode.
	QRCode    string    `json:"-" gorm:"column:qr_code"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Mode is how a desk or room may be booked.
type Mode string

const (
	Hourly  Mode = "hourly" // any interval inside the site's bookable hours
	DayOnly Mode = "day"    // whole days or half days (am/pm) only
)

// checkMode defaults an empty mode to hourly and refuses unknown ones.
func checkMode(m *Mode) error {
	switch *m {
	case "":
		*m = Hourly
	case Hourly, DayOnly:
	default:
		return perch.Invalid("booking_mode", "booking_mode must be hourly or day")
	}
	return nil
}

// Amenities is a set of lower-case tags ("monitor", "standing"), stored as a
// JSON array.
type Amenities []string

// Value stores the set as JSON text.
func (a Amenities) Value() (driver.Value, error) {
	if a == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(a))
	return string(b), err
}

// Scan reads the JSON text.
func (a *Amenities) Scan(v any) error {
	var raw []byte
	switch v := v.(type) {
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	case nil:
		*a = Amenities{}
		return nil
	default:
		return fmt.Errorf("amenities: cannot scan %T", v)
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return err
	}
	*a = out
	return nil
}

// MarshalJSON writes an empty list, never null.
func (a Amenities) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("[]"), nil
	}
	return json.Marshal([]string(a))
}

// Has reports whether every tag in want is present.
func (a Amenities) Has(want ...string) bool {
	for _, w := range want {
		if !slices.Contains(a, w) {
			return false
		}
	}
	return true
}

var amenityRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// normalizeAmenities lower-cases, trims, de-duplicates and sorts the tags.
func normalizeAmenities(field string, in Amenities) (Amenities, error) {
	out := Amenities{}
	for i, a := range in {
		a = strings.ToLower(strings.TrimSpace(a))
		if !amenityRE.MatchString(a) {
			return nil, perch.Invalid(fmt.Sprintf("%s[%d]", field, i), "amenities are short tags of letters, digits, '-' and '_' (like \"monitor\" or \"standing\")")
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	if len(out) > 30 {
		return nil, perch.Invalid(field, "at most 30 amenities")
	}
	slices.Sort(out)
	return out, nil
}

// LoadTimezone loads an IANA time zone name; "Local" and "" are refused
// because they mean different things on different machines.
func LoadTimezone(name string) (*time.Location, error) {
	if name == "" {
		return nil, perch.Invalid("timezone", "timezone is required (an IANA name like Europe/Berlin)")
	}
	if name == "Local" || strings.ContainsAny(name, " \\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, perch.Invalid("timezone", "timezone %q is not an IANA time zone name (like Europe/Berlin)", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, perch.Invalid("timezone", "timezone %q is not an IANA time zone name (like Europe/Berlin)", name)
	}
	return loc, nil
}

// Validate checks a site.
func (s *Site) Validate() error {
	s.Name, s.Address = strings.TrimSpace(s.Name), strings.TrimSpace(s.Address)
	if err := users.CheckName("name", s.Name, 200); err != nil {
		return err
	}
	if len(s.Address) > 500 {
		return perch.Invalid("address", "address must be at most 500 characters")
	}
	_, err := LoadTimezone(s.Timezone)
	return err
}

// maxPlan bounds plan sizes and coordinates (plan units are typically pixels
// or centimetres; a million covers a 10 km building in centimetres).
const maxPlan = 1e6

func checkLength(field string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 || v > maxPlan {
		return perch.Invalid(field, "%s must be greater than 0 and at most %g", field, float64(maxPlan))
	}
	return nil
}

func checkCoord(field string, v, max float64) error {
	if math.IsNaN(v) || v < 0 || v > max {
		return perch.Invalid(field, "%s must be between 0 and %g (the floor plan's size)", field, max)
	}
	return nil
}

// Validate checks a floor.
func (f *Floor) Validate() error {
	f.Name = strings.TrimSpace(f.Name)
	if err := users.CheckName("name", f.Name, 200); err != nil {
		return err
	}
	if f.Level < -20 || f.Level > 300 {
		return perch.Invalid("level", "level must be between -20 and 300")
	}
	if err := checkLength("width", f.Width); err != nil {
		return err
	}
	return checkLength("height", f.Height)
}

var colorRE = regexp.MustCompile(`^(#[0-9a-fA-F]{6})?$`)

// Validate checks a zone.
func (z *Zone) Validate() error {
	z.Name = strings.TrimSpace(z.Name)
	if err := users.CheckName("name", z.Name, 100); err != nil {
		return err
	}
	if !colorRE.MatchString(z.Color) {
		return perch.Invalid("color", "color must be empty or like #1f77b4")
	}
	return nil
}

var codeRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$`)

// Validate checks a desk against its floor.
func (d *Desk) Validate(f *Floor) error {
	d.Code, d.Name = strings.TrimSpace(d.Code), strings.TrimSpace(d.Name)
	if !codeRE.MatchString(d.Code) {
		return perch.Invalid("code", "code is required: up to 32 letters, digits, '.', '_' or '-' (like 2A-07)")
	}
	if len(d.Name) > 200 {
		return perch.Invalid("name", "name must be at most 200 characters")
	}
	if err := checkCoord("x", d.X, f.Width); err != nil {
		return err
	}
	if err := checkCoord("y", d.Y, f.Height); err != nil {
		return err
	}
	if err := checkMode(&d.BookingMode); err != nil {
		return err
	}
	a, err := normalizeAmenities("amenities", d.Amenities)
	d.Amenities = a
	return err
}

// Validate checks a room against its floor.
func (r *Room) Validate(f *Floor) error {
	r.Name = strings.TrimSpace(r.Name)
	if err := users.CheckName("name", r.Name, 200); err != nil {
		return err
	}
	if r.Capacity < 1 || r.Capacity > 10000 {
		return perch.Invalid("capacity", "capacity must be between 1 and 10000")
	}
	for _, c := range []struct {
		field string
		v     float64
		max   float64
	}{{"x", r.X, f.Width}, {"y", r.Y, f.Height}} {
		if err := checkCoord(c.field, c.v, c.max); err != nil {
			return err
		}
	}
	if err := checkLength("width", r.Width); err != nil {
		return err
	}
	if err := checkLength("height", r.Height); err != nil {
		return err
	}
	if r.X+r.Width > f.Width {
		return perch.Invalid("width", "the room must lie inside the floor plan (%g × %g)", f.Width, f.Height)
	}
	if r.Y+r.Height > f.Height {
		return perch.Invalid("height", "the room must lie inside the floor plan (%g × %g)", f.Width, f.Height)
	}
	if err := checkMode(&r.BookingMode); err != nil {
		return err
	}
	a, err := normalizeAmenities("amenities", r.Amenities)
	r.Amenities = a
	return err
}

// errNotFound is what GORM's Take returns for no row, translated.
func isNotFound(err error) bool {
	return perch.ErrorCode(database.Translate(err)) == perch.ENOTFOUND && !errors.As(err, new(*perch.Error))
}

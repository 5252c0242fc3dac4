package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/floorplans"
)

// Request bodies of the office model. Creates use plain fields (a missing
// field is its zero value, which validation reports); patches use pointers
// (a missing field is left alone).

type siteBody struct {
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Address  string `json:"address"`
}

type sitePatch struct {
	Name     *string `json:"name"`
	Timezone *string `json:"timezone"`
	Address  *string `json:"address"`
}

func (p sitePatch) apply(_ fields, v *floorplans.Site) {
	set(&v.Name, p.Name)
	set(&v.Timezone, p.Timezone)
	set(&v.Address, p.Address)
}

type floorBody struct {
	Name   string  `json:"name"`
	Level  int     `json:"level"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
}

type floorPatch struct {
	Name   *string  `json:"name"`
	Level  *int     `json:"level"`
	Width  *float64 `json:"width"`
	Height *float64 `json:"height"`
}

func (p floorPatch) apply(_ fields, v *floorplans.Floor) {
	set(&v.Name, p.Name)
	set(&v.Level, p.Level)
	set(&v.Width, p.Width)
	set(&v.Height, p.Height)
}

type zoneBody struct {
	Name  string `json:"name"`
	Color string `json:"color"`
}

type zonePatch struct {
	Name  *string `json:"name"`
	Color *string `json:"color"`
}

func (p zonePatch) apply(_ fields, v *floorplans.Zone) {
	set(&v.Name, p.Name)
	set(&v.Color, p.Color)
}

type deskBody struct {
	BookingMode    string   `json:"booking_mode"`
	Code           string   `json:"code"`
	Name           string   `json:"name"`
	X              *float64 `json:"x"`
	Y              *float64 `json:"y"`
	ZoneID         *string  `json:"zone_id"`
	Amenities      []string `json:"amenities"`
	Bookable       *bool    `json:"bookable"`
	AssignedUserID *string  `json:"assigned_user_id"`
}

type deskPatch struct {
	BookingMode    *string  `json:"booking_mode"`
	Code           *string  `json:"code"`
	Name           *string  `json:"name"`
	X              *float64 `json:"x"`
	Y              *float64 `json:"y"`
	ZoneID         *string  `json:"zone_id"`
	Amenities      []string `json:"amenities"`
	Bookable       *bool    `json:"bookable"`
	AssignedUserID *string  `json:"assigned_user_id"`
}

func (p deskPatch) apply(f fields, v *floorplans.Desk) {
	if p.BookingMode != nil {
		v.BookingMode = floorplans.Mode(*p.BookingMode)
	}
	set(&v.Code, p.Code)
	set(&v.Name, p.Name)
	set(&v.X, p.X)
	set(&v.Y, p.Y)
	set(&v.Bookable, p.Bookable)
	if f.has("amenities") {
		v.Amenities = p.Amenities
	}
	if f.has("zone_id") {
		v.ZoneID = p.ZoneID
	}
	if f.has("assigned_user_id") {
		v.AssignedUserID = p.AssignedUserID
	}
}

type deskRowBody struct {
	BookingMode string   `json:"booking_mode"`
	Prefix      string   `json:"prefix"`
	First       *int     `json:"first"`
	Digits      *int     `json:"digits"`
	Count       int      `json:"count"`
	X           *float64 `json:"x"`
	Y           *float64 `json:"y"`
	StepX       float64  `json:"step_x"`
	StepY       float64  `json:"step_y"`
	ZoneID      *string  `json:"zone_id"`
	Amenities   []string `json:"amenities"`
	Bookable    *bool    `json:"bookable"`
}

type roomBody struct {
	BookingMode string   `json:"booking_mode"`
	Name        string   `json:"name"`
	Capacity    int      `json:"capacity"`
	Amenities   []string `json:"amenities"`
	X           *float64 `json:"x"`
	Y           *float64 `json:"y"`
	Width       float64  `json:"width"`
	Height      float64  `json:"height"`
	ZoneID      *string  `json:"zone_id"`
	Bookable    *bool    `json:"bookable"`
}

type roomPatch struct {
	BookingMode *string  `json:"booking_mode"`
	Name        *string  `json:"name"`
	Capacity    *int     `json:"capacity"`
	Amenities   []string `json:"amenities"`
	X           *float64 `json:"x"`
	Y           *float64 `json:"y"`
	Width       *float64 `json:"width"`
	Height      *float64 `json:"height"`
	ZoneID      *string  `json:"zone_id"`
	Bookable    *bool    `json:"bookable"`
}

func (p roomPatch) apply(f fields, v *floorplans.Room) {
	if p.BookingMode != nil {
		v.BookingMode = floorplans.Mode(*p.BookingMode)
	}
	set(&v.Name, p.Name)
	set(&v.Capacity, p.Capacity)
	set(&v.X, p.X)
	set(&v.Y, p.Y)
	set(&v.Width, p.Width)
	set(&v.Height, p.Height)
	set(&v.Bookable, p.Bookable)
	if f.has("amenities") {
		v.Amenities = p.Amenities
	}
	if f.has("zone_id") {
		v.ZoneID = p.ZoneID
	}
}

// set copies *p into *dst when the field was sent.
func set[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

// orTrue reads an optional flag that defaults to true.
func orTrue(b *bool) bool { return b == nil || *b }

// required reads a required number.
func required(field string, v *float64) (float64, error) {
	if v == nil {
		return 0, perch.Invalid(field, "%s is required", field)
	}
	return *v, nil
}

// patcher is a PATCH body that knows how to apply itself to a T.
type patcher[T any] interface {
	apply(fields, *T)
}

// patchByID serves PATCH /…/:id: decode the patch, apply it inside the
// feature package's update (which validates), answer the result.
func patchByID[T any, P patcher[T]](update func(context.Context, string, func(*T) error) (*T, error), nullable ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		var p P
		f, err := decode(c, &p, nullable...)
		if err != nil {
			return err
		}
		v, err := update(c.UserContext(), id, func(v *T) error { p.apply(f, v); return nil })
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

func (s *Server) listSites(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.Floorplans.ListSites(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, next))
}

func (s *Server) createSite(c *fiber.Ctx) error {
	var b siteBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	v := &floorplans.Site{Name: b.Name, Timezone: b.Timezone, Address: b.Address}
	if err := s.Floorplans.CreateSite(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/sites/"+v.ID, v)
}

func (s *Server) updateSite(c *fiber.Ctx) error {
	return patchByID[floorplans.Site, sitePatch](s.Floorplans.UpdateSite)(c)
}

func (s *Server) createFloor(c *fiber.Ctx) error {
	siteID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b floorBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	v := &floorplans.Floor{SiteID: siteID, Name: b.Name, Level: b.Level, Width: b.Width, Height: b.Height}
	if err := s.Floorplans.CreateFloor(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/floors/"+v.ID, v)
}

func (s *Server) updateFloor(c *fiber.Ctx) error {
	return patchByID[floorplans.Floor, floorPatch](s.Floorplans.UpdateFloor)(c)
}

func (s *Server) createZone(c *fiber.Ctx) error {
	floorID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b zoneBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	v := &floorplans.Zone{FloorID: floorID, Name: b.Name, Color: b.Color}
	if err := s.Floorplans.CreateZone(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/zones/"+v.ID, v)
}

func (s *Server) updateZone(c *fiber.Ctx) error {
	return patchByID[floorplans.Zone, zonePatch](s.Floorplans.UpdateZone)(c)
}

func (s *Server) createDesk(c *fiber.Ctx) error {
	floorID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b deskBody
	if _, err := decode(c, &b, "zone_id", "assigned_user_id"); err != nil {
		return err
	}
	x, err := required("x", b.X)
	if err != nil {
		return err
	}
	y, err := required("y", b.Y)
	if err != nil {
		return err
	}
	v := &floorplans.Desk{FloorID: floorID, Code: b.Code, Name: b.Name, X: x, Y: y, ZoneID: b.ZoneID,
		Amenities: b.Amenities, Bookable: orTrue(b.Bookable), AssignedUserID: b.AssignedUserID,
		BookingMode: floorplans.Mode(b.BookingMode)}
	if err := s.Floorplans.CreateDesk(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/desks/"+v.ID, v)
}

// createDeskRow creates a row of desks at once (all or none).
func (s *Server) createDeskRow(c *fiber.Ctx) error {
	floorID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b deskRowBody
	if _, err := decode(c, &b, "zone_id"); err != nil {
		return err
	}
	x, err := required("x", b.X)
	if err != nil {
		return err
	}
	y, err := required("y", b.Y)
	if err != nil {
		return err
	}
	row := floorplans.DeskRow{Prefix: b.Prefix, First: 1, Digits: 2, Count: b.Count, X: x, Y: y,
		StepX: b.StepX, StepY: b.StepY, ZoneID: b.ZoneID, Amenities: b.Amenities, Bookable: orTrue(b.Bookable),
		Mode: floorplans.Mode(b.BookingMode)}
	set(&row.First, b.First)
	set(&row.Digits, b.Digits)
	desks, err := row.Desks()
	if err != nil {
		return err
	}
	if err := s.Floorplans.CreateDesks(c.UserContext(), floorID, desks); err != nil {
		return err
	}
	out := make([]floorplans.Desk, len(desks))
	for i, d := range desks {
		out[i] = *d
	}
	return c.Status(fiber.StatusCreated).JSON(listOf(out, ""))
}

func (s *Server) updateDesk(c *fiber.Ctx) error {
	return patchByID[floorplans.Desk, deskPatch](s.Floorplans.UpdateDesk, "zone_id", "assigned_user_id")(c)
}

func (s *Server) createRoom(c *fiber.Ctx) error {
	floorID, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b roomBody
	if _, err := decode(c, &b, "zone_id"); err != nil {
		return err
	}
	x, err := required("x", b.X)
	if err != nil {
		return err
	}
	y, err := required("y", b.Y)
	if err != nil {
		return err
	}
	v := &floorplans.Room{FloorID: floorID, Name: b.Name, Capacity: b.Capacity, Amenities: b.Amenities,
		X: x, Y: y, Width: b.Width, Height: b.Height, ZoneID: b.ZoneID, Bookable: orTrue(b.Bookable),
		BookingMode: floorplans.Mode(b.BookingMode)}
	if err := s.Floorplans.CreateRoom(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/rooms/"+v.ID, v)
}

func (s *Server) updateRoom(c *fiber.Ctx) error {
	return patchByID[floorplans.Room, roomPatch](s.Floorplans.UpdateRoom, "zone_id")(c)
}

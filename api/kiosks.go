package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/kiosk"
)

// deleteRoom deletes a room; its door kiosks' sockets are closed on every
// replica.
func (s *Server) deleteRoom(ctx context.Context, id string) error {
	return s.Kiosks.DeletePlace(ctx, kiosk.AtRoom, id, s.Floorplans.DeleteRoom)
}

// deleteSite deletes a site; its kiosks' sockets are closed everywhere.
func (s *Server) deleteSite(ctx context.Context, id string) error {
	return s.Kiosks.DeletePlace(ctx, kiosk.AtSite, id, s.Floorplans.DeleteSite)
}

// startPairing serves POST /api/v1/kiosks/pairing (no token): a device asks
// for a pairing code to show and a device secret to keep. The body is
// empty or {}.
func (s *Server) startPairing(c *fiber.Ctx) error {
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	p, err := s.Kiosks.StartPairing(c.UserContext())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store") // carries a secret
	return c.Status(fiber.StatusCreated).JSON(p)
}

type pairBody struct {
	PairingCode string `json:"pairing_code"`
	Kind        string `json:"kind"`
	RoomID      string `json:"room_id"`
	SiteID      string `json:"site_id"`
	Name        string `json:"name"`
}

// pairKiosk serves POST /api/v1/kiosks/pair: an admin pairs the device
// showing the code.
func (s *Server) pairKiosk(c *fiber.Ctx) error {
	var b pairBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	k, err := s.Kiosks.Pair(c.UserContext(), principal(c), kiosk.PairRequest{
		PairingCode: b.PairingCode, Kind: kiosk.Kind(b.Kind), RoomID: b.RoomID, SiteID: b.SiteID, Name: b.Name,
	})
	if err != nil {
		return err
	}
	return c.JSON(k)
}

type exchangeBody struct {
	DeviceSecret string `json:"device_secret"`
}

// kioskToken serves POST /api/v1/kiosks/token (no bearer token: the device
// secret is the credential): a fresh kiosk token once the device is paired.
func (s *Server) kioskToken(c *fiber.Ctx) error {
	var b exchangeBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.DeviceSecret == "" {
		return perch.Invalid("device_secret", "device_secret is required: the secret the kiosk got when it started pairing")
	}
	g, err := s.Kiosks.ExchangeToken(c.UserContext(), b.DeviceSecret)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(g)
}

func (s *Server) listKiosks(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.Kiosks.List(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, next))
}

// minutesBody is the body of book-now and extend.
type minutesBody struct {
	Minutes *int `json:"minutes"`
}

func readMinutes(c *fiber.Ctx) (int, error) {
	var b minutesBody
	if _, err := decode(c, &b); err != nil {
		return 0, err
	}
	if b.Minutes == nil {
		return 0, perch.Invalid("minutes", "minutes is required: 15, 30 or 60")
	}
	return *b.Minutes, nil
}

// kioskRoom serves GET /api/v1/kiosk/room: the door kiosk's room now and
// the rest of its day.
func (s *Server) kioskRoom(c *fiber.Ctx) error {
	r, err := s.Kiosks.Room(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(r)
}

func (s *Server) kioskBookNow(c *fiber.Ctx) error {
	m, err := readMinutes(c)
	if err != nil {
		return err
	}
	res, err := s.Kiosks.BookNow(c.UserContext(), principal(c), m)
	if err != nil {
		return err
	}
	c.Location("/api/v1/bookings/" + res.Booking.ID)
	return c.Status(fiber.StatusCreated).JSON(toCheckInJSON(res))
}

func (s *Server) kioskCheckIn(c *fiber.Ctx) error {
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	res, err := s.Kiosks.CheckIn(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if res.Already {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(toCheckInJSON(res))
}

func (s *Server) kioskExtend(c *fiber.Ctx) error {
	m, err := readMinutes(c)
	if err != nil {
		return err
	}
	v, err := s.Kiosks.Extend(c.UserContext(), principal(c), m)
	if err != nil {
		return err
	}
	return sendBooking(c, v)
}

func (s *Server) kioskEndEarly(c *fiber.Ctx) error {
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	v, err := s.Kiosks.EndEarly(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return sendBooking(c, v)
}

// sendBooking answers one booking with its ETag.
func sendBooking(c *fiber.Ctx, v *booking.View) error {
	c.Set(fiber.HeaderETag, v.ETag())
	return c.JSON(toJSON(v))
}

package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"html/template"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/web"
)

// checkInJSON answers a check-in or check-out.
type checkInJSON struct {
	Booking bookingJSON     `json:"booking"`
	CheckIn booking.CheckIn `json:"check_in"`
	WalkUp  bool            `json:"walk_up"`
	Already bool            `json:"already"`
}

func toCheckInJSON(r *booking.CheckInResult) checkInJSON {
	return checkInJSON{Booking: toJSON(&r.Booking), CheckIn: r.CheckIn, WalkUp: r.WalkUp, Already: r.Already}
}

type checkInBody struct {
	Code string `json:"code"`
}

// codeOf accepts a bare code or the whole URL a QR code encodes.
func codeOf(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "/q/"); i >= 0 {
		s = s[i+3:]
	}
	return strings.TrimRight(s, "/")
}

// checkIn serves POST /api/v1/checkins: the signed-in person scanned a code.
func (s *Server) checkIn(c *fiber.Ctx) error {
	var b checkInBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.Code == "" {
		return perch.Invalid("code", "code is required: the code from the desk's or room's QR sticker")
	}
	res, err := s.Booking.CheckInByCode(c.UserContext(), principal(c), codeOf(b.Code))
	return sendCheckIn(c, res, err)
}

// sendCheckIn answers a check-in: 201 when it happened now, 200 when the
// booking was already checked in (or for a check-out).
func sendCheckIn(c *fiber.Ctx, res *booking.CheckInResult, err error) error {
	if err != nil {
		return err
	}
	status := fiber.StatusCreated
	if res.Already || res.Booking.Status != booking.StatusCheckedIn {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(toCheckInJSON(res))
}

// onBooking serves POST /bookings/{id}/check-in and /check-out from the app.
func (s *Server) onBooking(act func(context.Context, *users.Principal, string, booking.Method) (*booking.CheckInResult, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		res, err := act(c.UserContext(), principal(c), id, booking.MethodWeb)
		return sendCheckIn(c, res, err)
	}
}

// qrSize reads ?size= (pixels).
func qrSize(c *fiber.Ctx) (int, error) {
	v := c.Query("size")
	if v == "" {
		return floorplans.DefaultQRSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < floorplans.MinQRSize || n > floorplans.MaxQRSize {
		return 0, perch.Invalid("size", "size must be a whole number of pixels from %d to %d", floorplans.MinQRSize, floorplans.MaxQRSize)
	}
	return n, nil
}

// sendQR answers a QR code PNG of a resource's check-in URL.
func (s *Server) sendQR(c *fiber.Ctx, code string) error {
	size, err := qrSize(c)
	if err != nil {
		return err
	}
	png, err := floorplans.QRPNG(floorplans.CheckInURL(s.PublicURL, code), size)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store") // the code is a secret
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(png)
}

func (s *Server) deskQR(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.Floorplans.GetDesk(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.sendQR(c, d.QRCode)
}

func (s *Server) roomQR(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Floorplans.GetRoom(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.sendQR(c, r.QRCode)
}

// rotatedJSON answers a rotation with the new URL to print.
type rotatedJSON struct {
	ID  string `json:"id"`
	URL string `json:"url"`
}

func (s *Server) rotateDeskQR(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := s.Floorplans.RotateDeskQR(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rotatedJSON{ID: d.ID, URL: floorplans.CheckInURL(s.PublicURL, d.QRCode)})
}

func (s *Server) rotateRoomQR(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	r, err := s.Floorplans.RotateRoomQR(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rotatedJSON{ID: r.ID, URL: floorplans.CheckInURL(s.PublicURL, r.QRCode)})
}

// qrSheet serves a printable A4 page with every QR code of a floor.
func (s *Server) qrSheet(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	f, err := s.Floorplans.GetFloor(ctx, id)
	if err != nil {
		return err
	}
	site, err := s.Floorplans.GetSite(ctx, f.SiteID)
	if err != nil {
		return err
	}
	desks, rooms, err := s.Floorplans.FloorResources(ctx, id)
	if err != nil {
		return err
	}
	sheet := web.QRSheet{SiteName: site.Name, FloorName: f.Name}
	add := func(kind, name, code string) error {
		url := floorplans.CheckInURL(s.PublicURL, code)
		png, err := floorplans.QRPNG(url, 256)
		if err != nil {
			return err
		}
		sheet.Labels = append(sheet.Labels, web.QRLabel{Code: name, Kind: kind, URL: url,
			PNGData: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
		return nil
	}
	for _, d := range desks {
		if err := add("Desk", d.Code, d.QRCode); err != nil {
			return err
		}
	}
	for _, r := range rooms {
		if err := add("Room", r.Name, r.QRCode); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	if err := s.pages.RenderQRSheet(&buf, sheet); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// checkInPage serves /q/{code}: the page a phone opens after scanning a
// code. It checks the signed-in person in through the API.
func (s *Server) checkInPage(c *fiber.Ctx) error {
	code := c.Params("code")
	if !floorplans.ValidQRCode(code) {
		return perch.Errorf(perch.ENOTFOUND, "This QR code is not valid.")
	}
	var buf bytes.Buffer
	if err := s.pages.RenderCheckIn(&buf, web.CheckInPage{Code: code}); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

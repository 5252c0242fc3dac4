package api

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"html/template"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/visitors"
	"github.com/perch-hq/perch/web"
)

type visitorBody struct {
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company"`
	Phone   string `json:"phone"`
}

func (b *visitorBody) visitor() visitors.Visitor {
	if b == nil {
		return visitors.Visitor{}
	}
	return visitors.Visitor{Name: b.Name, Email: b.Email, Company: b.Company, Phone: b.Phone}
}

type inviteBody struct {
	SiteID        string       `json:"site_id"`
	HostID        string       `json:"host_id"`
	ExpectedAt    string       `json:"expected_at"`
	Visitor       *visitorBody `json:"visitor"`
	Purpose       string       `json:"purpose"`
	RoomBookingID string       `json:"room_booking_id"`
}

// createVisit serves POST /api/v1/visits.
func (s *Server) createVisit(c *fiber.Ctx) error {
	var b inviteBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.Visitor == nil {
		return perch.Invalid("visitor", "visitor is required: {\"name\", \"email\", \"company\"?, \"phone\"?}")
	}
	if b.ExpectedAt == "" {
		return perch.Invalid("expected_at", "expected_at is required")
	}
	at, err := parseTime("expected_at", b.ExpectedAt)
	if err != nil {
		return err
	}
	v, err := s.Visitors.Invite(c.UserContext(), principal(c), visitors.InviteRequest{
		SiteID: b.SiteID, HostID: b.HostID, ExpectedAt: at, Visitor: b.Visitor.visitor(),
		Purpose: b.Purpose, RoomBookingID: b.RoomBookingID,
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return created(c, "/api/v1/visits/"+v.ID, s.visitJSON(v))
}

// visitJSON adds the invite's links to a visit.
type visitJSON struct {
	*visitors.View
	InviteQRURL string `json:"invite_qr_url"`
	BadgeURL    string `json:"badge_url"`
}

func (s *Server) visitJSON(v *visitors.View) visitJSON {
	return visitJSON{View: v, InviteQRURL: "/api/v1/visits/" + v.ID + "/invite.png", BadgeURL: "/api/v1/visits/" + v.ID + "/badge"}
}

func (s *Server) getVisit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Visitors.Get(c.UserContext(), principal(c), id, false)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(s.visitJSON(v))
}

func (s *Server) listVisits(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	var f visitors.ListFilter
	if f.SiteID, err = optionalID(c, "site_id"); err != nil {
		return err
	}
	if f.HostID, err = optionalID(c, "host_id"); err != nil {
		return err
	}
	if d := c.Query("date"); d != "" {
		date, err := dateParam("date", d)
		if err != nil {
			return err
		}
		f.Date = &date
	}
	switch st := visitors.Status(c.Query("status")); st {
	case "", visitors.StatusExpected, visitors.StatusCheckedIn, visitors.StatusCheckedOut, visitors.StatusCancelled, visitors.StatusFlagged:
		f.Status = st
	default:
		return perch.Invalid("status", "status must be expected, checked_in, checked_out, cancelled or flagged")
	}
	items, next, err := s.Visitors.List(c.UserContext(), principal(c), f, p)
	if err != nil {
		return err
	}
	out := make([]visitJSON, len(items))
	for i := range items {
		out[i] = s.visitJSON(&items[i])
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(listOf(out, next))
}

type visitPatch struct {
	ExpectedAt    *string      `json:"expected_at"`
	HostID        *string      `json:"host_id"`
	Visitor       *visitorBody `json:"visitor"`
	Purpose       *string      `json:"purpose"`
	RoomBookingID *string      `json:"room_booking_id"`
}

func (s *Server) updateVisit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b visitPatch
	f, err := decode(c, &b, "room_booking_id")
	if err != nil {
		return err
	}
	var r visitors.UpdateRequest
	if b.ExpectedAt != nil {
		at, err := parseTime("expected_at", *b.ExpectedAt)
		if err != nil {
			return err
		}
		r.ExpectedAt = &at
	}
	r.HostID, r.Purpose = b.HostID, b.Purpose
	if b.Visitor != nil {
		v := b.Visitor.visitor()
		r.Visitor = &v
	}
	if f.has("room_booking_id") {
		rb := b.RoomBookingID
		r.RoomBookingID = &rb
	}
	v, err := s.Visitors.Update(c.UserContext(), principal(c), id, r)
	if err != nil {
		return err
	}
	return c.JSON(s.visitJSON(v))
}

func (s *Server) cancelVisit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if err := s.Visitors.Cancel(c.UserContext(), principal(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// inviteQR serves the invitation's QR code. It encodes the bare invite
// code (no link a phone would open to nothing); the kiosk also accepts a
// URL ending in /v/{code}.
func (s *Server) inviteQR(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Visitors.Get(c.UserContext(), principal(c), id, false)
	if err != nil {
		return err
	}
	size, err := qrSize(c)
	if err != nil {
		return err
	}
	png, err := floorplans.QRPNG(v.InviteCode, size)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(png)
}

// visitBadge serves the printable badge: 86 × 54 mm labels, or A4 with
// ?paper=a4.
func (s *Server) visitBadge(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	paper := c.Query("paper", "badge")
	if paper != "badge" && paper != "a4" {
		return perch.Invalid("paper", "paper must be badge (86 × 54 mm) or a4")
	}
	v, err := s.Visitors.Get(c.UserContext(), principal(c), id, true)
	if err != nil {
		return err
	}
	if v.BadgeCode() == "" {
		return perch.Errorf(perch.ECONFLICT, "The visitor has no badge yet: a badge is printed at check-in.")
	}
	png, err := floorplans.QRPNG(v.BadgeCode(), 256)
	if err != nil {
		return err
	}
	at := v.ExpectedAt
	if v.CheckedInAt != nil {
		at = *v.CheckedInAt
	}
	var buf bytes.Buffer
	err = s.pages.RenderBadge(&buf, web.Badge{
		Name: v.Visitor.Name, Company: v.Visitor.Company, HostName: v.HostName, SiteName: v.SiteName,
		Date: at.In(v.Location()).Format("Mon 2 Jan 2006"), A4: paper == "a4",
		QRData: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// acceptedBody is the optional body of a check-in by id: the documents the
// visitor accepted.
type acceptedBody struct {
	Accepted []visitors.Acceptance `json:"accepted"`
}

// checkInVisit serves POST /api/v1/visits/{id}/check-in: reception checks
// a visitor in (also a flagged one, having decided to let them in).
func (s *Server) checkInVisit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b acceptedBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	v, err := s.Visitors.CheckIn(c.UserContext(), principal(c), id, b.Accepted)
	if err != nil {
		return err
	}
	return c.JSON(s.visitJSON(v))
}

func (s *Server) checkOutVisit(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	v, err := s.Visitors.CheckOut(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(s.visitJSON(v))
}

// The lobby kiosk.

type kioskCheckInBody struct {
	Code     string                `json:"code"`
	Accepted []visitors.Acceptance `json:"accepted"`
}

func sendKiosk(c *fiber.Ctx, r *visitors.KioskResult) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if r.Result == "checked_in" {
		c.Status(fiber.StatusCreated)
	}
	return c.JSON(r)
}

func (s *Server) kioskVisitCheckIn(c *fiber.Ctx) error {
	var b kioskCheckInBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	r, err := s.Visitors.CheckInByCode(c.UserContext(), principal(c), b.Code, b.Accepted)
	if err != nil {
		return err
	}
	return sendKiosk(c, r)
}

func (s *Server) kioskVisitCheckInByID(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b acceptedBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	r, err := s.Visitors.CheckInByID(c.UserContext(), principal(c), id, b.Accepted)
	if err != nil {
		return err
	}
	return sendKiosk(c, r)
}

func (s *Server) kioskExpected(c *fiber.Ctx) error {
	items, err := s.Visitors.Expected(c.UserContext(), principal(c), c.Query("q"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(listOf(items, ""))
}

func (s *Server) kioskHosts(c *fiber.Ctx) error {
	items, err := s.Visitors.Hosts(c.UserContext(), principal(c), c.Query("q"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(listOf(items, ""))
}

type walkInBody struct {
	Visitor  *visitorBody          `json:"visitor"`
	HostID   string                `json:"host_id"`
	Accepted []visitors.Acceptance `json:"accepted"`
}

func (s *Server) kioskWalkIn(c *fiber.Ctx) error {
	var b walkInBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.Visitor == nil {
		return perch.Invalid("visitor", "visitor is required: {\"name\", \"company\"?, \"email\"?}")
	}
	r, err := s.Visitors.WalkIn(c.UserContext(), principal(c), visitors.WalkInRequest{Visitor: b.Visitor.visitor(), HostID: b.HostID, Accepted: b.Accepted})
	if err != nil {
		return err
	}
	return sendKiosk(c, r)
}

type badgeCodeBody struct {
	Code string `json:"code"`
}

func (s *Server) kioskVisitCheckOut(c *fiber.Ctx) error {
	var b badgeCodeBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	r, err := s.Visitors.CheckOutByBadge(c.UserContext(), principal(c), b.Code)
	if err != nil {
		return err
	}
	return sendKiosk(c, r)
}

func (s *Server) kioskDocuments(c *fiber.Ctx) error {
	items, err := s.Visitors.KioskDocuments(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, ""))
}

// Documents, the watchlist and settings (admins).

func (s *Server) listVisitorDocuments(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	items, err := s.Visitors.ListDocuments(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, ""))
}

type documentBody struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

func (s *Server) createVisitorDocument(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b documentBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	d, err := s.Visitors.CreateDocument(c.UserContext(), id, b.Title, b.Body)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/sites/"+id+"/visitor-documents", d)
}

type documentVersionBody struct {
	Body string `json:"body"`
}

func (s *Server) addVisitorDocumentVersion(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b documentVersionBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	d, err := s.Visitors.AddVersion(c.UserContext(), id, b.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

func (s *Server) listWatchlist(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.Visitors.ListWatchlist(c.UserContext(), p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(listOf(items, next))
}

type watchBody struct {
	Name   string `json:"name"`
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

func (s *Server) addWatch(c *fiber.Ctx) error {
	var b watchBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	w, err := s.Visitors.AddWatch(c.UserContext(), principal(c), visitors.WatchEntry{Name: b.Name, Email: b.Email, Reason: b.Reason})
	if err != nil {
		return err
	}
	return created(c, "/api/v1/watchlist/"+w.ID, w)
}

func (s *Server) getVisitorSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	st, err := s.Visitors.GetSettings(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

type visitorSettingsBody struct {
	RetentionDays       *int   `json:"retention_days"`
	ArrivalInstructions string `json:"arrival_instructions"`
}

func (s *Server) putVisitorSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b visitorSettingsBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.RetentionDays == nil {
		return perch.Invalid("retention_days", "retention_days is required")
	}
	st, err := s.Visitors.PutSettings(c.UserContext(), visitors.Settings{SiteID: id, RetentionDays: *b.RetentionDays, ArrivalInstructions: b.ArrivalInstructions})
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// On site and roll calls (reception, admins).

func (s *Server) onSite(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	o, err := s.Visitors.OnSite(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if format == "json" {
		return c.JSON(o)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"floor", "type", "name", "company", "host", "where", "checked_in_at"})
	for _, f := range o.Floors {
		for _, p := range f.People {
			_ = w.Write([]string{csvCell(f.FloorName), p.Type, csvCell(p.Name), csvCell(p.Company), csvCell(p.HostName),
				csvCell(p.Where), p.CheckedInAt.Format(time.RFC3339)})
		}
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="on-site.csv"`)
	return c.Send(buf.Bytes())
}

// csvCell keeps a spreadsheet from reading a cell as a formula.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (s *Server) startRollCall(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	rc, err := s.Visitors.StartRollCall(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/roll-calls/"+rc.ID, rc)
}

func (s *Server) getRollCall(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rc, err := s.Visitors.GetRollCall(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rc)
}

type rollCallMarkBody struct {
	PersonType string `json:"person_type"`
	PersonID   string `json:"person_id"`
	Safe       *bool  `json:"safe"`
}

func (s *Server) markRollCall(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b rollCallMarkBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	safe := b.Safe == nil || *b.Safe
	rc, err := s.Visitors.Mark(c.UserContext(), principal(c), id, b.PersonType, b.PersonID, safe)
	if err != nil {
		return err
	}
	return c.JSON(rc)
}

func (s *Server) closeRollCall(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var body struct{}
	if err := decodeOptional(c, &body); err != nil {
		return err
	}
	rc, err := s.Visitors.CloseRollCall(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(rc)
}

// Privacy (admins).

func (s *Server) exportVisitor(c *fiber.Ctx) error {
	x, err := s.Visitors.ExportVisitor(c.UserContext(), c.Query("email"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(x)
}

func (s *Server) eraseVisitor(c *fiber.Ctx) error {
	n, err := s.Visitors.EraseVisitor(c.UserContext(), c.Query("email"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"anonymised_visits": n})
}

package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// bookingJSON is a booking as clients see it: times in UTC and in the
// site's zone, and the ETag to send back with If-Match.
type bookingJSON struct {
	ID           string               `json:"id"`
	Status       booking.Status       `json:"status"`
	StatusReason string               `json:"status_reason"`
	ETag         string               `json:"etag"`
	Version      int                  `json:"version"`
	ResourceType booking.ResourceType `json:"resource_type"`
	ResourceID   string               `json:"resource_id"`
	ResourceName string               `json:"resource_name"`
	SiteID       string               `json:"site_id"`
	FloorID      string               `json:"floor_id"`
	UserID       string               `json:"user_id"`
	CreatedBy    *string              `json:"created_by"`
	Title        string               `json:"title"`
	Start        time.Time            `json:"start"`
	End          time.Time            `json:"end"`
	Timezone     string               `json:"timezone"`
	LocalStart   string               `json:"local_start"`
	LocalEnd     string               `json:"local_end"`
	SeriesID     *string              `json:"series_id"`
	CreatedAt    time.Time            `json:"created_at"`
	UpdatedAt    time.Time            `json:"updated_at"`
}

func toJSON(v *booking.View) bookingJSON {
	loc := v.Location()
	return bookingJSON{
		ID: v.ID, Status: v.Status, StatusReason: v.StatusReason, ETag: v.ETag(), Version: v.Version, ResourceType: v.ResourceType,
		ResourceID: v.ResourceID, ResourceName: v.ResourceName, SiteID: v.SiteID, FloorID: v.FloorID,
		UserID: v.UserID, CreatedBy: v.CreatedBy, Title: v.Title,
		Start: v.StartAt.UTC(), End: v.EndAt.UTC(), Timezone: v.Timezone,
		LocalStart: v.StartAt.In(loc).Format(time.RFC3339), LocalEnd: v.EndAt.In(loc).Format(time.RFC3339),
		SeriesID: v.SeriesID, CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC(),
	}
}

func toJSONs(vs []booking.View) []bookingJSON {
	out := make([]bookingJSON, len(vs))
	for i := range vs {
		out[i] = toJSON(&vs[i])
	}
	return out
}

// seriesJSON answers a recurring booking.
type seriesJSON struct {
	SeriesID *string           `json:"series_id"`
	Bookings []bookingJSON     `json:"bookings"`
	Skipped  []booking.Skipped `json:"skipped"`
}

type bookingBody struct {
	ResourceType  string `json:"resource_type"`
	ResourceID    string `json:"resource_id"`
	Start         string `json:"start"`
	End           string `json:"end"`
	Date          string `json:"date"`
	Part          string `json:"part"`
	Title         string `json:"title"`
	ForUserID     string `json:"for_user_id"`
	Recurrence    string `json:"recurrence"`
	SkipConflicts bool   `json:"skip_conflicts"`
	Override      bool   `json:"override"`
}

// parseTime reads an RFC 3339 time with an explicit offset.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, perch.Invalid(field, "%s must be an RFC 3339 time with an offset, like 2026-03-30T09:00:00+02:00", field)
	}
	if t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, perch.Invalid(field, "%s is out of range", field)
	}
	return t, nil
}

func optionalTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return parseTime(field, s)
}

func resourceType(s string) (booking.ResourceType, error) {
	switch booking.ResourceType(s) {
	case booking.Desk, booking.Room:
		return booking.ResourceType(s), nil
	}
	return "", perch.Invalid("resource_type", "resource_type must be desk or room")
}

func (b bookingBody) request() (booking.CreateRequest, error) {
	typ, err := resourceType(b.ResourceType)
	if err != nil {
		return booking.CreateRequest{}, err
	}
	if !database.ValidID(b.ResourceID) {
		return booking.CreateRequest{}, perch.Invalid("resource_id", "resource_id must be the id of a desk or room")
	}
	if b.ForUserID != "" && !database.ValidID(b.ForUserID) {
		return booking.CreateRequest{}, perch.Invalid("for_user_id", "for_user_id is not a valid id")
	}
	start, err := optionalTime("start", b.Start)
	if err != nil {
		return booking.CreateRequest{}, err
	}
	end, err := optionalTime("end", b.End)
	if err != nil {
		return booking.CreateRequest{}, err
	}
	return booking.CreateRequest{
		ResourceType: typ, ResourceID: b.ResourceID, Start: start, End: end, Date: b.Date, Part: b.Part,
		Title: b.Title, ForUserID: b.ForUserID, Recurrence: b.Recurrence, SkipConflicts: b.SkipConflicts, Override: b.Override,
	}, nil
}

// renderCreate is the response to a successful create.
func renderCreate(res *booking.CreateResult, recurring bool) (int, []byte, error) {
	var v any
	if recurring {
		skipped := res.Skipped
		if skipped == nil {
			skipped = []booking.Skipped{}
		}
		v = seriesJSON{SeriesID: res.Bookings[0].SeriesID, Bookings: toJSONs(res.Bookings), Skipped: skipped}
	} else {
		v = toJSON(&res.Bookings[0])
	}
	body, err := json.Marshal(v)
	return fiber.StatusCreated, body, err
}

const maxIdempotencyKey = 200

// createBooking books a desk or room. With an Idempotency-Key header a
// retry of the same request returns the first response instead of booking
// again.
func (s *Server) createBooking(c *fiber.Ctx) error {
	var b bookingBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	req, err := b.request()
	if err != nil {
		return err
	}
	p := principal(c)
	recurring := req.Recurrence != ""
	key := c.Get("Idempotency-Key")
	if key == "" {
		res, err := s.Booking.Create(c.UserContext(), p, req, nil)
		if err != nil {
			return err
		}
		return sendCreated(c, res, recurring)
	}
	if len(key) > maxIdempotencyKey || strings.TrimFunc(key, func(r rune) bool { return r > ' ' && r < 0x7f }) != "" {
		return perch.Invalid("Idempotency-Key", "Idempotency-Key must be 1-%d printable ASCII characters", maxIdempotencyKey)
	}
	owner := p.UserID
	if p.Bootstrap {
		owner = "bootstrap"
	}
	sum := sha256.Sum256(append([]byte(c.Method()+" "+c.Path()+"\n"), c.Body()...))
	hash := hex.EncodeToString(sum[:])
	replay := func() (bool, error) {
		rec, err := s.Booking.LookupIdempotent(c.UserContext(), owner, key)
		if err != nil || rec == nil || rec.Status == 0 {
			return false, err
		}
		if rec.RequestHash != hash {
			return true, perch.Errorf(perch.EIDEMPOTENCYKEY, "This Idempotency-Key was used for a different request; use a new key.")
		}
		c.Set("Idempotent-Replayed", "true")
		ct := fiber.MIMEApplicationJSON
		if rec.Status >= 400 {
			ct = "application/problem+json"
		}
		c.Set(fiber.HeaderContentType, ct)
		return true, c.Status(rec.Status).Send([]byte(rec.Response))
	}
	if done, err := replay(); done || err != nil {
		return err
	}
	res, err := s.Booking.Create(c.UserContext(), p, req, &booking.Idempotency{
		Owner: owner, Key: key, Hash: hash,
		Render: func(r *booking.CreateResult) (int, []byte, error) { return renderCreate(r, recurring) },
	})
	if err == booking.ErrKeyInFlight {
		// A concurrent request with this key committed first: answer as it did.
		if done, rerr := replay(); done || rerr != nil {
			return rerr
		}
		return err
	}
	if err != nil {
		// Remember refusals too, so a retry gets the same answer.
		if st := statusOf(perch.ErrorCode(err)); st >= 400 && st < 500 {
			if herr := s.handleError(c, err); herr != nil {
				return herr
			}
			_ = s.Booking.SaveIdempotentFailure(c.UserContext(), owner, key, hash, st, c.Response().Body())
			return nil
		}
		return err
	}
	return sendCreated(c, res, recurring)
}

func sendCreated(c *fiber.Ctx, res *booking.CreateResult, recurring bool) error {
	status, body, err := renderCreate(res, recurring)
	if err != nil {
		return err
	}
	if !recurring {
		c.Location("/api/v1/bookings/" + res.Bookings[0].ID)
		c.Set(fiber.HeaderETag, res.Bookings[0].ETag())
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(body)
}

func (s *Server) getBooking(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Booking.Get(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, v.ETag())
	return c.JSON(toJSON(v))
}

var statuses = []booking.Status{booking.StatusConfirmed, booking.StatusCheckedIn, booking.StatusCompleted, booking.StatusCancelled, booking.StatusReleased}

func (s *Server) listBookings(c *fiber.Ctx) error {
	p := principal(c)
	page, err := pageParams(c)
	if err != nil {
		return err
	}
	f := booking.Filter{}
	switch u := c.Query("user"); {
	case u == "me" || (u == "" && p.Role != "admin" && p.Role != "reception"):
		if p.UserID == "" {
			return perch.Invalid("user", "this token belongs to no person; name a user id")
		}
		f.UserID = p.UserID
	case u == "" || u == "all":
	case database.ValidID(u):
		f.UserID = u
	default:
		return perch.Invalid("user", "user must be me, all or a user id")
	}
	if f.ResourceID, err = optionalID(c, "resource_id"); err != nil {
		return err
	}
	if f.FloorID, err = optionalID(c, "floor_id"); err != nil {
		return err
	}
	if f.From, err = optionalTime("from", c.Query("from")); err != nil {
		return err
	}
	if f.To, err = optionalTime("to", c.Query("to")); err != nil {
		return err
	}
	if st := c.Query("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !containsStatus(statuses, booking.Status(v)) {
				return perch.Invalid("status", "status must be a comma-separated list of confirmed, checked_in, completed, cancelled, released")
			}
			f.Statuses = append(f.Statuses, booking.Status(v))
		}
	}
	items, next, err := s.Booking.List(c.UserContext(), p, f, page)
	if err != nil {
		return err
	}
	return c.JSON(listOf(toJSONs(items), next))
}

func containsStatus(list []booking.Status, s booking.Status) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type bookingPatch struct {
	ResourceType *string `json:"resource_type"`
	ResourceID   *string `json:"resource_id"`
	Start        *string `json:"start"`
	End          *string `json:"end"`
	Title        *string `json:"title"`
	Override     bool    `json:"override"`
}

// ifMatch reads the version an If-Match header names.
func ifMatch(c *fiber.Ctx) (int, error) {
	h := strings.TrimSpace(c.Get(fiber.HeaderIfMatch))
	if h == "" {
		return 0, perch.Errorf(perch.EPRECONDREQUIRED, "Send If-Match with the booking's ETag (from GET) to change it.")
	}
	h = strings.TrimPrefix(h, "W/")
	v, err := strconv.Atoi(strings.Trim(h, `"`))
	if err != nil || v < 1 {
		return 0, perch.Errorf(perch.EPRECONDITION, "If-Match does not name a version of this booking.")
	}
	return v, nil
}

func (s *Server) updateBooking(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	version, err := ifMatch(c)
	if err != nil {
		return err
	}
	var b bookingPatch
	if _, err := decode(c, &b); err != nil {
		return err
	}
	ch := booking.Change{Title: b.Title, Override: b.Override}
	if b.ResourceType != nil {
		t, err := resourceType(*b.ResourceType)
		if err != nil {
			return err
		}
		ch.ResourceType = &t
	}
	if b.ResourceID != nil {
		if !database.ValidID(*b.ResourceID) {
			return perch.Invalid("resource_id", "resource_id must be the id of a desk or room")
		}
		ch.ResourceID = b.ResourceID
	}
	for _, t := range []struct {
		field string
		in    *string
		out   **time.Time
	}{{"start", b.Start, &ch.Start}, {"end", b.End, &ch.End}} {
		if t.in != nil {
			v, err := parseTime(t.field, *t.in)
			if err != nil {
				return err
			}
			*t.out = &v
		}
	}
	if b.Title != nil && len([]rune(*b.Title)) > 200 {
		return perch.Invalid("title", "title must be at most 200 characters")
	}
	v, err := s.Booking.Update(c.UserContext(), principal(c), id, version, ch)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, v.ETag())
	return c.JSON(toJSON(v))
}

func (s *Server) cancelBooking(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	vs, err := s.Booking.Cancel(c.UserContext(), principal(c), id, c.Query("scope"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"cancelled": toJSONs(vs)})
}

func (s *Server) getPolicy(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.Booking.GetPolicy(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// putPolicy replaces a site's policy; fields left out take their defaults.
func (s *Server) putPolicy(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p := booking.DefaultPolicy()
	if _, err := decode(c, &p); err != nil {
		return err
	}
	p, err = s.Booking.PutPolicy(c.UserContext(), id, p)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type releaseBody struct {
	Date string `json:"date"`
}

func dateParam(field, s string) (booking.Date, error) {
	d, err := booking.ParseDate(s)
	if err != nil {
		return booking.Date{}, perch.Invalid(field, "%s must be a day like 2026-03-30", field)
	}
	return d, nil
}

func (s *Server) listReleases(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	rs, err := s.Booking.ListReleases(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(listOf(rs, ""))
}

func (s *Server) releaseDesk(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b releaseBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	d, err := dateParam("date", b.Date)
	if err != nil {
		return err
	}
	r, err := s.Booking.ReleaseDesk(c.UserContext(), principal(c), id, d)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(r)
}

func (s *Server) unreleaseDesk(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := dateParam("date", c.Params("date"))
	if err != nil {
		return err
	}
	if err := s.Booking.UnreleaseDesk(c.UserContext(), principal(c), id, d); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// window reads ?from=&to= (default: the next hour from now).
func (s *Server) window(c *fiber.Ctx) (booking.Window, error) {
	from, err := optionalTime("from", c.Query("from"))
	if err != nil {
		return booking.Window{}, err
	}
	to, err := optionalTime("to", c.Query("to"))
	if err != nil {
		return booking.Window{}, err
	}
	if from.IsZero() {
		from = time.Now().UTC().Truncate(time.Minute)
	}
	if to.IsZero() {
		to = from.Add(time.Hour)
	}
	return booking.Window{From: from, To: to}, nil
}

func (s *Server) floorAvailability(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	w, err := s.window(c)
	if err != nil {
		return err
	}
	a, err := s.Booking.FloorAvailability(c.UserContext(), principal(c), id, w)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) siteAvailability(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	w, err := s.window(c)
	if err != nil {
		return err
	}
	req := booking.SearchRequest{Window: w}
	if t := c.Query("resource_type"); t != "" {
		if req.ResourceType, err = resourceType(t); err != nil {
			return err
		}
	}
	if a := c.Query("amenities"); a != "" {
		for _, v := range strings.Split(a, ",") {
			if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
				req.Amenities = append(req.Amenities, v)
			}
		}
	}
	if req.ZoneID, err = optionalID(c, "zone"); err != nil {
		return err
	}
	if req.FloorID, err = optionalID(c, "floor_id"); err != nil {
		return err
	}
	if req.NearTeamID, err = optionalID(c, "near_team"); err != nil {
		return err
	}
	for _, q := range []struct {
		name string
		dst  *int
		max  int
	}{{"capacity", &req.MinCapacity, 10000}, {"limit", &req.Limit, database.MaxLimit}} {
		if v := c.Query(q.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > q.max {
				return perch.Invalid(q.name, "%s must be a whole number from 1 to %d", q.name, q.max)
			}
			*q.dst = n
		}
	}
	res, err := s.Booking.SearchSite(c.UserContext(), principal(c), id, req)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"site_id": id, "from": w.From.UTC(), "to": w.To.UTC(), "items": res})
}

func (s *Server) whereabouts(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	d, err := dateParam("date", c.Query("date"))
	if err != nil {
		return err
	}
	ws, err := s.Booking.Whereabouts(c.UserContext(), principal(c), id, d)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"user_id": id, "date": d.String(), "items": ws})
}

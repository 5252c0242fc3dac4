package api

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/reports"
)

// reportScope reads ?site_id=|floor_id=|zone_id= (exactly one).
func reportScope(c *fiber.Ctx) (reports.Scope, error) {
	var sc reports.Scope
	var err error
	for _, p := range []struct {
		name string
		dst  *string
	}{{"site_id", &sc.SiteID}, {"floor_id", &sc.FloorID}, {"zone_id", &sc.ZoneID}} {
		if *p.dst, err = optionalID(c, p.name); err != nil {
			return sc, err
		}
	}
	return sc, nil
}

// reportWindow reads ?from=&to= (local dates, both included; default: the
// 28 days up to today).
func reportWindow(c *fiber.Ctx) (reports.Window, error) {
	today := booking.DateOf(time.Now().UTC())
	w := reports.Window{From: today.AddDays(-27), To: today}
	var err error
	if v := c.Query("from"); v != "" {
		if w.From, err = dateParam("from", v); err != nil {
			return w, err
		}
		if c.Query("to") == "" {
			w.To = w.From.AddDays(27)
		}
	}
	if v := c.Query("to"); v != "" {
		if w.To, err = dateParam("to", v); err != nil {
			return w, err
		}
		if c.Query("from") == "" {
			w.From = w.To.AddDays(-27)
		}
	}
	return w, nil
}

// reportFormat reads ?format=json|csv.
func reportFormat(c *fiber.Ctx) (string, error) {
	switch f := c.Query("format", "json"); f {
	case "json", "csv":
		return f, nil
	}
	return "", perch.Invalid("format", "format must be json or csv")
}

func (s *Server) occupancyQuery(c *fiber.Ctx) (reports.OccupancyQuery, error) {
	var q reports.OccupancyQuery
	var err error
	if v := c.Query("include_visitors"); v != "" && v != "false" {
		return q, &perch.Error{Code: reports.EUnsupported, Field: "include_visitors",
			Message: "Visitors are not counted in occupancy reports yet; leave include_visitors out."}
	}
	if q.Scope, err = reportScope(c); err != nil {
		return q, err
	}
	if q.Window, err = reportWindow(c); err != nil {
		return q, err
	}
	q.Bucket, q.GroupBy = c.Query("bucket"), c.Query("group_by")
	return q, nil
}

func (s *Server) occupancyReport(c *fiber.Ctx) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	q, err := s.occupancyQuery(c)
	if err != nil {
		return err
	}
	r, err := s.Reports.Occupancy(c.UserContext(), q)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if format == "csv" {
		var b bytes.Buffer
		if err := r.CSV(&b); err != nil {
			return err
		}
		return sendCSV(c, "occupancy.csv", b.Bytes())
	}
	return c.JSON(r)
}

// occupancyHeatmap serves the hour × weekday heatmap (hour buckets, no breakdown).
func (s *Server) occupancyHeatmap(c *fiber.Ctx) error {
	return s.occupancyChart(c, reports.Hour, (*reports.Occupancy).Heatmap)
}

// occupancyDaily serves the daily line chart (day buckets, no breakdown).
func (s *Server) occupancyDaily(c *fiber.Ctx) error {
	return s.occupancyChart(c, reports.Day, (*reports.Occupancy).DailyChart)
}

// occupancyChart draws the site's (floor's, zone's) occupancy in bucket,
// without a breakdown, as SVG.
func (s *Server) occupancyChart(c *fiber.Ctx, bucket string, draw func(*reports.Occupancy) ([]byte, error)) error {
	q, err := s.occupancyQuery(c)
	if err != nil {
		return err
	}
	q.Bucket, q.GroupBy = bucket, ""
	r, err := s.Reports.Occupancy(c.UserContext(), q)
	if err != nil {
		return err
	}
	svg, err := draw(r)
	if err != nil {
		return err
	}
	return sendSVG(c, svg)
}

func (s *Server) utilisationReport(c *fiber.Ctx) error {
	format, err := reportFormat(c)
	if err != nil {
		return err
	}
	var q reports.UtilisationQuery
	if q.Scope, err = reportScope(c); err != nil {
		return err
	}
	if q.Window, err = reportWindow(c); err != nil {
		return err
	}
	if v := c.Query("resource_type"); v != "" {
		if q.ResourceType, err = resourceType(v); err != nil {
			return err
		}
	}
	q.GroupBy = c.Query("group_by")
	r, err := s.Reports.Utilisation(c.UserContext(), q)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if format == "csv" {
		var b bytes.Buffer
		if err := r.CSV(&b); err != nil {
			return err
		}
		return sendCSV(c, "utilisation.csv", b.Bytes())
	}
	return c.JSON(r)
}

// utilisationFloor serves a floor plan coloured by utilisation.
func (s *Server) utilisationFloor(c *fiber.Ctx) error {
	id := c.Query("floor_id")
	if id == "" {
		return perch.Invalid("floor_id", "floor_id is required")
	}
	id, err := optionalID(c, "floor_id")
	if err != nil {
		return err
	}
	w, err := reportWindow(c)
	if err != nil {
		return err
	}
	svg, err := s.Reports.FloorMap(c.UserContext(), id, w)
	if err != nil {
		return err
	}
	return sendSVG(c, svg)
}

func sendSVG(c *fiber.Ctx, svg []byte) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	return c.Send(svg)
}

func sendCSV(c *fiber.Ctx, name string, body []byte) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Send(body)
}

type reportSettingsBody struct {
	MinGroupSize *int `json:"min_group_size"`
}

func (s *Server) getReportSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Reports.GetSettings(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) putReportSettings(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b reportSettingsBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	if b.MinGroupSize == nil {
		return perch.Invalid("min_group_size", "min_group_size is required")
	}
	v, err := s.Reports.PutSettings(c.UserContext(), id, reports.Settings{MinGroupSize: *b.MinGroupSize})
	if err != nil {
		return err
	}
	return c.JSON(v)
}

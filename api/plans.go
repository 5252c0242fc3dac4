package api

import (
	"mime"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
)

// planImageCSP keeps an uploaded SVG inert even when opened on its own.
const planImageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"

// putPlanImage serves PUT /api/v1/floors/{id}/plan: the body is the image
// (Content-Type image/png or image/svg+xml); the answer is the floor with
// its plan_image_url.
func (s *Server) putPlanImage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	ct, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return perch.Invalid("content_type", "send Content-Type image/png or image/svg+xml")
	}
	// The body is copied: Fiber reuses its buffer after the handler.
	body := append([]byte(nil), c.Body()...)
	f, err := s.Floorplans.SetPlanImage(c.UserContext(), id, ct, body)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// deletePlanImage serves DELETE /api/v1/floors/{id}/plan.
func (s *Server) deletePlanImage(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	f, err := s.Floorplans.RemovePlanImage(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// planImage serves GET /plans/{id}: public (the id is the SHA-256 of the
// image, known only from a floor) and immutable.
func (s *Server) planImage(c *fiber.Ctx) error {
	img, err := s.Floorplans.PlanImageByID(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, img.ContentType)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set("Content-Security-Policy", planImageCSP)
	return c.Send(img.Data)
}

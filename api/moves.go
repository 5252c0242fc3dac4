package api

import (
	"bytes"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch/moves"
)

// createMovePlan: POST /move-plans computes the demand and proposes a plan.
func (s *Server) createMovePlan(c *fiber.Ctx) error {
	var r moves.Request
	if _, err := decode(c, &r); err != nil {
		return err
	}
	pl, err := s.Moves.Create(c.UserContext(), principal(c), r)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/move-plans/"+pl.ID, pl)
}

func (s *Server) listMovePlans(c *fiber.Ctx) error {
	site, err := optionalID(c, "site_id")
	if err != nil {
		return err
	}
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.Moves.List(c.UserContext(), site, p)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, next))
}

type movePlanPatch struct {
	Name          *string          `json:"name"`
	EffectiveDate *string          `json:"effective_date"`
	Teams         []moves.TeamEdit `json:"teams"`
	Pins          *[]moves.PinEdit `json:"pins"`
}

func (s *Server) updateMovePlan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b movePlanPatch
	if _, err := decode(c, &b); err != nil {
		return err
	}
	pl, err := s.Moves.Update(c.UserContext(), id, moves.Edit{Name: b.Name, EffectiveDate: b.EffectiveDate, Teams: b.Teams, Pins: b.Pins})
	if err != nil {
		return err
	}
	return c.JSON(pl)
}

func (s *Server) validateMovePlan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Moves.Validate(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) simulateMovePlan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Moves.Simulate(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) applyMovePlan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.Moves.Apply(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

func (s *Server) exportMovePlan(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := s.Moves.Export(c.UserContext(), id, &b); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return sendCSV(c, "move-plan.csv", b.Bytes())
}

func (s *Server) movePlanSVG(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	floor, err := optionalID(c, "floor_id")
	if err != nil {
		return err
	}
	svg, err := s.Moves.FloorSVG(c.UserContext(), id, floor)
	if err != nil {
		return err
	}
	return sendSVG(c, svg)
}

package api

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// list is the shape of every paginated response.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](items []T, next string) list[T] {
	l := list[T]{Items: items}
	if l.Items == nil {
		l.Items = []T{}
	}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

// byID serves GET /…/:id with a getter of the feature package.
func byID[T any](get func(context.Context, string) (*T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		v, err := get(c.UserContext(), id)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// deleteByID serves DELETE /…/:id: 204 on success.
func deleteByID(del func(context.Context, string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		if err := del(c.UserContext(), id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// listUnder serves GET /parents/:id/children, paginated.
func listUnder[T any](list func(context.Context, string, database.Page) ([]T, string, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := idParam(c, "id")
		if err != nil {
			return err
		}
		p, err := pageParams(c)
		if err != nil {
			return err
		}
		items, next, err := list(c.UserContext(), id, p)
		if err != nil {
			return err
		}
		return c.JSON(listOf(items, next))
	}
}

// created answers 201 with the new resource and its Location.
func created(c *fiber.Ctx, location string, v any) error {
	c.Location(location)
	return c.Status(fiber.StatusCreated).JSON(v)
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz answers 200 only when the process takes traffic and the database
// answers within two seconds.
func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.ready.Load() {
		return perch.Errorf(perch.EUNAVAILABLE, "Perch is starting or shutting down.")
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return &perch.Error{Code: perch.EUNAVAILABLE, Message: "The database is not reachable.", Err: err}
	}
	return c.JSON(fiber.Map{"status": "ready", "database": string(s.DB.Dialect())})
}

func (s *Server) index(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{
		"name":    "Perch",
		"version": s.Version,
		"api":     s.PublicURL + "/api/v1",
		"health":  s.PublicURL + "/healthz",
	})
}

// meResponse describes the caller.
type meResponse struct {
	ID        *string `json:"id"`
	Email     string  `json:"email"`
	Name      string  `json:"name"`
	Role      string  `json:"role"`
	TeamID    *string `json:"team_id"`
	Bootstrap bool    `json:"bootstrap,omitempty"`
}

func (s *Server) me(c *fiber.Ctx) error {
	p := principal(c)
	r := meResponse{Email: p.Email, Name: p.Name, Role: string(p.Role), TeamID: p.TeamID, Bootstrap: p.Bootstrap}
	if p.UserID != "" {
		r.ID = &p.UserID
	}
	return c.JSON(r)
}

package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/users"
)

type userBody struct {
	Email  string  `json:"email"`
	Name   string  `json:"name"`
	TeamID *string `json:"team_id"`
	Role   string  `json:"role"`
}

type userPatch struct {
	Email  *string `json:"email"`
	Name   *string `json:"name"`
	TeamID *string `json:"team_id"`
	Role   *string `json:"role"`
}

func (p userPatch) apply(f fields, v *users.User) {
	set(&v.Email, p.Email)
	set(&v.Name, p.Name)
	if p.Role != nil {
		v.Role = users.Role(*p.Role)
	}
	if f.has("team_id") {
		v.TeamID = p.TeamID
	}
}

type teamBody struct {
	Name string `json:"name"`
}

type teamPatch struct {
	Name *string `json:"name"`
}

func (p teamPatch) apply(_ fields, v *users.Team) { set(&v.Name, p.Name) }

type tokenBody struct {
	Label    string `json:"label"`
	TTLHours int    `json:"ttl_hours"`
}

type tokenResponse struct {
	Token     string     `json:"token"`
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	Label     string     `json:"label"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	team, err := optionalID(c, "team_id")
	if err != nil {
		return err
	}
	role := users.Role(c.Query("role"))
	if role != "" && !role.Valid() {
		return perch.Invalid("role", "role must be one of admin, employee, reception, kiosk")
	}
	q := c.Query("q")
	if len(q) > 100 {
		return perch.Invalid("q", "q must be at most 100 characters")
	}
	items, next, err := s.Users.ListUsers(c.UserContext(), users.UserFilter{TeamID: team, Role: role, Query: q}, p)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, next))
}

func (s *Server) createUser(c *fiber.Ctx) error {
	var b userBody
	if _, err := decode(c, &b, "team_id"); err != nil {
		return err
	}
	if b.Role == "" {
		b.Role = string(users.RoleEmployee)
	}
	v := &users.User{Email: b.Email, Name: b.Name, TeamID: b.TeamID, Role: users.Role(b.Role)}
	if err := s.Users.CreateUser(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/users/"+v.ID, v)
}

func (s *Server) updateUser(c *fiber.Ctx) error {
	return patchByID[users.User, userPatch](s.Users.UpdateUser, "team_id")(c)
}

// mintToken creates a token for a user; the plain token is in this response
// only.
func (s *Server) mintToken(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var b tokenBody
	if err := decodeOptional(c, &b); err != nil {
		return err
	}
	if b.TTLHours < 0 || b.TTLHours > 24*366*5 {
		return perch.Invalid("ttl_hours", "ttl_hours must be between 0 (no expiry) and %d", 24*366*5)
	}
	plain, t, err := s.Users.MintToken(c.UserContext(), id, b.Label, time.Duration(b.TTLHours)*time.Hour)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(tokenResponse{Token: plain, ID: t.ID, UserID: t.UserID, Label: t.Label, ExpiresAt: t.ExpiresAt})
}

func (s *Server) listTeams(c *fiber.Ctx) error {
	p, err := pageParams(c)
	if err != nil {
		return err
	}
	items, next, err := s.Users.ListTeams(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(listOf(items, next))
}

func (s *Server) createTeam(c *fiber.Ctx) error {
	var b teamBody
	if _, err := decode(c, &b); err != nil {
		return err
	}
	v := &users.Team{Name: b.Name}
	if err := s.Users.CreateTeam(c.UserContext(), v); err != nil {
		return err
	}
	return created(c, "/api/v1/teams/"+v.ID, v)
}

func (s *Server) updateTeam(c *fiber.Ctx) error {
	return patchByID[users.Team, teamPatch](s.Users.UpdateTeam)(c)
}

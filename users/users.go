// Package users owns people, teams, roles and API tokens: who may call Perch
// and as what. It is the lowest feature package; floorplans and booking
// refer to users by id.
package users

import (
	"context"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/database"
)

// Role is what a user may do.
type Role string

const (
	RoleAdmin     Role = "admin"     // facilities: writes the office model, sees everything
	RoleEmployee  Role = "employee"  // books for themselves
	RoleReception Role = "reception" // runs the lobby, books and registers for others
	RoleKiosk     Role = "kiosk"     // a device account (door or lobby display)
)

// Roles lists every role, in a stable order.
var Roles = []Role{RoleAdmin, RoleEmployee, RoleReception, RoleKiosk}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleEmployee, RoleReception, RoleKiosk:
		return true
	}
	return false
}

// Team groups users (for zone restrictions, reports and move plans).
type Team struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// User is a person (or a device account) known to Perch.
type User struct {
	ID        string    `json:"id" gorm:"primaryKey"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	TeamID    *string   `json:"team_id"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Service reads and writes users and teams.
type Service struct {
	db *database.DB
}

// NewService returns a Service on db.
func NewService(db *database.DB) *Service { return &Service{db: db} }

// Normalize trims and lower-cases the email and trims the name.
func (u *User) Normalize() {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.Name = strings.TrimSpace(u.Name)
}

// Validate checks the user's own fields.
func (u *User) Validate() error {
	if u.Email == "" {
		return perch.Invalid("email", "email is required")
	}
	if a, err := mail.ParseAddress(u.Email); err != nil || a.Address != u.Email || len(u.Email) > 254 {
		return perch.Invalid("email", "email must be a plain address like ada@example.com")
	}
	if err := checkName("name", u.Name, 200); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return perch.Invalid("role", "role must be one of admin, employee, reception, kiosk")
	}
	if u.TeamID != nil && !database.ValidID(*u.TeamID) {
		return perch.Invalid("team_id", "team_id is not a valid id")
	}
	return nil
}

// checkName requires a non-empty printable string of at most max characters.
func checkName(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return perch.Invalid(field, "%s is required", field)
	}
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > max {
		return perch.Invalid(field, "%s must be at most %d characters", field, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return perch.Invalid(field, "%s must not contain control characters", field)
		}
	}
	return nil
}

// CheckName is checkName for other packages: a required, printable name of
// at most max characters.
func CheckName(field, v string, max int) error { return checkName(field, v, max) }

// UserFilter narrows ListUsers.
type UserFilter struct {
	TeamID string
	Role   Role
	// Query matches the start of the name or the email, case-insensitively.
	Query string
}

// ListUsers lists users ordered by name.
func (s *Service) ListUsers(ctx context.Context, f UserFilter, p database.Page) ([]User, string, error) {
	q := s.db.Conn(ctx).Model(&User{})
	if f.TeamID != "" {
		q = q.Where("team_id = ?", f.TeamID)
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.Query != "" {
		like := strings.ToLower(escapeLike(f.Query)) + "%"
		q = q.Where("(LOWER(name) LIKE ? ESCAPE '\\' OR email LIKE ? ESCAPE '\\')", like, like)
	}
	return database.Paginate(q, p, "name", func(u *User) (any, string) { return u.Name, u.ID })
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.db.Conn(ctx).Take(&u, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// GetUserByEmail returns the user with the email.
func (s *Service) GetUserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.db.Conn(ctx).Take(&u, "email = ?", strings.ToLower(strings.TrimSpace(email))).Error; err != nil {
		return nil, notFound(err, "user")
	}
	return &u, nil
}

// CreateUser validates and inserts u, assigning its id.
func (s *Service) CreateUser(ctx context.Context, u *User) error {
	u.Normalize()
	if err := u.Validate(); err != nil {
		return err
	}
	if u.ID == "" {
		u.ID = database.NewID()
	}
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := checkTeam(tx, u.TeamID); err != nil {
			return err
		}
		return userWriteErr(tx.Create(u).Error, u.Email)
	})
}

// UpdateUser loads the user, lets apply change it, validates and saves it.
func (s *Service) UpdateUser(ctx context.Context, id string, apply func(*User) error) (*User, error) {
	var u User
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&u, "id = ?", id).Error; err != nil {
			return notFound(err, "user")
		}
		if err := apply(&u); err != nil {
			return err
		}
		u.Normalize()
		if err := u.Validate(); err != nil {
			return err
		}
		if err := checkTeam(tx, u.TeamID); err != nil {
			return err
		}
		return userWriteErr(tx.Save(&u).Error, u.Email)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// DeleteUser deletes a user with no bookings (their tokens go with them).
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *gorm.DB) error {
		res := tx.Delete(&User{}, "id = ?", id)
		if res.Error != nil {
			if database.IsForeignKeyViolation(res.Error) {
				return perch.Errorf(perch.ECONFLICT, "The user has bookings; cancel or reassign them first.")
			}
			return res.Error
		}
		if res.RowsAffected == 0 {
			return perch.NotFound("user")
		}
		return nil
	})
}

func checkTeam(tx *gorm.DB, teamID *string) error {
	if teamID == nil {
		return nil
	}
	var n int64
	if err := tx.Model(&Team{}).Where("id = ?", *teamID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return perch.Invalid("team_id", "team_id names no team")
	}
	return nil
}

func userWriteErr(err error, email string) error {
	if database.IsUniqueViolation(err, "email") {
		return &perch.Error{Code: perch.ECONFLICT, Field: "email", Message: "A user with email " + email + " already exists.", Err: err}
	}
	return err
}

// ListTeams lists teams ordered by name.
func (s *Service) ListTeams(ctx context.Context, p database.Page) ([]Team, string, error) {
	return database.Paginate(s.db.Conn(ctx).Model(&Team{}), p, "name", func(t *Team) (any, string) { return t.Name, t.ID })
}

// GetTeam returns one team.
func (s *Service) GetTeam(ctx context.Context, id string) (*Team, error) {
	var t Team
	if err := s.db.Conn(ctx).Take(&t, "id = ?", id).Error; err != nil {
		return nil, notFound(err, "team")
	}
	return &t, nil
}

// CreateTeam validates and inserts t.
func (s *Service) CreateTeam(ctx context.Context, t *Team) error {
	t.Name = strings.TrimSpace(t.Name)
	if err := checkName("name", t.Name, 200); err != nil {
		return err
	}
	if t.ID == "" {
		t.ID = database.NewID()
	}
	return teamWriteErr(s.db.Conn(ctx).Create(t).Error, t.Name)
}

// UpdateTeam renames a team.
func (s *Service) UpdateTeam(ctx context.Context, id string, apply func(*Team) error) (*Team, error) {
	var t Team
	err := s.db.Tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&t, "id = ?", id).Error; err != nil {
			return notFound(err, "team")
		}
		if err := apply(&t); err != nil {
			return err
		}
		t.Name = strings.TrimSpace(t.Name)
		if err := checkName("name", t.Name, 200); err != nil {
			return err
		}
		return teamWriteErr(tx.Save(&t).Error, t.Name)
	})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// DeleteTeam deletes a team; its members stay, without a team.
func (s *Service) DeleteTeam(ctx context.Context, id string) error {
	res := s.db.Conn(ctx).Delete(&Team{}, "id = ?", id)
	if res.Error != nil {
		return database.Translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return perch.NotFound("team")
	}
	return nil
}

func teamWriteErr(err error, name string) error {
	if database.IsUniqueViolation(err, "name") {
		return &perch.Error{Code: perch.ECONFLICT, Field: "name", Message: "A team named " + name + " already exists.", Err: err}
	}
	return database.Translate(err)
}

// notFound turns a record-not-found into a not_found of the kind, and
// translates anything else.
func notFound(err error, kind string) error {
	if perch.ErrorCode(database.Translate(err)) == perch.ENOTFOUND {
		return perch.NotFound(kind)
	}
	return database.Translate(err)
}

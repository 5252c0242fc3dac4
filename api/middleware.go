package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/users"
)

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyPrincipal
)

// requestID returns the request's id (set by the first middleware).
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(keyRequestID).(string)
	return id
}

// principal returns the caller (set by authorize).
func principal(c *fiber.Ctx) *users.Principal {
	p, _ := c.Locals(keyPrincipal).(*users.Principal)
	return p
}

// validRequestID accepts a client's X-Request-Id when it is short and plain.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// observe is the outermost middleware: it assigns the request id, bounds the
// request's context, recovers panics, turns errors into problems and logs one
// structured line per request. It logs the route template, never the query
// string or headers (they may carry tokens).
func (s *Server) observe(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := c.Get(fiber.HeaderXRequestID)
	if !validRequestID(id) {
		id = newRequestID()
	}
	c.Locals(keyRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	ctx, cancel := context.WithTimeout(context.Background(), s.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)

	func() {
		defer func() {
			if r := recover(); r != nil {
				err = &perch.Error{Code: perch.EINTERNAL, Message: "An internal error occurred.",
					Err: fmt.Errorf("panic: %v\n%s", r, debug.Stack())}
			}
		}()
		err = c.Next()
	}()
	if err != nil {
		err = normalize(err)
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	took := time.Since(start)
	route := routeOf(c)
	s.Metrics.observe(c, route, status, perch.ErrorCode(err), took)
	attrs := []any{
		"request_id", id, "method", c.Method(), "route", route, "status", status,
		"duration_ms", float64(took.Microseconds()) / 1000, "bytes", len(c.Response().Body()),
	}
	if p := principal(c); p != nil {
		attrs = append(attrs, "role", string(p.Role))
		if p.UserID != "" {
			attrs = append(attrs, "user_id", p.UserID)
		}
	}
	if err != nil {
		attrs = append(attrs, "code", perch.ErrorCode(err))
	}
	s.log.Info("request", attrs...)
	return nil
}

// roleSet is a set of roles allowed on a route.
type roleSet uint8

func allow(roles ...users.Role) roleSet {
	var s roleSet
	for _, r := range roles {
		s |= roleBit(r)
	}
	return s
}

func roleBit(r users.Role) roleSet {
	for i, known := range users.Roles {
		if r == known {
			return 1 << i
		}
	}
	return 0
}

func (s roleSet) has(r users.Role) bool { return s&roleBit(r) != 0 }

// authorize authenticates the bearer token and admits the roles in rs.
func (s *Server) authorize(rs roleSet) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := s.authenticate(c)
		if err != nil {
			return err
		}
		c.Locals(keyPrincipal, p)
		if !rs.has(p.Role) {
			return perch.Errorf(perch.EFORBIDDEN, "Your role (%s) may not do this.", p.Role)
		}
		return c.Next()
	}
}

func (s *Server) authenticate(c *fiber.Ctx) (*users.Principal, error) {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "Send a token: Authorization: Bearer <token>.")
	}
	scheme, token, ok := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "Use the Bearer scheme: Authorization: Bearer <token>.")
	}
	return s.Authenticate(c.UserContext(), token)
}

// Authenticate resolves a bearer token: the bootstrap token, a kiosk token
// ("perchk_", a paired device) or a user token. The WebSocket endpoints,
// served outside Fiber, use it too.
func (s *Server) Authenticate(ctx context.Context, token string) (*users.Principal, error) {
	if s.Bootstrap.Match(token) {
		return users.BootstrapPrincipal(), nil
	}
	if strings.HasPrefix(token, kiosk.DeviceTokenPrefix) {
		if s.Kiosks == nil {
			return nil, perch.Errorf(perch.EUNAUTHORIZED, "The token is not valid.")
		}
		return s.Kiosks.Authenticate(ctx, token)
	}
	return s.Users.Authenticate(ctx, token)
}

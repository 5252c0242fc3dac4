package api

import (
	"context"

	"github.com/perch-hq/perch/users"
)

// Authenticate resolves a bearer token to its principal by the same rules
// as every API request (the bootstrap token, user tokens, kiosk tokens).
// The WebSocket endpoints, served outside Fiber, use it too.
func (s *Server) Authenticate(ctx context.Context, token string) (*users.Principal, error) {
	return s.principalOf(ctx, token)
}

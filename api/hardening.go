package api

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/ratelimit"
)

// RateLimits are the request limits of the endpoints worth abusing; a zero
// Limit is off. Counters live in the database (package ratelimit), so a
// limit holds across replicas.
type RateLimits struct {
	// Pairing: POST /api/v1/kiosks/pairing, per client IP.
	Pairing ratelimit.Limit
	// KioskToken: POST /api/v1/kiosks/token, per client IP.
	KioskToken ratelimit.Limit
	// UserTokens: POST /api/v1/users/{id}/tokens, per bearer token.
	UserTokens ratelimit.Limit
	// Kiosk: every /api/v1/kiosk/... door action, per bearer token.
	Kiosk ratelimit.Limit
}

// limit returns the middleware enforcing lim for the named limit. Requests
// are keyed by a hash of their bearer token when byToken and one is sent,
// else by client IP (see clientIP). It runs before authentication, so
// attempts with bad tokens count too.
func (s *Server) limit(name string, lim ratelimit.Limit, byToken bool) fiber.Handler {
	if lim.Off() {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return func(c *fiber.Ctx) error {
		key := name + "|ip:" + s.clientIP(c)
		if byToken {
			if _, tok, ok := strings.Cut(c.Get(fiber.HeaderAuthorization), " "); ok && strings.TrimSpace(tok) != "" {
				sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
				key = name + "|tok:" + hex.EncodeToString(sum[:16])
			}
		}
		d, err := s.limiter.Allow(c.UserContext(), key, lim)
		if err != nil {
			return err
		}
		c.Set("RateLimit-Limit", strconv.Itoa(lim.Requests))
		if !d.Allowed {
			s.Metrics.rateLimited.WithLabelValues(name).Inc()
			c.Set("RateLimit-Remaining", "0")
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))))
			return &perch.Error{Code: codeRateLimited,
				Message: "Too many requests; retry after " + strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))) + " seconds.",
				Details: map[string]any{"limit": name, "retry_after_seconds": int(math.Ceil(d.RetryAfter.Seconds()))}}
		}
		c.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
		return c.Next()
	}
}

// clientIP is the address of the client: the peer's, unless the peer is a
// trusted proxy (Deps.TrustedProxies), in which case X-Forwarded-For is read
// from the right, skipping trusted proxies, and the first untrusted address
// is the client. With no trusted proxies X-Forwarded-For is ignored, so a
// client cannot choose its own key.
func (s *Server) clientIP(c *fiber.Ctx) string {
	addr, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	addr = addr.Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	parts := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		addr = a
		if !s.trusted(a) {
			break
		}
	}
	return addr.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// securityHeaders sets headers every response should carry.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if strings.HasPrefix(s.PublicURL, "https://") {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// corsMiddleware admits cross-origin browser calls from the configured
// origins only (none by default: no CORS headers at all).
func (s *Server) corsMiddleware() fiber.Handler {
	if len(s.CORSOrigins) == 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return cors.New(cors.Config{
		AllowOrigins:  strings.Join(s.CORSOrigins, ","),
		AllowMethods:  "GET,POST,PUT,PATCH,DELETE,HEAD",
		AllowHeaders:  "Authorization,Content-Type,If-Match,If-None-Match,Idempotency-Key,X-Request-Id",
		ExposeHeaders: "ETag,Location,Retry-After,X-Request-Id,RateLimit-Limit,RateLimit-Remaining",
		MaxAge:        600,
	})
}

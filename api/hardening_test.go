package api_test

import (
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/ratelimit"
)

// rebuild replaces the env's server by one with changed dependencies.
func (e *env) rebuild(change func(d *api.Deps)) {
	d := e.srv.Deps
	d.Metrics = nil
	change(&d)
	e.srv = api.New(d)
	e.srv.SetReady(true)
}

// The pairing endpoint is limited per client IP: past the limit it answers
// 429 problem+json with Retry-After; X-Forwarded-For is ignored unless the
// peer is a trusted proxy, and then each client has its own window.
func TestRateLimitPairingPerIP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.rebuild(func(d *api.Deps) { d.RateLimits.Pairing = ratelimit.Limit{Requests: 3, Window: time.Hour} })
		for i := range 3 {
			r := e.req("POST", "/api/v1/kiosks/pairing", "", "", "X-Forwarded-For", "198.51.100."+strconv.Itoa(i))
			if r.Status == 429 {
				t.Fatalf("request %d refused within the limit", i+1)
			}
			if r.Header.Get("RateLimit-Limit") != "3" {
				t.Fatalf("RateLimit-Limit %q", r.Header.Get("RateLimit-Limit"))
			}
		}
		r := e.req("POST", "/api/v1/kiosks/pairing", "", "", "X-Forwarded-For", "198.51.100.99")
		p := e.problemCode(r, 429, "rate_limited")
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 1 || ra > 3600 {
			t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
		}
		if r.Header.Get("Content-Type") != "application/problem+json" || p["details"].(map[string]any)["limit"] != "pairing" {
			t.Fatalf("not a rate_limited problem: %v %v", r.Header, p)
		}
		// Another endpoint is not affected.
		e.must(200, e.req("GET", "/api/v1/me", "employee", ""))
		if got := e.scrape()[`perch_rate_limited_total{limit="pairing"}`]; got != 1 {
			t.Fatalf("perch_rate_limited_total{limit=pairing} = %v", got)
		}

		// Behind a trusted proxy, the client address comes from X-Forwarded-For.
		e.rebuild(func(d *api.Deps) {
			d.RateLimits.Pairing = ratelimit.Limit{Requests: 1, Window: time.Hour}
			d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32"), netip.MustParsePrefix("10.0.0.0/8")}
		})
		for _, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3, 10.1.2.3"} {
			if r := e.req("POST", "/api/v1/kiosks/pairing", "", "", "X-Forwarded-For", xff); r.Status == 429 {
				t.Fatalf("client %s refused: windows are per client", xff)
			}
		}
		e.problemCode(e.req("POST", "/api/v1/kiosks/pairing", "", "", "X-Forwarded-For", "203.0.113.1"), 429, "rate_limited")
		// A client cannot escape by prepending a forged address: the
		// rightmost untrusted one is used.
		e.problemCode(e.req("POST", "/api/v1/kiosks/pairing", "", "", "X-Forwarded-For", "192.0.2.77, 203.0.113.2"), 429, "rate_limited")
	})
}

// Minting tokens is limited per bearer token: one admin hitting the limit
// does not block another caller.
func TestRateLimitUserTokensPerToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.rebuild(func(d *api.Deps) { d.RateLimits.UserTokens = ratelimit.Limit{Requests: 2, Window: time.Minute} })
		path := "/api/v1/users/" + demo.ID("user", demo.EmployeeEmail) + "/tokens"
		e.must(201, e.req("POST", path, "admin", `{}`))
		e.must(201, e.req("POST", path, "admin", `{}`))
		e.problemCode(e.req("POST", path, "admin", `{}`), 429, "rate_limited")
		e.must(201, e.req("POST", path, "token:"+bootstrapToken, `{}`))
		// The employee is refused by role, not by the limit.
		e.problemCode(e.req("POST", path, "employee", `{}`), 403, "forbidden")
	})
}

// Security headers on every response; CORS only for configured origins.
func TestSecurityHeadersAndCORS(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		r := e.req("GET", "/api/v1/sites", "employee", "", "Origin", "https://evil.example")
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
			if r.Header.Get(h) != want {
				t.Errorf("%s = %q, want %q", h, r.Header.Get(h), want)
			}
		}
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("CORS answered with no origins configured")
		}
		e.rebuild(func(d *api.Deps) { d.CORSOrigins = []string{"https://app.example.com"} })
		pre := e.req("OPTIONS", "/api/v1/bookings", "", "", "Origin", "https://app.example.com",
			"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
		if pre.Status != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Fatalf("preflight: %d %v", pre.Status, pre.Header)
		}
		if r := e.req("GET", "/api/v1/sites", "employee", "", "Origin", "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatal("an unlisted origin was allowed")
		}
	})
}

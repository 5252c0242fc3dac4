package api_test

import (
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/users"
)

// routeRoles is the written contract of who may call what: A admin,
// E employee, R reception, K kiosk; "public" needs no token. The test below
// fails when a route is registered that is missing here, or listed here and
// not registered, so every route is covered.
var routeRoles = []struct {
	method, path, roles string
}{
	{"GET", "/healthz", "public"},
	{"GET", "/readyz", "public"},
	{"GET", "/api", "public"},
	{"GET", "/metrics", "public"},
	{"GET", "/api/openapi.json", "public"},
	{"GET", "/api/docs", "public"},
	{"GET", "/", "public"},
	{"GET", "/kiosk", "public"},
	{"GET", "/admin", "public"},
	{"GET", "/sw.js", "public"},
	{"GET", "/static/*", "public"},
	{"GET", "/plans/:id", "public"},
	{"GET", "/q/:code", "public"},
	{"GET", "/api/v1/me", "AERK"},

	{"GET", "/api/v1/sites", "AERK"},
	{"POST", "/api/v1/sites", "A"},
	{"GET", "/api/v1/sites/:id", "AERK"},
	{"PATCH", "/api/v1/sites/:id", "A"},
	{"DELETE", "/api/v1/sites/:id", "A"},

	{"GET", "/api/v1/sites/:id/floors", "AERK"},
	{"POST", "/api/v1/sites/:id/floors", "A"},
	{"GET", "/api/v1/floors/:id", "AERK"},
	{"PATCH", "/api/v1/floors/:id", "A"},
	{"DELETE", "/api/v1/floors/:id", "A"},
	{"PUT", "/api/v1/floors/:id/plan", "A"},
	{"DELETE", "/api/v1/floors/:id/plan", "A"},

	{"GET", "/api/v1/floors/:id/zones", "AERK"},
	{"POST", "/api/v1/floors/:id/zones", "A"},
	{"GET", "/api/v1/zones/:id", "AERK"},
	{"PATCH", "/api/v1/zones/:id", "A"},
	{"DELETE", "/api/v1/zones/:id", "A"},

	{"GET", "/api/v1/floors/:id/desks", "AERK"},
	{"POST", "/api/v1/floors/:id/desks", "A"},
	{"POST", "/api/v1/floors/:id/desks/bulk", "A"},
	{"GET", "/api/v1/desks/:id", "AERK"},
	{"PATCH", "/api/v1/desks/:id", "A"},
	{"DELETE", "/api/v1/desks/:id", "A"},

	{"GET", "/api/v1/floors/:id/rooms", "AERK"},
	{"POST", "/api/v1/floors/:id/rooms", "A"},
	{"GET", "/api/v1/rooms/:id", "AERK"},
	{"PATCH", "/api/v1/rooms/:id", "A"},
	{"DELETE", "/api/v1/rooms/:id", "A"},

	{"GET", "/api/v1/users", "AER"},
	{"POST", "/api/v1/users", "A"},
	{"GET", "/api/v1/users/:id", "AER"},
	{"PATCH", "/api/v1/users/:id", "A"},
	{"DELETE", "/api/v1/users/:id", "A"},
	{"POST", "/api/v1/users/:id/tokens", "A"},

	{"GET", "/api/v1/sites/:id/policy", "AERK"},
	{"PUT", "/api/v1/sites/:id/policy", "A"},
	{"GET", "/api/v1/sites/:id/availability", "AERK"},
	{"GET", "/api/v1/floors/:id/availability", "AERK"},
	{"GET", "/api/v1/desks/:id/releases", "AER"},
	{"POST", "/api/v1/desks/:id/releases", "AER"},
	{"DELETE", "/api/v1/desks/:id/releases/:date", "AER"},
	{"POST", "/api/v1/bookings", "AER"},
	{"GET", "/api/v1/bookings", "AER"},
	{"GET", "/api/v1/bookings/:id", "AER"},
	{"PATCH", "/api/v1/bookings/:id", "AER"},
	{"DELETE", "/api/v1/bookings/:id", "AER"},
	{"GET", "/api/v1/users/:id/whereabouts", "AER"},
	{"POST", "/api/v1/checkins", "AER"},
	{"POST", "/api/v1/bookings/:id/check-in", "AER"},
	{"POST", "/api/v1/bookings/:id/check-out", "AER"},
	{"GET", "/api/v1/desks/:id/qr.png", "A"},
	{"GET", "/api/v1/rooms/:id/qr.png", "A"},
	{"POST", "/api/v1/desks/:id/qr/rotate", "A"},
	{"POST", "/api/v1/rooms/:id/qr/rotate", "A"},
	{"GET", "/api/v1/floors/:id/qr-sheet", "A"},

	{"POST", "/api/v1/kiosks/pairing", "public"},
	{"POST", "/api/v1/kiosks/token", "public"},
	{"POST", "/api/v1/kiosks/pair", "A"},
	{"GET", "/api/v1/kiosks", "A"},
	{"GET", "/api/v1/kiosks/:id", "A"},
	{"DELETE", "/api/v1/kiosks/:id", "A"},
	// Door actions: K is a paired room kiosk here (see doorRoute).
	{"GET", "/api/v1/kiosk/room", "K"},
	{"POST", "/api/v1/kiosk/book-now", "K"},
	{"POST", "/api/v1/kiosk/check-in", "K"},
	{"POST", "/api/v1/kiosk/extend", "K"},
	{"POST", "/api/v1/kiosk/end-early", "K"},

	{"GET", "/api/v1/reports/occupancy", "A"},
	{"GET", "/api/v1/reports/occupancy/heatmap.svg", "A"},
	{"GET", "/api/v1/reports/occupancy/daily.svg", "A"},
	{"GET", "/api/v1/reports/utilisation", "A"},
	{"GET", "/api/v1/reports/utilisation/floor.svg", "A"},
	{"GET", "/api/v1/sites/:id/report-settings", "A"},
	{"PUT", "/api/v1/sites/:id/report-settings", "A"},

	{"POST", "/api/v1/move-plans", "A"},
	{"GET", "/api/v1/move-plans", "A"},
	{"GET", "/api/v1/move-plans/:id", "A"},
	{"PATCH", "/api/v1/move-plans/:id", "A"},
	{"DELETE", "/api/v1/move-plans/:id", "A"},
	{"POST", "/api/v1/move-plans/:id/validate", "A"},
	{"POST", "/api/v1/move-plans/:id/simulate", "A"},
	{"POST", "/api/v1/move-plans/:id/apply", "A"},
	{"GET", "/api/v1/move-plans/:id/export.csv", "A"},
	{"GET", "/api/v1/move-plans/:id/plan.svg", "A"},

	// Visitors. Hosts (E) reach only their own visits (404 otherwise);
	// the lobby actions: K is a paired lobby kiosk here (see lobbyRoute).
	{"POST", "/api/v1/visits", "AER"},
	{"GET", "/api/v1/visits", "AER"},
	{"GET", "/api/v1/visits/:id", "AER"},
	{"PATCH", "/api/v1/visits/:id", "AER"},
	{"DELETE", "/api/v1/visits/:id", "AER"},
	{"GET", "/api/v1/visits/:id/invite.png", "AER"},
	{"GET", "/api/v1/visits/:id/badge", "AERK"},
	{"POST", "/api/v1/visits/:id/check-in", "AR"},
	{"POST", "/api/v1/visits/:id/check-out", "AR"},
	{"POST", "/api/v1/kiosk/visits/check-in", "K"},
	{"POST", "/api/v1/kiosk/visits/check-out", "K"},
	{"POST", "/api/v1/kiosk/visits/walk-in", "K"},
	{"GET", "/api/v1/kiosk/visits/expected", "K"},
	{"POST", "/api/v1/kiosk/visits/:id/check-in", "K"},
	{"GET", "/api/v1/kiosk/hosts", "K"},
	{"GET", "/api/v1/kiosk/visitor-documents", "K"},
	{"GET", "/api/v1/sites/:id/visitor-documents", "AR"},
	{"POST", "/api/v1/sites/:id/visitor-documents", "A"},
	{"POST", "/api/v1/visitor-documents/:id/versions", "A"},
	{"GET", "/api/v1/sites/:id/visitor-settings", "AR"},
	{"PUT", "/api/v1/sites/:id/visitor-settings", "A"},
	{"GET", "/api/v1/watchlist", "A"},
	{"POST", "/api/v1/watchlist", "A"},
	{"DELETE", "/api/v1/watchlist/:id", "A"},
	{"GET", "/api/v1/sites/:id/on-site", "AR"},
	{"POST", "/api/v1/sites/:id/roll-calls", "AR"},
	{"GET", "/api/v1/roll-calls/:id", "AR"},
	{"POST", "/api/v1/roll-calls/:id/marks", "AR"},
	{"POST", "/api/v1/roll-calls/:id/close", "AR"},
	{"GET", "/api/v1/privacy/visitors", "A"},
	{"DELETE", "/api/v1/privacy/visitors", "A"},

	{"GET", "/api/v1/teams", "AER"},
	{"POST", "/api/v1/teams", "A"},
	{"GET", "/api/v1/teams/:id", "AER"},
	{"PATCH", "/api/v1/teams/:id", "A"},
	{"DELETE", "/api/v1/teams/:id", "A"},
}

var roleLetters = map[byte]users.Role{'A': users.RoleAdmin, 'E': users.RoleEmployee, 'R': users.RoleReception, 'K': users.RoleKiosk}

func TestEveryRouteIsInTheRoleContract(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	var registered, contract []string
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue // Fiber mirrors every GET as HEAD
		}
		registered = append(registered, r.Method+" "+r.Path)
	}
	for _, r := range routeRoles {
		contract = append(contract, r.method+" "+r.path)
	}
	sort.Strings(registered)
	sort.Strings(contract)
	if strings.Join(registered, "\n") != strings.Join(contract, "\n") {
		t.Fatalf("registered routes and the role contract differ.\nregistered:\n%s\n\ncontract:\n%s",
			strings.Join(registered, "\n"), strings.Join(contract, "\n"))
	}
}

// doorRoute: a room-door action, which only a paired room kiosk may call
// (for its own room); the demo's kiosk account is no paired device.
func doorRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/kiosk/") && !lobbyRoute(path)
}

// lobbyRoute: a lobby action (visitors), which only a paired lobby kiosk
// may call, for its own site.
func lobbyRoute(path string) bool {
	return strings.HasPrefix(path, "/api/v1/kiosk/visit") || path == "/api/v1/kiosk/hosts" || strings.HasSuffix(path, "/badge")
}

// Every route × every role: no token -> 401, a role not allowed -> 403, an
// allowed role gets past authorization (whatever the handler then says about
// the made-up ids and empty bodies; never a 500). A public route never asks
// for a token (no 401 or 403), whatever it says about the empty body.
func TestRouteRoleMatrix(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	missing := database.NewID() // an id that names nothing
	doorKiosk, _ := e.pairKiosk("room", demo.ID("room", "Spree"))
	lobbyKiosk, _ := e.pairKiosk("lobby", demo.SiteID)
	for _, r := range routeRoles {
		path := strings.NewReplacer(":id", missing, ":date", "2026-03-30", ":code", "abcdefghijklmnopqrstuvwxyz").Replace(r.path)
		body := ""
		if r.method == "POST" || r.method == "PATCH" {
			body = "{}"
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			anon := e.req(r.method, path, "", body)
			if r.roles == "public" {
				if anon.Status == http.StatusUnauthorized || anon.Status == http.StatusForbidden || anon.Status >= 500 {
					t.Fatalf("public route answered %d without a token: %s", anon.Status, anon.Body)
				}
				return
			}
			if anon.Status != http.StatusUnauthorized {
				t.Fatalf("no token: status %d, want 401: %s", anon.Status, anon.Body)
			}
			if got := anon.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", got)
			}
			bad := e.req(r.method, path, "token:perch_not-a-real-token", body)
			if bad.Status != http.StatusUnauthorized {
				t.Fatalf("bad token: status %d, want 401", bad.Status)
			}
			for letter, role := range roleLetters {
				as := string(role)
				if role == users.RoleKiosk && doorRoute(r.path) {
					as = "token:" + doorKiosk
				}
				if role == users.RoleKiosk && lobbyRoute(r.path) {
					as = "token:" + lobbyKiosk
				}
				res := e.req(r.method, path, as, body)
				allowed := strings.IndexByte(r.roles, letter) >= 0
				switch {
				case res.Status >= 500:
					t.Errorf("%s: status %d: %s", role, res.Status, res.Body)
				case allowed && (res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden):
					t.Errorf("%s is allowed but got %d: %s", role, res.Status, res.Body)
				case !allowed && res.Status != http.StatusForbidden:
					t.Errorf("%s is not allowed but got %d, want 403", role, res.Status)
				}
			}
		})
	}
}

// The bootstrap token acts as an admin.
func TestBootstrapTokenIsAdmin(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	me := e.must(200, e.req("GET", "/api/v1/me", "token:"+bootstrapToken, ""))
	if me["role"] != "admin" || me["bootstrap"] != true || me["id"] != nil {
		t.Fatalf("bootstrap /me = %v", me)
	}
	e.must(201, e.req("POST", "/api/v1/teams", "token:"+bootstrapToken, `{"name":"Ops"}`))
	// A near miss is not the bootstrap token.
	e.must(401, e.req("GET", "/api/v1/me", "token:"+bootstrapToken+"x", ""))
}

func TestMe(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	for _, role := range users.Roles {
		me := e.must(200, e.req("GET", "/api/v1/me", string(role), ""))
		if me["role"] != string(role) || me["email"] == "" || me["id"] == nil {
			t.Errorf("%s: /me = %v", role, me)
		}
	}
}

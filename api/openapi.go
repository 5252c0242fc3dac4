package api

import (
	"encoding"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/visitors"
)

// The OpenAPI 3.1 description of /api/v1, served at /api/openapi.json with
// a plain HTML listing at /api/docs. Operations are listed here, next to
// the route table; request and response schemas are generated from the Go
// types the handlers decode and encode, so they follow the code. A test
// checks that every registered /api/v1 route has an operation and every
// operation a route, and the API tests validate every JSON response against
// its operation's schema.

// operation documents one route.
type operation struct {
	method, path string // Fiber form: /sites/:id (under /api/v1)
	summary      string
	tag          string
	roles        string // who may call it: "public" or role letters (A admin, E employee, R reception, K kiosk)
	query        []string
	body         any // a value of the request body's type, or nil
	status       int // the success status
	resp         any // a value of the success body's type; nil for no body
	respAlt      any // another success body (anyOf), or nil
	alsoOK       bool
	mime         string // success content type when not JSON
	limited      bool   // rate-limited (429)
}

// Documentation-only shapes of responses built from maps.
type (
	siteAvailabilityJSON struct {
		SiteID string                 `json:"site_id"`
		From   time.Time              `json:"from"`
		To     time.Time              `json:"to"`
		Items  []booking.SearchResult `json:"items"`
	}
	whereaboutsJSON struct {
		UserID string               `json:"user_id"`
		Date   string               `json:"date"`
		Items  []booking.Whereabout `json:"items"`
	}
	cancelledJSON struct {
		Cancelled []bookingJSON `json:"cancelled"`
	}
	anonymisedJSON struct {
		AnonymisedVisits int `json:"anonymised_visits"`
	}
)

var pageQuery = []string{"cursor", "limit"}

// operations lists every /api/v1 operation (keep in step with routes.go).
var operations = []operation{
	{method: "GET", path: "/me", summary: "The caller", tag: "people", roles: "AERK", status: 200, resp: meResponse{}},

	{method: "GET", path: "/sites", summary: "List sites", tag: "office", roles: "AERK", query: pageQuery, status: 200, resp: list[floorplans.Site]{}},
	{method: "POST", path: "/sites", summary: "Create a site", tag: "office", roles: "A", body: siteBody{}, status: 201, resp: floorplans.Site{}},
	{method: "GET", path: "/sites/:id", summary: "Get a site", tag: "office", roles: "AERK", status: 200, resp: floorplans.Site{}},
	{method: "PATCH", path: "/sites/:id", summary: "Update a site", tag: "office", roles: "A", body: sitePatch{}, status: 200, resp: floorplans.Site{}},
	{method: "DELETE", path: "/sites/:id", summary: "Delete a site (closes its kiosks' sockets)", tag: "office", roles: "A", status: 204},

	{method: "GET", path: "/sites/:id/floors", summary: "List a site's floors", tag: "office", roles: "AERK", query: pageQuery, status: 200, resp: list[floorplans.Floor]{}},
	{method: "POST", path: "/sites/:id/floors", summary: "Create a floor", tag: "office", roles: "A", body: floorBody{}, status: 201, resp: floorplans.Floor{}},
	{method: "GET", path: "/floors/:id", summary: "Get a floor", tag: "office", roles: "AERK", status: 200, resp: floorplans.Floor{}},
	{method: "PATCH", path: "/floors/:id", summary: "Update a floor", tag: "office", roles: "A", body: floorPatch{}, status: 200, resp: floorplans.Floor{}},
	{method: "DELETE", path: "/floors/:id", summary: "Delete a floor", tag: "office", roles: "A", status: 204},

	{method: "GET", path: "/floors/:id/zones", summary: "List a floor's zones", tag: "office", roles: "AERK", query: pageQuery, status: 200, resp: list[floorplans.Zone]{}},
	{method: "POST", path: "/floors/:id/zones", summary: "Create a zone", tag: "office", roles: "A", body: zoneBody{}, status: 201, resp: floorplans.Zone{}},
	{method: "GET", path: "/zones/:id", summary: "Get a zone", tag: "office", roles: "AERK", status: 200, resp: floorplans.Zone{}},
	{method: "PATCH", path: "/zones/:id", summary: "Update a zone", tag: "office", roles: "A", body: zonePatch{}, status: 200, resp: floorplans.Zone{}},
	{method: "DELETE", path: "/zones/:id", summary: "Delete a zone", tag: "office", roles: "A", status: 204},

	{method: "GET", path: "/floors/:id/desks", summary: "List a floor's desks", tag: "office", roles: "AERK", query: pageQuery, status: 200, resp: list[floorplans.Desk]{}},
	{method: "POST", path: "/floors/:id/desks", summary: "Create a desk", tag: "office", roles: "A", body: deskBody{}, status: 201, resp: floorplans.Desk{}},
	{method: "POST", path: "/floors/:id/desks/bulk", summary: "Create a numbered row of desks", tag: "office", roles: "A", body: deskRowBody{}, status: 201, resp: list[floorplans.Desk]{}},
	{method: "GET", path: "/desks/:id", summary: "Get a desk", tag: "office", roles: "AERK", status: 200, resp: floorplans.Desk{}},
	{method: "PATCH", path: "/desks/:id", summary: "Update a desk", tag: "office", roles: "A", body: deskPatch{}, status: 200, resp: floorplans.Desk{}},
	{method: "DELETE", path: "/desks/:id", summary: "Delete a desk", tag: "office", roles: "A", status: 204},

	{method: "GET", path: "/floors/:id/rooms", summary: "List a floor's rooms", tag: "office", roles: "AERK", query: pageQuery, status: 200, resp: list[floorplans.Room]{}},
	{method: "POST", path: "/floors/:id/rooms", summary: "Create a room", tag: "office", roles: "A", body: roomBody{}, status: 201, resp: floorplans.Room{}},
	{method: "GET", path: "/rooms/:id", summary: "Get a room", tag: "office", roles: "AERK", status: 200, resp: floorplans.Room{}},
	{method: "PATCH", path: "/rooms/:id", summary: "Update a room", tag: "office", roles: "A", body: roomPatch{}, status: 200, resp: floorplans.Room{}},
	{method: "DELETE", path: "/rooms/:id", summary: "Delete a room (closes its door kiosks' sockets)", tag: "office", roles: "A", status: 204},

	{method: "GET", path: "/users", summary: "List people", tag: "people", roles: "AER", query: []string{"cursor", "limit", "q", "role"}, status: 200, resp: list[users.User]{}},
	{method: "POST", path: "/users", summary: "Create a person", tag: "people", roles: "A", body: userBody{}, status: 201, resp: users.User{}},
	{method: "GET", path: "/users/:id", summary: "Get a person", tag: "people", roles: "AER", status: 200, resp: users.User{}},
	{method: "PATCH", path: "/users/:id", summary: "Update a person", tag: "people", roles: "A", body: userPatch{}, status: 200, resp: users.User{}},
	{method: "DELETE", path: "/users/:id", summary: "Delete a person", tag: "people", roles: "A", status: 204},
	{method: "POST", path: "/users/:id/tokens", summary: "Mint an API token for a person (shown once)", tag: "people", roles: "A", body: tokenBody{}, status: 201, resp: tokenResponse{}, limited: true},

	{method: "GET", path: "/sites/:id/policy", summary: "A site's booking policy", tag: "booking", roles: "AERK", status: 200, resp: booking.Policy{}},
	{method: "PUT", path: "/sites/:id/policy", summary: "Replace a site's booking policy", tag: "booking", roles: "A", body: booking.Policy{}, status: 200, resp: booking.Policy{}},
	{method: "GET", path: "/sites/:id/availability", summary: "Search free desks and rooms of a site", tag: "booking", roles: "AERK", query: []string{"from", "to", "resource_type", "amenities"}, status: 200, resp: siteAvailabilityJSON{}},
	{method: "GET", path: "/floors/:id/availability", summary: "Every desk and room of a floor with its bookings in a window", tag: "booking", roles: "AERK", query: []string{"from", "to"}, status: 200, resp: booking.FloorAvailability{}},
	{method: "GET", path: "/desks/:id/releases", summary: "Days an assigned desk is released", tag: "booking", roles: "AER", status: 200, resp: list[booking.Release]{}},
	{method: "POST", path: "/desks/:id/releases", summary: "Release an assigned desk for a day", tag: "booking", roles: "AER", body: releaseBody{}, status: 201, resp: booking.Release{}},
	{method: "DELETE", path: "/desks/:id/releases/:date", summary: "Take back a released day", tag: "booking", roles: "AER", status: 204},

	{method: "POST", path: "/bookings", summary: "Book a desk or room (one booking, or a recurring series)", tag: "booking", roles: "AER", body: bookingBody{}, status: 201, resp: bookingJSON{}, respAlt: seriesJSON{}},
	{method: "GET", path: "/bookings", summary: "List bookings", tag: "booking", roles: "AER", query: []string{"cursor", "limit", "from", "to", "user", "status"}, status: 200, resp: list[bookingJSON]{}},
	{method: "GET", path: "/bookings/:id", summary: "Get a booking", tag: "booking", roles: "AER", status: 200, resp: bookingJSON{}},
	{method: "PATCH", path: "/bookings/:id", summary: "Change a booking (If-Match)", tag: "booking", roles: "AER", body: bookingPatch{}, status: 200, resp: bookingJSON{}},
	{method: "DELETE", path: "/bookings/:id", summary: "Cancel a booking (scope=series for the rest of its series)", tag: "booking", roles: "AER", query: []string{"scope"}, status: 200, resp: cancelledJSON{}},
	{method: "GET", path: "/users/:id/whereabouts", summary: "Where a person sits on a day", tag: "booking", roles: "AER", query: []string{"date"}, status: 200, resp: whereaboutsJSON{}},

	{method: "POST", path: "/checkins", summary: "Check in by scanning a desk or room QR code", tag: "check-in", roles: "AER", body: checkInBody{}, status: 201, resp: checkInJSON{}, alsoOK: true},
	{method: "POST", path: "/bookings/:id/check-in", summary: "Check in to a booking", tag: "check-in", roles: "AER", status: 201, resp: checkInJSON{}, alsoOK: true},
	{method: "POST", path: "/bookings/:id/check-out", summary: "Check out of a booking", tag: "check-in", roles: "AER", status: 200, resp: checkInJSON{}},
	{method: "GET", path: "/desks/:id/qr.png", summary: "A desk's check-in QR code", tag: "check-in", roles: "A", query: []string{"size"}, status: 200, mime: "image/png"},
	{method: "GET", path: "/rooms/:id/qr.png", summary: "A room's check-in QR code", tag: "check-in", roles: "A", query: []string{"size"}, status: 200, mime: "image/png"},
	{method: "POST", path: "/desks/:id/qr/rotate", summary: "Issue a new QR code for a desk (the old one stops working)", tag: "check-in", roles: "A", status: 200, resp: rotatedJSON{}},
	{method: "POST", path: "/rooms/:id/qr/rotate", summary: "Issue a new QR code for a room", tag: "check-in", roles: "A", status: 200, resp: rotatedJSON{}},
	{method: "GET", path: "/floors/:id/qr-sheet", summary: "A printable sheet of a floor's QR codes", tag: "check-in", roles: "A", status: 200, mime: "text/html"},

	{method: "POST", path: "/kiosks/pairing", summary: "A device starts pairing (no token; returns a code to show and a device secret)", tag: "kiosks", roles: "public", status: 201, resp: kiosk.Pairing{}, limited: true},
	{method: "POST", path: "/kiosks/token", summary: "A device exchanges its secret for a kiosk token once paired", tag: "kiosks", roles: "public", body: exchangeBody{}, status: 200, resp: kiosk.Grant{}, limited: true},
	{method: "POST", path: "/kiosks/pair", summary: "An admin pairs a device by its code to a room or site", tag: "kiosks", roles: "A", body: pairBody{}, status: 200, resp: kiosk.Kiosk{}},
	{method: "GET", path: "/kiosks", summary: "List kiosks", tag: "kiosks", roles: "A", query: pageQuery, status: 200, resp: list[kiosk.Kiosk]{}},
	{method: "GET", path: "/kiosks/:id", summary: "Get a kiosk", tag: "kiosks", roles: "A", status: 200, resp: kiosk.Kiosk{}},
	{method: "DELETE", path: "/kiosks/:id", summary: "Revoke a kiosk (its sockets close on every replica)", tag: "kiosks", roles: "A", status: 204},
	{method: "GET", path: "/kiosk/room", summary: "A door kiosk's room now", tag: "kiosks", roles: "K", status: 200, resp: booking.ResourceNow{}, limited: true},
	{method: "POST", path: "/kiosk/book-now", summary: "Book the kiosk's room from now", tag: "kiosks", roles: "K", body: minutesBody{}, status: 201, resp: checkInJSON{}, limited: true},
	{method: "POST", path: "/kiosk/check-in", summary: "Check in to the room's current booking", tag: "kiosks", roles: "K", status: 201, resp: checkInJSON{}, alsoOK: true, limited: true},
	{method: "POST", path: "/kiosk/extend", summary: "Extend the room's current booking", tag: "kiosks", roles: "K", body: minutesBody{}, status: 200, resp: bookingJSON{}, limited: true},
	{method: "POST", path: "/kiosk/end-early", summary: "End the room's current booking now", tag: "kiosks", roles: "K", status: 200, resp: bookingJSON{}, limited: true},

	{method: "PUT", path: "/floors/:id/plan", summary: "Set a floor's plan image (body: the PNG or SVG itself)", tag: "office", roles: "A", status: 200, resp: floorplans.Floor{}},
	{method: "DELETE", path: "/floors/:id/plan", summary: "Remove a floor's plan image", tag: "office", roles: "A", status: 200, resp: floorplans.Floor{}},

	{method: "GET", path: "/reports/occupancy", summary: "People present per bucket from check-ins (peak, mean, person-hours)", tag: "reports", roles: "A", query: []string{"site_id", "floor_id", "zone_id", "from", "to", "bucket", "group_by", "format", "include_visitors"}, status: 200, resp: reports.Occupancy{}},
	{method: "GET", path: "/reports/occupancy/heatmap.svg", summary: "Occupancy heatmap, hour × weekday (SVG)", tag: "reports", roles: "A", query: []string{"site_id", "floor_id", "zone_id", "from", "to"}, status: 200, mime: "image/svg+xml"},
	{method: "GET", path: "/reports/occupancy/daily.svg", summary: "Daily occupancy line chart (SVG)", tag: "reports", roles: "A", query: []string{"site_id", "floor_id", "zone_id", "from", "to"}, status: 200, mime: "image/svg+xml"},
	{method: "GET", path: "/reports/utilisation", summary: "Booked and checked-in hours against bookable hours, no-shows, walk-ups, lead time", tag: "reports", roles: "A", query: []string{"site_id", "floor_id", "zone_id", "from", "to", "resource_type", "group_by", "format"}, status: 200, resp: reports.Utilisation{}},
	{method: "GET", path: "/reports/utilisation/floor.svg", summary: "A floor plan coloured by utilisation (SVG)", tag: "reports", roles: "A", query: []string{"floor_id", "from", "to"}, status: 200, mime: "image/svg+xml"},
	{method: "GET", path: "/sites/:id/report-settings", summary: "A site's report settings (privacy threshold)", tag: "reports", roles: "A", status: 200, resp: reports.Settings{}},
	{method: "PUT", path: "/sites/:id/report-settings", summary: "Set a site's report settings", tag: "reports", roles: "A", body: reportSettingsBody{}, status: 200, resp: reports.Settings{}},

	{method: "POST", path: "/move-plans", summary: "Propose an office-move seating plan from measured attendance", tag: "moves", roles: "A", body: moves.Request{}, status: 201, resp: moves.Plan{}},
	{method: "GET", path: "/move-plans", summary: "List move plans", tag: "moves", roles: "A", query: []string{"cursor", "limit", "site_id"}, status: 200, resp: list[moves.Plan]{}},
	{method: "GET", path: "/move-plans/:id", summary: "Get a move plan", tag: "moves", roles: "A", status: 200, resp: moves.Plan{}},
	{method: "PATCH", path: "/move-plans/:id", summary: "Edit a move plan (move a team, pin people)", tag: "moves", roles: "A", body: movePlanPatch{}, status: 200, resp: moves.Plan{}},
	{method: "DELETE", path: "/move-plans/:id", summary: "Delete a draft move plan", tag: "moves", roles: "A", status: 204},
	{method: "POST", path: "/move-plans/:id/validate", summary: "Check a move plan (capacity, assigned and accessible desks)", tag: "moves", roles: "A", status: 200, resp: moves.Validation{}},
	{method: "POST", path: "/move-plans/:id/simulate", summary: "Replay the basis window's attendance against a move plan", tag: "moves", roles: "A", status: 200, resp: moves.Simulation{}},
	{method: "POST", path: "/move-plans/:id/apply", summary: "Apply a move plan (idempotent)", tag: "moves", roles: "A", status: 200, resp: moves.ApplyResult{}},
	{method: "GET", path: "/move-plans/:id/export.csv", summary: "A move plan as CSV", tag: "moves", roles: "A", status: 200, mime: "text/csv"},
	{method: "GET", path: "/move-plans/:id/plan.svg", summary: "A floor of a move plan coloured by team (SVG)", tag: "moves", roles: "A", query: []string{"floor_id"}, status: 200, mime: "image/svg+xml"},

	{method: "POST", path: "/visits", summary: "Pre-register a visitor (returns the invitation to send)", tag: "visitors", roles: "AER", body: inviteBody{}, status: 201, resp: visitJSON{}},
	{method: "GET", path: "/visits", summary: "List visits (employees: their own)", tag: "visitors", roles: "AER", query: []string{"cursor", "limit", "site_id", "host_id", "date", "status"}, status: 200, resp: list[visitJSON]{}},
	{method: "GET", path: "/visits/:id", summary: "Get a visit", tag: "visitors", roles: "AER", status: 200, resp: visitJSON{}},
	{method: "PATCH", path: "/visits/:id", summary: "Reschedule or edit an expected visit", tag: "visitors", roles: "AER", body: visitPatch{}, status: 200, resp: visitJSON{}},
	{method: "DELETE", path: "/visits/:id", summary: "Cancel a visit", tag: "visitors", roles: "AER", status: 204},
	{method: "GET", path: "/visits/:id/invite.png", summary: "The invitation's QR code (the invite code)", tag: "visitors", roles: "AER", query: []string{"size"}, status: 200, mime: "image/png"},
	{method: "GET", path: "/visits/:id/badge", summary: "The printable badge of a checked-in visitor", tag: "visitors", roles: "AERK", query: []string{"paper"}, status: 200, mime: "text/html"},
	{method: "POST", path: "/visits/:id/check-in", summary: "Reception checks a visitor in (also a flagged one)", tag: "visitors", roles: "AR", body: acceptedBody{}, status: 200, resp: visitJSON{}},
	{method: "POST", path: "/visits/:id/check-out", summary: "Reception checks a visitor out", tag: "visitors", roles: "AR", status: 200, resp: visitJSON{}},
	{method: "POST", path: "/kiosk/visits/check-in", summary: "A lobby kiosk checks a visitor in by invite code", tag: "visitors", roles: "K", body: kioskCheckInBody{}, status: 201, resp: visitors.KioskResult{}, alsoOK: true, limited: true},
	{method: "POST", path: "/kiosk/visits/check-out", summary: "A lobby kiosk checks a visitor out by badge code", tag: "visitors", roles: "K", body: badgeCodeBody{}, status: 200, resp: visitors.KioskResult{}, limited: true},
	{method: "POST", path: "/kiosk/visits/walk-in", summary: "A lobby kiosk registers and checks in a walk-in", tag: "visitors", roles: "K", body: walkInBody{}, status: 201, resp: visitors.KioskResult{}, alsoOK: true, limited: true},
	{method: "GET", path: "/kiosk/visits/expected", summary: "Today's expected visitors by name or company", tag: "visitors", roles: "K", query: []string{"q"}, status: 200, resp: list[visitors.ExpectedVisitor]{}, limited: true},
	{method: "POST", path: "/kiosk/visits/:id/check-in", summary: "A lobby kiosk checks in a visitor picked from the expected list", tag: "visitors", roles: "K", body: acceptedBody{}, status: 201, resp: visitors.KioskResult{}, alsoOK: true, limited: true},
	{method: "GET", path: "/kiosk/hosts", summary: "The lobby kiosk's host directory (names only)", tag: "visitors", roles: "K", query: []string{"q"}, status: 200, resp: list[visitors.Host]{}, limited: true},
	{method: "GET", path: "/kiosk/visitor-documents", summary: "The policy documents a visitor accepts at the lobby kiosk", tag: "visitors", roles: "K", status: 200, resp: list[visitors.DocumentVersion]{}, limited: true},
	{method: "GET", path: "/sites/:id/visitor-documents", summary: "A site's visitor policy documents", tag: "visitors", roles: "AR", status: 200, resp: list[visitors.Document]{}},
	{method: "POST", path: "/sites/:id/visitor-documents", summary: "Create a visitor policy document", tag: "visitors", roles: "A", body: documentBody{}, status: 201, resp: visitors.Document{}},
	{method: "POST", path: "/visitor-documents/:id/versions", summary: "A new current version of a policy document (to be accepted again)", tag: "visitors", roles: "A", body: documentVersionBody{}, status: 201, resp: visitors.Document{}},
	{method: "GET", path: "/sites/:id/visitor-settings", summary: "A site's visitor settings (retention, arrival instructions)", tag: "visitors", roles: "AR", status: 200, resp: visitors.Settings{}},
	{method: "PUT", path: "/sites/:id/visitor-settings", summary: "Set a site's visitor settings", tag: "visitors", roles: "A", body: visitorSettingsBody{}, status: 200, resp: visitors.Settings{}},
	{method: "GET", path: "/watchlist", summary: "List the watchlist", tag: "visitors", roles: "A", query: pageQuery, status: 200, resp: list[visitors.WatchEntry]{}},
	{method: "POST", path: "/watchlist", summary: "Add a watchlist entry", tag: "visitors", roles: "A", body: watchBody{}, status: 201, resp: visitors.WatchEntry{}},
	{method: "DELETE", path: "/watchlist/:id", summary: "Delete a watchlist entry", tag: "visitors", roles: "A", status: 204},
	{method: "GET", path: "/sites/:id/on-site", summary: "Everyone on site now, by floor", tag: "visitors", roles: "AR", query: []string{"format"}, status: 200, resp: visitors.OnSite{}},
	{method: "POST", path: "/sites/:id/roll-calls", summary: "Start a roll call (a snapshot of who is on site)", tag: "visitors", roles: "AR", status: 201, resp: visitors.RollCall{}},
	{method: "GET", path: "/roll-calls/:id", summary: "Get a roll call (missing first)", tag: "visitors", roles: "AR", status: 200, resp: visitors.RollCall{}},
	{method: "POST", path: "/roll-calls/:id/marks", summary: "Mark someone safe (or not) in a roll call", tag: "visitors", roles: "AR", body: rollCallMarkBody{}, status: 200, resp: visitors.RollCall{}},
	{method: "POST", path: "/roll-calls/:id/close", summary: "Close a roll call", tag: "visitors", roles: "AR", status: 200, resp: visitors.RollCall{}},
	{method: "GET", path: "/privacy/visitors", summary: "Export one visitor's records (by email)", tag: "visitors", roles: "A", query: []string{"email"}, status: 200, resp: visitors.Export{}},
	{method: "DELETE", path: "/privacy/visitors", summary: "Erase (anonymise) one visitor's records now (by email)", tag: "visitors", roles: "A", query: []string{"email"}, status: 200, resp: anonymisedJSON{}},

	{method: "GET", path: "/teams", summary: "List teams", tag: "people", roles: "AER", query: pageQuery, status: 200, resp: list[users.Team]{}},
	{method: "POST", path: "/teams", summary: "Create a team", tag: "people", roles: "A", body: teamBody{}, status: 201, resp: users.Team{}},
	{method: "GET", path: "/teams/:id", summary: "Get a team", tag: "people", roles: "AER", status: 200, resp: users.Team{}},
	{method: "PATCH", path: "/teams/:id", summary: "Update a team", tag: "people", roles: "A", body: teamPatch{}, status: 200, resp: users.Team{}},
	{method: "DELETE", path: "/teams/:id", summary: "Delete a team", tag: "people", roles: "A", status: 204},
}

var queryDocs = map[string]string{
	"cursor":           "Opaque cursor from next_cursor of the previous page.",
	"limit":            "Page size (1-200, default 50).",
	"q":                "Case-insensitive search: name and email (people); visitor name or company, at least 2 characters (kiosk/visits/expected); start of a host's name (kiosk/hosts).",
	"role":             "Only people of this role.",
	"from":             "Start of the window (RFC 3339).",
	"to":               "End of the window (RFC 3339).",
	"resource_type":    "desk or room.",
	"amenities":        "Comma-separated amenities every result must have.",
	"user":             "Only this person's bookings (a user id, or me).",
	"status":           "Only bookings (or visits) in this status.",
	"scope":            "series: cancel this and every later booking of its series.",
	"date":             "A day, YYYY-MM-DD, in the site's time zone.",
	"size":             "PNG size in pixels.",
	"site_id":          "The site (one of site_id, floor_id, zone_id for reports).",
	"floor_id":         "The floor.",
	"zone_id":          "The zone.",
	"bucket":           "hour, day or week (local to the site).",
	"group_by":         "Breakdown: floor, zone or team (reports); resource, zone or floor (utilisation).",
	"format":           "json (default) or csv.",
	"include_visitors": "Not supported yet (422).",
	"host_id":          "Only this host's visits.",
	"paper":            "badge (86 × 54 mm label, default) or a4.",
	"email":            "The visitor's email address.",
}

var roleNames = map[rune]string{'A': "admin", 'E': "employee", 'R': "reception", 'K': "kiosk"}

// fiberParam matches a Fiber path parameter.
var fiberParam = regexp.MustCompile(`:([a-z_]+)`)

// OpenAPIPath turns a Fiber route path (/api/v1/sites/:id) into an OpenAPI
// path (/api/v1/sites/{id}).
func OpenAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

var (
	specOnce sync.Once
	specJSON []byte
)

// OpenAPI returns the OpenAPI 3.1 document of /api/v1 (JSON).
func OpenAPI(version string) []byte {
	specOnce.Do(func() { specJSON = buildSpec() })
	// The version is the one runtime value; patch it in.
	var doc map[string]any
	_ = json.Unmarshal(specJSON, &doc)
	doc["info"].(map[string]any)["version"] = version
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b
}

func buildSpec() []byte {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}}
	problem := g.ref(reflect.TypeOf(Problem{}))
	paths := map[string]map[string]any{}
	for _, op := range operations {
		p := OpenAPIPath("/api/v1" + op.path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		o := map[string]any{
			"summary":     op.summary,
			"operationId": operationID(op),
			"tags":        []string{op.tag},
		}
		var who []string
		for _, r := range op.roles {
			who = append(who, roleNames[r])
		}
		if op.roles == "public" {
			o["security"] = []any{}
			o["description"] = "No token needed."
		} else {
			o["description"] = "Roles: " + strings.Join(who, ", ") + "."
		}
		if op.limited {
			o["description"] = o["description"].(string) + " Rate-limited: 429 rate_limited with Retry-After past the limit."
		}
		var params []any
		for _, m := range fiberParam.FindAllStringSubmatch(op.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range op.query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false,
				"description": queryDocs[q], "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			o["parameters"] = params
		}
		if op.body != nil {
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(op.body))}}}
		}
		responses := map[string]any{
			"default": map[string]any{"description": "A problem (RFC 9457); see the code.",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}},
		}
		success := map[string]any{"description": http.StatusText(op.status)}
		switch {
		case op.mime != "":
			success["content"] = map[string]any{op.mime: map[string]any{"schema": map[string]any{"type": "string"}}}
		case op.resp != nil:
			s := g.schema(reflect.TypeOf(op.resp))
			if op.respAlt != nil {
				s = map[string]any{"anyOf": []any{s, g.schema(reflect.TypeOf(op.respAlt))}}
			}
			success["content"] = map[string]any{"application/json": map[string]any{"schema": s}}
		}
		responses[strconv.Itoa(op.status)] = success
		if op.alsoOK {
			responses["200"] = map[string]any{"description": "Already done (or checked out)", "content": success["content"]}
		}
		if op.limited {
			responses["429"] = map[string]any{"description": "Too many requests",
				"headers": map[string]any{"Retry-After": map[string]any{"schema": map[string]any{"type": "integer"}}},
				"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
		}
		o["responses"] = responses
		paths[p][strings.ToLower(op.method)] = o
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{
			"title":       "Perch API",
			"version":     "",
			"description": "Desk, room and visitor booking. Every error is application/problem+json with a stable code (see docs/API.md).",
			"license":     map[string]any{"name": "Apache-2.0", "identifier": "Apache-2.0"},
		},
		"servers":    []any{map[string]any{"url": "/"}},
		"security":   []any{map[string]any{"bearer": []any{}}},
		"paths":      paths,
		"components": map[string]any{"schemas": g.defs, "securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic("api: OpenAPI document does not encode: " + err.Error())
	}
	return b
}

func operationID(op operation) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(op.method))
	for _, part := range strings.Split(strings.Trim(op.path, "/"), "/") {
		part = strings.TrimPrefix(part, ":")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaGen derives JSON Schemas (2020-12) from Go types the way
// encoding/json encodes them.
type schemaGen struct {
	defs  map[string]any
	names map[reflect.Type]string
}

var (
	timeType      = reflect.TypeOf(time.Time{})
	rawType       = reflect.TypeOf(json.RawMessage{})
	marshalerType = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textType      = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

func nullable(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	case t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType)):
		return map[string]any{} // encodes itself
	case t.Kind() != reflect.Pointer && (t.Implements(textType) || reflect.PointerTo(t).Implements(textType)):
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string"}
		}
		s := map[string]any{"type": "array", "items": g.schema(t.Elem())}
		if t.Kind() == reflect.Slice {
			return nullable(s)
		}
		return s
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())})
	case reflect.Struct:
		return g.ref(t)
	}
	return map[string]any{}
}

// ref puts a struct's schema in components and refers to it.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name, ok := g.names[t]
	if !ok {
		name = defName(t)
		for taken := true; taken; {
			taken = false
			for _, n := range g.names {
				if n == name {
					name += "_"
					taken = true
				}
			}
		}
		g.names[t] = name
		props, required := map[string]any{}, []string{}
		g.fields(t, props, &required)
		sort.Strings(required)
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		g.defs[name] = s
	}
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

func (g *schemaGen) fields(t reflect.Type, props map[string]any, required *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.fields(ft, props, required)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		if strings.Contains(opts, "string") {
			s = map[string]any{"type": "string"}
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			*required = append(*required, name)
		}
	}
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

func defName(t reflect.Type) string {
	pkg := t.PkgPath()
	pkg = pkg[strings.LastIndex(pkg, "/")+1:]
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // list[…] → list_Site
		inner := name[i+1 : len(name)-1]
		inner = inner[strings.LastIndex(inner, "/")+1:]
		name = name[:i] + "_" + nonWord.ReplaceAllString(inner, "_")
	}
	return strings.Trim(nonWord.ReplaceAllString(pkg+"."+name, "_"), "_")
}

// serveOpenAPI answers GET /api/openapi.json.
func (s *Server) serveOpenAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(OpenAPI(s.Version))
}

// serveDocs answers GET /api/docs: a self-contained HTML list of the
// operations (no scripts, no CDN), linking to the JSON document.
func (s *Server) serveDocs(c *fiber.Ctx) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Perch API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}code{font-size:14px}
.m{display:inline-block;width:4.5rem;font-weight:600}.GET{color:#1565c0}.POST{color:#2e7d32}.PATCH,.PUT{color:#ef6c00}.DELETE{color:#c62828}
td{padding:.2rem .6rem;vertical-align:top}h2{margin-top:2rem}</style></head><body>
<h1>Perch API ` + html.EscapeString(s.Version) + `</h1>
<p>The OpenAPI 3.1 document is at <a href="/api/openapi.json">/api/openapi.json</a>. Send <code>Authorization: Bearer &lt;token&gt;</code>;
errors are <code>application/problem+json</code> with a stable <code>code</code>.</p>`)
	tags := []string{"office", "people", "booking", "check-in", "kiosks", "visitors", "reports", "moves"}
	for _, tag := range tags {
		b.WriteString("<h2>" + tag + "</h2><table>")
		for _, op := range operations {
			if op.tag != tag {
				continue
			}
			fmt.Fprintf(&b, `<tr><td><span class="m %s">%s</span><code>%s</code></td><td>%s<br><small>%s</small></td></tr>`,
				op.method, op.method, html.EscapeString(OpenAPIPath("/api/v1"+op.path)), html.EscapeString(op.summary),
				html.EscapeString(strings.TrimSpace(rolesText(op))))
		}
		b.WriteString("</table>")
	}
	b.WriteString("</body></html>")
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.SendString(b.String())
}

func rolesText(op operation) string {
	if op.roles == "public" {
		return "no token"
	}
	var who []string
	for _, r := range op.roles {
		who = append(who, roleNames[r])
	}
	t := strings.Join(who, ", ")
	if op.limited {
		t += " · rate-limited"
	}
	return t
}

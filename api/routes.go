package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/perch-hq/perch/users"
)

// Who may call what. Everyone signed in reads the office model; only admins
// write it. Device accounts (kiosk) do not read the people directory.
var (
	signedIn = allow(users.RoleAdmin, users.RoleEmployee, users.RoleReception, users.RoleKiosk)
	people   = allow(users.RoleAdmin, users.RoleEmployee, users.RoleReception)
	admins   = allow(users.RoleAdmin)
	// Door actions: kiosk tokens only; package kiosk then admits only a
	// paired room kiosk, for its own room.
	doorKiosks = allow(users.RoleKiosk)
	// Reception and admins run the lobby: every visit, on site, roll calls.
	frontDesk = allow(users.RoleAdmin, users.RoleReception)
	// Lobby actions: kiosk tokens only; package visitors then admits only
	// a paired lobby kiosk, for its own site.
	lobbyKiosks = allow(users.RoleKiosk)
)

// routes registers every route of the server, in one place.
func (s *Server) routes() {
	app := s.app
	app.Use(s.observe, s.securityHeaders, s.corsMiddleware())

	app.Get("/healthz", s.healthz)
	app.Get("/readyz", s.readyz)
	app.Get("/api", s.index)
	// The web app (web/static): pages, the service worker (its scope is the
	// whole site, so it is served from the root) and the files.
	app.Get("/", s.page("index.html"))
	app.Get("/kiosk", s.page("kiosk.html"))
	app.Get("/admin", s.page("admin.html"))
	app.Get("/sw.js", s.page("sw.js"))
	app.Get("/static/*", s.staticFile)
	app.Get("/plans/:id", s.planImage)
	app.Get("/metrics", s.Metrics.handler())
	app.Get("/api/openapi.json", s.serveOpenAPI) // openapi.go: every /api/v1 operation
	app.Get("/api/docs", s.serveDocs)
	app.Get("/q/:code", s.checkInPage)

	v1 := app.Group("/api/v1")
	route := func(method, path string, rs roleSet, h fiber.Handler) {
		v1.Add(method, path, s.authorize(rs), h)
	}
	get, post, patch, del := fiber.MethodGet, fiber.MethodPost, fiber.MethodPatch, fiber.MethodDelete

	// Kiosk pairing, before a device has a token: public (the device
	// secret is the credential of /kiosks/token).
	// Both are rate-limited per client IP; the token endpoints and the door
	// actions per token (RateLimits).
	v1.Post("/kiosks/pairing", s.limit("pairing", s.RateLimits.Pairing, false), s.startPairing)
	v1.Post("/kiosks/token", s.limit("kiosk_token", s.RateLimits.KioskToken, false), s.kioskToken)
	limited := func(method, path string, rs roleSet, lim fiber.Handler, h fiber.Handler) {
		v1.Add(method, path, lim, s.authorize(rs), h)
	}
	userTokens := s.limit("user_tokens", s.RateLimits.UserTokens, true)
	kioskLimit := s.limit("kiosk", s.RateLimits.Kiosk, true)

	route(get, "/me", signedIn, s.me)

	route(get, "/sites", signedIn, s.listSites)
	route(post, "/sites", admins, s.createSite)
	route(get, "/sites/:id", signedIn, byID(s.Floorplans.GetSite))
	route(patch, "/sites/:id", admins, s.updateSite)
	route(del, "/sites/:id", admins, deleteByID(s.deleteSite))

	route(get, "/sites/:id/floors", signedIn, listUnder(s.Floorplans.ListFloors))
	route(post, "/sites/:id/floors", admins, s.createFloor)
	route(get, "/floors/:id", signedIn, byID(s.Floorplans.GetFloor))
	route(patch, "/floors/:id", admins, s.updateFloor)
	route(del, "/floors/:id", admins, deleteByID(s.Floorplans.DeleteFloor))
	route(fiber.MethodPut, "/floors/:id/plan", admins, s.putPlanImage)
	route(del, "/floors/:id/plan", admins, s.deletePlanImage)

	route(get, "/floors/:id/zones", signedIn, listUnder(s.Floorplans.ListZones))
	route(post, "/floors/:id/zones", admins, s.createZone)
	route(get, "/zones/:id", signedIn, byID(s.Floorplans.GetZone))
	route(patch, "/zones/:id", admins, s.updateZone)
	route(del, "/zones/:id", admins, deleteByID(s.Floorplans.DeleteZone))

	route(get, "/floors/:id/desks", signedIn, listUnder(s.Floorplans.ListDesks))
	route(post, "/floors/:id/desks", admins, s.createDesk)
	route(post, "/floors/:id/desks/bulk", admins, s.createDeskRow)
	route(get, "/desks/:id", signedIn, byID(s.Floorplans.GetDesk))
	route(patch, "/desks/:id", admins, s.updateDesk)
	route(del, "/desks/:id", admins, deleteByID(s.Floorplans.DeleteDesk))

	route(get, "/floors/:id/rooms", signedIn, listUnder(s.Floorplans.ListRooms))
	route(post, "/floors/:id/rooms", admins, s.createRoom)
	route(get, "/rooms/:id", signedIn, byID(s.Floorplans.GetRoom))
	route(patch, "/rooms/:id", admins, s.updateRoom)
	route(del, "/rooms/:id", admins, deleteByID(s.deleteRoom))

	route(get, "/users", people, s.listUsers)
	route(post, "/users", admins, s.createUser)
	route(get, "/users/:id", people, byID(s.Users.GetUser))
	route(patch, "/users/:id", admins, s.updateUser)
	route(del, "/users/:id", admins, deleteByID(s.Users.DeleteUser))
	limited(post, "/users/:id/tokens", admins, userTokens, s.mintToken)

	route(get, "/sites/:id/policy", signedIn, s.getPolicy)
	route(fiber.MethodPut, "/sites/:id/policy", admins, s.putPolicy)
	route(get, "/sites/:id/availability", signedIn, s.siteAvailability)
	route(get, "/floors/:id/availability", signedIn, s.floorAvailability)
	route(get, "/desks/:id/releases", people, s.listReleases)
	route(post, "/desks/:id/releases", people, s.releaseDesk)
	route(del, "/desks/:id/releases/:date", people, s.unreleaseDesk)

	route(post, "/bookings", people, s.createBooking)
	route(get, "/bookings", people, s.listBookings)
	route(get, "/bookings/:id", people, s.getBooking)
	route(patch, "/bookings/:id", people, s.updateBooking)
	route(del, "/bookings/:id", people, s.cancelBooking)
	route(get, "/users/:id/whereabouts", people, s.whereabouts)

	route(post, "/checkins", people, s.checkIn)
	route(post, "/bookings/:id/check-in", people, s.onBooking(s.Booking.CheckInBooking))
	route(post, "/bookings/:id/check-out", people, s.onBooking(s.Booking.CheckOutBooking))
	route(get, "/desks/:id/qr.png", admins, s.deskQR)
	route(get, "/rooms/:id/qr.png", admins, s.roomQR)
	route(post, "/desks/:id/qr/rotate", admins, s.rotateDeskQR)
	route(post, "/rooms/:id/qr/rotate", admins, s.rotateRoomQR)
	route(get, "/floors/:id/qr-sheet", admins, s.qrSheet)

	route(post, "/kiosks/pair", admins, s.pairKiosk)
	route(get, "/kiosks", admins, s.listKiosks)
	route(get, "/kiosks/:id", admins, byID(s.Kiosks.Get))
	route(del, "/kiosks/:id", admins, deleteByID(s.Kiosks.Revoke))
	limited(get, "/kiosk/room", doorKiosks, kioskLimit, s.kioskRoom)
	limited(post, "/kiosk/book-now", doorKiosks, kioskLimit, s.kioskBookNow)
	limited(post, "/kiosk/check-in", doorKiosks, kioskLimit, s.kioskCheckIn)
	limited(post, "/kiosk/extend", doorKiosks, kioskLimit, s.kioskExtend)
	limited(post, "/kiosk/end-early", doorKiosks, kioskLimit, s.kioskEndEarly)

	// Reports are for facilities (admins) only.
	route(get, "/reports/occupancy", admins, s.occupancyReport)
	route(get, "/reports/occupancy/heatmap.svg", admins, s.occupancyHeatmap)
	route(get, "/reports/occupancy/daily.svg", admins, s.occupancyDaily)
	route(get, "/reports/utilisation", admins, s.utilisationReport)
	route(get, "/reports/utilisation/floor.svg", admins, s.utilisationFloor)
	route(get, "/sites/:id/report-settings", admins, s.getReportSettings)
	route(fiber.MethodPut, "/sites/:id/report-settings", admins, s.putReportSettings)

	// Office-move seating plans are for facilities (admins) only.
	route(post, "/move-plans", admins, s.createMovePlan)
	route(get, "/move-plans", admins, s.listMovePlans)
	route(get, "/move-plans/:id", admins, byID(s.Moves.Get))
	route(patch, "/move-plans/:id", admins, s.updateMovePlan)
	route(del, "/move-plans/:id", admins, deleteByID(s.Moves.Delete))
	route(post, "/move-plans/:id/validate", admins, s.validateMovePlan)
	route(post, "/move-plans/:id/simulate", admins, s.simulateMovePlan)
	route(post, "/move-plans/:id/apply", admins, s.applyMovePlan)
	route(get, "/move-plans/:id/export.csv", admins, s.exportMovePlan)
	route(get, "/move-plans/:id/plan.svg", admins, s.movePlanSVG)

	// Visitors (package visitors). Hosts see and change their own visits
	// only (someone else's is a 404); reception and admins all of them.
	route(post, "/visits", people, s.createVisit)
	route(get, "/visits", people, s.listVisits)
	route(get, "/visits/:id", people, s.getVisit)
	route(patch, "/visits/:id", people, s.updateVisit)
	route(del, "/visits/:id", people, s.cancelVisit)
	route(get, "/visits/:id/invite.png", people, s.inviteQR)
	route(get, "/visits/:id/badge", signedIn, s.visitBadge)
	route(post, "/visits/:id/check-in", frontDesk, s.checkInVisit)
	route(post, "/visits/:id/check-out", frontDesk, s.checkOutVisit)
	limited(post, "/kiosk/visits/check-in", lobbyKiosks, kioskLimit, s.kioskVisitCheckIn)
	limited(post, "/kiosk/visits/check-out", lobbyKiosks, kioskLimit, s.kioskVisitCheckOut)
	limited(post, "/kiosk/visits/walk-in", lobbyKiosks, kioskLimit, s.kioskWalkIn)
	limited(get, "/kiosk/visits/expected", lobbyKiosks, kioskLimit, s.kioskExpected)
	limited(post, "/kiosk/visits/:id/check-in", lobbyKiosks, kioskLimit, s.kioskVisitCheckInByID)
	limited(get, "/kiosk/hosts", lobbyKiosks, kioskLimit, s.kioskHosts)
	limited(get, "/kiosk/visitor-documents", lobbyKiosks, kioskLimit, s.kioskDocuments)
	route(get, "/sites/:id/visitor-documents", frontDesk, s.listVisitorDocuments)
	route(post, "/sites/:id/visitor-documents", admins, s.createVisitorDocument)
	route(post, "/visitor-documents/:id/versions", admins, s.addVisitorDocumentVersion)
	route(get, "/sites/:id/visitor-settings", frontDesk, s.getVisitorSettings)
	route(fiber.MethodPut, "/sites/:id/visitor-settings", admins, s.putVisitorSettings)
	route(get, "/watchlist", admins, s.listWatchlist)
	route(post, "/watchlist", admins, s.addWatch)
	route(del, "/watchlist/:id", admins, deleteByID(s.Visitors.DeleteWatch))
	route(get, "/sites/:id/on-site", frontDesk, s.onSite)
	route(post, "/sites/:id/roll-calls", frontDesk, s.startRollCall)
	route(get, "/roll-calls/:id", frontDesk, s.getRollCall)
	route(post, "/roll-calls/:id/marks", frontDesk, s.markRollCall)
	route(post, "/roll-calls/:id/close", frontDesk, s.closeRollCall)
	route(get, "/privacy/visitors", admins, s.exportVisitor)
	route(del, "/privacy/visitors", admins, s.eraseVisitor)

	route(get, "/teams", people, s.listTeams)
	route(post, "/teams", admins, s.createTeam)
	route(get, "/teams/:id", people, byID(s.Users.GetTeam))
	route(patch, "/teams/:id", admins, s.updateTeam)
	route(del, "/teams/:id", admins, deleteByID(s.Users.DeleteTeam))
}

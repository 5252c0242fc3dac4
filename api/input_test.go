package api_test

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
)

// Bad input is a 4xx problem+json naming the field, never a 500 or a panic,
// and writes nothing.
func TestBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		site := "/api/v1/sites/" + demo.SiteID
		floor := demo.ID("floor", "0")
		floor1 := demo.ID("floor", "1")
		desk := "/api/v1/desks/" + demo.ID("desk", "1A-01")
		room := "/api/v1/rooms/" + demo.ID("room", "Spree")
		otherFloorZone := demo.ID("zone", "Quiet zone")
		big := `{"name":"` + strings.Repeat("a", 1<<20+10) + `"}`

		cases := []struct {
			name, method, path, body string
			ctype                    string // "" means application/json when there is a body
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/api/v1/sites", `{"name":`, "", 400, "validation_failed", ""},
			{"not an object", "POST", "/api/v1/sites", `["Berlin"]`, "", 400, "validation_failed", ""},
			{"trailing data", "POST", "/api/v1/sites", `{"name":"A","timezone":"UTC"} {}`, "", 400, "validation_failed", ""},
			{"empty body", "POST", "/api/v1/sites", ` `, "", 400, "validation_failed", ""},
			{"unknown field", "POST", "/api/v1/sites", `{"name":"A","timezone":"UTC","colour":"red"}`, "", 400, "validation_failed", "colour"},
			{"wrong type string", "POST", "/api/v1/sites", `{"name":42,"timezone":"UTC"}`, "", 400, "validation_failed", "name"},
			{"wrong type number", "POST", "/api/v1/sites/" + demo.SiteID + "/floors", `{"name":"F","width":"wide","height":10}`, "", 400, "validation_failed", "width"},
			{"fraction for a whole number", "POST", site + "/floors", `{"name":"F","level":1.5,"width":10,"height":10}`, "", 400, "validation_failed", "level"},
			{"number out of range", "POST", site + "/floors", `{"name":"F","level":1e40,"width":10,"height":10}`, "", 400, "validation_failed", "level"},
			{"null for a required field", "PATCH", site, `{"name":null}`, "", 400, "validation_failed", "name"},
			{"unknown timezone", "POST", "/api/v1/sites", `{"name":"Mars","timezone":"Mars/Olympus_Mons"}`, "", 400, "validation_failed", "timezone"},
			{"Local timezone", "POST", "/api/v1/sites", `{"name":"Here","timezone":"Local"}`, "", 400, "validation_failed", "timezone"},
			{"missing timezone", "POST", "/api/v1/sites", `{"name":"Nowhere"}`, "", 400, "validation_failed", "timezone"},
			{"missing name", "POST", "/api/v1/sites", `{"timezone":"UTC"}`, "", 400, "validation_failed", "name"},
			{"control characters", "POST", "/api/v1/sites", `{"name":"A\u0000B","timezone":"UTC"}`, "", 400, "validation_failed", "name"},
			{"patch to a bad timezone", "PATCH", site, `{"timezone":"Europe/Nowhere"}`, "", 400, "validation_failed", "timezone"},
			{"negative width", "POST", site + "/floors", `{"name":"F","width":-10,"height":10}`, "", 400, "validation_failed", "width"},
			{"zero height", "POST", site + "/floors", `{"name":"F","width":10,"height":0}`, "", 400, "validation_failed", "height"},
			{"shrink plan under desks", "PATCH", "/api/v1/floors/" + floor, `{"width":100}`, "", 400, "validation_failed", "width"},
			{"negative x", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"N-1","x":-1,"y":5}`, "", 400, "validation_failed", "x"},
			{"desk off the plan", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"N-1","x":5,"y":99999}`, "", 400, "validation_failed", "y"},
			{"desk without x", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"N-1","y":5}`, "", 400, "validation_failed", "x"},
			{"bad desk code", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"no spaces","x":5,"y":5}`, "", 400, "validation_failed", "code"},
			{"bad amenity", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"N-1","x":5,"y":5,"amenities":["Big Screen!"]}`, "", 400, "validation_failed", "amenities[0]"},
			{"zone of another floor", "POST", "/api/v1/floors/" + floor + "/desks", `{"code":"N-1","x":5,"y":5,"zone_id":"` + otherFloorZone + `"}`, "", 400, "validation_failed", "zone_id"},
			{"zone id not an id", "PATCH", desk, `{"zone_id":"zone-7"}`, "", 400, "validation_failed", "zone_id"},
			{"assigned user missing", "PATCH", desk, `{"assigned_user_id":"` + database.NewID() + `"}`, "", 400, "validation_failed", "assigned_user_id"},
			{"duplicate desk code", "POST", "/api/v1/floors/" + floor1 + "/desks", `{"code":"1A-01","x":5,"y":5}`, "", 409, "conflict", "code"},
			{"rename to a taken code", "PATCH", desk, `{"code":"1A-02"}`, "", 409, "conflict", "code"},
			{"bulk count zero", "POST", "/api/v1/floors/" + floor + "/desks/bulk", `{"prefix":"Z-","count":0,"x":1,"y":1}`, "", 400, "validation_failed", "count"},
			{"bulk row runs off the plan", "POST", "/api/v1/floors/" + floor + "/desks/bulk", `{"prefix":"Z-","count":30,"x":4000,"y":10,"step_x":100}`, "", 400, "validation_failed", "x"},
			{"bulk row hits a taken code", "POST", "/api/v1/floors/" + floor + "/desks/bulk", `{"prefix":"1A-","first":9,"count":5,"x":10,"y":10,"step_x":10}`, "", 409, "conflict", "code"},
			{"room zero capacity", "POST", "/api/v1/floors/" + floor + "/rooms", `{"name":"Box","capacity":0,"x":1,"y":1,"width":10,"height":10}`, "", 400, "validation_failed", "capacity"},
			{"room off the plan", "PATCH", room, `{"width":999999}`, "", 400, "validation_failed", "width"},
			{"bad id in path", "GET", "/api/v1/sites/123", "", "", 400, "validation_failed", "id"},
			{"sql in id", "GET", "/api/v1/desks/1'%20OR%201=1", "", "", 400, "validation_failed", "id"},
			{"unknown id", "GET", "/api/v1/floors/" + database.NewID(), "", "", 404, "not_found", ""},
			{"floor of unknown site", "POST", "/api/v1/sites/" + database.NewID() + "/floors", `{"name":"F","width":10,"height":10}`, "", 404, "not_found", ""},
			{"limit not a number", "GET", "/api/v1/sites?limit=ten", "", "", 400, "validation_failed", "limit"},
			{"limit too large", "GET", "/api/v1/sites?limit=100000", "", "", 400, "validation_failed", "limit"},
			{"limit zero", "GET", "/api/v1/sites?limit=0", "", "", 400, "validation_failed", "limit"},
			{"forged cursor", "GET", "/api/v1/sites?cursor=eyJrIjoxfQ", "", "", 400, "validation_failed", "cursor"},
			{"bad team filter", "GET", "/api/v1/users?team_id=engineering", "", "", 400, "validation_failed", "team_id"},
			{"bad role filter", "GET", "/api/v1/users?role=root", "", "", 400, "validation_failed", "role"},
			{"invalid email", "POST", "/api/v1/users", `{"email":"not-an-email","name":"X"}`, "", 400, "validation_failed", "email"},
			{"display-name email", "POST", "/api/v1/users", `{"email":"X <x@example.com>","name":"X"}`, "", 400, "validation_failed", "email"},
			{"invalid role", "POST", "/api/v1/users", `{"email":"x@example.com","name":"X","role":"root"}`, "", 400, "validation_failed", "role"},
			{"duplicate email", "POST", "/api/v1/users", `{"email":"Emil.Engel@example.com","name":"Emil 2"}`, "", 409, "conflict", "email"},
			{"unknown team", "POST", "/api/v1/users", `{"email":"x@example.com","name":"X","team_id":"` + database.NewID() + `"}`, "", 400, "validation_failed", "team_id"},
			{"duplicate team", "POST", "/api/v1/teams", `{"name":"Design"}`, "", 409, "conflict", "name"},
			{"negative token ttl", "POST", "/api/v1/users/" + demo.ID("user", demo.EmployeeEmail) + "/tokens", `{"ttl_hours":-1}`, "", 400, "validation_failed", "ttl_hours"},
			{"token for unknown user", "POST", "/api/v1/users/" + database.NewID() + "/tokens", `{}`, "", 404, "not_found", ""},
			{"site with floors", "DELETE", site, "", "", 409, "conflict", ""},
			{"floor with desks", "DELETE", "/api/v1/floors/" + floor, "", "", 409, "conflict", ""},
			{"form body", "POST", "/api/v1/sites", `name=x`, "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""},
			{"body over 1 MiB", "POST", "/api/v1/sites", big, "", 413, "payload_too_large", ""},
			{"booking: bad resource type", "POST", "/api/v1/bookings", `{"resource_type":"sofa","resource_id":"` + demo.ID("desk", "1A-01") + `"}`, "", 400, "validation_failed", "resource_type"},
			{"booking: resource not an id", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"1A-01","date":"2026-03-24"}`, "", 400, "validation_failed", "resource_id"},
			{"booking: unknown desk", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + database.NewID() + `","date":"2026-03-24"}`, "", 404, "not_found", ""},
			{"booking: time without offset", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","start":"2026-03-24T09:00:00","end":"2026-03-24T10:00:00"}`, "", 400, "validation_failed", "start"},
			{"booking: end before start", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","start":"2026-03-24T10:00:00Z","end":"2026-03-24T09:00:00Z"}`, "", 400, "validation_failed", "end"},
			{"booking: longer than a day", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","start":"2026-12-01T09:00:00Z","end":"2026-12-02T11:00:00Z","override":true}`, "", 400, "validation_failed", "end"},
			{"booking: no times", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `"}`, "", 400, "validation_failed", "start"},
			{"booking: impossible date", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-02-30"}`, "", 400, "validation_failed", "date"},
			{"booking: bad part", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","part":"noon"}`, "", 400, "validation_failed", "part"},
			{"booking: both forms", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","start":"2026-03-24T09:00:00Z","end":"2026-03-24T10:00:00Z"}`, "", 400, "validation_failed", "date"},
			{"booking: bad rule", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","recurrence":"FREQ=HOURLY;COUNT=2"}`, "", 400, "validation_failed", "recurrence"},
			{"booking: unbounded rule", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","recurrence":"FREQ=DAILY"}`, "", 400, "validation_failed", "recurrence"},
			{"booking: for a nobody", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24","for_user_id":"` + database.NewID() + `"}`, "", 400, "validation_failed", "for_user_id"},
			{"booking: bad status filter", "GET", "/api/v1/bookings?status=maybe", "", "", 400, "validation_failed", "status"},
			{"booking: bad from", "GET", "/api/v1/bookings?from=tomorrow", "", "", 400, "validation_failed", "from"},
			{"booking: bad scope", "DELETE", "/api/v1/bookings/" + database.NewID() + "?scope=everything", "", "", 400, "validation_failed", "scope"},
			{"availability: inverted window", "GET", "/api/v1/floors/" + floor + "/availability?from=2026-03-24T10:00:00Z&to=2026-03-24T09:00:00Z", "", "", 400, "validation_failed", "to"},
			{"availability: window too long", "GET", "/api/v1/floors/" + floor + "/availability?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z", "", "", 400, "validation_failed", "to"},
			{"search: bad capacity", "GET", "/api/v1/sites/" + demo.SiteID + "/availability?capacity=-2", "", "", 400, "validation_failed", "capacity"},
			{"whereabouts: no date", "GET", "/api/v1/users/" + demo.ID("user", demo.EmployeeEmail) + "/whereabouts", "", "", 400, "validation_failed", "date"},
			{"policy: until before from", "PUT", site + "/policy", `{"bookable_from":"18:00","bookable_until":"08:00"}`, "", 400, "validation_failed", "bookable_until"},
			{"policy: bad weekday", "PUT", site + "/policy", `{"weekdays":["mon","funday"]}`, "", 400, "validation_failed", "weekdays"},
			{"policy: bad holiday", "PUT", site + "/policy", `{"closed_dates":["2026-12-32"]}`, "", 400, "validation_failed", "closed_dates[0]"},
			{"policy: negative notice", "PUT", site + "/policy", `{"min_notice_minutes":-5}`, "", 400, "validation_failed", "min_notice_minutes"},
			{"policy: zone of no site", "PUT", site + "/policy", `{"restricted_zones":{"` + database.NewID() + `":["` + demo.ID("team", "0") + `"]}}`, "", 400, "validation_failed", "restricted_zones"},
			{"release: unassigned desk", "POST", "/api/v1/desks/" + demo.ID("desk", "1A-01") + "/releases", `{"date":"2026-12-01"}`, "", 409, "conflict", ""},
			{"release: bad date", "POST", "/api/v1/desks/" + demo.ID("desk", "2A-01") + "/releases", `{"date":"1.12.2026"}`, "", 400, "validation_failed", "date"},
			{"bad booking mode", "PATCH", desk, `{"booking_mode":"weekly"}`, "", 400, "validation_failed", "booking_mode"},
			{"bad idempotency key", "POST", "/api/v1/bookings", `{"resource_type":"desk","resource_id":"` + demo.ID("desk", "1A-01") + `","date":"2026-03-24"}`, "", 400, "validation_failed", "Idempotency-Key"},
			{"report: no scope", "GET", "/api/v1/reports/occupancy", "", "", 400, "validation_failed", "site_id"},
			{"report: two scopes", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&floor_id=" + floor, "", "", 400, "validation_failed", "site_id"},
			{"report: scope not an id", "GET", "/api/v1/reports/occupancy?zone_id=quiet", "", "", 400, "validation_failed", "zone_id"},
			{"report: unknown floor", "GET", "/api/v1/reports/occupancy?floor_id=" + database.NewID(), "", "", 404, "not_found", ""},
			{"report: bad bucket", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&bucket=month", "", "", 400, "validation_failed", "bucket"},
			{"report: bad group_by", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&group_by=desk", "", "", 400, "validation_failed", "group_by"},
			{"report: bad from", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&from=last-week", "", "", 400, "validation_failed", "from"},
			{"report: to before from", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&from=2026-03-10&to=2026-03-01", "", "", 400, "validation_failed", "to"},
			{"report: window too long", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&from=2020-01-01&to=2026-01-01", "", "", 400, "validation_failed", "to"},
			{"report: too many hour buckets", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&from=2025-01-01&to=2026-06-01&bucket=hour", "", "", 400, "validation_failed", "bucket"},
			{"report: bad format", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&format=xlsx", "", "", 400, "validation_failed", "format"},
			{"report: visitors not yet", "GET", "/api/v1/reports/occupancy?site_id=" + demo.SiteID + "&include_visitors=true", "", "", 422, "unsupported_parameter", "include_visitors"},
			{"report: bad resource type", "GET", "/api/v1/reports/utilisation?site_id=" + demo.SiteID + "&resource_type=sofa", "", "", 400, "validation_failed", "resource_type"},
			{"report: bad utilisation group", "GET", "/api/v1/reports/utilisation?site_id=" + demo.SiteID + "&group_by=team", "", "", 400, "validation_failed", "group_by"},
			{"report: floor map without floor", "GET", "/api/v1/reports/utilisation/floor.svg", "", "", 400, "validation_failed", "floor_id"},
			{"report: floor map of no floor", "GET", "/api/v1/reports/utilisation/floor.svg?floor_id=" + database.NewID(), "", "", 404, "not_found", ""},
			{"report settings: zero", "PUT", site + "/report-settings", `{"min_group_size":0}`, "", 400, "validation_failed", "min_group_size"},
			{"report settings: missing", "PUT", site + "/report-settings", `{}`, "", 400, "validation_failed", "min_group_size"},
			{"report settings: wrong type", "PUT", site + "/report-settings", `{"min_group_size":"five"}`, "", 400, "validation_failed", "min_group_size"},
			{"report settings: unknown site", "PUT", "/api/v1/sites/" + database.NewID() + "/report-settings", `{"min_group_size":3}`, "", 404, "not_found", ""},
			{"move plan: no body", "POST", "/api/v1/move-plans", "", "", 400, "validation_failed", ""},
			{"move plan: missing name", "POST", "/api/v1/move-plans", `{"site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "name"},
			{"move plan: bad effective date", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"soon","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "effective_date"},
			{"move plan: no teams", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":[],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "team_ids"},
			{"move plan: team not an id", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["eng"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "team_ids[0]"},
			{"move plan: unknown team", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + database.NewID() + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "team_ids[0]"},
			{"move plan: no target", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "target_zone_ids"},
			{"move plan: both targets", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `,"target_zone_ids":["` + otherFloorZone + `"]}`, "", 400, "validation_failed", "target_zone_ids"},
			{"move plan: floor of no site", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + database.NewID() + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "target_floor_ids[0]"},
			{"move plan: basis backwards", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-27","to":"2026-03-01"}` + `}`, "", 400, "validation_failed", "basis.to"},
			{"move plan: bad basis day", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"March","to":"2026-03-27"}` + `}`, "", 400, "validation_failed", "basis.from"},
			{"move plan: negative buffer", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `,"buffer":-0.1}`, "", 400, "validation_failed", "buffer"},
			{"move plan: buffer as text", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `,"buffer":"10%"}`, "", 400, "validation_failed", "buffer"},
			{"move plan: unknown field", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + demo.SiteID + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `,"teams":[]}`, "", 400, "validation_failed", "teams"},
			{"move plan: unknown site", "POST", "/api/v1/move-plans", `{"name":"M","site_id":"` + database.NewID() + `","effective_date":"2026-04-01","team_ids":["` + demo.ID("team", "0") + `"],"target_floor_ids":["` + floor1 + `"],"basis":{"from":"2026-03-01","to":"2026-03-27"}` + `}`, "", 404, "not_found", ""},
			{"move plan: bad id", "GET", "/api/v1/move-plans/plan-1", "", "", 400, "validation_failed", "id"},
			{"move plan: unknown", "GET", "/api/v1/move-plans/" + database.NewID(), "", "", 404, "not_found", ""},
			{"move plan: patch unknown", "PATCH", "/api/v1/move-plans/" + database.NewID(), `{"name":"x"}`, "", 404, "not_found", ""},
			{"move plan: apply unknown", "POST", "/api/v1/move-plans/" + database.NewID() + "/apply", "", "", 404, "not_found", ""},
			{"move plan: svg bad floor", "GET", "/api/v1/move-plans/" + database.NewID() + "/plan.svg?floor_id=x", "", "", 400, "validation_failed", "floor_id"},
			{"move plan: list bad site", "GET", "/api/v1/move-plans?site_id=hq", "", "", 400, "validation_failed", "site_id"},
			{"visit: no visitor", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z"}`, "", 400, "validation_failed", "visitor"},
			{"visit: no expected_at", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "expected_at"},
			{"visit: time without offset", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "expected_at"},
			{"visit: in the past", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2001-12-01T10:00:00Z","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "expected_at"},
			{"visit: bad email", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B","email":"A <a@example.com>"}}`, "", 400, "validation_failed", "visitor.email"},
			{"visit: no email", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B"}}`, "", 400, "validation_failed", "visitor.email"},
			{"visit: control characters", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A\u0007B","email":"a@example.com"}}`, "", 400, "validation_failed", "visitor.name"},
			{"visit: bad phone", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B","email":"a@example.com","phone":"call me"}}`, "", 400, "validation_failed", "visitor.phone"},
			{"visit: site not an id", "POST", "/api/v1/visits", `{"site_id":"berlin","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "site_id"},
			{"visit: unknown site", "POST", "/api/v1/visits", `{"site_id":"` + database.NewID() + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "site_id"},
			{"visit: device as host", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","host_id":"` + demo.ID("user", demo.KioskEmail) + `","expected_at":"2099-12-01T10:00:00Z","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "host_id"},
			{"visit: no such room booking", "POST", "/api/v1/visits", `{"site_id":"` + demo.SiteID + `","expected_at":"2099-12-01T10:00:00Z","room_booking_id":"` + database.NewID() + `","visitor":{"name":"A B","email":"a@example.com"}}`, "", 400, "validation_failed", "room_booking_id"},
			{"visits: bad date", "GET", "/api/v1/visits?site_id=" + demo.SiteID + "&date=tomorrow", "", "", 400, "validation_failed", "date"},
			{"visits: date without site", "GET", "/api/v1/visits?date=2026-12-01", "", "", 400, "validation_failed", "site_id"},
			{"visits: bad status", "GET", "/api/v1/visits?status=gone", "", "", 400, "validation_failed", "status"},
			{"visit: bad id", "GET", "/api/v1/visits/42", "", "", 400, "validation_failed", "id"},
			{"visit: unknown", "PATCH", "/api/v1/visits/" + database.NewID(), `{"purpose":"x"}`, "", 404, "not_found", ""},
			{"badge: bad paper", "GET", "/api/v1/visits/" + database.NewID() + "/badge?paper=letter", "", "", 400, "validation_failed", "paper"},
			{"watchlist: nobody", "POST", "/api/v1/watchlist", `{"reason":"x"}`, "", 400, "validation_failed", "name"},
			{"watchlist: bad email", "POST", "/api/v1/watchlist", `{"email":"nope"}`, "", 400, "validation_failed", "email"},
			{"watchlist: unknown entry", "DELETE", "/api/v1/watchlist/" + database.NewID(), "", "", 404, "not_found", ""},
			{"document: no title", "POST", site + "/visitor-documents", `{"body":"Be nice."}`, "", 400, "validation_failed", "title"},
			{"document: blank body", "POST", site + "/visitor-documents", `{"title":"NDA","body":"  "}`, "", 400, "validation_failed", "body"},
			{"document version: unknown", "POST", "/api/v1/visitor-documents/" + database.NewID() + "/versions", `{"body":"x"}`, "", 404, "not_found", ""},
			{"visitor settings: zero days", "PUT", site + "/visitor-settings", `{"retention_days":0}`, "", 400, "validation_failed", "retention_days"},
			{"visitor settings: no days", "PUT", site + "/visitor-settings", `{"arrival_instructions":"Ring"}`, "", 400, "validation_failed", "retention_days"},
			{"on-site: bad format", "GET", site + "/on-site?format=xml", "", "", 400, "validation_failed", "format"},
			{"roll call: unknown", "GET", "/api/v1/roll-calls/" + database.NewID(), "", "", 404, "not_found", ""},
			{"roll call: bad person type", "POST", "/api/v1/roll-calls/" + database.NewID() + "/marks", `{"person_type":"dog","person_id":"` + database.NewID() + `"}`, "", 400, "validation_failed", "person_type"},
			{"privacy: no email", "GET", "/api/v1/privacy/visitors", "", "", 400, "validation_failed", "email"},
			{"privacy: bad email", "DELETE", "/api/v1/privacy/visitors?email=nobody", "", "", 400, "validation_failed", "email"},
			{"unknown route", "GET", "/api/v1/nope", "", "", 404, "not_found", ""},
			{"wrong method", "PUT", "/api/v1/sites", "", "", 405, "method_not_allowed", ""},
		}
		before := e.counts()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				var hdr []string
				if c.ctype != "" {
					hdr = []string{"Content-Type", c.ctype}
				}
				if c.name == "bad idempotency key" {
					hdr = append(hdr, "Idempotency-Key", "no spaces allowed")
				}
				r := e.req(c.method, c.path, "admin", c.body, hdr...)
				if r.Status != c.status {
					t.Fatalf("status %d, want %d: %.300s", r.Status, c.status, r.Body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("Content-Type %q, want application/problem+json", ct)
				}
				p := r.json(t)
				if p["code"] != c.code {
					t.Errorf("code %v, want %s (%v)", p["code"], c.code, p["detail"])
				}
				if c.field != "" && p["field"] != c.field {
					t.Errorf("field %v, want %s (%v)", p["field"], c.field, p["detail"])
				}
				if p["status"] != float64(c.status) || p["title"] == "" || p["detail"] == "" ||
					!strings.HasSuffix(fmt.Sprint(p["type"]), "#"+c.code) || p["request_id"] == "" {
					t.Errorf("incomplete problem document: %v", p)
				}
			})
		}
		if after := e.counts(); !maps.Equal(before, after) {
			t.Fatalf("bad input wrote something: before %v, after %v", before, after)
		}
		if strings.Contains(e.logs.String(), "panic") {
			t.Fatalf("a request panicked:\n%s", e.logs.String())
		}
	})
}

// A body over the server's own limit is refused by Fiber before any handler
// runs (as soon as Content-Length is read); it must still be a problem+json 413.
func TestBodyOverServerLimit(t *testing.T) {
	e := newEnv(t, dbtest.OpenSQLite(t))
	base := e.listen()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/sites HTTP/1.1\r\nHost: perch\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{", e.tokens["admin"], 9<<20)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), `"code":"payload_too_large"`) {
		t.Fatalf("status %d %q: %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

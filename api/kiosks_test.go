package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/users"
)

// pairKiosk pairs a new kiosk through the service — kind "room" with a room
// id, or "lobby" with a site id — and returns its kiosk token and id.
func (e *env) pairKiosk(kind, place string) (token, id string) {
	e.t.Helper()
	ctx := context.Background()
	p, err := e.kiosks.StartPairing(ctx)
	if err != nil {
		e.t.Fatalf("start pairing: %v", err)
	}
	req := kiosk.PairRequest{PairingCode: p.PairingCode, Kind: kiosk.Kind(kind)}
	if kind == "room" {
		req.RoomID = place
	} else {
		req.SiteID = place
	}
	if _, err := e.kiosks.Pair(ctx, &users.Principal{Role: users.RoleAdmin, Name: "Test admin"}, req); err != nil {
		e.t.Fatalf("pair: %v", err)
	}
	g, err := e.kiosks.ExchangeToken(ctx, p.DeviceSecret)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return g.Token, g.Kiosk.ID
}

// outboxOf lists the outbox rows of a kind.
func (e *env) outboxOf(kind string) []booking.Event {
	e.t.Helper()
	var evs []booking.Event
	if err := e.db.Conn(context.Background()).Where("kind = ?", kind).Order("seq").Find(&evs).Error; err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// problemCode asserts a problem+json answer's status and code.
func (e *env) problemCode(r response, status int, code string) map[string]any {
	e.t.Helper()
	if r.Status != status || r.Header.Get("Content-Type") != "application/problem+json" {
		e.t.Fatalf("status %d (%s), want %d problem+json: %s", r.Status, r.Header.Get("Content-Type"), status, r.Body)
	}
	p := r.json(e.t)
	if p["code"] != code || p["detail"] == "" {
		e.t.Fatalf("code %v, want %s: %v", p["code"], code, p)
	}
	return p
}

// The whole pairing over HTTP: a device starts pairing, asks too early for
// its token, an admin pairs it, the device gets a token that works on its
// room; a new token replaces the old; revoking stops it and tells the hubs.
func TestKioskPairingOverHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		spree := demo.ID("room", "Spree")

		r := e.req("POST", "/api/v1/kiosks/pairing", "", "")
		start := e.must(201, r)
		code, _ := start["pairing_code"].(string)
		secret, _ := start["device_secret"].(string)
		if len(code) != 6 || strings.Trim(code, kiosk.PairingAlphabet) != "" || !strings.HasPrefix(secret, "perchd_") ||
			start["expires_at"] != monday9.Add(15*time.Minute).UTC().Format(time.RFC3339) || r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("start pairing: %v %v", start, r.Header)
		}
		var stored int64
		e.db.Conn(context.Background()).Table("kiosks").Where("secret_hash = ?", secret).Count(&stored)
		if stored != 0 {
			t.Fatal("the device secret is stored in plain text")
		}

		// Too early: 409 not_paired, naming the code to enter.
		p := e.problemCode(e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+secret+`"}`), 409, "not_paired")
		if !strings.Contains(p["detail"].(string), code) || p["title"] != "Kiosk not paired yet" {
			t.Fatalf("not paired: %v", p)
		}
		// Only admins pair.
		pairBody := `{"pairing_code":"` + strings.ToLower(code[:3]) + "-" + code[3:] + `","kind":"room","room_id":"` + spree + `"}`
		e.problemCode(e.req("POST", "/api/v1/kiosks/pair", "reception", pairBody), 403, "forbidden")
		k := e.must(200, e.req("POST", "/api/v1/kiosks/pair", "admin", pairBody))
		id, _ := k["id"].(string)
		if k["kind"] != "room" || k["room_id"] != spree || k["site_id"] != demo.SiteID || k["status"] != "paired" ||
			k["name"] != "Door panel · Spree" || k["id"] != start["kiosk_id"] {
			t.Fatalf("paired: %v", k)
		}
		// Its device account.
		u := e.must(200, e.req("GET", "/api/v1/users/"+k["user_id"].(string), "admin", ""))
		if u["role"] != "kiosk" || u["email"] != "kiosk-"+id+"@devices.perch.invalid" || u["name"] != "Door panel · Spree" {
			t.Fatalf("device account: %v", u)
		}
		// A code pairs once.
		e.problemCode(e.req("POST", "/api/v1/kiosks/pair", "admin", pairBody), 404, "not_found")

		g := e.must(200, e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+secret+`"}`))
		tok1, _ := g["token"].(string)
		if !strings.HasPrefix(tok1, "perchk_") || g["kiosk"].(map[string]any)["room_id"] != spree || g["kiosk"].(map[string]any)["kind"] != "room" {
			t.Fatalf("token: %v", g)
		}
		room := e.must(200, e.req("GET", "/api/v1/kiosk/room", "token:"+tok1, ""))
		if room["id"] != spree || room["state"] != "free" || room["timezone"] != "Europe/Berlin" || len(room["today"].([]any)) != 0 {
			t.Fatalf("room: %v", room)
		}
		me := e.must(200, e.req("GET", "/api/v1/me", "token:"+tok1, ""))
		if me["role"] != "kiosk" || me["name"] != "Door panel · Spree" || me["id"] != k["user_id"] {
			t.Fatalf("me: %v", me)
		}
		// The secret is no bearer token.
		e.problemCode(e.req("GET", "/api/v1/kiosk/room", "token:"+secret, ""), 401, "unauthorized")

		// A second exchange: only the new token works.
		tok2 := e.must(200, e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+secret+`"}`))["token"].(string)
		if tok2 == tok1 {
			t.Fatal("the same token twice")
		}
		e.problemCode(e.req("GET", "/api/v1/kiosk/room", "token:"+tok1, ""), 401, "unauthorized")
		e.must(200, e.req("GET", "/api/v1/kiosk/room", "token:"+tok2, ""))

		// The admin's list: online (it just exchanged a token).
		items := e.must(200, e.req("GET", "/api/v1/kiosks", "admin", ""))["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["online"] != true || items[0].(map[string]any)["id"] != id {
			t.Fatalf("list: %v", items)
		}
		if strings.Contains(string(e.req("GET", "/api/v1/kiosks", "admin", "").Body), "hash") {
			t.Fatal("the list shows hashes")
		}

		// Revoke: 204; the token and the secret stop working; the hubs are told.
		r = e.req("DELETE", "/api/v1/kiosks/"+id, "admin", "")
		if r.Status != 204 {
			t.Fatalf("revoke: %d %s", r.Status, r.Body)
		}
		e.problemCode(e.req("GET", "/api/v1/kiosk/room", "token:"+tok2, ""), 401, "unauthorized")
		e.problemCode(e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+secret+`"}`), 401, "unauthorized")
		evs := e.outboxOf(kiosk.EventKioskRevoked)
		if len(evs) != 1 {
			t.Fatalf("%d kiosk.revoked events, want 1", len(evs))
		}
		var payload map[string]any
		if err := json.Unmarshal([]byte(evs[0].Payload), &payload); err != nil || payload["kiosk_id"] != id ||
			evs[0].ResourceID == nil || *evs[0].ResourceID != spree || evs[0].SiteID == nil || *evs[0].SiteID != demo.SiteID ||
			evs[0].FloorID == nil || *evs[0].FloorID != demo.ID("floor", "0") {
			t.Fatalf("kiosk.revoked event: %+v (%v)", evs[0], err)
		}
		got := e.must(200, e.req("GET", "/api/v1/kiosks/"+id, "admin", ""))
		if got["status"] != "revoked" || got["online"] != false || got["revoked_at"] == nil {
			t.Fatalf("revoked kiosk: %v", got)
		}
		// Again: nothing changes, no second event.
		if r := e.req("DELETE", "/api/v1/kiosks/"+id, "admin", ""); r.Status != 204 || len(e.outboxOf(kiosk.EventKioskRevoked)) != 1 {
			t.Fatalf("revoke twice: %d, %d events", r.Status, len(e.outboxOf(kiosk.EventKioskRevoked)))
		}
	})
}

// Codes expire after 15 minutes; unknown codes are not found; a lobby
// kiosk is paired to a site.
func TestKioskPairingCodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		start := e.must(201, e.req("POST", "/api/v1/kiosks/pairing", "", "{}"))
		code, secret := start["pairing_code"].(string), start["device_secret"].(string)

		e.clock.Set(monday9.Add(15*time.Minute + time.Second))
		p := e.problemCode(e.req("POST", "/api/v1/kiosks/pair", "admin", `{"pairing_code":"`+code+`","kind":"lobby","site_id":"`+demo.SiteID+`"}`), 404, "not_found")
		if !strings.Contains(p["detail"].(string), "expire") {
			t.Fatalf("expired code: %v", p)
		}
		p = e.problemCode(e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+secret+`"}`), 401, "unauthorized")
		if !strings.Contains(p["detail"].(string), "expired") {
			t.Fatalf("expired pairing: %v", p)
		}
		unknown := "ACDEFG"
		if unknown == code {
			unknown = "GFEDCA"
		}
		e.problemCode(e.req("POST", "/api/v1/kiosks/pair", "admin", `{"pairing_code":"`+unknown+`","kind":"lobby","site_id":"`+demo.SiteID+`"}`), 404, "not_found")

		// A fresh start clears the expired device; a lobby kiosk.
		start = e.must(201, e.req("POST", "/api/v1/kiosks/pairing", "", ""))
		k := e.must(200, e.req("POST", "/api/v1/kiosks/pair", "admin",
			`{"pairing_code":"`+start["pairing_code"].(string)+`","kind":"lobby","site_id":"`+demo.SiteID+`"}`))
		if k["kind"] != "lobby" || k["site_id"] != demo.SiteID || k["room_id"] != nil || k["name"] != "Lobby · Berlin HQ" {
			t.Fatalf("lobby kiosk: %v", k)
		}
		if items := e.must(200, e.req("GET", "/api/v1/kiosks", "admin", ""))["items"].([]any); len(items) != 1 {
			t.Fatalf("the expired device was not cleared: %v", items)
		}
		tok := e.must(200, e.req("POST", "/api/v1/kiosks/token", "", `{"device_secret":"`+start["device_secret"].(string)+`"}`))["token"].(string)
		p2, err := e.kiosks.Authenticate(context.Background(), tok)
		if err != nil || p2.SiteID != demo.SiteID || p2.RoomID != "" || p2.KioskID != k["id"] || p2.Role != users.RoleKiosk {
			t.Fatalf("lobby principal: %+v %v", p2, err)
		}
		// A named room kiosk.
		start = e.must(201, e.req("POST", "/api/v1/kiosks/pairing", "", ""))
		k = e.must(200, e.req("POST", "/api/v1/kiosks/pair", "admin",
			`{"pairing_code":"`+start["pairing_code"].(string)+`","kind":"room","room_id":"`+demo.ID("room", "Havel")+`","site_id":"`+demo.SiteID+`","name":"Havel, east door"}`))
		if k["name"] != "Havel, east door" || k["site_id"] != demo.SiteID {
			t.Fatalf("named kiosk: %v", k)
		}
	})
}

// Online means seen within the last 60 seconds.
func TestKioskListShowsOnline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		ctx := context.Background()
		_, a := e.pairKiosk("room", demo.ID("room", "Spree"))
		_, b := e.pairKiosk("lobby", demo.SiteID)
		if _, err := e.kiosks.StartPairing(ctx); err != nil { // one still waiting
			t.Fatal(err)
		}
		if err := e.kiosks.Touch(ctx, a, monday9.Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		online := func() map[string]any {
			out := map[string]any{}
			for _, it := range e.must(200, e.req("GET", "/api/v1/kiosks?limit=2", "admin", ""))["items"].([]any) {
				m := it.(map[string]any)
				out[m["id"].(string)] = m["online"]
			}
			return out
		}
		e.clock.Set(monday9.Add(80 * time.Second))
		if got := online(); got[a] != true || got[b] != false {
			t.Fatalf("at +80 s: %v", got)
		}
		e.clock.Set(monday9.Add(91 * time.Second))
		if got := online(); got[a] != false || got[b] != false {
			t.Fatalf("at +91 s: %v", got)
		}
		// Pages: two paired, then the waiting one.
		l := e.must(200, e.req("GET", "/api/v1/kiosks?limit=2", "admin", ""))
		next := l["next_cursor"].(string)
		rest := e.must(200, e.req("GET", "/api/v1/kiosks?limit=2&cursor="+next, "admin", ""))["items"].([]any)
		if len(rest) != 1 || rest[0].(map[string]any)["status"] != "pending" || rest[0].(map[string]any)["kind"] != nil {
			t.Fatalf("second page: %v", rest)
		}
		if err := e.kiosks.Revoke(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := e.kiosks.Touch(ctx, a, monday9); err == nil {
			t.Fatal("a revoked kiosk was touched")
		}
	})
}

// The door: book now (never past the next booking), check in the meeting,
// extend (never into the next booking), end early — each on the kiosk's own
// room only.
func TestKioskDoorActions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		spree, havel := demo.ID("room", "Spree"), demo.ID("room", "Havel")
		door, _ := e.pairKiosk("room", spree)
		other, _ := e.pairKiosk("room", havel)
		as := "token:" + door
		roomJSON := func(start, end time.Time, title string) string {
			return fmt.Sprintf(`{"resource_type":"room","resource_id":"%s","start":"%s","end":"%s","title":"%s"}`,
				spree, start.Format(time.RFC3339), end.Format(time.RFC3339), title)
		}
		meeting := e.must(201, e.req("POST", "/api/v1/bookings", "employee", roomJSON(berlinAt(23, 9, 20), berlinAt(23, 10, 0), "Standup")))
		e.must(201, e.req("POST", "/api/v1/bookings", "admin", roomJSON(berlinAt(23, 10, 30), berlinAt(23, 11, 0), "Review")))

		// Nothing to check in, extend or end yet.
		e.problemCode(e.req("POST", "/api/v1/kiosk/check-in", as, ""), 409, "conflict")
		e.problemCode(e.req("POST", "/api/v1/kiosk/extend", as, `{"minutes":15}`), 409, "conflict")
		e.problemCode(e.req("POST", "/api/v1/kiosk/end-early", as, ""), 409, "conflict")

		// Book now for 30 minutes at 09:00: it ends at 09:20, where the next begins.
		r := e.req("POST", "/api/v1/kiosk/book-now", as, `{"minutes":30}`)
		now := e.must(201, r)
		b := now["booking"].(map[string]any)
		if b["resource_id"] != spree || b["title"] != "Booked at the door" || b["status"] != "checked_in" ||
			b["start"] != monday9.UTC().Format(time.RFC3339) || b["end"] != berlinAt(23, 9, 20).UTC().Format(time.RFC3339) ||
			now["walk_up"] != true || now["check_in"].(map[string]any)["method"] != "kiosk" ||
			r.Header.Get("Location") != "/api/v1/bookings/"+b["id"].(string) {
			t.Fatalf("book now: %v", now)
		}
		// Busy now: 409 with a sentence.
		p := e.problemCode(e.req("POST", "/api/v1/kiosk/book-now", as, `{"minutes":15}`), 409, "booking_conflict")
		if !strings.Contains(p["detail"].(string), "Spree") {
			t.Fatalf("busy: %v", p)
		}
		// Another room's kiosk books its own room, never this one.
		h := e.must(201, e.req("POST", "/api/v1/kiosk/book-now", "token:"+other, `{"minutes":15}`))["booking"].(map[string]any)
		if h["resource_id"] != havel || h["end"] != monday9.Add(15*time.Minute).UTC().Format(time.RFC3339) {
			t.Fatalf("Havel's kiosk booked %v", h)
		}
		// It may not end Spree's meeting either: end-early at Havel ends Havel's.
		if v := e.must(200, e.req("POST", "/api/v1/kiosk/end-early", "token:"+other, "")); v["resource_id"] != havel {
			t.Fatalf("Havel's kiosk ended %v", v)
		}
		room := e.must(200, e.req("GET", "/api/v1/kiosk/room", as, ""))
		if room["state"] != "checked_in" || len(room["today"].([]any)) != 3 {
			t.Fatalf("Spree after Havel's actions: %v", room)
		}

		// End the door booking early: free until the standup.
		ended := e.must(200, e.req("POST", "/api/v1/kiosk/end-early", as, ""))
		if ended["id"] != b["id"] || ended["status"] != "completed" || ended["status_reason"] != "checked_out" {
			t.Fatalf("end early: %v", ended)
		}
		room = e.must(200, e.req("GET", "/api/v1/kiosk/room", as, ""))
		if room["state"] != "free" || room["free_until"] != berlinAt(23, 9, 20).UTC().Format(time.RFC3339) {
			t.Fatalf("after end early: %v", room)
		}

		// 09:10: the standup's check-in window is open (from 09:05).
		e.clock.Set(berlinAt(23, 9, 10))
		ci := e.must(201, e.req("POST", "/api/v1/kiosk/check-in", as, ""))
		if ci["booking"].(map[string]any)["id"] != meeting["id"] || ci["booking"].(map[string]any)["status"] != "checked_in" ||
			ci["check_in"].(map[string]any)["method"] != "kiosk" {
			t.Fatalf("check in: %v", ci)
		}
		e.clock.Set(berlinAt(23, 9, 30))
		if again := e.req("POST", "/api/v1/kiosk/check-in", as, "{}"); again.Status != 200 || again.json(t)["already"] != true {
			t.Fatalf("check in again: %d %s", again.Status, again.Body)
		}

		// Extend by an hour would run into the review at 10:30: refused, named.
		p = e.problemCode(e.req("POST", "/api/v1/kiosk/extend", as, `{"minutes":60}`), 409, "booking_conflict")
		if d := p["detail"].(string); !strings.Contains(d, "10:30") || p["details"].(map[string]any)["conflicting_start"] != berlinAt(23, 10, 30).UTC().Format(time.RFC3339) {
			t.Fatalf("extend into the next booking: %v", p)
		}
		r = e.req("POST", "/api/v1/kiosk/extend", as, `{"minutes":30}`)
		x := e.must(200, r)
		if x["id"] != meeting["id"] || x["end"] != berlinAt(23, 10, 30).UTC().Format(time.RFC3339) || x["etag"] != `"3"` || r.Header.Get("ETag") != `"3"` {
			t.Fatalf("extend: %v", x)
		}
		upd := e.outboxOf(booking.EventUpdated)
		if len(upd) != 1 || *upd[0].BookingID != meeting["id"] {
			t.Fatalf("booking.updated events: %+v", upd)
		}
		// Back to back with the review: no more room to extend.
		e.problemCode(e.req("POST", "/api/v1/kiosk/extend", as, `{"minutes":15}`), 409, "booking_conflict")

		// End early: the room turns free.
		e.clock.Set(berlinAt(23, 9, 45))
		ended = e.must(200, e.req("POST", "/api/v1/kiosk/end-early", as, ""))
		if ended["id"] != meeting["id"] || ended["status"] != "completed" || ended["end"] != berlinAt(23, 9, 45).UTC().Format(time.RFC3339) {
			t.Fatalf("end early: %v", ended)
		}
		room = e.must(200, e.req("GET", "/api/v1/kiosk/room", as, ""))
		if room["state"] != "free" || room["free_until"] != berlinAt(23, 10, 30).UTC().Format(time.RFC3339) {
			t.Fatalf("after the meeting ended: %v", room)
		}
		// The owner sees it completed, checked out at the door.
		if g := e.must(200, e.req("GET", "/api/v1/bookings/"+meeting["id"].(string), "employee", "")); g["status"] != "completed" || g["status_reason"] != "checked_out" {
			t.Fatalf("the standup: %v", g)
		}
		var methods []string
		e.db.Conn(context.Background()).Table("check_ins").Where("resource_id = ?", spree).Order("checked_in_at").Pluck("checkout_method", &methods)
		if strings.Join(methods, ",") != "kiosk,kiosk" {
			t.Fatalf("check-out methods %v", methods)
		}
	})
}

// A meeting nobody checked into, ended at the door, is cancelled from now;
// the door booking respects the bookable hours.
func TestKioskDoorUncheckedMeetingAndHours(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		spree := demo.ID("room", "Spree")
		door, _ := e.pairKiosk("room", spree)
		as := "token:" + door
		m := e.must(201, e.req("POST", "/api/v1/bookings", "employee", fmt.Sprintf(`{"resource_type":"room","resource_id":"%s","start":"%s","end":"%s"}`,
			spree, berlinAt(23, 9, 0).Format(time.RFC3339), berlinAt(23, 10, 0).Format(time.RFC3339))))
		e.clock.Set(berlinAt(23, 9, 5))
		ended := e.must(200, e.req("POST", "/api/v1/kiosk/end-early", as, ""))
		if ended["id"] != m["id"] || ended["status"] != "cancelled" || ended["status_reason"] != "ended_at_door" ||
			ended["end"] != berlinAt(23, 9, 5).UTC().Format(time.RFC3339) {
			t.Fatalf("end early unchecked: %v", ended)
		}
		if st := e.must(200, e.req("GET", "/api/v1/kiosk/room", as, ""))["state"]; st != "free" {
			t.Fatalf("state %v after end early", st)
		}
		// 19:40: an hour would run past 20:00; it ends at closing time.
		e.clock.Set(berlinAt(23, 19, 40))
		b := e.must(201, e.req("POST", "/api/v1/kiosk/book-now", as, `{"minutes":60}`))["booking"].(map[string]any)
		if b["end"] != berlinAt(23, 20, 0).UTC().Format(time.RFC3339) {
			t.Fatalf("book now before closing: %v", b)
		}
		// After hours: refused by the policy.
		e.clock.Set(berlinAt(23, 20, 30))
		e.problemCode(e.req("POST", "/api/v1/kiosk/book-now", as, `{"minutes":15}`), 422, "policy_bookable_hours")
		// Saturday: closed.
		e.clock.Set(berlinAt(28, 10, 0))
		e.problemCode(e.req("POST", "/api/v1/kiosk/book-now", as, `{"minutes":15}`), 422, "policy_closed_day")
	})
}

// Only a paired room kiosk acts at a door: lobby kiosks, the demo's kiosk
// account, people and revoked kiosks are refused.
func TestKioskDoorActionsForbidden(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		door, doorID := e.pairKiosk("room", demo.ID("room", "Spree"))
		before := e.counts()
		routes := []struct{ method, path, body string }{
			{"GET", "/api/v1/kiosk/room", ""},
			{"POST", "/api/v1/kiosk/book-now", `{"minutes":15}`},
			{"POST", "/api/v1/kiosk/check-in", ""},
			{"POST", "/api/v1/kiosk/extend", `{"minutes":15}`},
			{"POST", "/api/v1/kiosk/end-early", ""},
		}
		for _, r := range routes {
			for _, as := range []string{"token:" + lobby, "kiosk", "admin", "employee", "reception"} {
				e.problemCode(e.req(r.method, r.path, as, r.body), 403, "forbidden")
			}
			e.problemCode(e.req(r.method, r.path, "token:perchk_not-a-real-token", r.body), 401, "unauthorized")
		}
		if err := e.kiosks.Revoke(context.Background(), doorID); err != nil {
			t.Fatal(err)
		}
		for _, r := range routes {
			e.problemCode(e.req(r.method, r.path, "token:"+door, r.body), 401, "unauthorized")
		}
		if after := e.counts(); !maps.Equal(before, after) {
			t.Fatalf("refused door actions wrote something: %v, %v", before, after)
		}
	})
}

// Bad input to the kiosk endpoints: a 4xx problem naming the field, and
// nothing written.
func TestKioskBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		door, _ := e.pairKiosk("room", demo.ID("room", "Spree"))
		live, err := e.kiosks.StartPairing(context.Background()) // a code still waiting
		if err != nil {
			t.Fatal(err)
		}
		code := live.PairingCode
		room := demo.ID("room", "Spree")
		pair := func(fields string) string { return `{"pairing_code":"` + code + `",` + fields + `}` }
		unknownCode := "YYYYYY"
		if code == unknownCode {
			unknownCode = "XXXXXX"
		}
		cases := []struct {
			name, as, method, path, body string
			status                       int
			code, field                  string
		}{
			{"pairing: unknown field", "", "POST", "/api/v1/kiosks/pairing", `{"name":"x"}`, 400, "validation_failed", "name"},
			{"pairing: not JSON", "", "POST", "/api/v1/kiosks/pairing", `{`, 400, "validation_failed", ""},
			{"pair: no code", "admin", "POST", "/api/v1/kiosks/pair", `{"kind":"room","room_id":"` + room + `"}`, 400, "validation_failed", "pairing_code"},
			{"pair: malformed code", "admin", "POST", "/api/v1/kiosks/pair", `{"pairing_code":"12","kind":"room","room_id":"` + room + `"}`, 400, "validation_failed", "pairing_code"},
			{"pair: code not a string", "admin", "POST", "/api/v1/kiosks/pair", `{"pairing_code":123456,"kind":"room"}`, 400, "validation_failed", "pairing_code"},
			{"pair: no kind", "admin", "POST", "/api/v1/kiosks/pair", pair(`"room_id":"` + room + `"`), 400, "validation_failed", "kind"},
			{"pair: bad kind", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"desk","room_id":"` + room + `"`), 400, "validation_failed", "kind"},
			{"pair: room without room_id", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room"`), 400, "validation_failed", "room_id"},
			{"pair: room_id not an id", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"Spree"`), 400, "validation_failed", "room_id"},
			{"pair: unknown room", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"` + database.NewID() + `"`), 400, "validation_failed", "room_id"},
			{"pair: room of another site", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"` + room + `","site_id":"` + database.NewID() + `"`), 400, "validation_failed", "site_id"},
			{"pair: lobby with a room", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"lobby","room_id":"` + room + `","site_id":"` + demo.SiteID + `"`), 400, "validation_failed", "room_id"},
			{"pair: lobby without site", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"lobby"`), 400, "validation_failed", "site_id"},
			{"pair: unknown site", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"lobby","site_id":"` + database.NewID() + `"`), 400, "validation_failed", "site_id"},
			{"pair: control characters in name", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"` + room + `","name":"a\u0007b"`), 400, "validation_failed", "name"},
			{"pair: name too long", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"` + room + `","name":"` + strings.Repeat("n", 201) + `"`), 400, "validation_failed", "name"},
			{"pair: null name", "admin", "POST", "/api/v1/kiosks/pair", pair(`"kind":"room","room_id":"` + room + `","name":null`), 400, "validation_failed", "name"},
			{"pair: unknown code", "admin", "POST", "/api/v1/kiosks/pair", `{"pairing_code":"` + unknownCode + `","kind":"lobby","site_id":"` + demo.SiteID + `"}`, 404, "not_found", ""},
			{"token: no secret", "", "POST", "/api/v1/kiosks/token", `{}`, 400, "validation_failed", "device_secret"},
			{"token: secret not a string", "", "POST", "/api/v1/kiosks/token", `{"device_secret":42}`, 400, "validation_failed", "device_secret"},
			{"token: unknown field", "", "POST", "/api/v1/kiosks/token", `{"device_secret":"perchd_x","kiosk_id":"x"}`, 400, "validation_failed", "kiosk_id"},
			{"token: unknown secret", "", "POST", "/api/v1/kiosks/token", `{"device_secret":"perchd_unknown"}`, 401, "unauthorized", ""},
			{"token: a user token as secret", "", "POST", "/api/v1/kiosks/token", `{"device_secret":"` + e.tokens[users.RoleAdmin] + `"}`, 401, "unauthorized", ""},
			{"token: form body", "", "POST", "/api/v1/kiosks/token", `device_secret=x`, 415, "unsupported_media_type", ""},
			{"list: limit zero", "admin", "GET", "/api/v1/kiosks?limit=0", "", 400, "validation_failed", "limit"},
			{"list: forged cursor", "admin", "GET", "/api/v1/kiosks?cursor=eyJrIjoxfQ", "", 400, "validation_failed", "cursor"},
			{"get: bad id", "admin", "GET", "/api/v1/kiosks/k1", "", 400, "validation_failed", "id"},
			{"get: unknown", "admin", "GET", "/api/v1/kiosks/" + database.NewID(), "", 404, "not_found", ""},
			{"revoke: bad id", "admin", "DELETE", "/api/v1/kiosks/k1", "", 400, "validation_failed", "id"},
			{"revoke: unknown", "admin", "DELETE", "/api/v1/kiosks/" + database.NewID(), "", 404, "not_found", ""},
			{"book-now: no minutes", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{}`, 400, "validation_failed", "minutes"},
			{"book-now: no body", "token:" + door, "POST", "/api/v1/kiosk/book-now", ``, 400, "validation_failed", ""},
			{"book-now: 20 minutes", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":20}`, 400, "validation_failed", "minutes"},
			{"book-now: negative", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":-15}`, 400, "validation_failed", "minutes"},
			{"book-now: minutes as text", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":"15"}`, 400, "validation_failed", "minutes"},
			{"book-now: fraction", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":15.5}`, 400, "validation_failed", "minutes"},
			{"book-now: null minutes", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":null}`, 400, "validation_failed", "minutes"},
			{"book-now: no room parameter", "token:" + door, "POST", "/api/v1/kiosk/book-now", `{"minutes":15,"room_id":"` + demo.ID("room", "Havel") + `"}`, 400, "validation_failed", "room_id"},
			{"extend: 45 minutes", "token:" + door, "POST", "/api/v1/kiosk/extend", `{"minutes":45}`, 400, "validation_failed", "minutes"},
			{"extend: no minutes", "token:" + door, "POST", "/api/v1/kiosk/extend", `{"until":"10:00"}`, 400, "validation_failed", "until"},
			{"check-in: unknown field", "token:" + door, "POST", "/api/v1/kiosk/check-in", `{"booking_id":"x"}`, 400, "validation_failed", "booking_id"},
			{"end-early: not an object", "token:" + door, "POST", "/api/v1/kiosk/end-early", `[1]`, 400, "validation_failed", ""},
		}
		kiosks := func() int64 {
			var n int64
			e.db.Conn(context.Background()).Table("kiosks").Count(&n)
			return n
		}
		before, beforeKiosks := e.counts(), kiosks()
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				var hdr []string
				if c.name == "token: form body" {
					hdr = []string{"Content-Type", "application/x-www-form-urlencoded"}
				}
				r := e.req(c.method, c.path, c.as, c.body, hdr...)
				p := e.problemCode(r, c.status, c.code)
				if c.field != "" && p["field"] != c.field {
					t.Errorf("field %v, want %s (%v)", p["field"], c.field, p["detail"])
				}
			})
		}
		if after := e.counts(); !maps.Equal(before, after) || kiosks() != beforeKiosks {
			t.Fatalf("bad input wrote something: before %v, after %v", before, after)
		}
		// The waiting code still pairs.
		e.must(200, e.req("POST", "/api/v1/kiosks/pair", "admin", pair(`"kind":"room","room_id":"`+room+`"`)))
	})
}

// Deleting a room or a site takes its kiosks with it, and their open
// sockets are closed on every replica (a kiosk.revoked event each); a
// refused delete changes nothing.
func TestDeletingAPlaceRevokesItsKiosks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		floor := demo.ID("floor", "0")
		room := e.must(201, e.req("POST", "/api/v1/floors/"+floor+"/rooms", "admin",
			`{"name":"Temp","capacity":4,"x":10,"y":10,"width":100,"height":100}`))["id"].(string)
		doorToken, doorID := e.pairKiosk("room", room)
		site := e.must(201, e.req("POST", "/api/v1/sites", "admin", `{"name":"Pop-up","timezone":"Europe/Berlin"}`))["id"].(string)
		lobbyToken, lobbyID := e.pairKiosk("lobby", site)

		// A room with an upcoming booking is not deleted: no event.
		spreeToken, _ := e.pairKiosk("room", demo.ID("room", "Spree"))
		start := time.Now().UTC().Add(48 * time.Hour).Truncate(time.Hour)
		e.must(201, e.req("POST", "/api/v1/bookings", "employee", fmt.Sprintf(
			`{"resource_type":"room","resource_id":%q,"start":%q,"end":%q}`, demo.ID("room", "Spree"),
			start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))))
		e.problemCode(e.req("DELETE", "/api/v1/rooms/"+demo.ID("room", "Spree"), "admin", ""), 409, "conflict")
		if n := len(e.outboxOf(kiosk.EventKioskRevoked)); n != 0 {
			t.Fatalf("%d kiosk.revoked events after a refused delete", n)
		}
		e.must(200, e.req("GET", "/api/v1/kiosk/room", "token:"+spreeToken, ""))

		for _, c := range []struct{ path, token, kioskID string }{
			{"/api/v1/rooms/" + room, doorToken, doorID},
			{"/api/v1/sites/" + site, lobbyToken, lobbyID},
		} {
			if r := e.req("DELETE", c.path, "admin", ""); r.Status != 204 {
				t.Fatalf("delete %s: %d %s", c.path, r.Status, r.Body)
			}
			e.problemCode(e.req("GET", "/api/v1/me", "token:"+c.token, ""), 401, "unauthorized")
			evs := e.outboxOf(kiosk.EventKioskRevoked)
			if len(evs) == 0 || !strings.Contains(evs[len(evs)-1].Payload, c.kioskID) {
				t.Fatalf("after deleting %s: events %+v, want one revoking %s", c.path, evs, c.kioskID)
			}
		}
	})
}

package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/visitors"
)

var (
	emilID = demo.ID("user", demo.EmployeeEmail)
	rosaID = demo.ID("user", demo.ReceptionEmail)
	adaID  = demo.ID("user", "ada.arndt@example.com")
)

// inviteJSON is a visit body for the demo site at the given time.
func inviteJSON(host string, at time.Time, name, email string) string {
	h := ""
	if host != "" {
		h = `"host_id":"` + host + `",`
	}
	return fmt.Sprintf(`{"site_id":"%s",%s"expected_at":"%s","visitor":{"name":"%s","email":"%s","company":"Acme GmbH"},"purpose":"Interview"}`,
		demo.SiteID, h, at.Format(time.RFC3339), name, email)
}

// invite creates a visit as role and returns it.
func (e *env) invite(as, host string, at time.Time, name, email string) map[string]any {
	e.t.Helper()
	return e.must(201, e.req("POST", "/api/v1/visits", as, inviteJSON(host, at, name, email)))
}

func payloadOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatalf("payload %q: %v", raw, err)
	}
	return m
}

// onSiteNames lists the names on the on-site list.
func (e *env) onSiteNames() []string {
	e.t.Helper()
	o := e.must(200, e.req("GET", "/api/v1/sites/"+demo.SiteID+"/on-site", "reception", ""))
	var names []string
	for _, f := range o["floors"].([]any) {
		for _, p := range f.(map[string]any)["people"].([]any) {
			names = append(names, p.(map[string]any)["name"].(string))
		}
	}
	return names
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// The whole visit: a host invites, the invite QR checks the visitor in at
// the lobby kiosk, the host's event is in the outbox, the badge prints, the
// on-site list shows them until they check out at the kiosk with the badge.
func TestVisitFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		v := e.invite("employee", "", berlinAt(23, 10, 30), "Grace Hopper", "Grace.Hopper@Example.com")
		id := v["id"].(string)
		code, _ := v["invite_code"].(string)
		if v["status"] != "expected" || v["host_id"] != emilID || v["host_name"] != "Emil Engel" || len(code) < 26 ||
			v["visitor"].(map[string]any)["email"] != "grace.hopper@example.com" {
			t.Fatalf("invite: %v", v)
		}
		inv := v["invitation"].(map[string]any)
		text := inv["text"].(string)
		for _, want := range []string{"Hello Grace", "Emil Engel", "Berlin HQ", "Monday, 23 March 2026 at 10:30 (Europe/Berlin)", code} {
			if !strings.Contains(text, want) {
				t.Errorf("invitation text lacks %q:\n%s", want, text)
			}
		}
		// The QR decodes to the invite code.
		png := e.req("GET", "/api/v1/visits/"+id+"/invite.png", "employee", "")
		if png.Status != 200 || png.Header.Get("Content-Type") != "image/png" || decodeQR(t, png.Body) != code {
			t.Fatalf("invite.png: %d", png.Status)
		}

		// A lobby kiosk of the site scans it (as a URL, upper case: both work).
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		r := e.must(201, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"https://perch.example/v/`+strings.ToUpper(code)+`"}`))
		kv := r["visit"].(map[string]any)
		if r["result"] != "checked_in" || kv["name"] != "Grace H." || kv["company"] != "Acme GmbH" || kv["host_name"] != "Emil Engel" {
			t.Fatalf("kiosk check-in: %v", r)
		}
		// Again: already checked in, no second event.
		if r := e.must(200, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+code+`"}`)); r["result"] != "already_checked_in" {
			t.Fatalf("again: %v", r)
		}
		evs := e.outboxOf(visitors.EventArrived)
		if len(evs) != 1 || evs[0].UserID == nil || *evs[0].UserID != emilID || evs[0].SiteID == nil || *evs[0].SiteID != demo.SiteID {
			t.Fatalf("visitor.arrived events: %+v", evs)
		}
		p := payloadOf(t, evs[0].Payload)
		if p["visit_id"] != id || p["visitor"] != "Grace Hopper" || p["company"] != "Acme GmbH" || p["site_id"] != demo.SiteID ||
			p["checked_in_at"] != monday9.UTC().Format(time.RFC3339) {
			t.Fatalf("visitor.arrived payload: %v", p)
		}

		// The badge: for the host, reception and the lobby kiosk.
		badge := e.req("GET", "/api/v1/visits/"+id+"/badge", "token:"+lobby, "")
		body := string(badge.Body)
		if badge.Status != 200 || !strings.HasPrefix(badge.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "Grace Hopper") || !strings.Contains(body, "Acme GmbH") || !strings.Contains(body, "Emil Engel") ||
			!strings.Contains(body, "size: 86mm 54mm") || !strings.Contains(body, "Mon 23 Mar 2026") {
			t.Fatalf("badge: %d %s", badge.Status, body)
		}
		if a4 := e.req("GET", "/api/v1/visits/"+id+"/badge?paper=a4", "employee", ""); a4.Status != 200 || !strings.Contains(string(a4.Body), "size: A4") {
			t.Fatalf("A4 badge: %d", a4.Status)
		}
		badgeCode := badgeCodeOf(t, e, body)

		// On site until they leave.
		if names := e.onSiteNames(); !contains(names, "Grace Hopper") {
			t.Fatalf("on site: %v", names)
		}
		e.clock.Set(monday9.Add(2 * time.Hour))
		out := e.must(200, e.req("POST", "/api/v1/kiosk/visits/check-out", "token:"+lobby, `{"code":"`+badgeCode+`"}`))
		if out["result"] != "checked_out" {
			t.Fatalf("check-out: %v", out)
		}
		if names := e.onSiteNames(); contains(names, "Grace Hopper") {
			t.Fatalf("still on site: %v", names)
		}
		got := e.must(200, e.req("GET", "/api/v1/visits/"+id, "employee", ""))
		if got["status"] != "checked_out" || got["checkout_method"] != "kiosk" {
			t.Fatalf("after check-out: %v", got)
		}
		if evs := e.outboxOf(visitors.EventCheckedOut); len(evs) != 1 || *evs[0].UserID != emilID {
			t.Fatalf("visitor.checked_out events: %+v", evs)
		}
		if strings.Contains(e.logs.String(), "Grace") || strings.Contains(e.logs.String(), "grace.hopper") {
			t.Fatal("visitor personal data in the log")
		}
	})
}

// badgeCodeOf reads the badge's QR code back from the badge page.
func badgeCodeOf(t *testing.T, e *env, page string) string {
	t.Helper()
	i := strings.Index(page, "data:image/png;base64,")
	if i < 0 {
		t.Fatal("badge has no QR image")
	}
	rest := page[i+len("data:image/png;base64,"):]
	rest = rest[:strings.IndexByte(rest, '"')]
	return decodeQR(t, decodeB64(t, html.UnescapeString(rest)))
}

// Who sees which visit: employees only their own (someone else's is a 404),
// reception and admins all; employees invite only for themselves.
func TestVisitAccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		mine := e.invite("employee", emilID, berlinAt(24, 10, 0), "Alan Turing", "alan@example.com")["id"].(string)
		theirs := e.invite("reception", adaID, berlinAt(24, 11, 0), "Barbara Liskov", "barbara@example.com")["id"].(string)
		e.problemCode(e.req("POST", "/api/v1/visits", "employee", inviteJSON(adaID, berlinAt(24, 10, 0), "X Y", "x@example.com")), 403, "forbidden")

		e.must(200, e.req("GET", "/api/v1/visits/"+mine, "employee", ""))
		for _, path := range []string{"/api/v1/visits/" + theirs, "/api/v1/visits/" + theirs + "/invite.png", "/api/v1/visits/" + theirs + "/badge"} {
			e.problemCode(e.req("GET", path, "employee", ""), 404, "not_found")
		}
		e.problemCode(e.req("PATCH", "/api/v1/visits/"+theirs, "employee", `{"purpose":"x"}`), 404, "not_found")
		e.problemCode(e.req("DELETE", "/api/v1/visits/"+theirs, "employee", ""), 404, "not_found")
		for _, role := range []string{"reception", "admin"} {
			e.must(200, e.req("GET", "/api/v1/visits/"+theirs, role, ""))
		}

		list := e.must(200, e.req("GET", "/api/v1/visits?site_id="+demo.SiteID+"&date=2026-03-24", "employee", ""))["items"].([]any)
		if len(list) != 1 || list[0].(map[string]any)["id"] != mine {
			t.Fatalf("employee's list: %v", list)
		}
		e.problemCode(e.req("GET", "/api/v1/visits?host_id="+adaID, "employee", ""), 403, "forbidden")
		list = e.must(200, e.req("GET", "/api/v1/visits?site_id="+demo.SiteID+"&date=2026-03-24", "reception", ""))["items"].([]any)
		if len(list) != 2 {
			t.Fatalf("reception's list: %v", list)
		}
		if l := e.must(200, e.req("GET", "/api/v1/visits?site_id="+demo.SiteID+"&date=2026-03-25", "reception", ""))["items"].([]any); len(l) != 0 {
			t.Fatalf("another day: %v", l)
		}

		// Reschedule and cancel: the host may, a cancelled visit cannot be changed.
		up := e.must(200, e.req("PATCH", "/api/v1/visits/"+mine, "employee", `{"expected_at":"2026-03-25T14:00:00+01:00","visitor":{"name":"Alan M. Turing","email":"alan@example.com"}}`))
		if up["expected_at"] != "2026-03-25T13:00:00Z" || up["visitor"].(map[string]any)["name"] != "Alan M. Turing" || up["version"] != float64(2) {
			t.Fatalf("patch: %v", up)
		}
		e.problemCode(e.req("PATCH", "/api/v1/visits/"+mine, "employee", `{"host_id":"`+adaID+`"}`), 403, "forbidden")
		if r := e.req("DELETE", "/api/v1/visits/"+mine, "employee", ""); r.Status != 204 {
			t.Fatalf("cancel: %d %s", r.Status, r.Body)
		}
		e.problemCode(e.req("PATCH", "/api/v1/visits/"+mine, "employee", `{"purpose":"x"}`), 409, "conflict")
		if g := e.must(200, e.req("GET", "/api/v1/visits/"+mine, "admin", "")); g["status"] != "cancelled" {
			t.Fatalf("cancelled: %v", g)
		}
	})
}

// The lobby kiosk: name search (first name + initial, case-insensitive,
// today only), only its own site, door kiosks and people refused.
func TestLobbyKioskSearchAndScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		today := e.invite("reception", emilID, berlinAt(23, 15, 0), "Željko Öztürk", "z@example.com")["id"].(string)
		e.invite("reception", emilID, berlinAt(24, 15, 0), "Željko Tomorrow", "t@example.com")
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		door, _ := e.pairKiosk("room", demo.ID("room", "Spree"))
		for _, q := range []string{"ŽELJKO", "öztürk", "acme"} {
			items := e.must(200, e.req("GET", "/api/v1/kiosk/visits/expected?q="+urlQuery(q), "token:"+lobby, ""))["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["id"] != today || items[0].(map[string]any)["name"] != "Željko Ö." ||
				items[0].(map[string]any)["company"] != "Acme GmbH" {
				t.Fatalf("q=%s: %v", q, items)
			}
			if _, ok := items[0].(map[string]any)["email"]; ok {
				t.Fatal("the kiosk sees the email")
			}
		}
		if items := e.must(200, e.req("GET", "/api/v1/kiosk/visits/expected?q=zzz", "token:"+lobby, ""))["items"].([]any); len(items) != 0 {
			t.Fatalf("no match: %v", items)
		}
		e.problemCode(e.req("GET", "/api/v1/kiosk/visits/expected?q=%25", "token:"+lobby, ""), 400, "validation_failed")
		e.problemCode(e.req("GET", "/api/v1/kiosk/visits/expected?q=acme", "token:"+door, ""), 403, "forbidden")
		e.problemCode(e.req("GET", "/api/v1/kiosk/visits/expected?q=acme", "kiosk", ""), 403, "forbidden") // no paired device
		e.problemCode(e.req("GET", "/api/v1/kiosk/visits/expected?q=acme", "reception", ""), 403, "forbidden")

		hosts := e.must(200, e.req("GET", "/api/v1/kiosk/hosts?q=eng", "token:"+lobby, ""))["items"].([]any)
		if len(hosts) != 1 || hosts[0].(map[string]any)["name"] != "Emil Engel" || len(hosts[0].(map[string]any)) != 2 {
			t.Fatalf("hosts: %v", hosts)
		}

		// Another site's lobby kiosk cannot check this visitor in.
		other := e.must(201, e.req("POST", "/api/v1/sites", "admin", `{"name":"Hamburg","timezone":"Europe/Berlin"}`))["id"].(string)
		otherLobby, _ := e.pairKiosk("lobby", other)
		e.problemCode(e.req("POST", "/api/v1/kiosk/visits/"+today+"/check-in", "token:"+otherLobby, ""), 404, "not_found")
		e.problemCode(e.req("GET", "/api/v1/visits/"+today+"/badge", "token:"+otherLobby, ""), 404, "not_found")
		// By id at its own kiosk.
		if r := e.must(201, e.req("POST", "/api/v1/kiosk/visits/"+today+"/check-in", "token:"+lobby, "")); r["result"] != "checked_in" {
			t.Fatalf("by id: %v", r)
		}
	})
}

func urlQuery(s string) string {
	return strings.NewReplacer(" ", "%20").Replace(s)
}

// Documents: every current version must be accepted; a new version must be
// accepted again; acceptances are recorded with version and time.
func TestVisitorDocuments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		site := "/api/v1/sites/" + demo.SiteID
		nda := e.must(201, e.req("POST", site+"/visitor-documents", "admin", `{"title":"NDA","body":"Keep it secret."}`))
		ndaID := nda["id"].(string)
		e.problemCode(e.req("POST", site+"/visitor-documents", "reception", `{"title":"X","body":"y"}`), 403, "forbidden")
		v2 := e.must(201, e.req("POST", "/api/v1/visitor-documents/"+ndaID+"/versions", "admin", `{"body":"Keep it very secret."}`))
		if v2["current_version"] != float64(2) || v2["body"] != "Keep it very secret." {
			t.Fatalf("version 2: %v", v2)
		}
		e.must(201, e.req("POST", site+"/visitor-documents", "admin", `{"title":"Safety rules","body":"Follow the green signs."}`))
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		docs := e.must(200, e.req("GET", "/api/v1/kiosk/visitor-documents", "token:"+lobby, ""))["items"].([]any)
		if len(docs) != 2 || docs[0].(map[string]any)["title"] != "NDA" || docs[0].(map[string]any)["version"] != float64(2) {
			t.Fatalf("kiosk documents: %v", docs)
		}
		safetyID := docs[1].(map[string]any)["document_id"].(string)

		code := e.invite("employee", "", berlinAt(23, 10, 0), "Ada Lovelace", "ada@example.org")["invite_code"].(string)
		p := e.problemCode(e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+code+`"}`), 422, visitors.EDocumentsRequired)
		if p["field"] != "accepted" || len(p["details"].(map[string]any)["documents"].([]any)) != 2 {
			t.Fatalf("documents required: %v", p)
		}
		old := fmt.Sprintf(`[{"document_id":"%s","version":1},{"document_id":"%s","version":1}]`, ndaID, safetyID)
		e.problemCode(e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+code+`","accepted":`+old+`}`), 422, visitors.EDocumentsRequired)
		if n := len(e.outboxOf(visitors.EventArrived)); n != 0 {
			t.Fatalf("%d arrivals after refusals", n)
		}
		cur := fmt.Sprintf(`[{"document_id":"%s","version":2},{"document_id":"%s","version":1}]`, ndaID, safetyID)
		e.must(201, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+code+`","accepted":`+cur+`}`))
		x := e.must(200, e.req("GET", "/api/v1/privacy/visitors?email=ada@example.org", "admin", ""))
		accs := x["visits"].([]any)[0].(map[string]any)["acceptances"].([]any)
		if len(accs) != 2 || accs[0].(map[string]any)["accepted_at"] != monday9.UTC().Format(time.RFC3339) {
			t.Fatalf("acceptances: %v", accs)
		}
		for _, a := range accs {
			if a.(map[string]any)["document_id"] == ndaID && a.(map[string]any)["version"] != float64(2) {
				t.Fatalf("NDA accepted in version %v", a)
			}
		}
	})
}

// The watchlist: a match (by email or name, any case) is not checked in,
// the kiosk answers neutrally, reception gets visitor.flagged; walk-ins too.
func TestWatchlist(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		w := e.must(201, e.req("POST", "/api/v1/watchlist", "admin", `{"email":"Mallory@Example.com","reason":"Banned"}`))
		e.must(201, e.req("POST", "/api/v1/watchlist", "admin", `{"name":"Eve  Dropper"}`))
		e.problemCode(e.req("POST", "/api/v1/watchlist", "reception", `{"name":"x"}`), 403, "forbidden")
		e.problemCode(e.req("POST", "/api/v1/watchlist", "admin", `{"reason":"nobody"}`), 400, "validation_failed")
		if l := e.must(200, e.req("GET", "/api/v1/watchlist", "admin", ""))["items"].([]any); len(l) != 2 {
			t.Fatalf("watchlist: %v", l)
		}
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		v := e.invite("employee", "", berlinAt(23, 10, 0), "Mal Lory", "mallory@example.com")
		r := e.must(200, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+v["invite_code"].(string)+`"}`))
		if r["result"] != "see_reception" || r["visit"] != nil || strings.Contains(string(e.req("GET", "/", "", "").Body), "flag") {
			t.Fatalf("flagged answer: %v", r)
		}
		if g := e.must(200, e.req("GET", "/api/v1/visits/"+v["id"].(string), "reception", "")); g["status"] != "flagged" || g["checked_in_at"] != nil {
			t.Fatalf("flagged visit: %v", g)
		}
		// Walk-in by name, in another spelling (flagged even before accepting
		// the site's documents).
		nda := e.must(201, e.req("POST", "/api/v1/sites/"+demo.SiteID+"/visitor-documents", "admin", `{"title":"NDA","body":"Keep it secret."}`))["id"].(string)
		accepted := `"accepted":[{"document_id":"` + nda + `","version":1}]`
		r = e.must(200, e.req("POST", "/api/v1/kiosk/visits/walk-in", "token:"+lobby, `{"visitor":{"name":"eve dropper"},"host_id":"`+emilID+`"}`))
		if r["result"] != "see_reception" {
			t.Fatalf("walk-in flagged: %v", r)
		}
		evs := e.outboxOf(visitors.EventFlagged)
		if len(evs) != 2 || evs[0].UserID != nil || *evs[0].SiteID != demo.SiteID {
			t.Fatalf("visitor.flagged: %+v", evs)
		}
		p := payloadOf(t, evs[0].Payload)
		if p["visit_id"] != v["id"] || p["visitor"] != "Mal Lory" || p["email"] != nil || p["reason"] != nil {
			t.Fatalf("flagged payload: %v", p)
		}
		if len(e.outboxOf(visitors.EventArrived)) != 0 || contains(e.onSiteNames(), "Mal Lory") {
			t.Fatal("a watchlisted visitor got in")
		}
		// Reception decides to let the flagged visitor in.
		e.problemCode(e.req("POST", "/api/v1/visits/"+v["id"].(string)+"/check-in", "employee", ""), 403, "forbidden")
		e.problemCode(e.req("POST", "/api/v1/visits/"+v["id"].(string)+"/check-in", "reception", ""), 422, visitors.EDocumentsRequired)
		in := e.must(200, e.req("POST", "/api/v1/visits/"+v["id"].(string)+"/check-in", "reception", `{`+accepted+`}`))
		if in["status"] != "checked_in" || len(e.outboxOf(visitors.EventArrived)) != 1 {
			t.Fatalf("reception check-in: %v", in)
		}
		e.must(200, e.req("POST", "/api/v1/visits/"+v["id"].(string)+"/check-out", "reception", ""))
		// Deleting the entry: the next one gets in.
		if r := e.req("DELETE", "/api/v1/watchlist/"+w["id"].(string), "admin", ""); r.Status != 204 {
			t.Fatalf("delete: %d", r.Status)
		}
		v2 := e.invite("employee", "", berlinAt(23, 11, 0), "Mal Lory", "mallory@example.com")
		e.must(201, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+v2["invite_code"].(string)+`",`+accepted+`}`))
		if n := len(e.outboxOf(visitors.EventArrived)); n != 2 {
			t.Fatalf("%d arrivals, want 2", n)
		}
	})
}

// Walk-ins, reception's check-out, the end-of-day worker.
func TestWalkInAndAutoCheckOut(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		r := e.must(201, e.req("POST", "/api/v1/kiosk/visits/walk-in", "token:"+lobby, `{"visitor":{"name":"Linus Torvalds","company":"Kernel"},"host_id":"`+adaID+`"}`))
		walkID := r["visit"].(map[string]any)["id"].(string)
		e.problemCode(e.req("POST", "/api/v1/kiosk/visits/walk-in", "token:"+lobby, `{"visitor":{"name":"X"},"host_id":"`+demo.ID("user", demo.KioskEmail)+`"}`), 400, "validation_failed")
		code := e.invite("reception", emilID, berlinAt(23, 9, 30), "Ken Thompson", "ken@example.com")["invite_code"].(string)
		e.must(201, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+code+`"}`))
		if names := e.onSiteNames(); !contains(names, "Linus Torvalds") || !contains(names, "Ken Thompson") {
			t.Fatalf("on site: %v", names)
		}
		// Reception checks one out.
		out := e.must(200, e.req("POST", "/api/v1/visits/"+walkID+"/check-out", "reception", ""))
		if out["status"] != "checked_out" || out["checkout_method"] != "reception" || out["walk_in"] != true {
			t.Fatalf("reception check-out: %v", out)
		}
		e.problemCode(e.req("POST", "/api/v1/visits/"+walkID+"/check-out", "employee", ""), 403, "forbidden")
		// The worker: nothing before the day ends, then the rest.
		ctx := context.Background()
		e.clock.Set(berlinAt(23, 23, 59))
		if n, err := e.vis.AutoCheckOut(ctx); err != nil || n != 0 {
			t.Fatalf("before midnight: %d %v", n, err)
		}
		e.clock.Set(berlinAt(24, 0, 1))
		if n, err := e.vis.AutoCheckOut(ctx); err != nil || n != 1 {
			t.Fatalf("after midnight: %d %v", n, err)
		}
		if n, _ := e.vis.AutoCheckOut(ctx); n != 0 {
			t.Fatal("checked out twice")
		}
		if names := e.onSiteNames(); len(names) != 0 {
			t.Fatalf("on site after the day: %v", names)
		}
		evs := e.outboxOf(visitors.EventCheckedOut)
		if len(evs) != 2 || payloadOf(t, evs[1].Payload)["method"] != "auto" || *evs[1].UserID != emilID {
			t.Fatalf("checked_out events: %+v", evs)
		}
	})
}

// Retention: after the site's period a visit's personal data is gone, the
// visit still counts; export and erase by email.
func TestVisitorRetentionAndPrivacy(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		ctx := context.Background()
		set := e.must(200, e.req("GET", "/api/v1/sites/"+demo.SiteID+"/visitor-settings", "reception", ""))
		if set["retention_days"] != float64(30) {
			t.Fatalf("default settings: %v", set)
		}
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		v := e.invite("employee", "", berlinAt(23, 10, 0), "Grace Hopper", "grace@example.com")
		id := v["id"].(string)
		e.must(201, e.req("POST", "/api/v1/kiosk/visits/check-in", "token:"+lobby, `{"code":"`+v["invite_code"].(string)+`"}`))
		rc := e.must(201, e.req("POST", "/api/v1/sites/"+demo.SiteID+"/roll-calls", "reception", ""))
		e.must(200, e.req("POST", "/api/v1/visits/"+id+"/check-out", "reception", ""))
		other := e.invite("employee", "", berlinAt(24, 10, 0), "Other Person", "other@example.com")["id"].(string)

		// Day 29: nothing yet.
		e.clock.Set(monday9.AddDate(0, 0, 29))
		if n, err := e.vis.AnonymiseExpired(ctx); err != nil || n != 0 {
			t.Fatalf("day 29: %d %v", n, err)
		}
		// Day 31: Grace is gone; the visit still counts.
		e.clock.Set(monday9.AddDate(0, 0, 31))
		if n, err := e.vis.AnonymiseExpired(ctx); err != nil || n != 1 {
			t.Fatalf("day 31: %d %v", n, err)
		}
		g := e.must(200, e.req("GET", "/api/v1/visits/"+id, "admin", ""))
		if g["anonymised"] != true || g["visitor"].(map[string]any)["name"] != "" || g["visitor"].(map[string]any)["email"] != "" ||
			g["status"] != "checked_out" || g["host_id"] != emilID || g["site_id"] != demo.SiteID {
			t.Fatalf("anonymised visit: %v", g)
		}
		var n int64
		e.db.Conn(ctx).Table("visits").Where("site_id = ?", demo.SiteID).Count(&n)
		if n != 2 {
			t.Fatalf("%d visits, want 2 (rows stay)", n)
		}
		for _, kind := range []string{visitors.EventArrived, visitors.EventCheckedOut} {
			for _, ev := range e.outboxOf(kind) {
				if strings.Contains(ev.Payload, "Grace") {
					t.Fatalf("%s still names the visitor: %s", kind, ev.Payload)
				}
			}
		}
		if strings.Contains(string(e.req("GET", "/api/v1/roll-calls/"+rc["id"].(string), "reception", "").Body), "Grace") {
			t.Fatal("the roll call still names the visitor")
		}
		if x := e.must(200, e.req("GET", "/api/v1/privacy/visitors?email=grace@example.com", "admin", "")); len(x["visits"].([]any)) != 0 {
			t.Fatalf("export after retention: %v", x)
		}

		// A shorter period per site.
		e.must(200, e.req("PUT", "/api/v1/sites/"+demo.SiteID+"/visitor-settings", "admin", `{"retention_days":7}`))
		// Export and erase one person.
		x := e.must(200, e.req("GET", "/api/v1/privacy/visitors?email=Other@Example.com", "admin", ""))
		if vs := x["visits"].([]any); len(vs) != 1 || vs[0].(map[string]any)["id"] != other {
			t.Fatalf("export: %v", x)
		}
		e.problemCode(e.req("GET", "/api/v1/privacy/visitors?email=other@example.com", "reception", ""), 403, "forbidden")
		if r := e.must(200, e.req("DELETE", "/api/v1/privacy/visitors?email=other@example.com", "admin", "")); r["anonymised_visits"] != float64(1) {
			t.Fatalf("erase: %v", r)
		}
		if g := e.must(200, e.req("GET", "/api/v1/visits/"+other, "admin", "")); g["visitor"].(map[string]any)["name"] != "" || g["anonymised"] != true {
			t.Fatalf("erased: %v", g)
		}
	})
}

// On site and a roll call: employees checked in at desks by floor,
// visitors in the lobby, CSV; marking people safe.
func TestOnSiteAndRollCall(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		b := e.must(201, e.req("POST", "/api/v1/bookings", "employee", bookingJSON("1C-01", berlinAt(23, 9, 0), berlinAt(23, 17, 0))))
		e.must(201, e.req("POST", "/api/v1/bookings/"+b["id"].(string)+"/check-in", "employee", ""))
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		e.must(201, e.req("POST", "/api/v1/kiosk/visits/walk-in", "token:"+lobby, `{"visitor":{"name":"=cmd|' /C calc'!A0","company":"Evil"},"host_id":"`+emilID+`"}`))

		o := e.must(200, e.req("GET", "/api/v1/sites/"+demo.SiteID+"/on-site", "admin", ""))
		floors := o["floors"].([]any)
		if o["total"] != float64(2) || o["visitors"] != float64(1) || len(floors) != 2 {
			t.Fatalf("on site: %v", o)
		}
		f0 := floors[0].(map[string]any)
		if f0["floor_id"] != demo.ID("floor", "0") || f0["people"].([]any)[0].(map[string]any)["name"] != "Emil Engel" ||
			f0["people"].([]any)[0].(map[string]any)["where"] != "1C-01" {
			t.Fatalf("first floor group: %v", f0)
		}
		if lobbyGroup := floors[1].(map[string]any); lobbyGroup["floor_id"] != nil || lobbyGroup["floor_name"] != visitors.LobbyFloor {
			t.Fatalf("lobby group: %v", lobbyGroup)
		}
		csv := e.req("GET", "/api/v1/sites/"+demo.SiteID+"/on-site?format=csv", "reception", "")
		if csv.Status != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(string(csv.Body), "Emil Engel") || !strings.Contains(string(csv.Body), `'=cmd`) {
			t.Fatalf("csv: %d %s", csv.Status, csv.Body)
		}
		e.problemCode(e.req("GET", "/api/v1/sites/"+demo.SiteID+"/on-site", "employee", ""), 403, "forbidden")

		rc := e.must(201, e.req("POST", "/api/v1/sites/"+demo.SiteID+"/roll-calls", "reception", ""))
		rcID := rc["id"].(string)
		if rc["total"] != float64(2) || rc["missing"] != float64(2) {
			t.Fatalf("roll call: %v", rc)
		}
		m := e.must(200, e.req("POST", "/api/v1/roll-calls/"+rcID+"/marks", "reception", `{"person_type":"user","person_id":"`+emilID+`","safe":true}`))
		if m["safe"] != float64(1) || m["missing"] != float64(1) {
			t.Fatalf("marked: %v", m)
		}
		e.problemCode(e.req("POST", "/api/v1/roll-calls/"+rcID+"/marks", "reception", `{"person_type":"user","person_id":"`+adaID+`","safe":true}`), 400, "validation_failed")
		c := e.must(200, e.req("POST", "/api/v1/roll-calls/"+rcID+"/close", "admin", ""))
		if c["closed_at"] == nil {
			t.Fatalf("closed: %v", c)
		}
		e.problemCode(e.req("POST", "/api/v1/roll-calls/"+rcID+"/marks", "reception", `{"person_type":"user","person_id":"`+emilID+`"}`), 409, "conflict")
	})
}

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64: %v", err)
	}
	return b
}

// Bad input at the lobby kiosk: a 4xx naming the field, nothing written.
func TestLobbyKioskBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db)
		e.clock.Set(monday9)
		lobby, _ := e.pairKiosk("lobby", demo.SiteID)
		code := e.invite("employee", "", berlinAt(23, 10, 0), "Ada Lovelace", "ada@example.org")["invite_code"].(string)
		tomorrow := e.invite("employee", "", berlinAt(24, 10, 0), "Bob Later", "bob@example.org")["invite_code"].(string)
		before := e.counts()
		cases := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"no code", "POST", "/api/v1/kiosk/visits/check-in", `{}`, 400, "validation_failed", "code"},
			{"code of nothing", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"` + strings.Repeat("z", 26) + `"}`, 404, "not_found", ""},
			{"garbage code", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"'; DROP TABLE visits; --"}`, 404, "not_found", ""},
			{"code for tomorrow", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"` + tomorrow + `"}`, 409, "conflict", ""},
			{"bad document id", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"` + code + `","accepted":[{"document_id":"nda","version":1}]}`, 400, "validation_failed", "accepted[0].document_id"},
			{"unknown document", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"` + code + `","accepted":[{"document_id":"` + database.NewID() + `","version":1}]}`, 400, "validation_failed", "accepted"},
			{"version not a number", "POST", "/api/v1/kiosk/visits/check-in", `{"code":"` + code + `","accepted":[{"document_id":"x","version":"one"}]}`, 400, "validation_failed", "accepted.version"},
			{"unknown visit", "POST", "/api/v1/kiosk/visits/" + database.NewID() + "/check-in", ``, 404, "not_found", ""},
			{"walk-in without visitor", "POST", "/api/v1/kiosk/visits/walk-in", `{"host_id":"` + emilID + `"}`, 400, "validation_failed", "visitor"},
			{"walk-in without host", "POST", "/api/v1/kiosk/visits/walk-in", `{"visitor":{"name":"A B"}}`, 400, "validation_failed", "host_id"},
			{"walk-in unknown host", "POST", "/api/v1/kiosk/visits/walk-in", `{"visitor":{"name":"A B"},"host_id":"` + database.NewID() + `"}`, 400, "validation_failed", "host_id"},
			{"walk-in blank name", "POST", "/api/v1/kiosk/visits/walk-in", `{"visitor":{"name":"  "},"host_id":"` + emilID + `"}`, 400, "validation_failed", "visitor.name"},
			{"check-out without code", "POST", "/api/v1/kiosk/visits/check-out", `{}`, 400, "validation_failed", "code"},
			{"check-out with an invite code", "POST", "/api/v1/kiosk/visits/check-out", `{"code":"` + code + `"}`, 404, "not_found", ""},
			{"search too short", "GET", "/api/v1/kiosk/visits/expected?q=a", ``, 400, "validation_failed", "q"},
			{"hosts without q", "GET", "/api/v1/kiosk/hosts", ``, 400, "validation_failed", "q"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				e := e.with(t)
				p := e.problemCode(e.req(c.method, c.path, "token:"+lobby, c.body), c.status, c.code)
				if c.field != "" && p["field"] != c.field {
					t.Errorf("field %v, want %s", p["field"], c.field)
				}
			})
		}
		if after := e.counts(); fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("bad input wrote something: %v -> %v", before, after)
		}
		if n := len(e.outboxOf(visitors.EventArrived)); n != 0 {
			t.Fatalf("%d arrivals", n)
		}
	})
}

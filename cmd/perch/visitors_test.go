package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
)

// call sends a JSON request with a token and decodes the answer; want is
// the expected status.
func call(t *testing.T, method, url, token, body string, want int) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.StatusCode, want, raw)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

// The visitor flow on a running server: a host invites a visitor, the
// visitor checks in at the lobby kiosk with the invitation's code, and the
// host's own socket (/ws/me) is told at once — and so is reception's, while
// the lobby display's socket is not; reception checks them out, the host
// is told again, and they are gone from the on-site list.
func TestVisitorArrivalReachesTheHostsSocket(t *testing.T) {
	base, tokens, stop, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", t.TempDir()))
	defer stop()
	admin, host, reception := tokens["admin"], tokens["employee"], tokens["reception"]
	ws := "ws" + strings.TrimPrefix(base, "http")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A lobby kiosk of the demo site.
	p := post(t, base+"/api/v1/kiosks/pairing", "", "", 201)
	post(t, base+"/api/v1/kiosks/pair", admin, `{"pairing_code":"`+p["pairing_code"].(string)+`","kind":"lobby","site_id":"`+demo.SiteID+`","name":"Lobby"}`, 200)
	lobby := post(t, base+"/api/v1/kiosks/token", "", `{"device_secret":"`+p["device_secret"].(string)+`"}`, 200)["token"].(string)

	dial := func(path, token string) *client.Conn {
		c, err := client.Dial(ctx, nil, ws+path, token, -1)
		if err != nil {
			t.Fatalf("dial %s: %v", path, err)
		}
		t.Cleanup(func() { c.Close() })
		if m, err := c.Next(ctx); err != nil || m.Type != "snapshot" {
			t.Fatalf("%s: first message %+v %v", path, m, err)
		}
		return c
	}
	hostSock, receptionSock, lobbySock := dial("/ws/me", host), dial("/ws/me", reception), dial("/ws/kiosk", lobby)

	// The host invites; the visitor checks in at the lobby with the code.
	at := time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	v := call(t, "POST", base+"/api/v1/visits", host, `{"site_id":"`+demo.SiteID+`","expected_at":"`+at+`",
		"visitor":{"name":"Grace Hopper","email":"grace@example.com","company":"Acme"}}`, 201)
	visit := v["id"].(string)
	docs := call(t, "GET", base+"/api/v1/kiosk/visitor-documents", lobby, "", 200)["items"].([]any)
	accepted := []map[string]any{}
	for _, d := range docs {
		d := d.(map[string]any)
		accepted = append(accepted, map[string]any{"document_id": d["document_id"], "version": d["version"]})
	}
	acc, _ := json.Marshal(accepted)
	in := call(t, "POST", base+"/api/v1/kiosk/visits/check-in", lobby, `{"code":"`+v["invite_code"].(string)+`","accepted":`+string(acc)+`}`, 201)
	if in["result"] != "checked_in" {
		t.Fatalf("check-in: %v", in)
	}

	expect := func(c *client.Conn, who, kind string) {
		t.Helper()
		m, err := c.Next(ctx)
		if err != nil || m.Type != "delta" || m.Kind != kind || !strings.Contains(string(m.Event), visit) {
			t.Fatalf("%s's socket: %+v %v, want %s of visit %s", who, m, err, kind, visit)
		}
	}
	expect(hostSock, "the host", "visitor.arrived")
	expect(receptionSock, "reception", "visitor.arrived")

	// On site until reception checks them out; the host is told again.
	onSite := call(t, "GET", base+"/api/v1/sites/"+demo.SiteID+"/on-site", reception, "", 200)
	if !strings.Contains(mustJSON(onSite), "Grace Hopper") {
		t.Fatalf("on-site without the visitor: %v", onSite)
	}
	call(t, "POST", base+"/api/v1/visits/"+visit+"/check-out", reception, "", 200)
	expect(hostSock, "the host", "visitor.checked_out")
	if strings.Contains(mustJSON(call(t, "GET", base+"/api/v1/sites/"+demo.SiteID+"/on-site", reception, "", 200)), "Grace Hopper") {
		t.Fatal("the visitor is still on site after checking out")
	}

	// The lobby display's site channel carried none of it: a booking of the
	// site is the next thing it sees.
	postBooking(t, base, admin, demo.ID("room", "Spree"), slotsFrom()())
	if m, err := lobbySock.Next(ctx); err != nil || !strings.HasPrefix(m.Kind, "booking.") {
		t.Fatalf("the lobby display got %+v %v, want the booking (no visitor events)", m, err)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

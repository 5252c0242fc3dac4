package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
)

// postBooking books a room through the HTTP API and returns the booking id.
func postBooking(t *testing.T, base, token, room string, start time.Time) string {
	t.Helper()
	body := fmt.Sprintf(`{"resource_type":"room","resource_id":"%s","start":"%s","end":"%s"}`,
		room, start.Format(time.RFC3339), start.Add(30*time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest("POST", base+"/api/v1/bookings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		t.Fatalf("book: %d %s", res.StatusCode, b)
	}
	var v struct{ ID string }
	_ = json.Unmarshal(b, &v)
	return v.ID
}

// slotsFrom returns free half-hour slots on the next weekday, 08:00 onwards.
func slotsFrom() func() time.Time {
	loc, _ := time.LoadLocation("Europe/Berlin")
	d := time.Now().In(loc).AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	next := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, loc)
	return func() time.Time { t := next; next = next.Add(30 * time.Minute); return t }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Two replicas on one PostgreSQL: a door display connected to B sees a
// booking made through A; B goes away (its sockets closed with 1001) and
// comes back while bookings go on through A, and the display, resuming,
// misses none of them and gets none twice.
func TestTwoReplicasPushAndResume(t *testing.T) {
	dbURL := dbtest.URL(t)
	baseA, tokens, stopA, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbURL, "PERCH_DEMO", "true"))
	defer stopA()
	addrB := freeAddr(t)
	envB := envOf("PERCH_ADDR", addrB, "PERCH_DATABASE_URL", dbURL, "PERCH_DEMO", "false")
	_, _, stopB, _ := startPerch(t, envB)
	admin := tokens["admin"]
	spree := demo.ID("room", "Spree")
	slot := slotsFrom()

	var mu sync.Mutex
	var got []client.Message
	closes := make(chan error, 10)
	c := &client.Client{URL: "ws://" + addrB + "/ws/kiosk?room_id=" + spree, Token: admin,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		OnMessage:    func(m client.Message) { mu.Lock(); got = append(got, m); mu.Unlock() },
		OnDisconnect: func(err error) { closes <- err }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(ctx) }()
	waitFor(t, "the snapshot", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 })

	var want []string
	want = append(want, postBooking(t, baseA, admin, spree, slot()))
	waitFor(t, "the booking made on A to reach B's socket", func() bool { return len(deltaIDs(&mu, &got)) == 1 })

	// B stops: its socket closes with 1001 (going away).
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-closes:
		if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
			t.Fatalf("B's socket closed with %v, want 1001", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("B's socket was not closed")
	}
	// Bookings go on through A while B is down …
	for range 3 {
		want = append(want, postBooking(t, baseA, admin, spree, slot()))
	}
	// … B comes back on its address, the client resumes from its last seq.
	_, _, stopB2, _ := startPerch(t, envB)
	defer stopB2()
	want = append(want, postBooking(t, baseA, admin, spree, slot()))
	waitFor(t, "every booking to reach the resumed socket", func() bool { return len(deltaIDs(&mu, &got)) >= len(want) })
	if ids := deltaIDs(&mu, &got); strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("deltas %v, want exactly %v in order", ids, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(got); i++ {
		if got[i].Type == "delta" && got[i].Seq <= got[i-1].Seq {
			t.Fatalf("seq went backwards at %d: %d after %d", i, got[i].Seq, got[i-1].Seq)
		}
	}
}

// deltaIDs lists the booking ids of the delta messages received.
func deltaIDs(mu *sync.Mutex, got *[]client.Message) []string {
	mu.Lock()
	defer mu.Unlock()
	var ids []string
	for _, m := range *got {
		if m.Type != "delta" {
			continue
		}
		var p booking.EventPayload
		if json.Unmarshal(m.Event, &p) == nil {
			ids = append(ids, p.Booking.ID)
		}
	}
	return ids
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// post sends JSON and decodes the JSON answer.
func post(t *testing.T, url, token, body string, want int) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != want {
		t.Fatalf("POST %s: %d, want %d: %v", url, res.StatusCode, want, m)
	}
	return m
}

// A door kiosk pairs, opens its socket with its own token and is pushed
// its room's changes; when an admin revokes it, its open socket is closed
// at once (1008) and its token stops working.
func TestRevokedKioskIsDisconnected(t *testing.T) {
	base, tokens, stop, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", t.TempDir()))
	defer stop()
	admin := tokens["admin"]
	spree := demo.ID("room", "Spree")
	p := post(t, base+"/api/v1/kiosks/pairing", "", "", 201)
	post(t, base+"/api/v1/kiosks/token", "", `{"device_secret":"`+p["device_secret"].(string)+`"}`, 409)
	post(t, base+"/api/v1/kiosks/pair", admin, `{"pairing_code":"`+p["pairing_code"].(string)+`","kind":"room","room_id":"`+spree+`","name":"Spree door"}`, 200)
	tok := post(t, base+"/api/v1/kiosks/token", "", `{"device_secret":"`+p["device_secret"].(string)+`"}`, 200)["token"].(string)

	ws := "ws" + strings.TrimPrefix(base, "http") + "/ws/kiosk"
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, nil, ws, tok, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if m, err := c.Next(ctx); err != nil || m.Type != "snapshot" {
		t.Fatalf("snapshot: %+v %v", m, err)
	}
	id := postBooking(t, base, admin, spree, slotsFrom()())
	m, err := c.Next(ctx)
	if err != nil || m.Type != "delta" || !strings.Contains(string(m.Event), id) || len(m.State) == 0 {
		t.Fatalf("delta: %+v %v", m, err)
	}
	req, _ := http.NewRequest("DELETE", base+"/api/v1/kiosks/"+p["kiosk_id"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 204 {
		t.Fatalf("revoke: %v %v", res, err)
	}
	if _, err := c.Next(ctx); !errors.Is(err, client.ErrRevoked) {
		t.Fatalf("after revoke the socket said %v, want it closed as revoked", err)
	}
	if _, err := client.Dial(ctx, nil, ws, tok, -1); err == nil {
		t.Fatal("a revoked kiosk could open a socket")
	}
}

package kiosk_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/kiosk/client"
	"github.com/perch-hq/perch/users"
)

// live is a booking service, feed, hub and WebSocket server on a real
// database holding the demo office.
type live struct {
	t        *testing.T
	db       *database.DB
	bookings *booking.Service
	hub      *kiosk.Hub
	wsURL    string
	tokens   map[users.Role]string
}

func newLive(t *testing.T, db *database.DB) *live {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatal(err)
	}
	us := users.NewService(db)
	toks, err := demo.MintTokens(ctx, us)
	if err != nil {
		t.Fatal(err)
	}
	l := &live{t: t, db: db, tokens: map[users.Role]string{}}
	for _, tk := range toks {
		l.tokens[tk.Role] = tk.Token
	}
	var hub *kiosk.Hub
	feed := kiosk.NewFeed(db, func(ev []booking.Event) { hub.Dispatch(ev) }, kiosk.FeedOptions{Poll: 200 * time.Millisecond})
	l.bookings = booking.NewService(db, floorplans.NewService(db), booking.WithNotifier(feed))
	hub = kiosk.NewHub(db, l.bookings, func(ctx context.Context, tok string) (*users.Principal, error) {
		return us.Authenticate(ctx, tok)
	}, kiosk.HubOptions{})
	l.hub = hub
	if err := feed.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hub.SetLast(feed.Last())
	go feed.Run(ctx)
	srv := httptest.NewServer(hub.Handler())
	t.Cleanup(func() { hub.CloseAll(); srv.Close() })
	l.wsURL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return l
}

var berlin, _ = time.LoadLocation("Europe/Berlin")

// nextWeekday returns 10:00 Berlin on the next Monday–Friday at least a day ahead.
func nextWeekday(h int) time.Time {
	d := time.Now().In(berlin).AddDate(0, 0, 1)
	for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
		d = d.AddDate(0, 0, 1)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), h, 0, 0, 0, berlin)
}

func (l *live) book(typ booking.ResourceType, id string, hour int, who string) booking.View {
	l.t.Helper()
	p := &users.Principal{UserID: demo.ID("user", who), Role: users.RoleEmployee}
	start := nextWeekday(hour)
	res, err := l.bookings.Create(context.Background(), p, booking.CreateRequest{ResourceType: typ, ResourceID: id, Start: start, End: start.Add(time.Hour)}, nil)
	if err != nil {
		l.t.Fatalf("book: %v", err)
	}
	return res.Bookings[0]
}

func (l *live) dial(path, role string, since int64) *client.Conn {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, nil, l.wsURL+path, l.tokens[users.Role(role)], since)
	if err != nil {
		l.t.Fatalf("dial %s: %v", path, err)
	}
	l.t.Cleanup(func() { c.Close() })
	return c
}

func next(t *testing.T, c *client.Conn) client.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Next(ctx)
	if err != nil {
		t.Fatalf("next message: %v", err)
	}
	return m
}

// bookingOf reads the booking id of a delta.
func bookingOf(t *testing.T, m client.Message) string {
	var p booking.EventPayload
	if err := json.Unmarshal(m.Event, &p); err != nil {
		t.Fatalf("delta payload: %v", err)
	}
	return p.Booking.ID
}

// A floor map gets a snapshot, then each booking on its floor as it
// commits, in seq order; bookings elsewhere are not sent.
func TestFloorSnapshotThenDeltas(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		l := newLive(t, db)
		c := l.dial("/ws/floors/"+demo.ID("floor", "0"), "employee", -1)
		snap := next(t, c)
		if snap.Type != "snapshot" || len(snap.Availability) == 0 {
			t.Fatalf("first message %+v", snap)
		}
		var want []string
		for i, code := range []string{"1A-01", "1A-02"} {
			want = append(want, l.book(booking.Desk, demo.ID("desk", code), 10, []string{demo.EmployeeEmail, "ada.arndt@example.com"}[i]).ID)
			l.book(booking.Desk, demo.ID("desk", "2B-0"+fmt.Sprint(i+1)), 10, []string{"hanna.hahn@example.com", "karl.koch@example.com"}[i]) // first floor
		}
		want = append(want, l.book(booking.Room, demo.ID("room", "Spree"), 12, demo.EmployeeEmail).ID)
		seq := snap.Seq
		for _, id := range want {
			m := next(t, c)
			if m.Type != "delta" || m.Kind != booking.EventCreated || m.Seq <= seq || bookingOf(t, m) != id {
				t.Fatalf("delta %+v, want booking %s after seq %d", m, id, seq)
			}
			seq = m.Seq
		}
	})
}

// A door display that drops its connection and resumes with ?since= gets
// exactly the events it missed, in order, then the room's current state,
// then live deltas that carry the new state.
func TestDropAndResume(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		l := newLive(t, db)
		spree := demo.ID("room", "Spree")
		door := "/ws/kiosk?room_id=" + spree
		c := l.dial(door, "admin", -1)
		snap := next(t, c)
		if snap.Type != "snapshot" || len(snap.State) == 0 {
			t.Fatalf("snapshot %+v", snap)
		}
		c.Close()
		var missed []string
		for i, h := range []int{9, 11, 14} {
			missed = append(missed, l.book(booking.Room, spree, h, []string{demo.EmployeeEmail, "ada.arndt@example.com", "hanna.hahn@example.com"}[i]).ID)
		}
		l.book(booking.Room, demo.ID("room", "Havel"), 9, "karl.koch@example.com") // another room
		// Cancel the first: also an event of this room.
		if _, err := l.bookings.Cancel(context.Background(), &users.Principal{Role: users.RoleAdmin}, missed[0], ""); err != nil {
			t.Fatal(err)
		}
		c = l.dial(door, "admin", snap.Seq)
		// Exactly the missed events, in order. The replay covers what the
		// server had dispatched when the client registered and ends with the
		// room's state; anything committed later follows live.
		kinds := []string{booking.EventCreated, booking.EventCreated, booking.EventCreated, booking.EventCancelled}
		ids := append(append([]string{}, missed...), missed[0])
		seq := snap.Seq
		var st client.Message
		for i := 0; i < len(kinds); {
			m := next(t, c)
			if m.Seq < seq || (m.Type == "delta" && m.Seq == seq) {
				t.Fatalf("out of order or repeated: %+v after seq %d", m, seq)
			}
			seq = m.Seq
			if m.Type == "state" {
				st = m
				continue
			}
			if m.Type != "delta" || m.Kind != kinds[i] || bookingOf(t, m) != ids[i] {
				t.Fatalf("event %d: %+v", i, m)
			}
			i++
		}
		if st.Type == "" { // the replay held everything: its state comes last
			if st = next(t, c); st.Type != "state" || st.Seq < seq {
				t.Fatalf("after the replay: %+v", st)
			}
		}
		var room booking.ResourceNow
		if err := json.Unmarshal(st.State, &room); err != nil || room.Name != "Spree" {
			t.Fatalf("state %s", st.State)
		}
		// Live: a new booking arrives as a delta with the new state.
		id := l.book(booking.Room, spree, 16, "karl.koch@example.com").ID
		m := next(t, c)
		if m.Type != "delta" || bookingOf(t, m) != id || len(m.State) == 0 || m.Seq <= seq {
			t.Fatalf("live after resume: %+v", m)
		}
	})
}

// A client that fell further behind than the outbox keeps gets a fresh
// snapshot instead of a partial replay.
func TestResumeAfterPurgeGetsSnapshot(t *testing.T) {
	l := newLive(t, dbtest.OpenSQLite(t))
	spree := demo.ID("room", "Spree")
	l.book(booking.Room, spree, 9, demo.EmployeeEmail)
	l.book(booking.Room, spree, 10, "ada.arndt@example.com")
	if err := l.db.Conn(context.Background()).Exec("DELETE FROM outbox WHERE seq = (SELECT MIN(seq) FROM outbox)").Error; err != nil {
		t.Fatal(err)
	}
	c := l.dial("/ws/kiosk?room_id="+spree, "admin", 0)
	if m := next(t, c); m.Type != "snapshot" {
		t.Fatalf("got %+v, want a snapshot", m)
	}
}

// Browsers cannot send headers: the token may come as a subprotocol or as
// the first message. Without any, the socket is closed.
func TestWebSocketAuthentication(t *testing.T) {
	l := newLive(t, dbtest.OpenSQLite(t))
	floor := l.wsURL + "/ws/floors/" + demo.ID("floor", "0")
	d := websocket.Dialer{Subprotocols: []string{"perch", "bearer." + l.tokens[users.RoleEmployee]}}
	ws, resp, err := d.Dial(floor, nil)
	if err != nil {
		t.Fatalf("subprotocol token: %v", err)
	}
	if resp.Header.Get("Sec-WebSocket-Protocol") != "perch" {
		t.Errorf("selected subprotocol %q", resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	var m client.Message
	if err := ws.ReadJSON(&m); err != nil || m.Type != "snapshot" {
		t.Fatalf("subprotocol: %+v %v", m, err)
	}
	ws.Close()

	ws, _, err = websocket.DefaultDialer.Dial(floor, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteJSON(map[string]string{"type": "auth", "token": l.tokens[users.RoleEmployee]})
	if err := ws.ReadJSON(&m); err != nil || m.Type != "snapshot" {
		t.Fatalf("first-message auth: %+v %v", m, err)
	}
	ws.Close()

	ws, _, err = websocket.DefaultDialer.Dial(floor, nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws.WriteJSON(map[string]string{"type": "auth", "token": "perch_wrong"})
	_, _, err = ws.ReadMessage()
	if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		t.Fatalf("bad first-message token: %v", err)
	}
	ws.Close()

	// A bad handshake token is refused before the upgrade.
	_, resp, err = (&websocket.Dialer{}).Dial(floor, http.Header{"Authorization": {"Bearer perch_nope"}})
	if err == nil || resp.StatusCode != 401 {
		t.Fatalf("bad token: %v %v", err, resp)
	}
	// An employee may not watch a door.
	_, resp, err = (&websocket.Dialer{}).Dial(l.wsURL+"/ws/kiosk?room_id="+demo.ID("room", "Spree"),
		http.Header{"Authorization": {"Bearer " + l.tokens[users.RoleEmployee]}})
	if err == nil || resp.StatusCode != 403 {
		t.Fatalf("employee on /ws/kiosk: %v %v", err, resp)
	}
}

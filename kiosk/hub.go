// Package kiosk is Perch's live side: kiosk devices and their pairing, the
// room-door actions, and the WebSocket hub that pushes every committed
// booking change, read from the outbox, to door displays and floor maps.
// kiosk/client is a Go client of the WebSocket protocol.
package kiosk

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Authenticate resolves a bearer token to a principal (the API's rules:
// user tokens, kiosk tokens, the bootstrap token).
type Authenticate func(ctx context.Context, token string) (*users.Principal, error)

// Hub fans outbox events out to WebSocket connections by topic. It never
// waits for a connection: each has a bounded queue, and a connection whose
// queue is full is closed (its client resumes from its last seq).
type Hub struct {
	db       *database.DB
	bookings *booking.Service
	auth     Authenticate
	touch    func(ctx context.Context, kioskID string, at time.Time) error
	log      *slog.Logger

	mu    sync.Mutex
	conns map[*conn]struct{}
	last  int64 // seq of the last event dispatched
	done  bool

	states roomStates

	sent atomic.Int64 // WebSocket messages written, ever
}

// HubOptions configure a Hub.
type HubOptions struct {
	// Touch records a kiosk's heartbeat (Devices.Touch); optional.
	Touch  func(ctx context.Context, kioskID string, at time.Time) error
	Logger *slog.Logger
}

// NewHub returns a hub. Feed it with Dispatch (see Feed).
func NewHub(db *database.DB, bookings *booking.Service, auth Authenticate, o HubOptions) *Hub {
	h := &Hub{db: db, bookings: bookings, auth: auth, touch: o.Touch, log: o.Logger, conns: map[*conn]struct{}{}}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.states.m = map[string]*roomState{}
	return h
}

// SetLast positions the hub (the feed's start).
func (h *Hub) SetLast(seq int64) {
	h.mu.Lock()
	h.last = seq
	h.mu.Unlock()
}

// Connections counts open connections.
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// HubStats is a snapshot of the hub for metrics.
type HubStats struct {
	Connections  int   // open WebSocket connections
	MessagesSent int64 // messages written to sockets since the start (snapshots, deltas, states)
	Dispatched   int64 // seq of the last outbox event handed to the connections
}

// Stats returns the hub's counters (cheap; read at every metrics scrape).
func (h *Hub) Stats() HubStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return HubStats{Connections: len(h.conns), MessagesSent: h.sent.Load(), Dispatched: h.last}
}

// topics an event concerns.
func topicsOf(e *booking.Event) []string {
	var t []string
	if e.Kind == EventKioskRevoked {
		return []string{"kiosk:" + revokedKiosk(e)}
	}
	if e.UserID != nil {
		t = append(t, "user:"+*e.UserID)
	}
	if strings.HasPrefix(e.Kind, visitorEvents) {
		// Visitor news goes to the host and to reception, never to the
		// site's public displays.
		return append(t, topicReception)
	}
	if e.FloorID != nil {
		t = append(t, "floor:"+*e.FloorID)
	}
	if e.ResourceID != nil {
		t = append(t, "room:"+*e.ResourceID)
	}
	if e.SiteID != nil {
		t = append(t, "site:"+*e.SiteID)
	}
	// A moved booking also leaves its previous floor and resource.
	var p booking.EventPayload
	if json.Unmarshal([]byte(e.Payload), &p) == nil && p.Previous != nil {
		t = append(t, "floor:"+p.Previous.FloorID, "room:"+p.Previous.ResourceID)
	}
	return t
}

// revokedKiosk is the kiosk a kiosk.revoked event names.
func revokedKiosk(e *booking.Event) string {
	var p struct {
		KioskID string `json:"kiosk_id"`
	}
	_ = json.Unmarshal([]byte(e.Payload), &p)
	return p.KioskID
}

// visitorEvents prefixes the kinds package visitors writes
// (visitor.arrived, visitor.flagged, …).
const visitorEvents = "visitor."

// topicReception is every reception and admin /ws/me socket.
const topicReception = "reception"

// EventKioskRevoked is written by Devices.Revoke; the hub closes that
// kiosk's sockets on every replica.
const EventKioskRevoked = "kiosk.revoked"

// delta is a pushed event.
type delta struct {
	Type  string          `json:"type"`
	Seq   int64           `json:"seq"`
	Kind  string          `json:"kind"`
	At    time.Time       `json:"at"`
	Event json.RawMessage `json:"event"`
	State json.RawMessage `json:"state,omitempty"`
}

func encodeDelta(e *booking.Event) []byte {
	b, _ := json.Marshal(delta{Type: "delta", Seq: e.Seq, Kind: e.Kind, At: e.CreatedAt.UTC(), Event: json.RawMessage(e.Payload)})
	return b
}

// Dispatch hands events (in seq order, each once) to the connections
// subscribed to their topics.
func (h *Hub) Dispatch(events []booking.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := range events {
		e := &events[i]
		if e.Seq <= h.last {
			continue
		}
		h.last = e.Seq
		topics := topicsOf(e)
		var msg *out
		for c := range h.conns {
			if !c.wants(topics) {
				continue
			}
			if e.Kind == EventKioskRevoked {
				go c.close(closeRevoked, "the kiosk was revoked")
				continue
			}
			if msg == nil {
				msg = &out{seq: e.Seq, data: encodeDelta(e), roomChange: e.ResourceID != nil}
			}
			if !c.push(msg) {
				h.log.Warn("websocket client too slow; disconnecting", "conn", c.id)
				delete(h.conns, c)
				go c.close(closeTooSlow, "too slow: resume with since")
			}
		}
	}
}

// register adds a connection and returns the seq it starts after.
func (h *Hub) register(c *conn) (int64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.done {
		return 0, false
	}
	h.conns[c] = struct{}{}
	return h.last, true
}

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// CloseAll closes every connection with 1001 (going away) and refuses new
// ones: clients resume on another replica.
func (h *Hub) CloseAll() {
	h.mu.Lock()
	h.done = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.conns = map[*conn]struct{}{}
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() { defer wg.Done(); c.close(closeGoingAway, "server shutting down") }()
	}
	wg.Wait()
}

// roomStates caches each room's door state by seq, so one change computes
// the state once however many displays show that room.
type roomStates struct {
	mu sync.Mutex
	m  map[string]*roomState
}

type roomState struct {
	mu   sync.Mutex
	seq  int64
	at   time.Time
	data json.RawMessage
}

// stateTTL bounds how long a cached door state is reused: a meeting may
// start or end with no event.
const stateTTL = 5 * time.Second

// doorViewer is who a door display shows the room to: privacy as for any
// colleague passing by.
var doorViewer = &users.Principal{Role: users.RoleKiosk}

// roomStateAt returns the room's state as of at least seq.
func (h *Hub) roomStateAt(ctx context.Context, roomID string, seq int64) (json.RawMessage, error) {
	h.states.mu.Lock()
	rs := h.states.m[roomID]
	if rs == nil {
		rs = &roomState{}
		h.states.m[roomID] = rs
	}
	h.states.mu.Unlock()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.data != nil && rs.seq >= seq && time.Since(rs.at) < stateTTL {
		return rs.data, nil
	}
	now, err := h.bookings.Now(ctx, doorViewer, booking.Room, roomID)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(now)
	if err != nil {
		return nil, err
	}
	rs.seq, rs.at, rs.data = seq, time.Now(), data
	return data, nil
}

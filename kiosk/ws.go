package kiosk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/users"
)

// Protocol timing.
const (
	pingEvery   = 25 * time.Second
	deadAfter   = 60 * time.Second // no pong for this long: the peer is gone
	writeWait   = 10 * time.Second
	authWait    = 10 * time.Second
	queueSize   = 64   // messages waiting for one client; more and it is cut off
	maxReplay   = 1000 // more missed events than this: a fresh snapshot instead
	touchEvery  = 30 * time.Second
	maxInbound  = 4096
	subprotocol = "perch"
)

// Close codes.
const (
	closeGoingAway = websocket.CloseGoingAway       // 1001: shutting down; resume elsewhere
	closeRevoked   = websocket.ClosePolicyViolation // 1008: the kiosk was revoked
	closeTooSlow   = websocket.CloseTryAgainLater   // 1013: the client fell behind; resume
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  512,
	WriteBufferSize: 1024,
	// Share write buffers between idle connections: a display idles most of
	// the time, so its memory is its goroutines and little else.
	WriteBufferPool: &sync.Pool{},
	Subprotocols:    []string{subprotocol},
	// Tokens, not cookies, authenticate sockets, so any origin may connect.
	CheckOrigin: func(*http.Request) bool { return true },
}

// out is one message queued for a connection (shared by every connection
// it goes to).
type out struct {
	seq        int64
	data       []byte
	roomChange bool

	mu sync.Mutex
	// byRoom holds data with a room's new state, built once per room
	// however many displays show it.
	byRoom map[string][]byte
}

// forRoom is the message for a display of roomID: with the room's state
// when the event changed a room.
func (m *out) forRoom(h *Hub, roomID string) []byte {
	if roomID == "" || !m.roomChange {
		return m.data
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, ok := m.byRoom[roomID]; ok {
		return d
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeWait)
	defer cancel()
	st, err := h.roomStateAt(ctx, roomID, m.seq)
	if err != nil {
		return m.data // the delta alone; the display asks again on its next change
	}
	if m.byRoom == nil {
		m.byRoom = map[string][]byte{}
	}
	d := withState(m.data, st)
	m.byRoom[roomID] = d
	return d
}

var connIDs atomic.Int64

// conn is one WebSocket client. An idle connection costs one goroutine
// (its reader, blocked in the poller) and a timer for its pings: messages
// wait in a bounded queue that a short-lived goroutine drains when there is
// something to send, so no writer goroutine sits idle per socket.
type conn struct {
	id     int64
	hub    *Hub
	ws     *websocket.Conn
	topics []string
	// roomID is set for door displays: deltas carry the room's new state.
	roomID  string
	kioskID string

	mu      sync.Mutex
	queue   []*out
	writing bool  // a goroutine is draining the queue (or the start is being sent)
	done    bool  // closed: nothing more is queued or sent
	sent    int64 // seq the client has; only the one writer touches it
	ping    *time.Timer

	closeOnce sync.Once
	closed    chan struct{}
}

func newConn(h *Hub, ws *websocket.Conn, topics []string) *conn {
	return &conn{id: connIDs.Add(1), hub: h, ws: ws, topics: topics, closed: make(chan struct{})}
}

func (c *conn) wants(topics []string) bool {
	for _, t := range topics {
		for _, mine := range c.topics {
			if t == mine {
				return true
			}
		}
	}
	return false
}

// push queues m without waiting; false when the queue is full (the client
// is too slow). It starts a writer when none is running.
func (c *conn) push(m *out) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return true
	}
	if len(c.queue) >= queueSize {
		return false
	}
	c.queue = append(c.queue, m)
	if !c.writing {
		c.writing = true
		go c.flush()
	}
	return true
}

// flush sends queued messages in order, skipping what the client already
// has, until the queue is empty. Only one flush runs at a time (writing).
func (c *conn) flush() {
	for {
		c.mu.Lock()
		if c.done || len(c.queue) == 0 {
			c.writing = false
			c.queue = nil // an idle connection keeps no buffer
			c.mu.Unlock()
			return
		}
		m := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.mu.Unlock()
		if m.seq <= c.sent {
			continue
		}
		if err := c.write(m.forRoom(c.hub, c.roomID)); err != nil {
			c.close(websocket.CloseGoingAway, "")
			return
		}
		c.sent = m.seq
	}
}

// startPings pings the peer every pingEvery from a timer (no goroutine
// while waiting). WriteControl may run alongside the writer.
func (c *conn) startPings() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	c.ping = time.AfterFunc(pingEvery, func() {
		if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
			c.close(websocket.CloseGoingAway, "")
			return
		}
		c.mu.Lock()
		if !c.done {
			c.ping.Reset(pingEvery)
		}
		c.mu.Unlock()
	})
}

// close sends a close frame with code and reason and closes the socket.
func (c *conn) close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.done = true
		c.queue = nil
		if c.ping != nil {
			c.ping.Stop()
		}
		c.mu.Unlock()
		_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		_ = c.ws.Close()
		close(c.closed)
	})
}

// Handler serves /ws/kiosk and /ws/floors/{id} (with net/http: Fiber's
// fasthttp cannot hand over connections to gorilla).
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws/kiosk", h.serveKiosk)
	mux.HandleFunc("GET /ws/floors/{id}", h.serveFloor)
	mux.HandleFunc("GET /ws/me", h.serveMe)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem(w, perch.Errorf(perch.ENOTFOUND, "No such WebSocket endpoint (try /ws/kiosk, /ws/floors/{id} or /ws/me)."))
	})
	return mux
}

// problem answers a refused handshake as problem+json.
func problem(w http.ResponseWriter, err error) {
	code := perch.ErrorCode(err)
	status := map[string]int{perch.EUNAUTHORIZED: 401, perch.EFORBIDDEN: 403, perch.ENOTFOUND: 404, perch.EINVALID: 400}[code]
	if status == 0 {
		status = 500
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status,
		"code": code, "detail": perch.ErrorMessage(err)})
}

// handshakeToken finds a token in the handshake: the Authorization header,
// or a "bearer.<token>" subprotocol (browsers cannot set headers).
func handshakeToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	for _, p := range websocket.Subprotocols(r) {
		if strings.HasPrefix(p, "bearer.") {
			return strings.TrimPrefix(p, "bearer.")
		}
	}
	return ""
}

// session is what a connection needs once authenticated.
type session struct {
	principal *users.Principal
	topics    []string
	roomID    string
	kioskID   string
	// snapshot builds the connection's first message (at seq).
	snapshot func(ctx context.Context, seq int64) ([]byte, error)
	// replay lists missed events of the topics in (since, upto].
	filter string
	args   []any
}

func (h *Hub) serveKiosk(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, func(ctx context.Context, p *users.Principal) (*session, error) {
		s := &session{principal: p}
		switch {
		case p.KioskID != "" && p.RoomID != "":
			s.roomID, s.kioskID = p.RoomID, p.KioskID
		case p.KioskID != "" && p.SiteID != "":
			s.kioskID = p.KioskID
			s.topics = []string{"site:" + p.SiteID, "kiosk:" + p.KioskID}
			s.filter, s.args = "site_id = ? AND kind NOT LIKE ?", []any{p.SiteID, visitorEvents + "%"}
			s.snapshot = func(ctx context.Context, seq int64) ([]byte, error) {
				return json.Marshal(map[string]any{"type": "snapshot", "seq": seq, "site_id": p.SiteID})
			}
			return s, nil
		case p.Role == users.RoleAdmin || p.Role == users.RoleReception:
			// Staff may watch any room's door (monitoring, kiosk-sim).
			s.roomID = r.URL.Query().Get("room_id")
			if !database.ValidID(s.roomID) {
				return nil, perch.Invalid("room_id", "room_id is required to watch a room's door")
			}
		default:
			return nil, perch.Errorf(perch.EFORBIDDEN, "Only paired kiosks (and admins watching a room) use /ws/kiosk.")
		}
		s.topics = []string{"room:" + s.roomID}
		if s.kioskID != "" {
			s.topics = append(s.topics, "kiosk:"+s.kioskID)
		}
		s.filter, s.args = "resource_id = ?", []any{s.roomID}
		s.snapshot = func(ctx context.Context, seq int64) ([]byte, error) {
			st, err := h.roomStateAt(ctx, s.roomID, seq)
			if err != nil {
				return nil, err
			}
			return json.Marshal(map[string]any{"type": "snapshot", "seq": seq, "state": st})
		}
		if _, err := s.snapshot(ctx, 0); err != nil { // the room exists
			return nil, err
		}
		return s, nil
	})
}

func (h *Hub) serveFloor(w http.ResponseWriter, r *http.Request) {
	floorID := r.PathValue("id")
	h.serve(w, r, func(ctx context.Context, p *users.Principal) (*session, error) {
		if !database.ValidID(floorID) {
			return nil, perch.Invalid("id", "id is not a valid floor id")
		}
		s := &session{principal: p, topics: []string{"floor:" + floorID}, filter: "floor_id = ?", args: []any{floorID}}
		s.snapshot = func(ctx context.Context, seq int64) ([]byte, error) {
			now := time.Now().UTC().Truncate(time.Minute)
			a, err := h.bookings.FloorAvailability(ctx, p, floorID, booking.Window{From: now, To: now.Add(time.Hour)})
			if err != nil {
				return nil, err
			}
			return json.Marshal(map[string]any{"type": "snapshot", "seq": seq, "availability": a})
		}
		if _, err := h.bookings.FloorAvailability(ctx, p, floorID, booking.Window{From: time.Now(), To: time.Now().Add(time.Minute)}); err != nil {
			return nil, err
		}
		return s, nil
	})
}

// serveMe is a person's own channel: changes to their bookings (a no-show
// released, a booking moved by someone else) and visitors arriving for
// them; reception and admins also get every visitor event (arrivals,
// watchlist flags). Device accounts have no such channel.
func (h *Hub) serveMe(w http.ResponseWriter, r *http.Request) {
	h.serve(w, r, func(ctx context.Context, p *users.Principal) (*session, error) {
		if p.Role == users.RoleKiosk || p.UserID == "" {
			return nil, perch.Errorf(perch.EFORBIDDEN, "/ws/me is for people; kiosks use /ws/kiosk.")
		}
		s := &session{principal: p, topics: []string{"user:" + p.UserID}, filter: "user_id = ?", args: []any{p.UserID}}
		if p.Role == users.RoleAdmin || p.Role == users.RoleReception {
			s.topics = append(s.topics, topicReception)
			s.filter, s.args = "(user_id = ? OR kind LIKE ?)", []any{p.UserID, visitorEvents + "%"}
		}
		s.snapshot = func(ctx context.Context, seq int64) ([]byte, error) {
			return json.Marshal(map[string]any{"type": "snapshot", "seq": seq, "user_id": p.UserID, "role": p.Role})
		}
		return s, nil
	})
}

// serve authenticates, upgrades, registers and runs one connection.
func (h *Hub) serve(w http.ResponseWriter, r *http.Request, open func(context.Context, *users.Principal) (*session, error)) {
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	var since int64 = -1
	if v := r.URL.Query().Get("since"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			problem(w, perch.Invalid("since", "since must be the seq of the last message received"))
			return
		}
		since = n
	}
	token := handshakeToken(r)
	var sess *session
	if token != "" {
		p, err := h.auth(ctx, token)
		if err != nil {
			problem(w, err)
			return
		}
		if sess, err = open(ctx, p); err != nil {
			problem(w, err)
			return
		}
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	ws.SetReadLimit(maxInbound)
	if sess == nil {
		// No token in the handshake: the first message must be {"type":"auth","token":"…"}.
		if sess, err = h.authMessage(ctx, ws, open); err != nil {
			code := websocket.ClosePolicyViolation
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, perch.ErrorMessage(err)), time.Now().Add(time.Second))
			_ = ws.Close()
			return
		}
	}
	c := newConn(h, ws, sess.topics)
	c.roomID, c.kioskID = sess.roomID, sess.kioskID
	c.writing = true // live deltas queue up until the start is sent
	upto, ok := h.register(c)
	if !ok {
		c.close(closeGoingAway, "server shutting down")
		return
	}
	go h.readLoop(c)
	sent, err := h.start(ctx, c, sess, since, upto)
	if err != nil {
		h.log.Warn("websocket start", "conn", c.id, "error", err)
		c.close(websocket.CloseInternalServerErr, "could not load the state")
		return
	}
	c.sent = sent
	c.startPings()
	// Send what queued meanwhile, then return: the handler's goroutine (and
	// its deep stack from authentication and the snapshot) ends, leaving the
	// reader goroutine alone with the socket.
	c.flush()
}

func (h *Hub) authMessage(ctx context.Context, ws *websocket.Conn, open func(context.Context, *users.Principal) (*session, error)) (*session, error) {
	_ = ws.SetReadDeadline(time.Now().Add(authWait))
	var m struct {
		Type  string `json:"type"`
		Token string `json:"token"`
	}
	if err := ws.ReadJSON(&m); err != nil || m.Type != "auth" || m.Token == "" {
		return nil, perch.Errorf(perch.EUNAUTHORIZED, "Send a token: in the handshake, or first {\"type\":\"auth\",\"token\":\"…\"}.")
	}
	_ = ws.SetReadDeadline(time.Time{})
	p, err := h.auth(ctx, m.Token)
	if err != nil {
		return nil, err
	}
	return open(ctx, p)
}

// readLoop reads (and discards) client messages so control frames are
// handled; a silent peer is dropped after deadAfter.
func (h *Hub) readLoop(c *conn) {
	defer h.unregister(c)
	defer c.close(websocket.CloseNormalClosure, "")
	_ = c.ws.SetReadDeadline(time.Now().Add(deadAfter))
	var lastTouch time.Time
	c.ws.SetPongHandler(func(string) error {
		_ = c.ws.SetReadDeadline(time.Now().Add(deadAfter))
		if c.kioskID != "" && h.touch != nil && time.Since(lastTouch) > touchEvery {
			lastTouch = time.Now()
			go h.touchKiosk(c.kioskID)
		}
		return nil
	})
	if c.kioskID != "" && h.touch != nil {
		lastTouch = time.Now()
		go h.touchKiosk(c.kioskID)
	}
	for {
		if _, _, err := c.ws.ReadMessage(); err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(deadAfter))
	}
}

// touchKiosk records a heartbeat. It runs on its own goroutine so the
// reader's stack stays small (the database call is deep).
func (h *Hub) touchKiosk(kioskID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = h.touch(ctx, kioskID, time.Now().UTC())
}

// withState adds the room's state to an encoded delta.
func withState(d []byte, st json.RawMessage) []byte {
	var v delta
	if json.Unmarshal(d, &v) != nil {
		return d
	}
	v.State = st
	b, _ := json.Marshal(v)
	return b
}

func (c *conn) write(data []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	err := c.ws.WriteMessage(websocket.TextMessage, data)
	if err == nil {
		c.hub.sent.Add(1)
	}
	return err
}

// start sends a fresh snapshot (no since, or too far behind), or every
// event of the connection's topics in (since, upto] followed, for a door, by
// its current state. It returns the seq the client now has.
func (h *Hub) start(ctx context.Context, c *conn, s *session, since, upto int64) (int64, error) {
	if since >= 0 {
		events, ok, err := h.missed(ctx, s, since, upto)
		if err != nil {
			return 0, err
		}
		if ok {
			for i := range events {
				if err := c.write(encodeDelta(&events[i])); err != nil {
					return 0, err
				}
			}
			if c.roomID != "" {
				st, err := h.roomStateAt(ctx, c.roomID, upto)
				if err != nil {
					return 0, err
				}
				msg, _ := json.Marshal(map[string]any{"type": "state", "seq": max(since, upto), "state": st})
				if err := c.write(msg); err != nil {
					return 0, err
				}
			}
			return max(since, upto), nil
		}
	}
	snap, err := s.snapshot(ctx, upto)
	if err != nil {
		return 0, err
	}
	return upto, c.write(snap)
}

// missed reads the events of the session's topics in (since, upto]; ok is
// false when they are no longer all in the outbox or too many to replay.
func (h *Hub) missed(ctx context.Context, s *session, since, upto int64) ([]booking.Event, bool, error) {
	var oldest int64
	if err := h.db.Conn(ctx).Raw("SELECT COALESCE(MIN(seq), 0) FROM outbox").Scan(&oldest).Error; err != nil {
		return nil, false, database.Translate(err)
	}
	if since+1 < oldest {
		return nil, false, nil // purged: start over
	}
	if since >= upto {
		// Nothing missed, or this replica has not yet seen what the client
		// has: live deltas up to since are skipped (see start).
		return nil, true, nil
	}
	var events []booking.Event
	q := h.db.Conn(ctx).Where("seq > ? AND seq <= ?", since, upto).Where(s.filter, s.args...)
	if s.kioskID != "" {
		q = h.db.Conn(ctx).Where("seq > ? AND seq <= ?", since, upto).
			Where("("+s.filter+") OR (kind = ? AND payload LIKE ?)", append(s.args, EventKioskRevoked, fmt.Sprintf("%%%q%%", s.kioskID))...)
	}
	if err := q.Order("seq").Limit(maxReplay + 1).Find(&events).Error; err != nil {
		return nil, false, database.Translate(err)
	}
	if len(events) > maxReplay {
		return nil, false, nil
	}
	kept := events[:0]
	for _, e := range events {
		if e.Kind == EventKioskRevoked {
			if revokedKiosk(&e) == s.kioskID {
				return nil, false, errors.New("kiosk revoked")
			}
			continue // another kiosk of the site
		}
		kept = append(kept, e)
	}
	return kept, true, nil
}

// Listen serves the WebSocket handler on l until ctx ends (see cmd/perch:
// cmux hands this listener every connection whose first request asks to
// upgrade to websocket).
func (h *Hub) Listen(l net.Listener) *http.Server {
	srv := &http.Server{Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return srv
}

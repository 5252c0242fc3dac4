// Package client is a Go client of Perch's WebSocket protocol (/ws/kiosk,
// /ws/floors/{id}): connect, receive a snapshot then deltas, and on any
// disconnect reconnect with backoff and jitter, resuming from the last seq
// so nothing is missed. Used by the tests, `perch kiosk-sim` and the bench.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Message is one server message.
type Message struct {
	// Type is "snapshot", "delta" or "state".
	Type string `json:"type"`
	// Seq is the outbox position this message brings the client to.
	Seq int64 `json:"seq"`
	// Kind of a delta: booking.created, booking.checked_in, …
	Kind string `json:"kind,omitempty"`
	// At is when the change was written (deltas).
	At           time.Time       `json:"at,omitempty"`
	Event        json.RawMessage `json:"event,omitempty"`
	State        json.RawMessage `json:"state,omitempty"`
	Availability json.RawMessage `json:"availability,omitempty"`
}

// ErrRevoked is returned when the server closed the socket because the
// kiosk was revoked: reconnecting will not help.
var ErrRevoked = errors.New("kiosk revoked")

// Conn is one open connection.
type Conn struct {
	ws *websocket.Conn
}

// Dial opens a connection to wsURL (ws:// or wss://) with a bearer token,
// resuming after since when since >= 0.
func Dial(ctx context.Context, d *websocket.Dialer, wsURL, token string, since int64) (*Conn, error) {
	u, err := url.Parse(wsURL)
	if err != nil {
		return nil, err
	}
	if since >= 0 {
		q := u.Query()
		q.Set("since", strconv.FormatInt(since, 10))
		u.RawQuery = q.Encode()
	}
	if d == nil {
		d = websocket.DefaultDialer
	}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := d.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, &HandshakeError{Status: resp.StatusCode, Err: err}
		}
		return nil, err
	}
	return &Conn{ws: ws}, nil
}

// HandshakeError is a refused handshake (401, 403, 404 …).
type HandshakeError struct {
	Status int
	Err    error
}

func (e *HandshakeError) Error() string {
	return "handshake refused (" + strconv.Itoa(e.Status) + "): " + e.Err.Error()
}

// Next reads the next message. A close with 1008 is ErrRevoked.
func (c *Conn) Next(ctx context.Context) (Message, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = c.ws.SetReadDeadline(dl)
	} else {
		_ = c.ws.SetReadDeadline(time.Time{})
	}
	var m Message
	err := c.ws.ReadJSON(&m)
	if websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
		return m, ErrRevoked
	}
	return m, err
}

// Close closes the connection.
func (c *Conn) Close() error { return c.ws.Close() }

// Client keeps one logical subscription alive across disconnects.
type Client struct {
	URL   string
	Token string
	// Dialer (nil: websocket.DefaultDialer).
	Dialer *websocket.Dialer
	// OnMessage is called for every message, in order, from Run's goroutine.
	OnMessage func(Message)
	// OnDisconnect, if set, is told why a connection ended.
	OnDisconnect func(error)
	// Backoff between reconnects: from MinBackoff doubling to MaxBackoff,
	// with full jitter (defaults 200 ms and 10 s).
	MinBackoff, MaxBackoff time.Duration

	mu   sync.Mutex
	last int64
	have bool
}

// Last is the seq of the last message received (-1 before any).
func (c *Client) Last() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.have {
		return -1
	}
	return c.last
}

// Run connects and reconnects until ctx ends or the kiosk is revoked.
func (c *Client) Run(ctx context.Context) error {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo == 0 {
		lo = 200 * time.Millisecond
	}
	if hi == 0 {
		hi = 10 * time.Second
	}
	backoff := lo
	for {
		got, err := c.runOnce(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrRevoked) {
			return err
		}
		if c.OnDisconnect != nil {
			c.OnDisconnect(err)
		}
		if got {
			backoff = lo // it worked for a while: retry soon
		}
		wait := time.Duration(rand.Int64N(int64(backoff)) + 1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		backoff = min(backoff*2, hi)
	}
}

// runOnce is one connection; got reports whether any message arrived.
func (c *Client) runOnce(ctx context.Context) (got bool, err error) {
	conn, err := Dial(ctx, c.Dialer, c.URL, c.Token, c.Last())
	if err != nil {
		return false, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	for {
		m, err := conn.Next(context.Background())
		if err != nil {
			return got, err
		}
		got = true
		c.mu.Lock()
		c.last, c.have = m.Seq, true
		c.mu.Unlock()
		if c.OnMessage != nil {
			c.OnMessage(m)
		}
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/floorplans"
	"github.com/perch-hq/perch/kiosk"
	"github.com/perch-hq/perch/moves"
	"github.com/perch-hq/perch/reports"
	"github.com/perch-hq/perch/users"
	"github.com/perch-hq/perch/visitors"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

// bootstrapToken is the PERCH_BOOTSTRAP_TOKEN of the test servers.
const bootstrapToken = "bootstrap-token-for-tests-0123456789"

// env is a real API server on a real database holding the demo office.
type env struct {
	t      testing.TB
	db     *database.DB
	srv    *api.Server
	tokens map[users.Role]string
	logs   *syncBuffer
	clock  *testClock
	kiosks *kiosk.Devices
	vis    *visitors.Service
}

// testClock is the booking service's clock, settable by tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now().UTC()
	}
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t.UTC()
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t testing.TB, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	if _, err := demo.Load(ctx, db); err != nil {
		t.Fatalf("load demo: %v", err)
	}
	us := users.NewService(db)
	toks, err := demo.MintTokens(ctx, us)
	if err != nil {
		t.Fatalf("mint demo tokens: %v", err)
	}
	e := &env{t: t, db: db, tokens: map[users.Role]string{}, logs: &syncBuffer{}, clock: &testClock{}}
	for _, tk := range toks {
		e.tokens[tk.Role] = tk.Token
	}
	fp := floorplans.NewService(db)
	bk := booking.NewService(db, fp, booking.WithClock(e.clock.Now))
	e.kiosks = kiosk.NewDevices(db, bk, kiosk.WithDevicesClock(e.clock.Now))
	rp := reports.NewService(db, fp, bk, reports.WithClock(e.clock.Now))
	e.vis = visitors.NewService(db, visitors.WithClock(e.clock.Now))
	e.srv = api.New(api.Deps{
		DB: db, Users: us, Floorplans: fp, Booking: bk, Kiosks: e.kiosks, Visitors: e.vis,
		Reports:   rp,
		Moves:     moves.NewService(db, fp, bk, rp, moves.WithClock(e.clock.Now)),
		Logger:    slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Bootstrap: users.NewBootstrapAuth(bootstrapToken),
		PublicURL: "http://perch.test", Version: "test",
	})
	e.srv.SetReady(true)
	return e
}

// with returns the env bound to a subtest's t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// listen serves the app on a loopback port and returns its base URL.
func (e *env) listen() string {
	e.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = e.srv.App().Listener(ln) }()
	e.t.Cleanup(func() { _ = e.srv.App().Shutdown() })
	return "http://" + ln.Addr().String()
}

// response is what a test looks at.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// items decodes a list response's items.
func (r response) items(t testing.TB) []map[string]any {
	t.Helper()
	var l struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("not a list: %v: %s", err, r.Body)
	}
	return l.Items
}

// req sends one request. as is a role ("" for no token) or a raw token via
// the "token:" prefix.
func (e *env) req(method, path, as, body string, header ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	switch {
	case strings.HasPrefix(as, "token:"):
		r.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(as, "token:"))
	case as != "":
		tok, ok := e.tokens[users.Role(as)]
		if !ok {
			e.t.Fatalf("no token for role %q", as)
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	res, err := e.srv.App().Test(r, -1)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := response{Status: res.StatusCode, Header: res.Header, Body: b}
	// Every JSON answer of a documented operation must match the OpenAPI
	// document (openapi_test.go).
	checkResponse(e.t, method, path, out)
	return out
}

// must asserts the status and returns the JSON object.
func (e *env) must(want int, r response) map[string]any {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// counts returns the number of rows of every office and people table.
func (e *env) counts() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"sites", "floors", "zones", "desks", "rooms", "users", "teams", "tokens", "bookings", "report_settings", "move_plans",
		"visits", "visitor_documents", "visitor_settings", "watchlist", "roll_calls"} {
		var n int64
		if err := e.db.Conn(context.Background()).Table(table).Count(&n).Error; err != nil {
			e.t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

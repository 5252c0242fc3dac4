//go:build cluster

package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
)

// replica is one perch process.
type replica struct {
	name, addr string
	cmd        *exec.Cmd
	stderr     *syncBuf
	done       chan error
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(t *testing.T, bin, name, addr, dbURL string) *replica {
	t.Helper()
	r := &replica{name: name, addr: addr, stderr: &syncBuf{}, done: make(chan error, 1)}
	r.cmd = exec.Command(bin, "serve")
	r.cmd.Env = append(os.Environ(), "PERCH_ADDR="+addr, "PERCH_DATABASE_URL="+dbURL, "PERCH_DEMO=false",
		"PERCH_LOG_LEVEL=warn", "PERCH_WORKER_INTERVAL=1h", "PERCH_SHUTDOWN_TIMEOUT=20s",
		// The load comes from one address: no rate limit in the way.
		"PERCH_RATE_LIMIT_KIOSK=off")
	r.cmd.Stdout, r.cmd.Stderr = io.Discard, r.stderr
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			_ = r.cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return r
			}
		}
		select {
		case err := <-r.done:
			t.Fatalf("replica %s exited: %v\n%s", name, err, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s on %s did not become ready:\n%s", name, addr, r.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var tokenRE = regexp.MustCompile(`(?m)^\s+(admin|employee|reception|kiosk)\s+.*\s(perch_\S+)$`)

// target is one (room, slot) several clients race for.
type target struct {
	room  string
	start time.Time
}

// outcome of one booking request.
type outcome struct {
	replica string
	status  int    // 0: no answer
	id      string // on 201
	err     error
}

// loader books through both replicas: every target is tried by two
// clients at once, one through each replica.
type loader struct {
	t      *testing.T
	token  string
	http   *http.Client
	mu     sync.Mutex
	acked  map[string]target // booking id -> target, for every 201
	wins   map[target]int
	errs   map[string][]error // replica -> transport errors
	counts map[int]int
}

func (l *loader) book(base, name string, tg target) outcome {
	body := fmt.Sprintf(`{"resource_type":"room","resource_id":%q,"start":%q,"end":%q,"override":true}`,
		tg.room, tg.start.Format(time.RFC3339), tg.start.Add(30*time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest("POST", base+"/api/v1/bookings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+l.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := l.http.Do(req)
	if err != nil {
		return outcome{replica: name, err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return outcome{replica: name, err: fmt.Errorf("body cut off: %w", err)}
	}
	o := outcome{replica: name, status: res.StatusCode}
	if res.StatusCode == 201 {
		var v struct{ ID string }
		_ = json.Unmarshal(b, &v)
		o.id = v.ID
	}
	return o
}

func (l *loader) record(tg target, o outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.err != nil {
		l.errs[o.replica] = append(l.errs[o.replica], o.err)
		return
	}
	l.counts[o.status]++
	if o.status == 201 {
		l.acked[o.id] = tg
		l.wins[tg]++
	}
}

func TestCluster(t *testing.T) {
	ctx := context.Background()
	c, err := dbtest.StartCluster(ctx)
	if err != nil {
		t.Fatalf("the cluster check needs PostgreSQL: %v", err)
	}
	t.Cleanup(c.Stop)
	dir := t.TempDir()
	bin := filepath.Join(dir, "perch")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/perch-hq/perch/cmd/perch").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	demoCmd := exec.Command(bin, "demo")
	demoCmd.Env = append(os.Environ(), "PERCH_DATABASE_URL="+c.URL)
	out, err := demoCmd.Output()
	if err != nil {
		t.Fatalf("perch demo: %v\n%s", err, out)
	}
	tokens := map[string]string{}
	for _, m := range tokenRE.FindAllStringSubmatch(string(out), -1) {
		tokens[m[1]] = m[2]
	}
	admin := tokens["admin"]
	if admin == "" {
		t.Fatalf("no admin token printed:\n%s", out)
	}

	addrA, addrB := freeAddr(t), freeAddr(t)
	a := start(t, bin, "A", addrA, c.URL)
	b := start(t, bin, "B", addrB, c.URL)
	baseA, baseB := "http://"+addrA, "http://"+addrB

	// Floor 0's rooms, the targets of the load.
	floor := demo.ID("floor", "0")
	req, _ := http.NewRequest("GET", baseA+"/api/v1/floors/"+floor+"/rooms", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var rooms struct{ Items []struct{ ID string } }
	_ = json.NewDecoder(res.Body).Decode(&rooms)
	res.Body.Close()
	if len(rooms.Items) == 0 {
		t.Fatal("the demo floor has no rooms")
	}

	// The kiosk side: a floor map on B (the replica that will be killed)
	// and one on A (which will be shut down gracefully).
	type feed struct {
		mu    sync.Mutex
		msgs  []client.Message
		drops []error
	}
	listen := func(ctx context.Context, addr string) *feed {
		f := &feed{}
		cl := &client.Client{URL: "ws://" + addr + "/ws/floors/" + floor, Token: admin,
			MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
			OnMessage:    func(m client.Message) { f.mu.Lock(); f.msgs = append(f.msgs, m); f.mu.Unlock() },
			OnDisconnect: func(err error) { f.mu.Lock(); f.drops = append(f.drops, err); f.mu.Unlock() }}
		go func() { _ = cl.Run(ctx) }()
		return f
	}
	deltas := func(f *feed) (ids []string, seqs []int64) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, m := range f.msgs {
			if m.Type != "delta" || m.Kind != booking.EventCreated {
				continue
			}
			var p booking.EventPayload
			if json.Unmarshal(m.Event, &p) == nil {
				ids = append(ids, p.Booking.ID)
				seqs = append(seqs, m.Seq)
			}
		}
		return ids, seqs
	}
	kctx, stopKiosks := context.WithCancel(ctx)
	defer stopKiosks()
	onB := listen(kctx, addrB)
	onA := listen(kctx, addrA)
	waitFor(t, "both floor maps' snapshots", 30*time.Second, func() bool {
		onA.mu.Lock()
		onB.mu.Lock()
		defer onA.mu.Unlock()
		defer onB.mu.Unlock()
		return len(onA.msgs) > 0 && len(onB.msgs) > 0
	})

	l := &loader{t: t, token: admin, acked: map[string]target{}, wins: map[target]int{}, errs: map[string][]error{}, counts: map[int]int{},
		// A new connection per request: an error is then either "refused"
		// (the replica is gone) or a request cut off, never a stale
		// keep-alive connection.
		http: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
	targets := make(chan target)
	go func() { // half-hour slots on weekdays 08:00-18:00 from tomorrow, every room
		defer close(targets)
		loc, _ := time.LoadLocation("Europe/Berlin")
		d := time.Now().In(loc).AddDate(0, 0, 1)
		for day := 0; day < 60; day++ {
			for d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
				d = d.AddDate(0, 0, 1)
			}
			for slot := time.Date(d.Year(), d.Month(), d.Day(), 8, 0, 0, 0, loc); slot.Hour() < 18; slot = slot.Add(30 * time.Minute) {
				for _, r := range rooms.Items {
					select {
					case targets <- target{room: r.ID, start: slot}:
					case <-kctx.Done():
						return
					}
				}
			}
			d = d.AddDate(0, 0, 1)
		}
	}()
	var tried atomic.Int64
	var stopLoad atomic.Bool
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tg := range targets {
				if stopLoad.Load() {
					return
				}
				var both sync.WaitGroup
				for _, rp := range []struct{ base, name string }{{baseA, "A"}, {baseB, "B"}} {
					both.Add(1)
					go func() { defer both.Done(); l.record(tg, l.book(rp.base, rp.name, tg)) }()
				}
				both.Wait()
				tried.Add(1)
			}
		}()
	}
	waitFor(t, "load before the kill", 60*time.Second, func() bool { return tried.Load() >= 40 })

	// SIGKILL B mid-load: no goodbye; its sockets just drop.
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-b.done
	killedAt := tried.Load()
	waitFor(t, "load while B is down", 60*time.Second, func() bool { return tried.Load() >= killedAt+20 })
	b = start(t, bin, "B2", addrB, c.URL)
	restartedAt := tried.Load()
	waitFor(t, "load after B's restart", 60*time.Second, func() bool { return tried.Load() >= restartedAt+40 })

	// SIGTERM A while requests are in flight: one request is half sent
	// when the signal arrives, the load goes on; A must finish what it
	// accepted, close its sockets with 1001 and exit 0.
	conn, err := net.Dial("tcp", addrA)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	inflight := fmt.Sprintf(`{"resource_type":"room","resource_id":%q,"start":"2030-01-07T09:00:00Z","end":"2030-01-07T09:30:00Z","override":true}`, rooms.Items[0].ID)
	fmt.Fprintf(conn, "POST /api/v1/bookings HTTP/1.1\r\nHost: perch\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		admin, len(inflight), inflight[:10])
	time.Sleep(200 * time.Millisecond) // A is now reading this request
	errsBefore := len(l.errs["A"])
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // A is draining
	if _, err := io.WriteString(conn, inflight[10:]); err != nil {
		t.Fatalf("in-flight request cut off while sending: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	inRes, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request cut off by SIGTERM: %v", err)
	}
	inBody, _ := io.ReadAll(inRes.Body)
	inRes.Body.Close()
	if inRes.StatusCode != 201 {
		t.Fatalf("in-flight request answered %d: %s", inRes.StatusCode, inBody)
	}
	var inV struct{ ID string }
	_ = json.Unmarshal(inBody, &inV)
	l.mu.Lock()
	l.acked[inV.ID] = target{room: rooms.Items[0].ID, start: time.Date(2030, 1, 7, 9, 0, 0, 0, time.UTC)}
	l.mu.Unlock()
	conn.Close()
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("A exited with %v after SIGTERM:\n%s", err, a.stderr.String())
		}
	case <-time.After(40 * time.Second):
		t.Fatalf("A did not exit after SIGTERM:\n%s", a.stderr.String())
	}
	stopLoad.Store(true)
	wg.Wait()

	// The load went on through B; what A refused after SIGTERM was refused
	// at connect time, nothing was cut off mid-request.
	l.mu.Lock()
	for _, err := range l.errs["A"][errsBefore:] {
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("a request to A was cut off during shutdown: %v", err)
		}
	}
	acked := map[string]target{}
	for id, tg := range l.acked {
		acked[id] = tg
	}
	for tg, n := range l.wins {
		if n > 1 {
			t.Errorf("%v was acknowledged %d times", tg, n)
		}
	}
	t.Logf("requests: %v; transport errors: A %d, B %d; acknowledged bookings %d", l.counts, len(l.errs["A"]), len(l.errs["B"]), len(acked))
	l.mu.Unlock()
	if l.counts[500] > 0 {
		t.Errorf("%d requests answered 500", l.counts[500])
	}

	// A's floor map was closed with 1001 (going away).
	onA.mu.Lock()
	var goingAway bool
	for _, err := range onA.drops {
		goingAway = goingAway || websocket.IsCloseError(err, websocket.CloseGoingAway)
	}
	onA.mu.Unlock()
	if !goingAway {
		t.Errorf("A's WebSocket was not closed with 1001: %v", onA.drops)
	}

	// B's floor map, killed under it and resumed, missed no booking and got
	// none twice (deltas in seq order, each once).
	waitFor(t, "every acknowledged booking on the floor map resumed on B", 60*time.Second, func() bool {
		ids, _ := deltas(onB)
		seen := map[string]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		for id := range acked {
			if !seen[id] {
				return false
			}
		}
		return true
	})
	ids, seqs := deltas(onB)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("deltas out of order or repeated: seq %d after %d", seqs[i], seqs[i-1])
		}
	}
	onB.mu.Lock()
	if len(onB.drops) == 0 {
		t.Error("B's floor map never dropped: B was not killed")
	}
	onB.mu.Unlock()
	t.Logf("floor map on B: %d booking deltas, %d drops", len(ids), len(onB.drops))

	// The database: every acknowledged booking exists, and no two active
	// bookings of a resource overlap.
	db, err := database.Open(ctx, database.Options{URL: c.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list := make([]string, 0, len(acked))
	for id := range acked {
		list = append(list, id)
	}
	var found int
	if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM bookings WHERE id::text = ANY($1)", list).Scan(&found); err != nil {
		t.Fatal(err)
	}
	if found != len(list) {
		t.Errorf("%d of %d acknowledged bookings are in the database: an acknowledged booking was lost", found, len(list))
	}
	var overlaps int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM bookings x JOIN bookings y
		ON x.resource_id = y.resource_id AND x.id < y.id
		AND x.start_at < y.end_at AND y.start_at < x.end_at
		WHERE x.status IN ('confirmed', 'checked_in') AND y.status IN ('confirmed', 'checked_in')`).Scan(&overlaps); err != nil {
		t.Fatal(err)
	}
	if overlaps != 0 {
		t.Errorf("%d pairs of overlapping active bookings: a double booking", overlaps)
	}

	// B is still fine; stop it too.
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-b.done; err != nil {
		t.Errorf("B exited with %v:\n%s", err, b.stderr.String())
	}
	if s := a.stderr.String() + b.stderr.String(); strings.Contains(s, "level=ERROR") {
		t.Errorf("errors logged:\n%s", s)
	}
}

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

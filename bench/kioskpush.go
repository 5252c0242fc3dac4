package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/kiosk/client"
)

// The kiosk-push scenario: -kiosks door displays, one per room, each
// connected to /ws/kiosk of -ws-url (default -url: the same replica), while
// bookings of those rooms are committed through -url at a steady -rate per
// second. Every booking must reach exactly its room's display; the
// scenario measures commit → receipt (the outbox row's time to the
// display's clock: both processes run on this machine) and, given
// -server-pid, the WebSocket server's resident memory per idle connection.

const (
	pushSiteName  = "Perch bench push"
	roomsPerFloor = 100
)

type pushRoom struct{ ID, Name string }

// runKioskPush runs the kiosk-push scenario.
func runKioskPush(ctx context.Context, a *api, cfg config, w io.Writer) error {
	if cfg.kiosks < 1 || cfg.rate <= 0 {
		return errors.New("kiosk-push wants -kiosks >= 1 and -rate > 0")
	}
	wsBase := cfg.wsURL
	if wsBase == "" {
		wsBase = cfg.url
	}
	u, err := url.Parse(wsBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("-ws-url %q: want the http(s) base URL of the replica the displays connect to", wsBase)
	}
	wsBase = "ws" + strings.TrimPrefix(strings.TrimRight(wsBase, "/"), "http")

	nRooms := cfg.rooms
	if nRooms <= 0 || nRooms > cfg.kiosks {
		nRooms = cfg.kiosks
	}
	rooms, who, err := pushOffice(ctx, a, nRooms, cfg.clients, w)
	if err != nil {
		return err
	}
	// Display i shows room i mod rooms; a booking of room r reaches
	// displays[r] of them.
	displays := make([]int64, len(rooms))
	for i := range cfg.kiosks {
		displays[i%len(rooms)]++
	}
	var rssBefore int64
	if cfg.serverPID > 0 {
		if rssBefore, err = rssKiB(cfg.serverPID); err != nil {
			return err
		}
	}

	// Connect the displays, a few at a time.
	var (
		mu         sync.Mutex
		latencies  []time.Duration
		measuring  atomic.Int64 // unix nanos: deltas of bookings written before this are warm-up
		connected  atomic.Int64
		received   atomic.Int64
		reconnects atomic.Int64
	)
	measuring.Store(time.Now().Add(24 * time.Hour).UnixNano())
	dctx, stopDisplays := context.WithCancel(ctx)
	defer stopDisplays()
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 512}
	var wg sync.WaitGroup
	fmt.Fprintf(w, "connecting %d displays of %d rooms to %s\n", cfg.kiosks, len(rooms), wsBase)
	began := time.Now()
	for i := range cfg.kiosks {
		r := rooms[i%len(rooms)]
		c := &client.Client{URL: wsBase + "/ws/kiosk?room_id=" + url.QueryEscape(r.ID), Token: cfg.token, Dialer: dialer,
			OnMessage: func(m client.Message) {
				switch {
				case m.Type == "snapshot":
					connected.Add(1)
				case m.Type == "delta" && !m.At.IsZero():
					now := time.Now()
					received.Add(1)
					if m.At.UnixNano() >= measuring.Load() {
						mu.Lock()
						latencies = append(latencies, now.Sub(m.At))
						mu.Unlock()
					}
				}
			},
			OnDisconnect: func(error) {
				if dctx.Err() == nil {
					reconnects.Add(1)
				}
			},
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Run(dctx) }()
		if cfg.dialRate > 0 && i%10 == 9 { // a fleet comes up over time, not all at once
			time.Sleep(time.Duration(float64(10*time.Second) / cfg.dialRate))
		}
	}
	for connected.Load() < int64(cfg.kiosks) {
		if ctx.Err() != nil || time.Since(began) > 5*time.Minute {
			return fmt.Errorf("only %d of %d displays connected", connected.Load(), cfg.kiosks)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(w, "%d displays connected in %s\n", cfg.kiosks, time.Since(began).Round(time.Millisecond))
	if cfg.serverPID > 0 {
		time.Sleep(5 * time.Second) // let the handshakes' garbage go
		after, err := rssKiB(cfg.serverPID)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "server RSS %d KiB idle before, %d KiB with %d idle displays: %.1f KiB per connection\n",
			rssBefore, after, cfg.kiosks, float64(after-rssBefore)/float64(cfg.kiosks))
	}

	// Book at a steady rate: warm-up first, then the measured phase.
	var created, expected, failed atomic.Int64
	bctx, stopBooking := context.WithCancel(ctx)
	defer stopBooking()
	bookingsDone := make(chan struct{})
	go func() {
		defer close(bookingsDone)
		bookSteadily(bctx, a, rooms, who, cfg.rate, func(room int, ok bool) {
			if ok {
				created.Add(1)
				expected.Add(displays[room])
			} else {
				failed.Add(1)
			}
		})
	}()
	if cfg.warmup > 0 {
		fmt.Fprintf(w, "warming up for %s (not counted)\n", cfg.warmup)
		sleepCtx(ctx, cfg.warmup)
	}
	measuring.Store(time.Now().UnixNano())
	connectDrops := reconnects.Swap(0)
	fmt.Fprintf(w, "running kiosk-push: %.0f bookings/s for %s through %s, displays on %s\n", cfg.rate, cfg.duration, cfg.url, wsBase)
	sleepCtx(ctx, cfg.duration)
	stopBooking()
	<-bookingsDone
	// Let the last deliveries arrive, then compare.
	deadline := time.Now().Add(10 * time.Second)
	for received.Load() < expected.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stopDisplays()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	fmt.Fprintf(w, "\n%d displays of %d rooms, %d bookings committed (%d refused or failed), %d of %d deltas received\n",
		cfg.kiosks, len(rooms), created.Load(), failed.Load(), received.Load(), expected.Load())
	fmt.Fprintf(w, "reconnects: %d while connecting, %d while measuring\n", connectDrops, reconnects.Load())
	fmt.Fprintf(w, "commit → display over %d measured deltas: p50 %s ms  p95 %s ms  p99 %s ms  max %s ms\n",
		len(latencies), ms(percentile(latencies, 50)), ms(percentile(latencies, 95)), ms(percentile(latencies, 99)), ms(percentile(latencies, 100)))
	fmt.Fprintf(w, "machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	if missing := expected.Load() - received.Load(); missing != 0 {
		return fmt.Errorf("%d deliveries of committed bookings missing (negative: duplicated)", missing)
	}
	return nil
}

// pushOffice makes sure the push site holds n rooms (100 per floor) and
// returns them with the user to book for.
func pushOffice(ctx context.Context, a *api, n, workers int, w io.Writer) ([]pushRoom, string, error) {
	sites, err := listAll[site](ctx, a, "/api/v1/sites")
	if err != nil {
		return nil, "", err
	}
	var s *site
	for i := range sites {
		if sites[i].Name == pushSiteName {
			s = &sites[i]
		}
	}
	if s == nil {
		s = &site{}
		if err := a.call(ctx, http.MethodPost, "/api/v1/sites", map[string]string{"name": pushSiteName, "timezone": "UTC"}, s); err != nil {
			return nil, "", err
		}
	}
	floors, err := listAll[floor](ctx, a, "/api/v1/sites/"+s.ID+"/floors")
	if err != nil {
		return nil, "", err
	}
	have := map[string]string{}
	for _, f := range floors {
		have[f.Name] = f.ID
	}
	var (
		rooms []pushRoom
		todo  []func() error
		tmu   sync.Mutex
	)
	for fl := 0; fl*roomsPerFloor < n; fl++ {
		name := "push-" + strconv.Itoa(fl)
		fid, ok := have[name]
		if !ok {
			var f floor
			body := map[string]any{"name": name, "level": fl, "width": 20000, "height": 2000}
			if err := a.call(ctx, http.MethodPost, "/api/v1/sites/"+s.ID+"/floors", body, &f); err != nil {
				return nil, "", err
			}
			fid = f.ID
		}
		existing, err := listAll[pushRoom](ctx, a, "/api/v1/floors/"+fid+"/rooms")
		if err != nil {
			return nil, "", err
		}
		byName := map[string]string{}
		for _, r := range existing {
			byName[r.Name] = r.ID
		}
		for i := 0; i < roomsPerFloor && fl*roomsPerFloor+i < n; i++ {
			name := fmt.Sprintf("P%d-%02d", fl, i)
			if id, ok := byName[name]; ok {
				rooms = append(rooms, pushRoom{ID: id, Name: name})
				continue
			}
			body := map[string]any{"name": name, "capacity": 6, "x": 200 * i, "y": 100, "width": 180, "height": 180}
			todo = append(todo, func() error {
				var r pushRoom
				if err := a.call(ctx, http.MethodPost, "/api/v1/floors/"+fid+"/rooms", body, &r); err != nil {
					return err
				}
				tmu.Lock()
				rooms = append(rooms, r)
				tmu.Unlock()
				return nil
			})
		}
	}
	if len(todo) > 0 {
		fmt.Fprintf(w, "creating %d rooms\n", len(todo))
		if err := parallel(max(workers, 1), todo); err != nil {
			return nil, "", err
		}
	}
	people, err := seedUsers(ctx, a)
	if err != nil {
		return nil, "", err
	}
	return rooms, people[0], nil
}

// parallel runs fns on n workers and returns the first error.
func parallel(n int, fns []func() error) error {
	var (
		wg    sync.WaitGroup
		next  atomic.Int64
		first error
		once  sync.Once
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(fns) {
					return
				}
				if err := fns[i](); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// bookSteadily commits one-minute room bookings at rate per second (open
// loop: a slow answer does not delay the next booking), each in a random
// room on a slot no earlier run used, with the admin's override so policy
// limits stay out of the way.
func bookSteadily(ctx context.Context, a *api, rooms []pushRoom, who string, rate float64, done func(room int, ok bool)) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	// Slots: minute k of a random day years out, so re-runs (and the rooms'
	// real days) practically never collide; a collision is a 409, counted.
	base := time.Now().UTC().Truncate(24*time.Hour).AddDate(1, 0, rng.IntN(3650))
	next := make([]int, len(rooms))
	interval := time.Duration(float64(time.Second) / rate)
	t := time.NewTicker(interval)
	defer t.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		i := rng.IntN(len(rooms))
		start := base.Add(time.Duration(next[i]) * time.Minute)
		next[i]++
		body := fmt.Sprintf(`{"resource_type":"room","resource_id":%q,"start":%q,"end":%q,"for_user_id":%q,"override":true}`,
			rooms[i].ID, start.Format(time.RFC3339), start.Add(time.Minute).Format(time.RFC3339), who)
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			// Not ctx: a booking sent is seen through, so it is counted.
			st, _, _, err := a.send(context.WithoutCancel(ctx), http.MethodPost, "/api/v1/bookings", []byte(body))
			done(i, err == nil && st == http.StatusCreated)
		}()
	}
}

// rssKiB reads a local process's resident memory.
func rssKiB(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("-server-pid: %w", err)
	}
	for line := range bytes.Lines(b) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == "VmRSS:" {
			return strconv.ParseInt(f[1], 10, 64)
		}
	}
	return 0, errors.New("-server-pid: no VmRSS in /proc/<pid>/status")
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// Command bench seeds a running Perch server with a large office and
// measures booking creation and floor availability under concurrent load:
//
//	go run ./bench -scenario booking-create -c 32 -d 20s
//	go run ./bench -scenario availability -c 32 -d 20s
//	go run ./bench -scenario checkin -c 32 -d 20s
//	go run ./bench -scenario reports -database-url postgres://…  # seeds 1,000,000 check-ins, times reports
//	go run ./bench -scenario seed            # only seed
//	go run ./bench -scenario kiosk-push -kiosks 1000 -rate 20 -d 30s [-ws-url http://replica-b] [-server-pid PID]
//
// It talks only to -url, through the public API. Seeding is idempotent and
// resumable: a re-run finds the site, desks and users an earlier run made,
// and a marker in the site's address says how many bookings are in place.
// Every latency of the measured phase is recorded; percentiles are exact.
// See docs/PERFORMANCE.md for how it is run and what it measured.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"
)

type config struct {
	url, token, scenario string
	clients              int
	duration, warmup     time.Duration
	desks, seedBookings  int
	// kiosk-push
	kiosks    int
	rooms     int
	rate      float64
	dialRate  float64
	wsURL     string
	serverPID int
	// The reports scenario writes its history straight into the database.
	databaseURL     string
	reportsCheckIns int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "http://localhost:8080", "base URL of the running Perch server")
	flag.StringVar(&cfg.token, "token", defaultToken(os.Getenv), "admin bearer token (default $PERCH_BENCH_TOKEN, else $PERCH_BOOTSTRAP_TOKEN)")
	flag.StringVar(&cfg.scenario, "scenario", "booking-create", "booking-create, availability, checkin, kiosk-push, reports, or seed (seed only)")
	flag.IntVar(&cfg.clients, "c", 32, "concurrent clients (also seeding workers)")
	flag.DurationVar(&cfg.duration, "d", 20*time.Second, "measured duration")
	flag.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "warm-up before measuring (not counted)")
	flag.IntVar(&cfg.desks, "desks", 500, "desks on the bench floor")
	flag.IntVar(&cfg.seedBookings, "seed-bookings", 200000, "bookings to seed over the bench desks")
	flag.IntVar(&cfg.kiosks, "kiosks", 1000, "kiosk-push: door displays to connect (one room each)")
	flag.IntVar(&cfg.rooms, "rooms", 0, "kiosk-push: rooms the displays show (default: one room per display)")
	flag.Float64Var(&cfg.dialRate, "dial-rate", 500, "kiosk-push: displays connecting per second (0: all at once)")
	flag.Float64Var(&cfg.rate, "rate", 20, "kiosk-push: bookings committed per second")
	flag.StringVar(&cfg.wsURL, "ws-url", "", "kiosk-push: base URL of the replica the displays connect to (default -url)")
	flag.IntVar(&cfg.serverPID, "server-pid", 0, "kiosk-push: pid of the displays' server, to report its memory per idle connection")
	flag.StringVar(&cfg.databaseURL, "database-url", os.Getenv("PERCH_DATABASE_URL"), "reports: the server's database, seeded directly (default $PERCH_DATABASE_URL)")
	flag.IntVar(&cfg.reportsCheckIns, "checkins", 1000000, "reports: check-ins to simulate")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func defaultToken(getenv func(string) string) string {
	if t := getenv("PERCH_BENCH_TOKEN"); t != "" {
		return t
	}
	return getenv("PERCH_BOOTSTRAP_TOKEN")
}

func run(ctx context.Context, cfg config, w io.Writer) error {
	if cfg.token == "" {
		return errors.New("no token: pass -token or set PERCH_BENCH_TOKEN or PERCH_BOOTSTRAP_TOKEN (an admin token)")
	}
	if cfg.clients < 1 || cfg.duration <= 0 || cfg.warmup < 0 || cfg.desks < 1 || cfg.seedBookings < 0 {
		return errors.New("want -c >= 1, -d > 0, -warmup >= 0, -desks >= 1, -seed-bookings >= 0")
	}
	if cfg.scenario == "reports" {
		return runReports(ctx, cfg, w)
	}
	newStep, ok := scenarios[cfg.scenario]
	if !ok && cfg.scenario != "seed" && cfg.scenario != "kiosk-push" {
		return fmt.Errorf("unknown -scenario %q: want booking-create, availability, checkin, kiosk-push or seed", cfg.scenario)
	}
	a, err := newAPI(cfg.url, cfg.token, cfg.clients)
	if err != nil {
		return err
	}
	var me struct{ Role string }
	if err := a.call(ctx, http.MethodGet, "/api/v1/me", nil, &me); err != nil {
		return err
	}
	if me.Role != "admin" {
		return fmt.Errorf("the token's role is %q; the bench needs an admin token", me.Role)
	}
	if cfg.scenario == "kiosk-push" {
		return runKioskPush(ctx, a, cfg, w)
	}
	fx, err := seed(ctx, a, cfg, w)
	if err != nil {
		return err
	}
	if cfg.scenario == "seed" {
		return nil
	}
	if err := check(ctx, a, fx, cfg.scenario, w); err != nil {
		return err
	}
	if cfg.warmup > 0 {
		fmt.Fprintf(w, "warming up %s for %s (not counted)\n", cfg.scenario, cfg.warmup)
		load(ctx, cfg.clients, cfg.warmup, func(i int) step { return newStep(a, fx, i) })
	}
	fmt.Fprintf(w, "running %s: %d clients for %s against %s\n", cfg.scenario, cfg.clients, cfg.duration, cfg.url)
	res := load(ctx, cfg.clients, cfg.duration, func(i int) step { return newStep(a, fx, i) })
	res.Scenario, res.Clients = cfg.scenario, cfg.clients
	res.print(w, fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version()))
	if ctx.Err() != nil {
		return errors.New("interrupted: the numbers above cover a partial run")
	}
	if n := res.failures(); n > 0 {
		return fmt.Errorf("%d requests FAILED (network errors or unexpected statuses, see above)", n)
	}
	return nil
}

// api is a client of one Perch server. Its Transport keeps a connection per
// client open, so the measured phase does not pay TCP handshakes.
type api struct {
	base string
	auth string
	hc   *http.Client
}

func newAPI(raw, token string, clients int) (*api, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("-url %q: want an absolute http(s) URL like http://localhost:8080", raw)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = clients * 2
	t.MaxIdleConnsPerHost = clients * 2
	t.DisableCompression = true
	// Perch (fasthttp) answers a connection that sent nothing for its
	// 30 s read timeout with an unsolicited 503; close idle ones sooner.
	t.IdleConnTimeout = 20 * time.Second
	return &api{
		base: strings.TrimRight(raw, "/"),
		auth: "Bearer " + token,
		hc:   &http.Client{Transport: t, Timeout: 60 * time.Second},
	}, nil
}

// do sends one request with the token (and a JSON body when body is not nil).
func (a *api) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", a.auth)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return a.hc.Do(req)
}

// send makes one request of a scenario. It drains a successful response's
// body (returning its size) and returns an unsuccessful one's, for its
// problem code.
func (a *api) send(ctx context.Context, method, path string, body []byte) (status int, n int64, errBody []byte, err error) {
	resp, err := a.do(ctx, method, path, body)
	if err != nil {
		return 0, 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		errBody, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, int64(len(errBody)), errBody, err
	}
	n, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n, nil, err
}

// call sends a JSON request expecting a 2xx and decodes the answer into out.
func (a *api) call(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	resp, err := a.do(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// problemCode reads the stable code of an RFC 9457 problem body.
func problemCode(body []byte) string {
	var p struct{ Code string }
	if json.Unmarshal(body, &p) != nil || p.Code == "" {
		return "?"
	}
	return p.Code
}

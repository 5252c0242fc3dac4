package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/kiosk/client"
)

// kioskSimCmd connects N simulated door displays to a running Perch and
// prints how long committed changes take to reach them.
func kioskSimCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("kiosk-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 100, "number of simulated door displays")
	base := fs.String("url", "http://localhost:8080", "Perch's base URL")
	token := fs.String("token", getenv("PERCH_BOOTSTRAP_TOKEN"), "an admin token (default $PERCH_BOOTSTRAP_TOKEN)")
	siteName := fs.String("site", "", "the site whose rooms to watch (default: the first)")
	dur := fs.Duration("d", 30*time.Second, "how long to run")
	rate := fs.Float64("book-rate", 0, "also make this many bookings per second (0: only listen)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *token == "" || *n < 1 || *n > 100000 {
		fmt.Fprintln(stderr, "perch kiosk-sim: -token (an admin token) is required and -n must be 1..100000")
		return errUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	api := &apiClient{base: strings.TrimRight(*base, "/"), token: *token}
	rooms, err := api.rooms(ctx, *siteName)
	if err != nil {
		return err
	}
	if len(rooms) == 0 {
		return errors.New("the site has no rooms")
	}
	wsBase := "ws" + strings.TrimPrefix(api.base, "http") + "/ws/kiosk?room_id="
	var (
		mu        sync.Mutex
		latencies []time.Duration
		connected atomic.Int64
		received  atomic.Int64
		drops     atomic.Int64
	)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second}
	var wg sync.WaitGroup
	for i := range *n {
		c := &client.Client{URL: wsBase + url.QueryEscape(rooms[i%len(rooms)]), Token: *token, Dialer: dialer,
			OnMessage: func(m client.Message) {
				if m.Type == "snapshot" {
					connected.Add(1)
				}
				if m.Type == "delta" && !m.At.IsZero() {
					d := time.Since(m.At)
					received.Add(1)
					mu.Lock()
					latencies = append(latencies, d)
					mu.Unlock()
				}
			},
			OnDisconnect: func(error) { drops.Add(1) },
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = c.Run(ctx) }()
		if i%200 == 199 {
			time.Sleep(50 * time.Millisecond) // do not stampede the server
		}
	}
	if *rate > 0 {
		go api.bookSteadily(ctx, rooms, *rate, stderr)
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	start := time.Now()
	for done := false; !done; {
		select {
		case <-ctx.Done():
			done = true
		case <-tick.C:
			mu.Lock()
			p50, p99 := percentile(latencies, 50), percentile(latencies, 99)
			mu.Unlock()
			fmt.Fprintf(stdout, "%5.0fs  connected %d/%d  deltas %d  p50 %v  p99 %v  reconnects %d\n",
				time.Since(start).Seconds(), connected.Load(), *n, received.Load(), p50, p99, drops.Load())
		}
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	fmt.Fprintf(stdout, "\n%d displays on %d rooms, %d deltas received\ndelivery latency (commit → display): p50 %v  p95 %v  p99 %v  max %v\n",
		*n, len(rooms), len(latencies), percentile(latencies, 50), percentile(latencies, 95), percentile(latencies, 99), percentile(latencies, 100))
	return nil
}

// percentile of the sample (p in 0..100), rounded to 0.1 ms.
func percentile(sample []time.Duration, p float64) time.Duration {
	if len(sample) == 0 {
		return 0
	}
	s := slices.Clone(sample)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i].Round(100 * time.Microsecond)
}

// apiClient is the little of the REST API kiosk-sim needs.
type apiClient struct {
	base, token string
}

func (a *apiClient) get(ctx context.Context, path string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", a.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, b)
	}
	return json.NewDecoder(res.Body).Decode(v)
}

type item struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// rooms lists the room ids of the named site (or the first site).
func (a *apiClient) rooms(ctx context.Context, site string) ([]string, error) {
	var sites struct{ Items []item }
	if err := a.get(ctx, "/api/v1/sites?limit=500", &sites); err != nil {
		return nil, err
	}
	var siteID string
	for _, s := range sites.Items {
		if site == "" || s.Name == site {
			siteID = s.ID
			break
		}
	}
	if siteID == "" {
		return nil, fmt.Errorf("no site %q", site)
	}
	var floors struct{ Items []item }
	if err := a.get(ctx, "/api/v1/sites/"+siteID+"/floors?limit=500", &floors); err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range floors.Items {
		var rooms struct{ Items []item }
		if err := a.get(ctx, "/api/v1/floors/"+f.ID+"/rooms?limit=500", &rooms); err != nil {
			return nil, err
		}
		for _, r := range rooms.Items {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// bookSteadily books one-minute slots of the rooms at rate per second, for
// the first user (admin override, so policy limits do not get in the way),
// in turn so bookings
// stay apart; every booking is a pushed change.
func (a *apiClient) bookSteadily(ctx context.Context, rooms []string, rate float64, stderr io.Writer) {
	var people struct{ Items []item }
	if err := a.get(ctx, "/api/v1/users?limit=1", &people); err != nil || len(people.Items) == 0 {
		fmt.Fprintln(stderr, "kiosk-sim: no user to book for:", err)
		return
	}
	who := people.Items[0].ID
	refused := 0
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer t.Stop()
	start := time.Now().UTC().Truncate(time.Hour).Add(24 * time.Hour)
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := start.Add(time.Duration(i/len(rooms)) * time.Minute)
		body := fmt.Sprintf(`{"resource_type":"room","resource_id":"%s","start":"%s","end":"%s","for_user_id":"%s","override":true}`,
			rooms[i%len(rooms)], s.Format(time.RFC3339), s.Add(time.Minute).Format(time.RFC3339), who)
		req, _ := http.NewRequestWithContext(ctx, "POST", a.base+"/api/v1/bookings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintln(stderr, "book:", err)
			}
			continue
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			if refused++; refused <= 3 {
				fmt.Fprintf(stderr, "kiosk-sim: booking refused: %d %s\n", res.StatusCode, b)
			}
		}
	}
}

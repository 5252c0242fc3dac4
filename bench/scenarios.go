package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// step makes one request of a scenario and says how it went: the HTTP
// status (0 for a network error), the problem code of a refusal, the
// response size.
type step func(ctx context.Context) (status int, code string, n int64, err error)

// scenarios builds a client's step for each scenario; i numbers the client.
var scenarios = map[string]func(a *api, fx *fixture, i int) step{
	"booking-create": bookingCreate,
	"availability":   availability,
	"checkin":        checkin,
}

// expected lists the statuses each scenario counts as a normal outcome;
// anything else is a failure and is reported loudly.
var expected = map[string][]int{
	"booking-create": {http.StatusCreated, http.StatusConflict, http.StatusUnprocessableEntity},
	"availability":   {http.StatusOK},
	"checkin":        {http.StatusCreated, http.StatusConflict, http.StatusUnprocessableEntity},
}

// newRand gives every client its own generator, seeded from the clock so
// repeated runs book different slots instead of colliding with the last run.
func newRand(i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i)))
}

// bookingCreate books a random desk for a random bench user on a random
// whole hour of a random day in the next 365, without override, so the
// site's policy is checked on every request.
func bookingCreate(a *api, fx *fixture, i int) step {
	rng := newRand(i)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	buf := make([]byte, 0, 256)
	return func(ctx context.Context) (int, string, int64, error) {
		start := today.AddDate(0, 0, 1+rng.IntN(365)).Add(time.Duration(rng.IntN(24)) * time.Hour)
		buf = append(buf[:0], `{"resource_type":"desk","resource_id":"`...)
		buf = append(buf, fx.desks[rng.IntN(len(fx.desks))]...)
		buf = append(buf, `","start":"`...)
		buf = start.AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","end":"`...)
		buf = start.Add(time.Hour).AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","for_user_id":"`...)
		buf = append(buf, fx.users[rng.IntN(len(fx.users))]...)
		buf = append(buf, `"}`...)
		st, n, eb, err := a.send(ctx, http.MethodPost, "/api/v1/bookings", buf)
		return st, codeOf(st, eb), n, err
	}
}

// availability asks for the whole bench floor over a random hour of a
// random day that holds seeded bookings.
func availability(a *api, fx *fixture, i int) step {
	rng := newRand(i)
	rounds := max(1, fx.seeded/len(fx.desks)) // days on which every desk has a seeded booking
	return func(ctx context.Context) (int, string, int64, error) {
		st, n, eb, err := a.send(ctx, http.MethodGet, availabilityPath(fx, rng.IntN(rounds), rng.IntN(24)), nil)
		return st, codeOf(st, eb), n, err
	}
}

func availabilityPath(fx *fixture, round, hour int) string {
	from := fx.anchor.AddDate(0, 0, roundDay(round)).Add(time.Duration(hour) * time.Hour)
	q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {from.Add(time.Hour).Format(time.RFC3339)}}
	return "/api/v1/floors/" + fx.floorID + "/availability?" + q.Encode()
}

func codeOf(status int, body []byte) string {
	if status < 300 {
		return ""
	}
	return problemCode(body)
}

// check makes one request of the scenario before the run and verifies the
// answer has the expected shape, so a broken setup fails before measuring.
func check(ctx context.Context, a *api, fx *fixture, scenario string, w io.Writer) error {
	if scenario != "availability" {
		return nil
	}
	var res struct {
		Resources []struct {
			ResourceType string            `json:"resource_type"`
			Bookings     []json.RawMessage `json:"bookings"`
		} `json:"resources"`
	}
	path := availabilityPath(fx, 0, 9)
	if err := a.call(ctx, http.MethodGet, path, nil, &res); err != nil {
		return err
	}
	desks, booked := 0, 0
	for _, r := range res.Resources {
		if r.ResourceType == "desk" {
			desks++
			if len(r.Bookings) > 0 {
				booked++
			}
		}
	}
	if desks != len(fx.desks) {
		return fmt.Errorf("availability answered %d desks, want %d", desks, len(fx.desks))
	}
	if fx.seeded >= len(fx.desks) && booked == 0 {
		return fmt.Errorf("availability shows no booked desk on a seeded day (%s)", path)
	}
	fmt.Fprintf(w, "check: availability answers %d desks, %d booked in a sample hour\n", desks, booked)
	return nil
}

// load runs clients copies of a step in a closed loop until d has passed
// (requests in flight then are finished and counted) and collects every
// outcome.
func load(ctx context.Context, clients int, d time.Duration, newStep func(i int) step) *result {
	recs := make([]recorder, clients)
	start := time.Now()
	deadline := start.Add(d)
	done := make(chan struct{})
	for i := range clients {
		go func() {
			defer func() { done <- struct{}{} }()
			do, rec := newStep(i), &recs[i]
			for ctx.Err() == nil && time.Now().Before(deadline) {
				t0 := time.Now()
				st, code, n, err := do(ctx)
				if err != nil && ctx.Err() != nil {
					return // interrupted, not failed
				}
				rec.add(time.Since(t0), st, code, n, err)
			}
		}()
	}
	for range clients {
		<-done
	}
	return merge(recs, time.Since(start))
}

// statusKey names an outcome for the report: "201", "409 booking_conflict".
func statusKey(status int, code string) string {
	if status == 0 {
		return "network error"
	}
	if code == "" {
		return strconv.Itoa(status)
	}
	return strconv.Itoa(status) + " " + code
}

// checkin books a random desk for a random bench user for one second,
// starting within the next 15 minutes (so its check-in window is open), and
// checks it in from the app: the full path of a person arriving. Each step
// is both requests, so its latency is the pair's; check-ins per second is
// the rate of steps answered 201. The booking uses the admin's override
// (one-second bookings are below the policy's minimum), the check-in goes
// through the policy's window like any other.
func checkin(a *api, fx *fixture, i int) step {
	rng := newRand(i)
	buf := make([]byte, 0, 256)
	return func(ctx context.Context) (int, string, int64, error) {
		start := time.Now().UTC().Truncate(time.Second).Add(time.Duration(2+rng.IntN(880)) * time.Second)
		buf = append(buf[:0], `{"resource_type":"desk","resource_id":"`...)
		buf = append(buf, fx.desks[rng.IntN(len(fx.desks))]...)
		buf = append(buf, `","start":"`...)
		buf = start.AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","end":"`...)
		buf = start.Add(time.Second).AppendFormat(buf, time.RFC3339)
		buf = append(buf, `","for_user_id":"`...)
		buf = append(buf, fx.users[rng.IntN(len(fx.users))]...)
		buf = append(buf, `","override":true}`...)
		resp, err := a.do(ctx, http.MethodPost, "/api/v1/bookings", buf)
		if err != nil {
			return 0, "", 0, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return resp.StatusCode, codeOf(resp.StatusCode, body), int64(len(body)), nil
		}
		var b struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			return 0, "", 0, fmt.Errorf("booking response: %w", err)
		}
		st, n, eb, err := a.send(ctx, http.MethodPost, "/api/v1/bookings/"+url.PathEscape(b.ID)+"/check-in", nil)
		return st, codeOf(st, eb), n + int64(len(body)), err
	}
}

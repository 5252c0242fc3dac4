package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	siteName   = "Perch bench"
	floorName  = "Bench floor"
	benchUsers = 200
	rowLen     = 500   // the API's cap on one bulk row
	seedBatch  = 10000 // bookings between two progress markers
)

// benchPolicy lets anyone book any hour of any day, up to two years ahead,
// so the measured requests run the whole policy path without being refused.
var benchPolicy = map[string]any{
	"bookable_from": "00:00", "bookable_until": "24:00", "half_day_split": "12:00",
	"weekdays":       []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"},
	"max_days_ahead": 730, "min_duration_minutes": 15,
	"max_desk_bookings_per_day": 48, "max_upcoming_bookings": 0,
}

// fixture is the seeded office the scenarios use.
type fixture struct {
	siteID, floorID string
	desks, users    []string
	// anchor is the UTC day the seeded bookings are laid out around (fixed
	// at the first seeding, so a resumed run books the same slots).
	anchor time.Time
	seeded int
}

// seedSlot is where seeded booking j lies: desk j%D on round k=j/D, one
// booking per desk and day, rounds alternating around the anchor (anchor,
// the day before, the day after, …), at an hour that moves with desk and day.
func seedSlot(j, desks int, anchor time.Time) (desk int, start time.Time) {
	desk, k := j%desks, j/desks
	return desk, anchor.AddDate(0, 0, roundDay(k)).Add(time.Duration((desk+k)%24) * time.Hour)
}

// roundDay is the day offset of seeding round k: 0, -1, 1, -2, 2, …
func roundDay(k int) int {
	if k%2 == 0 {
		return k / 2
	}
	return -(k + 1) / 2
}

// marker is the progress note kept in the bench site's address.
type marker struct {
	anchor time.Time
	seeded int
}

func (m marker) String() string {
	return fmt.Sprintf("perch-bench anchor=%s seeded=%d", m.anchor.Format(time.DateOnly), m.seeded)
}

func parseMarker(s string) (marker, bool) {
	var day string
	var m marker
	if _, err := fmt.Sscanf(s, "perch-bench anchor=%s seeded=%d", &day, &m.seeded); err != nil {
		return marker{}, false
	}
	t, err := time.Parse(time.DateOnly, day)
	if err != nil || m.seeded < 0 {
		return marker{}, false
	}
	m.anchor = t
	return m, true
}

type site struct{ ID, Name, Address string }
type floor struct{ ID, Name string }
type desk struct{ ID, Code string }
type user struct{ ID, Email string }

// seed makes sure the bench office exists and holds cfg.seedBookings
// bookings, creating only what is missing.
func seed(ctx context.Context, a *api, cfg config, w io.Writer) (*fixture, error) {
	sites, err := listAll[site](ctx, a, "/api/v1/sites")
	if err != nil {
		return nil, err
	}
	var s *site
	for i := range sites {
		if sites[i].Name == siteName {
			s = &sites[i]
			break
		}
	}
	if s == nil {
		s = &site{}
		if err := a.call(ctx, http.MethodPost, "/api/v1/sites", map[string]string{"name": siteName, "timezone": "Europe/Berlin"}, s); err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "created site %q %s\n", siteName, s.ID)
	}
	if err := a.call(ctx, http.MethodPut, "/api/v1/sites/"+s.ID+"/policy", benchPolicy, nil); err != nil {
		return nil, err
	}
	fx := &fixture{siteID: s.ID}

	floors, err := listAll[floor](ctx, a, "/api/v1/sites/"+s.ID+"/floors")
	if err != nil {
		return nil, err
	}
	for _, f := range floors {
		if f.Name == floorName {
			fx.floorID = f.ID
		}
	}
	if fx.floorID == "" {
		var f floor
		body := map[string]any{"name": floorName, "level": 0, "width": 10000, "height": 10000}
		if err := a.call(ctx, http.MethodPost, "/api/v1/sites/"+s.ID+"/floors", body, &f); err != nil {
			return nil, err
		}
		fx.floorID = f.ID
	}

	if fx.desks, err = seedDesks(ctx, a, fx.floorID, cfg.desks); err != nil {
		return nil, err
	}
	if fx.users, err = seedUsers(ctx, a); err != nil {
		return nil, err
	}

	m, ok := parseMarker(s.Address)
	if !ok {
		m = marker{anchor: time.Now().UTC().Truncate(24 * time.Hour)}
		if err := setMarker(ctx, a, s.ID, m); err != nil {
			return nil, err
		}
	}
	fx.anchor = m.anchor
	if m.seeded < cfg.seedBookings {
		if m.seeded, err = seedBookings(ctx, a, fx, m, cfg, w); err != nil {
			return nil, err
		}
	}
	fx.seeded = m.seeded
	fmt.Fprintf(w, "bench office: site %s, floor %s, %d desks, %d users, %d bookings seeded around %s\n",
		fx.siteID, fx.floorID, len(fx.desks), len(fx.users), fx.seeded, fx.anchor.Format(time.DateOnly))
	return fx, nil
}

func setMarker(ctx context.Context, a *api, siteID string, m marker) error {
	return a.call(ctx, http.MethodPatch, "/api/v1/sites/"+siteID, map[string]string{"address": m.String()}, nil)
}

// seedDesks creates the floor's desks in rows of up to 500 (each row all or
// none, so an interrupted run leaves whole rows and the next one goes on)
// and returns their ids in code order.
func seedDesks(ctx context.Context, a *api, floorID string, want int) ([]string, error) {
	have, err := listAll[desk](ctx, a, "/api/v1/floors/"+floorID+"/desks")
	if err != nil {
		return nil, err
	}
	if n := len(have); n != want && (n > want || n%rowLen != 0) {
		return nil, fmt.Errorf("bench floor has %d desks but -desks is %d; pass -desks %d or delete the %q site", n, want, n, siteName)
	}
	if len(have) < want {
		digits := max(3, len(strconv.Itoa(want)))
		for n := len(have); n < want; n += rowLen {
			row := map[string]any{"prefix": "B-", "first": n + 1, "count": min(rowLen, want-n), "digits": digits,
				"x": 10, "y": 10 + 15*(n/rowLen), "step_x": 15}
			if err := a.call(ctx, http.MethodPost, "/api/v1/floors/"+floorID+"/desks/bulk", row, nil); err != nil {
				return nil, err
			}
		}
		if have, err = listAll[desk](ctx, a, "/api/v1/floors/"+floorID+"/desks"); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(have))
	for i, d := range have {
		ids[i] = d.ID
	}
	return ids, nil
}

// seedUsers makes sure bench-001@example.com … bench-200@example.com exist.
func seedUsers(ctx context.Context, a *api) ([]string, error) {
	have, err := listAll[user](ctx, a, "/api/v1/users?q=bench-")
	if err != nil {
		return nil, err
	}
	byEmail := map[string]string{}
	for _, u := range have {
		byEmail[u.Email] = u.ID
	}
	ids := make([]string, benchUsers)
	for i := range ids {
		name := fmt.Sprintf("bench-%03d", i+1)
		email := name + "@example.com"
		if id, ok := byEmail[email]; ok {
			ids[i] = id
			continue
		}
		var u user
		if err := a.call(ctx, http.MethodPost, "/api/v1/users", map[string]string{"email": email, "name": name, "role": "employee"}, &u); err != nil {
			return nil, err
		}
		ids[i] = u.ID
	}
	return ids, nil
}

// seedBookings books the slots m.seeded … cfg.seedBookings-1 with c workers,
// as admin with override (past days are allowed). A 409 means the slot was
// booked by an interrupted earlier run: it counts as seeded. The marker
// advances only after a whole batch succeeded, so it never overstates.
func seedBookings(ctx context.Context, a *api, fx *fixture, m marker, cfg config, w io.Writer) (int, error) {
	target := cfg.seedBookings
	fmt.Fprintf(w, "seeding bookings %d..%d with %d workers\n", m.seeded, target, cfg.clients)
	start, done := time.Now(), m.seeded
	var created, existed atomic.Int64
	for m.seeded < target {
		end := min(target, m.seeded+seedBatch)
		next := atomic.Int64{}
		next.Store(int64(m.seeded))
		var (
			wg       sync.WaitGroup
			firstErr error
			errOnce  sync.Once
		)
		for range cfg.clients {
			wg.Go(func() {
				for ctx.Err() == nil {
					j := int(next.Add(1) - 1)
					if j >= end {
						return
					}
					d, t := seedSlot(j, len(fx.desks), fx.anchor)
					body, _ := json.Marshal(map[string]any{
						"resource_type": "desk", "resource_id": fx.desks[d],
						"start": t.Format(time.RFC3339), "end": t.Add(time.Hour).Format(time.RFC3339),
						"for_user_id": fx.users[j%len(fx.users)], "override": true,
					})
					st, _, eb, err := a.send(ctx, http.MethodPost, "/api/v1/bookings", body)
					switch {
					case err == nil && st == http.StatusCreated:
						created.Add(1)
					case err == nil && st == http.StatusConflict:
						existed.Add(1)
					default:
						if err == nil {
							err = fmt.Errorf("seeding booking %d: %d %s", j, st, strings.TrimSpace(string(eb)))
						}
						errOnce.Do(func() { firstErr = err })
						next.Store(int64(end)) // stop the batch
						return
					}
				}
			})
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return m.seeded, fmt.Errorf("seeding interrupted; %d bookings are marked seeded and a re-run resumes there", m.seeded)
		}
		if firstErr != nil {
			return m.seeded, firstErr
		}
		m.seeded = end
		if err := setMarker(ctx, a, fx.siteID, m); err != nil {
			return m.seeded, err
		}
		secs := time.Since(start).Seconds()
		fmt.Fprintf(w, "  seeded %d/%d (%.0f%%), %.0f bookings/s, %d created, %d already there\n",
			m.seeded, target, 100*float64(m.seeded)/float64(target), float64(m.seeded-done)/secs, created.Load(), existed.Load())
	}
	fmt.Fprintf(w, "seeding done: %d bookings in %s\n", m.seeded-done, time.Since(start).Round(time.Second))
	return m.seeded, nil
}

// listAll reads every page of a list endpoint.
func listAll[T any](ctx context.Context, a *api, path string) ([]T, error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	var all []T
	cursor := ""
	for {
		p := path + sep + "limit=500"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := a.call(ctx, http.MethodGet, p, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil || *page.NextCursor == "" {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
)

// While PostgreSQL is down the server stays up: /healthz 200, /readyz and
// the API 503 problem+json (code unavailable, never 500); when the database
// returns, perch recovers by itself, without a restart.
func TestDatabaseOutageAnswers503AndRecovers(t *testing.T) {
	ctx := context.Background()
	c, err := dbtest.StartCluster(ctx)
	if err != nil {
		if dbtest.Required() {
			t.Fatalf("PostgreSQL is required: %v", err)
		}
		t.Skipf("PostgreSQL unavailable: %v", err)
	}
	t.Cleanup(c.Stop)
	base, tokens, stop, stderr := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", c.URL, "PERCH_DEMO", "true",
		"PERCH_WORKER_INTERVAL", "1s"))
	tok := tokens["employee"]

	call := func(method, path, body string) (int, string, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: the server did not answer: %v", method, path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res.StatusCode, res.Header.Get("Content-Type"), m
	}
	if st, _, _ := call("GET", "/readyz", ""); st != 200 {
		t.Fatalf("readyz %d before the outage", st)
	}
	if st, _, _ := call("GET", "/api/v1/sites", ""); st != 200 {
		t.Fatalf("sites %d before the outage", st)
	}
	// A floor map connected before the outage stays connected through it.
	floor := demo.ID("floor", "0")
	var mu sync.Mutex
	var got []client.Message
	kctx, stopKiosk := context.WithCancel(ctx)
	defer stopKiosk()
	fm := &client.Client{URL: "ws" + strings.TrimPrefix(base, "http") + "/ws/floors/" + floor, Token: tok,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 500 * time.Millisecond,
		OnMessage: func(m client.Message) { mu.Lock(); got = append(got, m); mu.Unlock() }}
	go func() { _ = fm.Run(kctx) }()
	waitFor(t, "the floor map's snapshot", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 })

	if err := c.Halt(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	booking := `{"resource_type":"desk","resource_id":"` + "00000000-0000-7000-8000-000000000000" + `","start":"` + start + `","end":"` + start + `"}`
	for _, rq := range []struct{ method, path, body string }{
		{"GET", "/readyz", ""}, {"GET", "/api/v1/sites", ""}, {"GET", "/api/v1/me", ""}, {"GET", "/api/v1/bookings", ""},
		{"POST", "/api/v1/bookings", booking}, {"GET", "/api/v1/sites", ""},
	} {
		st, ct, m := call(rq.method, rq.path, rq.body)
		if st != 503 || ct != "application/problem+json" || m["code"] != "unavailable" {
			t.Fatalf("%s %s while the database is down: %d %s %v, want 503 problem+json unavailable", rq.method, rq.path, st, ct, m)
		}
	}
	if st, _, _ := call("GET", "/healthz", ""); st != 200 {
		t.Fatalf("healthz %d while the database is down: the process is alive", st)
	}
	if res, err := http.Get(base + "/metrics"); err != nil || res.StatusCode != 200 {
		t.Fatalf("/metrics while the database is down: %v %v", res, err)
	} else {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(b), "perch_outbox_scrape_ok 0") {
			t.Error("/metrics does not show the outbox unreadable while the database is down")
		}
	}
	time.Sleep(1500 * time.Millisecond) // let the worker and the feed fail at least once

	if err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st, _, _ := call("GET", "/readyz", "")
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %d a minute after the database returned\n%s", st, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for range 3 { // pooled connections from before the outage are gone
		if st, _, m := call("GET", "/api/v1/sites", ""); st != 200 {
			t.Fatalf("sites %d after recovery: %v", st, m)
		}
	}
	// The outbox feed recovered too: a booking made now reaches the floor
	// map that was connected all along.
	slot := time.Now().AddDate(0, 0, 1).UTC().Truncate(time.Hour)
	for slot.Weekday() == time.Saturday || slot.Weekday() == time.Sunday {
		slot = slot.AddDate(0, 0, 1)
	}
	slot = time.Date(slot.Year(), slot.Month(), slot.Day(), 9, 0, 0, 0, time.UTC)
	body := fmt.Sprintf(`{"resource_type":"desk","resource_id":%q,"start":%q,"end":%q}`,
		demo.ID("desk", "1A-05"), slot.Format(time.RFC3339), slot.Add(time.Hour).Format(time.RFC3339))
	st, _, m := call("POST", "/api/v1/bookings", body)
	if st != 201 {
		t.Fatalf("booking after recovery: %d %v", st, m)
	}
	waitFor(t, "the new booking on the floor map", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, msg := range got {
			if msg.Type == "delta" && strings.Contains(string(msg.Event), m["id"].(string)) {
				return true
			}
		}
		return false
	})
	stopKiosk()
	if err := stop(); err != nil {
		t.Fatalf("perch did not stop cleanly after the outage: %v", err)
	}
	if strings.Contains(stderr.String(), "level=ERROR msg=\"request failed\"") {
		t.Fatalf("a request failed with a 5xx other than unavailable:\n%s", stderr.String())
	}
}

// With PERCH_AUTO_MIGRATE=false (the Helm chart, whose hook Job migrates)
// serve refuses a schema that is behind instead of racing the Job, and
// starts once `perch migrate up` has run.
func TestServeWithoutAutoMigrate(t *testing.T) {
	dbURL := dbtest.EmptyURL(t)
	env := envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbURL, "PERCH_AUTO_MIGRATE", "false", "PERCH_DEMO", "false")
	var out, errb strings.Builder
	err := run(context.Background(), nil, env, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "perch migrate up") {
		t.Fatalf("serve on an empty schema: %v", err)
	}
	if err := run(context.Background(), []string{"migrate", "up"}, env, &out, &errb); err != nil {
		t.Fatal(err)
	}
	_, _, stop, _ := startPerch(t, env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

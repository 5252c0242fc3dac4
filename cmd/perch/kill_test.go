package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/demo"
	"github.com/perch-hq/perch/kiosk/client"
)

// childEnv makes the test binary run as a perch replica (see TestMain).
const childEnv = "PERCH_TEST_CHILD"

// startChild starts a perch replica as a separate process (this test
// binary, re-executed) listening on addr, and waits until it is ready.
func startChild(t *testing.T, addr, dbURL string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", "PERCH_ADDR="+addr, "PERCH_DATABASE_URL="+dbURL,
		"PERCH_DEMO=false", "PERCH_LOG_LEVEL=warn", "PERCH_WORKER_INTERVAL=1h")
	var stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica on %s did not become ready:\n%s", addr, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bookAny books a half-hour of a room with the admin's override and
// returns the booking id.
func bookAny(t *testing.T, base, token, room string, start time.Time) string {
	body := fmt.Sprintf(`{"resource_type":"room","resource_id":%q,"start":%q,"end":%q,"override":true}`,
		room, start.Format(time.RFC3339), start.Add(30*time.Minute).Format(time.RFC3339))
	req, _ := http.NewRequest("POST", base+"/api/v1/bookings", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		t.Errorf("book: %d %s", res.StatusCode, b)
		return ""
	}
	var v struct{ ID string }
	_ = json.Unmarshal(b, &v)
	return v.ID
}

// A replica is SIGKILLed (no goodbye, no close frames) while bookings keep
// coming through the other one, and restarted: the floor map connected to
// it resumes on its own and ends up with every acknowledged booking
// exactly once, in commit order.
func TestKilledReplicaLosesNoUpdate(t *testing.T) {
	dbURL := dbtest.URL(t)
	baseA, tokens, stopA, _ := startPerch(t, envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbURL,
		"PERCH_DEMO", "true", "PERCH_WORKER_INTERVAL", "1h"))
	defer stopA()
	admin := tokens["admin"]
	addrB := freeAddr(t)
	b := startChild(t, addrB, dbURL)

	floor := demo.ID("floor", "0")
	rooms := []string{demo.ID("room", "Spree"), demo.ID("room", "Havel")}
	var mu sync.Mutex
	var got []client.Message
	var drops atomic.Int32
	c := &client.Client{URL: "ws://" + addrB + "/ws/floors/" + floor, Token: admin,
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 300 * time.Millisecond,
		OnMessage:    func(m client.Message) { mu.Lock(); got = append(got, m); mu.Unlock() },
		OnDisconnect: func(error) { drops.Add(1) }}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = c.Run(ctx) }()
	waitFor(t, "the snapshot", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) > 0 })

	slot := slotsFrom()
	var want []string
	book := func(n int) {
		for range n {
			s := slot()
			for _, r := range rooms {
				if id := bookAny(t, baseA, admin, r, s); id != "" {
					want = append(want, id)
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	book(3)
	waitFor(t, "the first bookings on B's socket", func() bool { return len(deltaIDs(&mu, &got)) == len(want) })

	// SIGKILL: the socket just drops. Bookings go on through A meanwhile.
	if err := b.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = b.Wait()
	book(4)
	startChild(t, addrB, dbURL)
	book(3)
	waitFor(t, "every booking on the resumed socket", func() bool { return len(deltaIDs(&mu, &got)) >= len(want) })
	time.Sleep(200 * time.Millisecond) // anything extra (a duplicate) would arrive now
	if drops.Load() == 0 {
		t.Fatal("the socket never dropped: the replica was not killed")
	}
	if ids := deltaIDs(&mu, &got); strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("deltas %v,\nwant exactly %v in order", ids, want)
	}
}

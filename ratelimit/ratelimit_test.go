package ratelimit_test

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/database/dbtest"
	"github.com/perch-hq/perch/ratelimit"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }

func TestParse(t *testing.T) {
	for in, want := range map[string]ratelimit.Limit{
		"20/1m": {Requests: 20, Window: time.Minute}, "5/1s": {Requests: 5, Window: time.Second},
		" 100 / 1h ": {Requests: 100, Window: time.Hour}, "off": {},
	} {
		got, err := ratelimit.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "20", "x/1m", "0/1m", "-1/1m", "20/0s", "20/500ms", "20/48h", "20/1.5s", "20/m"} {
		if _, err := ratelimit.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Two limiters on one database (two replicas) share the count: of 50
// concurrent requests across both exactly the limit get through; the next
// window admits again; keys do not share; old windows are purged.
func TestSharedFixedWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 3, 23, 9, 0, 10, 0, time.UTC)}
		a := ratelimit.New(db, ratelimit.WithClock(c.now))
		b := ratelimit.New(db, ratelimit.WithClock(c.now))
		lim := ratelimit.Limit{Requests: 7, Window: time.Minute}
		var ok atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				l := a
				if i%2 == 1 {
					l = b
				}
				d, err := l.Allow(ctx, "ip:192.0.2.1", lim)
				if err != nil {
					t.Error(err)
					return
				}
				if d.Allowed {
					ok.Add(1)
				} else if d.RetryAfter != 50*time.Second {
					t.Errorf("RetryAfter %v, want 50s (the rest of the window)", d.RetryAfter)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 7 {
			t.Fatalf("%d allowed, want 7", ok.Load())
		}
		if d, _ := a.Allow(ctx, "ip:192.0.2.2", lim); !d.Allowed || d.Remaining != 6 {
			t.Fatalf("another key shares the count: %+v", d)
		}
		c.add(50 * time.Second)
		if d, _ := b.Allow(ctx, "ip:192.0.2.1", lim); !d.Allowed {
			t.Fatal("a new window still refused")
		}
		if d, _ := a.Allow(ctx, "ip:192.0.2.1", ratelimit.Limit{}); !d.Allowed {
			t.Fatal("the off limit refused")
		}
		c.add(2 * time.Hour)
		n, err := a.Purge(ctx, time.Hour)
		if err != nil || n != 3 {
			t.Fatalf("purged %d, %v; want the 3 old windows", n, err)
		}
	})
}

// Package ratelimit counts requests in fixed windows stored in the database
// (table rate_limits), so a limit holds across every replica: one UPSERT
// per request bumps the counter of (key, window) and returns its new value.
// It knows nothing of HTTP; package api decides what is limited and keys
// requests by client address or token.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/perch-hq/perch/database"
)

// Limit allows Requests per Window for each key. The zero Limit is off.
type Limit struct {
	Requests int
	Window   time.Duration
}

// Off reports whether the limit admits everything.
func (l Limit) Off() bool { return l.Requests <= 0 || l.Window <= 0 }

// String formats the limit the way Parse reads it ("20/1m0s", or "off").
func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	return strconv.Itoa(l.Requests) + "/" + l.Window.String()
}

// Parse reads "N/DURATION" (like "20/1m": 20 requests a minute) or "off".
// Windows are whole seconds from 1s to 24h.
func Parse(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "off" || s == "0" {
		return Limit{}, nil
	}
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return Limit{}, errors.New(`want N/DURATION like 20/1m, or off`)
	}
	req, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || req < 1 || req > 1_000_000 {
		return Limit{}, errors.New("want a request count from 1 to 1000000 before the slash")
	}
	d, err := time.ParseDuration(strings.TrimSpace(w))
	if err != nil || d < time.Second || d > 24*time.Hour || d%time.Second != 0 {
		return Limit{}, errors.New("want a window of whole seconds from 1s to 24h after the slash, like 1m")
	}
	return Limit{Requests: req, Window: d}, nil
}

// Limiter counts requests in the database.
type Limiter struct {
	db  *database.DB
	now func() time.Time
}

// Option configures a Limiter.
type Option func(*Limiter)

// WithClock makes the limiter read the time from now (tests).
func WithClock(now func() time.Time) Option { return func(l *Limiter) { l.now = now } }

// New returns a limiter on db.
func New(db *database.DB, opts ...Option) *Limiter {
	l := &Limiter{db: db, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Decision is the outcome of one Allow.
type Decision struct {
	Allowed bool
	// Remaining requests in the current window (0 when refused).
	Remaining int
	// RetryAfter is how long until the window ends (when refused).
	RetryAfter time.Duration
}

// Allow counts one request for key under lim and tells whether it is within
// the limit. A request over the limit is counted too (a client that keeps
// hammering stays refused until the window ends).
func (l *Limiter) Allow(ctx context.Context, key string, lim Limit) (Decision, error) {
	if lim.Off() {
		return Decision{Allowed: true, Remaining: -1}, nil
	}
	now := l.now()
	win := int64(lim.Window / time.Second)
	start := now.Unix() / win * win
	const upsert = `INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
RETURNING count`
	var count int64
	run := func(tx *gorm.DB) error { return tx.Raw(upsert, key, start).Scan(&count).Error }
	var err error
	if l.db.Dialect() == database.SQLite {
		err = l.db.Tx(ctx, run) // SQLite writers queue in Go
	} else {
		err = database.Translate(run(l.db.Conn(ctx)))
	}
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit: %w", err)
	}
	if count > int64(lim.Requests) {
		end := time.Unix(start+win, 0)
		retry := max(end.Sub(now), time.Second)
		return Decision{Allowed: false, RetryAfter: retry}, nil
	}
	return Decision{Allowed: true, Remaining: lim.Requests - int(count)}, nil
}

// Purge deletes the counters of windows that ended before olderThan ago
// (housekeeping; windows are at most 24 h long).
func (l *Limiter) Purge(ctx context.Context, olderThan time.Duration) (int64, error) {
	cutoff := l.now().Add(-olderThan).Unix()
	res := l.db.Conn(ctx).Exec("DELETE FROM rate_limits WHERE window_start < ?", cutoff)
	return res.RowsAffected, database.Translate(res.Error)
}

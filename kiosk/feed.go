package kiosk

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/perch-hq/perch/booking"
	"github.com/perch-hq/perch/database"
)

// notifyChannel is the PostgreSQL channel replicas wake each other on.
const notifyChannel = "perch_outbox"

// Feed reads the outbox in seq order and hands each event, once and in
// order, to the hub. It is woken at once by Notify (a commit in this
// process) and, on PostgreSQL, by LISTEN/NOTIFY (a commit on another
// replica); a short poll is the fallback when a wake-up is lost.
//
// On PostgreSQL a seq is taken at insert but transactions commit in any
// order, so seq 6 may be visible while seq 5 is still uncommitted. The feed
// delivers only contiguous seqs; a gap is taken as final (a rolled-back
// insert) only once every transaction that was running when the gap was
// first seen has ended (pg_snapshot_xmin has passed the xmax seen then).
// On SQLite there is one writer at a time, so seq order is commit order.
type Feed struct {
	db      *database.DB
	pgURL   string
	log     *slog.Logger
	deliver func([]booking.Event)
	poll    time.Duration

	wake   chan struct{} // this process committed: read now
	notify chan struct{} // tell other replicas (PostgreSQL)

	mu   sync.Mutex
	last int64 // the last seq delivered
}

// FeedOptions configure a Feed.
type FeedOptions struct {
	// PostgresURL enables LISTEN/NOTIFY between replicas.
	PostgresURL string
	// Poll is the fallback poll interval (default 1 s).
	Poll   time.Duration
	Logger *slog.Logger
}

// NewFeed returns a feed that will deliver events to deliver.
func NewFeed(db *database.DB, deliver func([]booking.Event), o FeedOptions) *Feed {
	f := &Feed{db: db, pgURL: o.PostgresURL, log: o.Logger, deliver: deliver, poll: o.Poll,
		wake: make(chan struct{}, 1), notify: make(chan struct{}, 1)}
	if f.poll == 0 {
		f.poll = time.Second
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f
}

// Notify is called after a commit that wrote events (booking.Notifier). It
// never blocks: wake-ups coalesce.
func (f *Feed) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
	if f.pgURL != "" {
		select {
		case f.notify <- struct{}{}:
		default:
		}
	}
}

// Last is the seq of the last event delivered.
func (f *Feed) Last() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Start positions the feed at the current end of the outbox (older events
// are replayed from the database by whoever needs them).
func (f *Feed) Start(ctx context.Context) error {
	var max int64
	if err := f.db.Conn(ctx).Raw("SELECT COALESCE(MAX(seq), 0) FROM outbox").Scan(&max).Error; err != nil {
		return database.Translate(err)
	}
	f.mu.Lock()
	f.last = max
	f.mu.Unlock()
	return nil
}

// Run reads and delivers until ctx ends.
func (f *Feed) Run(ctx context.Context) {
	if f.pgURL != "" {
		go f.listen(ctx)
		go f.sendNotifies(ctx)
	}
	var gap *gapWatch
	for {
		var err error
		gap, err = f.readOnce(ctx, gap)
		if err != nil && ctx.Err() == nil {
			f.log.Warn("read outbox", "error", err)
		}
		wait := f.poll
		if gap != nil {
			wait = 20 * time.Millisecond // a transaction is about to commit or roll back
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// gapWatch remembers a missing seq and the snapshot xmax when first seen.
type gapWatch struct {
	seq  int64
	xmax uint64
}

const batch = 500

// readOnce delivers every event now deliverable.
func (f *Feed) readOnce(ctx context.Context, gap *gapWatch) (*gapWatch, error) {
	for {
		last := f.Last()
		var events []booking.Event
		if err := f.db.Conn(ctx).Where("seq > ?", last).Order("seq").Limit(batch).Find(&events).Error; err != nil {
			return gap, err
		}
		if len(events) == 0 {
			return nil, nil
		}
		n := 0
		for _, e := range events {
			if e.Seq != last+1 && f.db.Dialect() == database.Postgres {
				final, g, err := f.gapIsFinal(ctx, last+1, gap)
				if err != nil {
					return gap, err
				}
				if !final {
					gap = g
					break
				}
				gap = nil
			}
			last = e.Seq
			n++
		}
		if n > 0 {
			f.mu.Lock()
			f.last = last
			f.mu.Unlock()
			f.deliver(events[:n])
		}
		if n < len(events) || len(events) < batch {
			return gap, nil
		}
	}
}

// gapIsFinal reports whether the missing seq can no longer appear.
func (f *Feed) gapIsFinal(ctx context.Context, seq int64, gap *gapWatch) (bool, *gapWatch, error) {
	var snap struct{ Xmin, Xmax uint64 }
	err := f.db.Conn(ctx).Raw(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
		pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax`).Scan(&snap).Error
	if err != nil {
		return false, gap, err
	}
	if gap == nil || gap.seq != seq {
		return false, &gapWatch{seq: seq, xmax: snap.Xmax}, nil
	}
	return snap.Xmin >= gap.xmax, gap, nil
}

// listen wakes the feed on NOTIFY from any replica, reconnecting as needed.
func (f *Feed) listen(ctx context.Context) {
	for ctx.Err() == nil {
		if err := f.listenOnce(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("listen for outbox notifications (polling meanwhile)", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}

func (f *Feed) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, f.pgURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// sendNotifies sends one NOTIFY per burst of local commits, from its own
// small statement after the commit (never inside a booking transaction,
// where it would serialise every commit).
func (f *Feed) sendNotifies(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.notify:
			if err := f.db.Conn(ctx).Exec("SELECT pg_notify(?, '')", notifyChannel).Error; err != nil && ctx.Err() == nil {
				f.log.Warn("notify replicas", "error", err)
			}
		}
	}
}

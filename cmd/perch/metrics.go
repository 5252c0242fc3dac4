package main

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/perch-hq/perch/api"
	"github.com/perch-hq/perch/database"
	"github.com/perch-hq/perch/kiosk"
)

// registerMetrics adds to the server's registry what the API cannot count
// itself: the WebSocket hub, the outbox lag and the database pool. Each is
// read at scrape time (see docs/OPERATIONS.md).
func registerMetrics(m *api.Metrics, hub *kiosk.Hub, db *database.DB) {
	m.Registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "perch_websocket_connections",
			Help: "Open WebSocket connections (doors, floor maps, /ws/me) on this replica.",
		}, func() float64 { return float64(hub.Stats().Connections) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "perch_websocket_messages_sent_total",
			Help: "WebSocket messages written to clients by this replica (snapshots, deltas, states).",
		}, func() float64 { return float64(hub.Stats().MessagesSent) }),
		&outboxCollector{db: db.SQL(), postgres: db.Dialect() == database.Postgres, dispatched: func() int64 { return hub.Stats().Dispatched }},
		collectors.NewDBStatsCollector(db.SQL(), string(db.Dialect())),
	)
}

// outboxCollector measures how far this replica's hub is behind the outbox:
// events committed but not yet pushed to its sockets.
type outboxCollector struct {
	db         *sql.DB
	postgres   bool
	dispatched func() int64
}

var (
	outboxLagDesc = prometheus.NewDesc("perch_outbox_lag_events",
		"Outbox events committed but not yet dispatched by this replica's WebSocket hub (newest seq - dispatched seq).", nil, nil)
	outboxAgeDesc = prometheus.NewDesc("perch_outbox_oldest_undelivered_seconds",
		"Age of the oldest outbox event this replica's hub has not dispatched yet (0 when caught up).", nil, nil)
	outboxUpDesc = prometheus.NewDesc("perch_outbox_scrape_ok",
		"1 when the outbox could be read for this scrape, 0 when the database did not answer.", nil, nil)
)

func (o *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxLagDesc
	ch <- outboxAgeDesc
	ch <- outboxUpDesc
}

func (o *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	last := o.dispatched()
	var newest int64
	var oldest sql.NullTime
	err := o.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM outbox").Scan(&newest)
	if err == nil {
		var raw any
		q := "SELECT MIN(created_at) FROM outbox WHERE seq > ?"
		if o.postgres {
			q = "SELECT MIN(created_at) FROM outbox WHERE seq > $1"
		}
		err = o.db.QueryRowContext(ctx, q, last).Scan(&raw)
		oldest = toNullTime(raw)
	}
	if err != nil {
		ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(outboxUpDesc, prometheus.GaugeValue, 1)
	lag := newest - last
	if lag < 0 {
		lag = 0
	}
	ch <- prometheus.MustNewConstMetric(outboxLagDesc, prometheus.GaugeValue, float64(lag))
	age := 0.0
	if oldest.Valid {
		age = max(time.Since(oldest.Time).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(outboxAgeDesc, prometheus.GaugeValue, age)
}

// toNullTime reads a timestamp as either driver returns it (SQLite may hand
// back text).
func toNullTime(v any) sql.NullTime {
	switch t := v.(type) {
	case time.Time:
		return sql.NullTime{Time: t, Valid: true}
	case string:
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999"} {
			if p, err := time.Parse(layout, t); err == nil {
				return sql.NullTime{Time: p, Valid: true}
			}
		}
	case []byte:
		return toNullTime(string(t))
	}
	return sql.NullTime{}
}

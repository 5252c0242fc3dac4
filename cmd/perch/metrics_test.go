package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perch-hq/perch/database/dbtest"
)

// The whole program's /metrics carries what cmd/perch registers: the hub's
// sockets and messages, the outbox lag, the database pool; on both dialects.
func TestMetricsEndpointShowsHubOutboxAndPool(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  func(t *testing.T) func(string) string
	}{
		{"sqlite", func(t *testing.T) func(string) string {
			return envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATA_DIR", filepath.Join(t.TempDir(), "data"))
		}},
		{"postgres", func(t *testing.T) func(string) string {
			return envOf("PERCH_ADDR", "127.0.0.1:0", "PERCH_DATABASE_URL", dbtest.URL(t), "PERCH_DEMO", "true")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base, _, stop, _ := startPerch(t, tc.env(t))
			res, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("/metrics %d", res.StatusCode)
			}
			body := string(b)
			for _, want := range []string{
				"perch_websocket_connections 0", "perch_websocket_messages_sent_total ",
				"perch_outbox_lag_events 0", "perch_outbox_oldest_undelivered_seconds 0", "perch_outbox_scrape_ok 1",
				"go_sql_open_connections{db_name=", "go_sql_max_open_connections{db_name=",
				`perch_worker_runs_total{job="release_no_shows"}`, "go_goroutines ", "process_resident_memory_bytes ",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

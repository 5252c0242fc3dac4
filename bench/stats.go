package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// outcome is how one request ended.
type outcome struct {
	status int // 0: network error
	code   string
}

// recorder collects one client's outcomes; each client has its own, so
// recording takes no lock.
type recorder struct {
	latencies []time.Duration
	counts    map[outcome]int
	bytes     int64
	samples   []string // the first few failures, to show
}

func (r *recorder) add(d time.Duration, status int, code string, n int64, err error) {
	if r.counts == nil {
		r.counts = map[outcome]int{}
	}
	if err != nil { // even after a status line: the answer did not arrive whole
		status, code = 0, ""
	}
	r.latencies = append(r.latencies, d)
	r.counts[outcome{status, code}]++
	r.bytes += n
	if err != nil && len(r.samples) < 3 {
		r.samples = append(r.samples, err.Error())
	}
}

// result is a whole run.
type result struct {
	Scenario  string
	Clients   int
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
	Counts    map[outcome]int
	Bytes     int64
	Samples   []string
}

func merge(recs []recorder, elapsed time.Duration) *result {
	res := &result{Elapsed: elapsed, Counts: map[outcome]int{}}
	for _, r := range recs {
		res.Latencies = append(res.Latencies, r.latencies...)
		for k, v := range r.counts {
			res.Counts[k] += v
		}
		res.Bytes += r.bytes
		res.Samples = append(res.Samples, r.samples...)
	}
	slices.Sort(res.Latencies)
	return res
}

// percentile is the exact p-th percentile (0 < p <= 100) of sorted values by
// the nearest-rank method: the smallest value with at least p% of the values
// at or below it. It is 0 for no values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func (r *result) requests() int { return len(r.Latencies) }

func (r *result) count(status int) int {
	n := 0
	for k, v := range r.Counts {
		if k.status == status {
			n += v
		}
	}
	return n
}

// failures counts requests whose status the scenario does not expect.
func (r *result) failures() int {
	n := 0
	for k, v := range r.Counts {
		if !slices.Contains(expected[r.Scenario], k.status) {
			n += v
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func (r *result) print(w io.Writer, machine string) {
	secs := r.Elapsed.Seconds()
	n := r.requests()
	fmt.Fprintf(w, "\n== %s: %d clients, %s\n", r.Scenario, r.Clients, r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "machine     %s\n", machine)
	fmt.Fprintf(w, "requests    %d  (%.1f req/s", n, float64(n)/secs)
	if r.Scenario == "booking-create" {
		fmt.Fprintf(w, "; created %d, %.1f bookings/s", r.count(201), float64(r.count(201))/secs)
	}
	fmt.Fprintln(w, ")")
	if n > 0 {
		fmt.Fprintf(w, "response    %.1f KiB average\n", float64(r.Bytes)/float64(n)/1024)
	}
	keys := make([]outcome, 0, len(r.Counts))
	for k := range r.Counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b outcome) int {
		if a.status != b.status {
			return a.status - b.status
		}
		return strings.Compare(a.code, b.code)
	})
	for _, k := range keys {
		flag := ""
		if !slices.Contains(expected[r.Scenario], k.status) {
			flag = "   <-- FAILED"
		}
		fmt.Fprintf(w, "status      %-32s %8d%s\n", statusKey(k.status, k.code), r.Counts[k], flag)
	}
	fmt.Fprintf(w, "latency ms  p50 %s  p95 %s  p99 %s  max %s\n", ms(percentile(r.Latencies, 50)),
		ms(percentile(r.Latencies, 95)), ms(percentile(r.Latencies, 99)), ms(percentile(r.Latencies, 100)))
	fmt.Fprintf(w, "summary     scenario=%s c=%d requests=%d rps=%.1f created_rps=%.1f p50=%s p95=%s p99=%s max=%s failed=%d\n",
		r.Scenario, r.Clients, n, float64(n)/secs, float64(r.count(201))/secs, ms(percentile(r.Latencies, 50)),
		ms(percentile(r.Latencies, 95)), ms(percentile(r.Latencies, 99)), ms(percentile(r.Latencies, 100)), r.failures())
	if f := r.failures(); f > 0 {
		fmt.Fprintf(w, "!!! %d of %d requests FAILED (unexpected status or network error)\n", f, n)
		for _, s := range r.Samples {
			fmt.Fprintf(w, "!!!   %s\n", s)
		}
	}
}

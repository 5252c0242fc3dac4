package main

import (
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var hundred []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose: merge sorts
		hundred = append(hundred, time.Duration(i)*time.Millisecond)
	}
	res := merge([]recorder{{latencies: hundred[:50]}, {latencies: hundred[50:]}}, time.Second)
	if !slices.IsSorted(res.Latencies) || len(res.Latencies) != 100 {
		t.Fatalf("merge did not keep and sort every latency: %v", res.Latencies)
	}
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{7}, 50, 7},
		{[]time.Duration{7}, 99, 7},
		{ten, 50, 5},
		{ten, 51, 6},
		{ten, 95, 10},
		{ten, 10, 1},
		{ten, 0.1, 1},
		{ten, 100, 10},
		{res.Latencies, 50, 50 * time.Millisecond},
		{res.Latencies, 95, 95 * time.Millisecond},
		{res.Latencies, 99, 99 * time.Millisecond},
		{res.Latencies, 99.5, 100 * time.Millisecond},
		{res.Latencies, 100, 100 * time.Millisecond},
	} {
		if got := percentile(c.in, c.p); got != c.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(c.in), c.p, got, c.want)
		}
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	m := marker{anchor: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), seeded: 200000}
	got, ok := parseMarker(m.String())
	if !ok || got != m {
		t.Fatalf("parseMarker(%q) = %v, %v", m.String(), got, ok)
	}
	if _, ok := parseMarker("Friedrichstraße 1, Berlin"); ok {
		t.Fatal("an ordinary address parsed as a marker")
	}
}

func TestSeedSlotsDoNotOverlap(t *testing.T) {
	anchor := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	seen := map[[2]int64]bool{}
	for j := range 20000 {
		d, start := seedSlot(j, 50, anchor)
		day := start.Truncate(24 * time.Hour).Unix()
		if seen[[2]int64{int64(d), day}] {
			t.Fatalf("slot %d books desk %d twice on %s", j, d, start)
		}
		seen[[2]int64{int64(d), day}] = true
	}
}

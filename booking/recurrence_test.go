package booking_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below must not depend on the machine's zoneinfo

	"github.com/perch-hq/perch"
	"github.com/perch-hq/perch/booking"
)

// recDate parses a YYYY-MM-DD date or fails the test.
func recDate(t testing.TB, s string) booking.Date {
	t.Helper()
	d, err := booking.ParseDate(s)
	if err != nil {
		t.Fatalf("ParseDate(%q): %v", s, err)
	}
	return d
}

func recZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

func recUTC(t testing.TB, s string) time.Time {
	t.Helper()
	u, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("time.Parse(%q): %v", s, err)
	}
	return u
}

// recValidation checks that err is a *perch.Error validation failure on field
// whose message contains want (case-insensitive), and returns it.
func recValidation(t testing.TB, err error, field, want string) *perch.Error {
	t.Helper()
	var pe *perch.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *perch.Error", err, err)
	}
	if pe.Code != perch.EINVALID || pe.Field != field {
		t.Fatalf("error = %v, want code %q on field %q", pe, perch.EINVALID, field)
	}
	if !strings.Contains(strings.ToLower(pe.Message), strings.ToLower(want)) {
		t.Fatalf("message %q does not contain %q", pe.Message, want)
	}
	return pe
}

func recDates(ds []booking.Date) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// recAt9Berlin is the start of a 09:00 booking in Berlin, as the service would compute it.
func recAt9Berlin(t testing.TB) func(booking.Date) time.Time {
	berlin := recZone(t, "Europe/Berlin")
	return func(d booking.Date) time.Time { return d.At(9*60, berlin) }
}

func recMidnightUTC(d booking.Date) time.Time { return d.In(time.UTC) }

// ---- ParseRule ----

func TestParseRuleAccepts(t *testing.T) {
	wk := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	for _, tc := range []struct {
		in   string
		want booking.Rule
	}{
		{"FREQ=DAILY;COUNT=3", booking.Rule{Freq: "DAILY", Interval: 1, Count: 3}},
		{"FREQ=WEEKLY;BYDAY=MO,WE;INTERVAL=2;COUNT=10",
			booking.Rule{Freq: "WEEKLY", Interval: 2, ByDay: []time.Weekday{time.Monday, time.Wednesday}, Count: 10}},
		{"RRULE:FREQ=WEEKLY;BYDAY=WE,MO;COUNT=10", // BYDAY keeps the given order
			booking.Rule{Freq: "WEEKLY", Interval: 1, ByDay: []time.Weekday{time.Wednesday, time.Monday}, Count: 10}},
		{"rrule:freq=weekly;byday=mo,we;count=10",
			booking.Rule{Freq: "WEEKLY", Interval: 1, ByDay: []time.Weekday{time.Monday, time.Wednesday}, Count: 10}},
		{"Count=1;Freq=Daily", booking.Rule{Freq: "DAILY", Interval: 1, Count: 1}},
		{"FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=20", booking.Rule{Freq: "DAILY", Interval: 1, ByDay: wk, Count: 20}},
		{"FREQ=WEEKLY;BYDAY=SU,SA;COUNT=366;INTERVAL=52",
			booking.Rule{Freq: "WEEKLY", Interval: 52, ByDay: []time.Weekday{time.Sunday, time.Saturday}, Count: 366}},
		{"FREQ=DAILY;INTERVAL=01;COUNT=007", booking.Rule{Freq: "DAILY", Interval: 1, Count: 7}},
		// A date-only UNTIL is 23:59:59 UTC of that date.
		{"FREQ=WEEKLY;UNTIL=20261231", booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, "2026-12-31T23:59:59Z")}},
		{"FREQ=WEEKLY;UNTIL=20240229", booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, "2024-02-29T23:59:59Z")}},
		{"FREQ=WEEKLY;UNTIL=20261231T170000Z", booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, "2026-12-31T17:00:00Z")}},
		{"until=20261231t000000z;freq=daily", booking.Rule{Freq: "DAILY", Interval: 1, Until: recUTC(t, "2026-12-31T00:00:00Z")}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := booking.ParseRule(tc.in)
			if err != nil {
				t.Fatalf("ParseRule: %v", err)
			}
			if got.Freq != tc.want.Freq || got.Interval != tc.want.Interval || got.Count != tc.want.Count ||
				!got.Until.Equal(tc.want.Until) || !slices.Equal(got.ByDay, tc.want.ByDay) {
				t.Fatalf("ParseRule = %+v, want %+v", got, tc.want)
			}
			if !got.Until.IsZero() && got.Until.Location() != time.UTC {
				t.Fatalf("Until %v is not in UTC", got.Until)
			}
		})
	}
}

func TestParseRuleRefuses(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: part of the message
	}{
		{"", "empty"},
		{"RRULE:", "empty"},
		{"FREQ=DAILY;COUNT=3;" + strings.Repeat("X", 200), "too long"},
		{"FREQ=MONTHLY;COUNT=3", "only DAILY and WEEKLY"},
		{"FREQ=YEARLY;COUNT=3", "only DAILY and WEEKLY"},
		{"FREQ=HOURLY;COUNT=3", "only DAILY and WEEKLY"},
		{"FREQ=;COUNT=3", "only DAILY and WEEKLY"},
		{"FREQ=DA\u0131LY;COUNT=3", "only DAILY and WEEKLY"}, // dotless i is not an i
		{"COUNT=3", "FREQ is required"},
		{"INTERVAL=2;UNTIL=20261231", "FREQ is required"},
		{"FREQ=DAILY", "must end"},
		{"FREQ=WEEKLY;BYDAY=MO;INTERVAL=2", "must end"},
		{"FREQ=DAILY;COUNT=3;UNTIL=20261231", "COUNT and UNTIL cannot both"},
		{"FREQ=DAILY;UNTIL=20261231T170000Z;COUNT=3", "COUNT and UNTIL cannot both"},
		{"FREQ=DAILY;FREQ=WEEKLY;COUNT=3", "more than once"},
		{"FREQ=DAILY;COUNT=3;count=4", "more than once"},
		{"FREQ=DAILY;BYDAY=MO;BYDAY=TU;COUNT=3", "more than once"},
		{"FREQ=DAILY;COUNT=3;WKST=MO", "not supported"},
		{"FREQ=DAILY;COUNT=3;BYMONTH=1", "not supported"},
		{"FREQ=DAILY;COUNT=3;FOO=BAR", "not supported"},
		{"FREQ=DAILY; COUNT=3", "not supported"}, // no spaces
		{"FREQ=DAILY;COUNT=0", "COUNT must be a whole number from 1 to 366"},
		{"FREQ=DAILY;COUNT=367", "COUNT must be"},
		{"FREQ=DAILY;COUNT=-1", "COUNT must be"},
		{"FREQ=DAILY;COUNT=+3", "COUNT must be"},
		{"FREQ=DAILY;COUNT=3.0", "COUNT must be"},
		{"FREQ=DAILY;COUNT=", "COUNT must be"},
		{"FREQ=DAILY;COUNT=99999999999999999999", "COUNT must be"},
		{"FREQ=DAILY;COUNT=three", "COUNT must be"},
		{"FREQ=DAILY;INTERVAL=0;COUNT=3", "INTERVAL must be a whole number from 1 to 52"},
		{"FREQ=DAILY;INTERVAL=53;COUNT=3", "INTERVAL must be"},
		{"FREQ=DAILY;INTERVAL=1.5;COUNT=3", "INTERVAL must be"},
		{"FREQ=DAILY;UNTIL=20261231T170000", "local time"},
		{"FREQ=DAILY;UNTIL=2026-12-31", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20260230", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261301", "UNTIL"},
		{"FREQ=DAILY;UNTIL=00001231", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231T240000Z", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231T236000Z", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231T235960Z", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231T1700Z", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231T170000+0100", "UNTIL"},
		{"FREQ=DAILY;UNTIL=20261231Z", "UNTIL"},
		{"FREQ=DAILY;UNTIL=", "UNTIL"},
		{"FREQ=WEEKLY;BYDAY=1MO;COUNT=3", "with a number"},
		{"FREQ=WEEKLY;BYDAY=MO,-1FR;COUNT=3", "with a number"},
		{"FREQ=WEEKLY;BYDAY=+2TU;COUNT=3", "with a number"},
		{"FREQ=WEEKLY;BYDAY=MO,MO;COUNT=3", "more than once"},
		{"FREQ=WEEKLY;BYDAY=mo,MO;COUNT=3", "more than once"},
		{"FREQ=WEEKLY;BYDAY=XX;COUNT=3", "MO, TU, WE"},
		{"FREQ=WEEKLY;BYDAY=MONDAY;COUNT=3", "MO, TU, WE"},
		{"FREQ=WEEKLY;BYDAY=MO,,WE;COUNT=3", "MO, TU, WE"},
		{"FREQ=WEEKLY;BYDAY=MO WE;COUNT=3", "MO, TU, WE"},
		{"FREQ=WEEKLY;BYDAY=;COUNT=3", "BYDAY is empty"},
		{"FREQ=DAILY;;COUNT=3", "empty part"},
		{"FREQ=DAILY;COUNT=3;", "empty part"},
		{";FREQ=DAILY;COUNT=3", "empty part"},
		{"FREQ", "KEY=VALUE"},
		{"=DAILY", "KEY=VALUE"},
		{"FREQ:DAILY;COUNT=3", "KEY=VALUE"},
		{"RRULE:RRULE:FREQ=DAILY;COUNT=3", "not supported"},
		{"EXDATE:20261231", "KEY=VALUE"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			r, err := booking.ParseRule(tc.in)
			if err == nil {
				t.Fatalf("ParseRule accepted it: %+v", r)
			}
			recValidation(t, err, "recurrence", tc.want)
		})
	}
}

// ---- Occurrences ----

func TestOccurrencesPatterns(t *testing.T) {
	berlin := recAt9Berlin(t)
	for _, tc := range []struct {
		name, rule, first string
		want              []string
	}{
		{"weekly MO,WE,FR from a Wednesday", "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=6", "2026-03-04",
			[]string{"2026-03-04", "2026-03-06", "2026-03-09", "2026-03-11", "2026-03-13", "2026-03-16"}},
		{"weekly BYDAY order does not matter", "FREQ=WEEKLY;BYDAY=FR,WE,MO;COUNT=4", "2026-03-04",
			[]string{"2026-03-04", "2026-03-06", "2026-03-09", "2026-03-11"}},
		{"weekly without BYDAY repeats first's weekday", "FREQ=WEEKLY;COUNT=3", "2026-03-05",
			[]string{"2026-03-05", "2026-03-12", "2026-03-19"}},
		// Weeks count from the week (Mon 03-02) holding the Thursday 03-05:
		// week 0 is 03-02..08 (Tuesday 03-03 is before first), week 2 is
		// 03-16..22, week 4 is 03-30..04-05.
		{"weekly INTERVAL=2", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=5", "2026-03-05",
			[]string{"2026-03-05", "2026-03-17", "2026-03-19", "2026-03-31", "2026-04-02"}},
		{"weekly INTERVAL=2 on a Sunday, the last day of the week", "FREQ=WEEKLY;INTERVAL=2;COUNT=3", "2026-03-08",
			[]string{"2026-03-08", "2026-03-22", "2026-04-05"}},
		// first (a Wednesday) is not in BYDAY but counts as the first occurrence.
		{"weekly first not in BYDAY", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=3", "2026-03-04",
			[]string{"2026-03-04", "2026-03-16", "2026-03-30"}},
		{"weekly across a year end", "FREQ=WEEKLY;BYDAY=TH;COUNT=3", "2026-12-24",
			[]string{"2026-12-24", "2026-12-31", "2027-01-07"}},
		{"daily every weekday skips the weekend", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=7", "2026-03-05",
			[]string{"2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"}},
		{"daily every weekday from a Saturday (first still counts)", "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=3", "2026-03-07",
			[]string{"2026-03-07", "2026-03-09", "2026-03-10"}},
		{"daily INTERVAL=2 over a month end", "FREQ=DAILY;INTERVAL=2;COUNT=4", "2026-02-27",
			[]string{"2026-02-27", "2026-03-01", "2026-03-03", "2026-03-05"}},
		{"daily over 29 February", "FREQ=DAILY;COUNT=3", "2028-02-28",
			[]string{"2028-02-28", "2028-02-29", "2028-03-01"}},
		// Every 3rd day from Monday 03-02 is Mo, Th, Su, We, Sa, Tu, Fr, Mo...;
		// only Mondays and Fridays are kept.
		{"daily INTERVAL=3 with BYDAY", "FREQ=DAILY;INTERVAL=3;BYDAY=MO,FR;COUNT=4", "2026-03-02",
			[]string{"2026-03-02", "2026-03-20", "2026-03-23", "2026-04-10"}},
		{"COUNT=1 is only first", "FREQ=DAILY;COUNT=1", "2026-03-02", []string{"2026-03-02"}},
		{"UNTIL as a date includes that date", "FREQ=DAILY;UNTIL=20260305", "2026-03-02",
			[]string{"2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := booking.ParseRule(tc.rule)
			if err != nil {
				t.Fatalf("ParseRule(%q): %v", tc.rule, err)
			}
			got, err := r.Occurrences(recDate(t, tc.first), berlin, booking.MaxOccurrences)
			if err != nil {
				t.Fatalf("Occurrences: %v", err)
			}
			if !slices.Equal(recDates(got), tc.want) {
				t.Fatalf("Occurrences =\n %v\nwant\n %v", recDates(got), tc.want)
			}
		})
	}
}

func TestOccurrencesUntilIsInclusive(t *testing.T) {
	startOf := recAt9Berlin(t)
	first := recDate(t, "2026-03-23") // a Monday; 04-06 09:00 Berlin (CEST) is 07:00Z
	for _, tc := range []struct {
		until string
		want  []string
	}{
		{"2026-04-06T07:00:00Z", []string{"2026-03-23", "2026-03-30", "2026-04-06"}}, // exactly the start: included
		{"2026-04-06T06:59:59Z", []string{"2026-03-23", "2026-03-30"}},               // one second short: excluded
		{"2026-04-06T07:00:01Z", []string{"2026-03-23", "2026-03-30", "2026-04-06"}},
		{"2026-03-23T08:00:00Z", []string{"2026-03-23"}}, // exactly the first start
	} {
		t.Run(tc.until, func(t *testing.T) {
			r := booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, tc.until)}
			got, err := r.Occurrences(first, startOf, booking.MaxOccurrences)
			if err != nil {
				t.Fatalf("Occurrences: %v", err)
			}
			if !slices.Equal(recDates(got), tc.want) {
				t.Fatalf("Occurrences = %v, want %v", recDates(got), tc.want)
			}
		})
	}

	t.Run("UNTIL before the first start is refused", func(t *testing.T) {
		r := booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, "2026-03-23T07:59:59Z")}
		_, err := r.Occurrences(first, startOf, booking.MaxOccurrences)
		recValidation(t, err, "recurrence", "before its first occurrence")
	})
}

func TestOccurrencesAcrossDST(t *testing.T) {
	startOf := recAt9Berlin(t)
	for _, tc := range []struct {
		name, rule, first string
		dates, starts     []string
	}{
		// Summer time starts in Berlin on Sunday 2026-03-29: 09:00 moves from 08:00Z to 07:00Z.
		{"spring, weekly Monday", "FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-03-23",
			[]string{"2026-03-23", "2026-03-30", "2026-04-06"},
			[]string{"2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z", "2026-04-06T07:00:00Z"}},
		{"spring, daily", "FREQ=DAILY;COUNT=3", "2026-03-28",
			[]string{"2026-03-28", "2026-03-29", "2026-03-30"},
			[]string{"2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"}},
		// Summer time ends on Sunday 2026-10-25: 09:00 moves from 07:00Z to 08:00Z.
		{"autumn, weekly Monday", "FREQ=WEEKLY;BYDAY=MO;COUNT=3", "2026-10-19",
			[]string{"2026-10-19", "2026-10-26", "2026-11-02"},
			[]string{"2026-10-19T07:00:00Z", "2026-10-26T08:00:00Z", "2026-11-02T08:00:00Z"}},
		{"autumn, daily", "FREQ=DAILY;COUNT=3", "2026-10-24",
			[]string{"2026-10-24", "2026-10-25", "2026-10-26"},
			[]string{"2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := booking.ParseRule(tc.rule)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.Occurrences(recDate(t, tc.first), startOf, booking.MaxOccurrences)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recDates(got), tc.dates) {
				t.Fatalf("dates = %v, want %v", recDates(got), tc.dates)
			}
			for i, d := range got {
				if s := startOf(d).UTC().Format(time.RFC3339); s != tc.starts[i] {
					t.Errorf("start of %s = %s, want %s", d, s, tc.starts[i])
				}
			}
		})
	}
}

func TestOccurrencesMoreThanMaxIsRefused(t *testing.T) {
	first := recDate(t, "2026-01-01")
	for _, tc := range []struct {
		name string
		rule booking.Rule
		max  int
	}{
		{"daily until far away", booking.Rule{Freq: "DAILY", Interval: 1, Until: recUTC(t, "2030-12-31T23:59:59Z")}, booking.MaxOccurrences},
		{"weekly until far away", booking.Rule{Freq: "WEEKLY", Interval: 1, Until: recUTC(t, "2999-01-01T00:00:00Z")}, booking.MaxOccurrences},
		{"COUNT above a smaller max", booking.Rule{Freq: "DAILY", Interval: 1, Count: 11}, 10},
		{"max below one", booking.Rule{Freq: "DAILY", Interval: 1, Count: 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.rule.Occurrences(first, recMidnightUTC, tc.max)
			if err == nil {
				t.Fatalf("Occurrences returned %d dates and no error", len(got))
			}
			recValidation(t, err, "recurrence", "more than")
		})
	}

	t.Run("exactly max is fine", func(t *testing.T) {
		for _, r := range []booking.Rule{
			{Freq: "DAILY", Interval: 1, Count: booking.MaxOccurrences},
			{Freq: "DAILY", Interval: 1, Until: recUTC(t, "2027-01-01T00:00:00Z")}, // 2026 has 365 days, plus 2027-01-01
		} {
			got, err := r.Occurrences(first, recMidnightUTC, booking.MaxOccurrences)
			if err != nil || len(got) != booking.MaxOccurrences {
				t.Fatalf("%+v: got %d dates, %v; want %d", r, len(got), err, booking.MaxOccurrences)
			}
			if last := got[len(got)-1].String(); last != "2027-01-01" {
				t.Fatalf("last = %s, want 2027-01-01", last)
			}
		}
	})
}

func TestOccurrencesNeverMatchingRuleTerminates(t *testing.T) {
	monday := recDate(t, "2026-03-02")
	calls := 0
	startOf := func(d booking.Date) time.Time { calls++; return recMidnightUTC(d) }
	for _, s := range []string{
		// Every 7th day from a Monday is a Monday; it is never a Tuesday.
		"FREQ=DAILY;INTERVAL=7;BYDAY=TU;COUNT=366",
		"FREQ=DAILY;INTERVAL=7;BYDAY=TU;UNTIL=99991231",
		"FREQ=DAILY;INTERVAL=14;BYDAY=SA,SU;COUNT=2",
	} {
		t.Run(s, func(t *testing.T) {
			r, err := booking.ParseRule(s)
			if err != nil {
				t.Fatal(err)
			}
			begin := time.Now()
			got, err := r.Occurrences(monday, startOf, booking.MaxOccurrences)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recDates(got), []string{"2026-03-02"}) {
				t.Fatalf("Occurrences = %v, want only the first date", recDates(got))
			}
			if d := time.Since(begin); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
	if calls > 1 { // only the first date is ever an occurrence (checked against UNTIL once)
		t.Fatalf("startOf was called %d times", calls)
	}
}

func TestOccurrencesRuleBuiltByHand(t *testing.T) {
	first := recDate(t, "2026-03-02")
	t.Run("Interval 0 means 1", func(t *testing.T) {
		got, err := booking.Rule{Freq: "DAILY", Count: 3}.Occurrences(first, recMidnightUTC, 10)
		if err != nil || !slices.Equal(recDates(got), []string{"2026-03-02", "2026-03-03", "2026-03-04"}) {
			t.Fatalf("got %v, %v", recDates(got), err)
		}
	})
	for _, tc := range []struct {
		name string
		rule booking.Rule
		want string
	}{
		{"no Freq", booking.Rule{Count: 3}, "only DAILY and WEEKLY"},
		{"lower-case Freq", booking.Rule{Freq: "daily", Count: 3}, "only DAILY and WEEKLY"},
		{"negative Interval", booking.Rule{Freq: "DAILY", Interval: -1, Count: 3}, "INTERVAL"},
		{"Interval too big", booking.Rule{Freq: "DAILY", Interval: 53, Count: 3}, "INTERVAL"},
		{"negative Count", booking.Rule{Freq: "DAILY", Count: -3}, "COUNT"},
		{"Count too big", booking.Rule{Freq: "DAILY", Count: booking.MaxOccurrences + 1}, "COUNT"},
		{"unbounded", booking.Rule{Freq: "DAILY"}, "must end"},
		{"Count and Until", booking.Rule{Freq: "DAILY", Count: 3, Until: recUTC(t, "2027-01-01T00:00:00Z")}, "both"},
		{"bad weekday", booking.Rule{Freq: "WEEKLY", Count: 3, ByDay: []time.Weekday{7}}, "BYDAY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.rule.Occurrences(first, recMidnightUTC, booking.MaxOccurrences)
			recValidation(t, err, "recurrence", tc.want)
		})
	}
	t.Run("invalid first date", func(t *testing.T) {
		_, err := booking.Rule{Freq: "DAILY", Count: 3}.Occurrences(booking.Date{Year: 2026, Month: 2, Day: 30}, recMidnightUTC, 10)
		recValidation(t, err, "date", "not a valid date")
	})
	t.Run("nil startOf", func(t *testing.T) {
		_, err := booking.Rule{Freq: "DAILY", Count: 3}.Occurrences(first, nil, 10)
		if perch.ErrorCode(err) != perch.EINTERNAL {
			t.Fatalf("error = %v, want an internal error", err)
		}
	})
}

// ---- Date ----

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2026-03-29", "2024-02-29", "2026-12-31", "0001-01-01", "9999-12-31"} {
		d, err := booking.ParseDate(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	if d := recDate(t, "2026-03-29"); d != (booking.Date{Year: 2026, Month: time.March, Day: 29}) {
		t.Errorf("ParseDate = %#v", d)
	}
	for _, s := range []string{
		"", "2026-02-30", "2025-02-29", "2026-04-31", "2026-3-1", "2026-03-1", "26-03-29",
		"2026-03-29T00:00", "2026-03-29 ", " 2026-03-29", "2026/03/29", "20260329",
		"2026-13-01", "2026-00-10", "2026-01-00", "0000-01-01", "+026-03-29", "-026-03-29",
		"2026-0a-29", "\uff12026-03-29", "2026-03-29\x00",
	} {
		_, err := booking.ParseDate(s)
		if err == nil {
			t.Errorf("ParseDate(%q) accepted it", s)
			continue
		}
		recValidation(t, err, "date", "YYYY-MM-DD")
	}
}

func TestDateArithmetic(t *testing.T) {
	for _, tc := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-31", 1, "2026-02-01"},
		{"2026-02-28", 1, "2026-03-01"},
		{"2028-02-28", 1, "2028-02-29"},
		{"2026-12-31", 1, "2027-01-01"},
		{"2026-03-01", -1, "2026-02-28"},
		{"2026-03-28", 2, "2026-03-30"}, // over the Berlin DST change
		{"2026-03-29", 0, "2026-03-29"},
		{"2026-01-01", 365, "2027-01-01"},
	} {
		got := recDate(t, tc.from).AddDays(tc.n)
		if got.String() != tc.want {
			t.Errorf("%s.AddDays(%d) = %s, want %s", tc.from, tc.n, got, tc.want)
		}
		if n := booking.DaysBetween(recDate(t, tc.from), got); n != tc.n {
			t.Errorf("DaysBetween(%s, %s) = %d, want %d", tc.from, got, n, tc.n)
		}
	}

	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2026-03-28", "2026-03-30", 2}, // 47 hours apart in Berlin
		{"2026-10-24", "2026-10-26", 2}, // 49 hours apart in Berlin
		{"2026-03-30", "2026-03-28", -2},
		{"2024-01-01", "2025-01-01", 366},
		{"0001-01-01", "9999-12-31", 3652058}, // more than a time.Duration can hold
	} {
		if got := booking.DaysBetween(recDate(t, tc.a), recDate(t, tc.b)); got != tc.want {
			t.Errorf("DaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}

	if wd := recDate(t, "2026-03-29").Weekday(); wd != time.Sunday {
		t.Errorf("2026-03-29 is a %v, want Sunday", wd)
	}
	if wd := recDate(t, "2026-03-23").Weekday(); wd != time.Monday {
		t.Errorf("2026-03-23 is a %v, want Monday", wd)
	}

	a, b, c := recDate(t, "2026-03-29"), recDate(t, "2026-03-30"), recDate(t, "2027-01-01")
	if !a.Before(b) || b.Before(a) || a.Before(a) || !b.After(a) || a.After(b) || a.After(a) || !b.Before(c) || !c.After(b) {
		t.Error("Before/After disagree with the calendar")
	}
	if !recDate(t, "2026-12-31").Before(c) || !recDate(t, "2026-02-01").After(recDate(t, "2026-01-31")) {
		t.Error("Before/After must compare year, then month, then day")
	}
}

func TestDateOf(t *testing.T) {
	berlin := recZone(t, "Europe/Berlin")
	u := recUTC(t, "2026-03-29T22:30:00Z") // 00:30 CEST on 03-30 in Berlin
	if got := booking.DateOf(u).String(); got != "2026-03-29" {
		t.Errorf("DateOf(UTC) = %s", got)
	}
	if got := booking.DateOf(u.In(berlin)).String(); got != "2026-03-30" {
		t.Errorf("DateOf(Berlin) = %s", got)
	}
}

// ---- Clock ----

func TestParseClock(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want booking.Clock
	}{
		{"00:00", 0}, {"07:00", 420}, {"07:30", 450}, {"12:05", 725}, {"23:59", 1439}, {"24:00", 1440},
	} {
		c, err := booking.ParseClock(tc.in)
		if err != nil || c != tc.want || c.String() != tc.in {
			t.Errorf("ParseClock(%q) = %d (%s), %v; want %d", tc.in, c, c, err, tc.want)
		}
	}
	for _, s := range []string{
		"", "24:01", "24:30", "25:00", "7:00", "07:0", "07:60", "-1:00", "07:00:00", "0700",
		" 7:00", "07:00 ", "07-00", "0a:00", "+7:00", "99:99", "\uff10\uff17:00",
	} {
		_, err := booking.ParseClock(s)
		if err == nil {
			t.Errorf("ParseClock(%q) accepted it", s)
			continue
		}
		recValidation(t, err, "", "HH:MM") // the caller sets the field
	}
	for c, want := range map[booking.Clock]string{0: "00:00", 9 * 60: "09:00", 1440: "24:00", -1: "Clock(-1)", 1441: "Clock(1441)"} {
		if got := c.String(); got != want {
			t.Errorf("Clock(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}

func TestDateAtAndIn(t *testing.T) {
	berlin := recZone(t, "Europe/Berlin")
	newYork := recZone(t, "America/New_York")
	saoPaulo := recZone(t, "America/Sao_Paulo")
	for _, tc := range []struct {
		name  string
		got   time.Time
		want  string // UTC
		local string // the wall clock the result shows in its zone
	}{
		{"09:00 in Berlin winter", recDate(t, "2026-03-23").At(9*60, berlin), "2026-03-23T08:00:00Z", "09:00"},
		{"09:00 in Berlin summer", recDate(t, "2026-03-30").At(9*60, berlin), "2026-03-30T07:00:00Z", "09:00"},
		{"24:00 is the next midnight", recDate(t, "2026-03-28").At(1440, berlin), "2026-03-28T23:00:00Z", "00:00"},
		{"24:00 on the DST day (a 23-hour day)", recDate(t, "2026-03-29").At(1440, berlin), "2026-03-29T22:00:00Z", "00:00"},
		{"In is local midnight", recDate(t, "2026-03-29").In(berlin), "2026-03-28T23:00:00Z", "00:00"},
		{"00:00 equals In", recDate(t, "2026-03-29").At(0, berlin), "2026-03-28T23:00:00Z", "00:00"},
		// 02:00-03:00 does not exist on 2026-03-29 in Berlin: 02:30 is read
		// with the offset before the gap (+01:00), so it is 01:30Z, shown as
		// 03:30 CEST: pushed forward by the length of the gap.
		{"02:30 in Berlin's spring gap", recDate(t, "2026-03-29").At(2*60+30, berlin), "2026-03-29T01:30:00Z", "03:30"},
		{"03:00 right after the gap", recDate(t, "2026-03-29").At(3*60, berlin), "2026-03-29T01:00:00Z", "03:00"},
		{"01:59 right before the gap", recDate(t, "2026-03-29").At(60+59, berlin), "2026-03-29T00:59:00Z", "01:59"},
		// The same rule in a zone west of UTC (time.Date alone would give 01:30 EST here).
		{"02:30 in New York's spring gap", recDate(t, "2026-03-08").At(2*60+30, newYork), "2026-03-08T07:30:00Z", "03:30"},
		// 02:00-03:00 happens twice on 2026-10-25 in Berlin: the first one (CEST) is taken.
		{"02:30 in Berlin's autumn overlap", recDate(t, "2026-10-25").At(2*60+30, berlin), "2026-10-25T00:30:00Z", "02:30"},
		{"01:30 in New York's autumn overlap", recDate(t, "2026-11-01").At(60+30, newYork), "2026-11-01T05:30:00Z", "01:30"},
		// Brazil's summer time began at midnight on 2018-11-04: 00:00 became
		// 01:00, so the day begins at 01:00 -02 (time.Date alone gives 23:00
		// of the day before).
		{"a day whose midnight is skipped", recDate(t, "2018-11-04").In(saoPaulo), "2018-11-04T03:00:00Z", "01:00"},
		{"24:00 before a skipped midnight", recDate(t, "2018-11-03").At(1440, saoPaulo), "2018-11-04T03:00:00Z", "01:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.got.UTC().Format(time.RFC3339); got != tc.want {
				t.Errorf("got %s (%v), want %s", got, tc.got, tc.want)
			}
			if got := tc.got.Format("15:04"); got != tc.local {
				t.Errorf("local wall clock %s, want %s", got, tc.local)
			}
		})
	}
}

// TestDateInAndAtOnEveryDSTChange checks, for every DST change from 2000 to
// 2030 in zones with unusual rules, that In is the first instant of the day
// and that At keeps the wall clock where it exists (the first of two in an
// overlap) and, in a gap, pushes it forward by exactly the gap's length.
// (So At is not monotonic across a gap: in Berlin 02:45 gives 03:45 CEST,
// later than 03:00.)
func TestDateInAndAtOnEveryDSTChange(t *testing.T) {
	zones := []string{
		"Europe/Berlin", "America/New_York", "America/Sao_Paulo", "America/Santiago",
		"America/Havana", "Asia/Beirut", "Asia/Tehran", "Australia/Lord_Howe", "Pacific/Auckland", "Africa/Casablanca",
	}
	offset := func(u time.Time) time.Duration { _, o := u.Zone(); return time.Duration(o) * time.Second }
	checked := 0
	for _, name := range zones {
		loc := recZone(t, name)
		for d := recDate(t, "2000-01-01"); d.Before(recDate(t, "2031-01-01")); d = d.AddDays(1) {
			start, next := d.In(loc), d.AddDays(1).In(loc)
			if booking.DateOf(start) != d || booking.DateOf(start.Add(-time.Second)) == d {
				t.Fatalf("%s: %s.In = %v is not the first instant of the day", name, d, start)
			}
			if next.Sub(start) == 24*time.Hour {
				continue // no change on this day
			}
			checked++
			for c := booking.Clock(0); c <= 1440; c += 15 {
				at := d.At(c, loc)
				if c == 1440 {
					if !at.Equal(next) {
						t.Fatalf("%s: %s.At(24:00) = %v, want %v", name, d, at, next)
					}
					continue
				}
				if booking.DateOf(at) != d || at.Before(start) || !at.Before(next) {
					t.Fatalf("%s: %s.At(%s) = %v is not on that day", name, d, c, at)
				}
				push := time.Duration(at.Hour()*60+at.Minute()-int(c)) * time.Minute
				switch {
				case push < 0:
					t.Fatalf("%s: %s.At(%s) = %v is pushed backward", name, d, c, at)
				case push > 0: // a gap: the offset grew by exactly the push
					if jump := offset(at) - offset(at.Add(-push)); jump != push {
						t.Fatalf("%s: %s.At(%s) = %v pushed by %v, but the gap is %v", name, d, c, at, push, jump)
					}
				default: // the wall time exists: no earlier instant of the day shows it
					for _, k := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
						e := at.Add(-k)
						if booking.DateOf(e) == d && e.Hour() == at.Hour() && e.Minute() == at.Minute() {
							t.Fatalf("%s: %s.At(%s) = %v, but %v shows the same wall time earlier", name, d, c, at, e)
						}
					}
				}
			}
		}
	}
	if checked < 200 {
		t.Fatalf("only %d DST days checked; is the zone data there?", checked)
	}
}

// ---- Fuzz ----

func FuzzParseRule(f *testing.F) {
	f.Add("FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10")
	first := booking.Date{Year: 2026, Month: time.January, Day: 5}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := booking.ParseRule(s)
		if err != nil {
			var pe *perch.Error
			if !errors.As(err, &pe) || pe.Code != perch.EINVALID || pe.Field != "recurrence" || pe.Message == "" {
				t.Fatalf("ParseRule(%q) error %#v is not a validation error on recurrence", s, err)
			}
			return
		}
		if r.Freq != "DAILY" && r.Freq != "WEEKLY" {
			t.Fatalf("Freq %q", r.Freq)
		}
		if r.Interval < 1 || r.Interval > 52 {
			t.Fatalf("Interval %d", r.Interval)
		}
		if (r.Count > 0) == !r.Until.IsZero() {
			t.Fatalf("need exactly one of Count (%d) and Until (%v)", r.Count, r.Until)
		}
		if r.Count < 0 || r.Count > booking.MaxOccurrences {
			t.Fatalf("Count %d", r.Count)
		}
		if !r.Until.IsZero() && r.Until.Location() != time.UTC {
			t.Fatalf("Until %v not UTC", r.Until)
		}
		var seen [7]bool
		for _, wd := range r.ByDay {
			if wd < time.Sunday || wd > time.Saturday || seen[wd] {
				t.Fatalf("ByDay %v", r.ByDay)
			}
			seen[wd] = true
		}

		ds, err := r.Occurrences(first, recMidnightUTC, booking.MaxOccurrences)
		if err != nil {
			if perch.ErrorCode(err) != perch.EINVALID {
				t.Fatalf("Occurrences error %v", err)
			}
			return
		}
		if len(ds) < 1 || len(ds) > booking.MaxOccurrences || ds[0] != first {
			t.Fatalf("%d dates starting %v", len(ds), ds)
		}
		if r.Count > 0 && len(ds) > r.Count {
			t.Fatalf("%d dates for COUNT=%d", len(ds), r.Count)
		}
		for i, d := range ds {
			if i > 0 && !ds[i-1].Before(d) {
				t.Fatalf("dates not strictly increasing at %d: %v", i, ds)
			}
			if !r.Until.IsZero() && recMidnightUTC(d).After(r.Until) {
				t.Fatalf("%s starts after UNTIL %v", d, r.Until)
			}
		}
	})
}

func FuzzDateClock(f *testing.F) {
	f.Add("2026-03-29")
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := booking.ParseDate(s); err == nil {
			if d.String() != s {
				t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
			}
			if d.AddDays(0) != d || booking.DaysBetween(d, d.AddDays(1)) != 1 {
				t.Fatalf("ParseDate(%q) = %#v is not a normal date", s, d)
			}
		} else if pe := (*perch.Error)(nil); !errors.As(err, &pe) || pe.Code != perch.EINVALID || pe.Field != "date" {
			t.Fatalf("ParseDate(%q) error %#v", s, err)
		}
		if c, err := booking.ParseClock(s); err == nil {
			if c < 0 || c > 1440 || c.String() != s {
				t.Fatalf("ParseClock(%q) = %d (%q)", s, int(c), c.String())
			}
		} else if perch.ErrorCode(err) != perch.EINVALID {
			t.Fatalf("ParseClock(%q) error %v", s, err)
		}
	})
}

package booking

import (
	"fmt"
	"time"

	"github.com/perch-hq/perch"
)

// Date is a calendar date without a time zone (a day in some site's zone).
// The zero Date is not a valid date; ParseDate and DateOf never return it.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date in the strict form YYYY-MM-DD ("2026-03-29"): four,
// two and two digits, a real calendar date, years 0001 to 9999. Anything else
// (a time, a missing leading zero, 2026-02-30) is refused with a validation
// error on the field "date".
func ParseDate(s string) (Date, error) {
	bad := func() (Date, error) {
		return Date{}, perch.Invalid("date", "%s is not a valid date; use YYYY-MM-DD, for example 2026-03-29", civilQuote(s))
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return bad()
	}
	y, ok1 := civilDigits(s[0:4])
	m, ok2 := civilDigits(s[5:7])
	d, ok3 := civilDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > civilDaysIn(y, time.Month(m)) {
		return bad()
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// utcMidnight is d at 00:00 UTC; UTC has no DST, so day arithmetic on it is exact.
func (d Date) utcMidnight() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns the date n calendar days after d (before it if n < 0),
// normalised: Jan 31 + 1 = Feb 1.
func (d Date) AddDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.utcMidnight().Weekday() }

// Before reports whether d is an earlier date than o.
func (d Date) Before(o Date) bool { return d.compare(o) < 0 }

// After reports whether d is a later date than o.
func (d Date) After(o Date) bool { return d.compare(o) > 0 }

func (d Date) compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return civilSign(d.Year - o.Year)
	case d.Month != o.Month:
		return civilSign(int(d.Month) - int(o.Month))
	default:
		return civilSign(d.Day - o.Day)
	}
}

// DaysBetween returns b - a in calendar days. It counts on UTC midnights, so a
// DST change between a and b never makes a day 23 or 25 hours "long".
func DaysBetween(a, b Date) int {
	// Unix seconds rather than time.Duration: a Duration overflows after ~292 years.
	return int((b.utcMidnight().Unix() - a.utcMidnight().Unix()) / 86400)
}

// In returns the first instant of d in loc: normally local midnight. Where a
// DST change skips midnight (for example America/Sao_Paulo on 2018-11-04,
// where 00:00 became 01:00) it is the first instant that exists, 01:00 local.
// loc must not be nil (as for time.Date).
func (d Date) In(loc *time.Location) time.Time {
	return civilWallToInstant(d.Year, d.Month, d.Day, 0, 0, loc)
}

// Clock is a wall-clock time of day in minutes since midnight, 0..1440; 1440
// is "24:00", the end of the day (the next day's 00:00).
type Clock int

// ParseClock parses a wall-clock time in the strict form HH:MM, "00:00" to
// "24:00" ("24:00" is the end of the day; "24:01", "7:00" and "07:60" are
// refused). The validation error has no field; the caller sets it.
func ParseClock(s string) (Clock, error) {
	bad := func() (Clock, error) {
		return 0, perch.Invalid("", "%s is not a valid time of day; use HH:MM from 00:00 to 24:00, for example 07:30", civilQuote(s))
	}
	if len(s) != 5 || s[2] != ':' {
		return bad()
	}
	h, ok1 := civilDigits(s[0:2])
	m, ok2 := civilDigits(s[3:5])
	if !ok1 || !ok2 || h > 24 || m > 59 || (h == 24 && m != 0) {
		return bad()
	}
	return Clock(h*60 + m), nil
}

// String formats c as HH:MM ("07:00", "24:00"). A value outside 0..1440 is
// not a valid Clock and is shown as Clock(n).
func (c Clock) String() string {
	if c < 0 || c > 1440 {
		return fmt.Sprintf("Clock(%d)", int(c))
	}
	return fmt.Sprintf("%02d:%02d", int(c)/60, int(c)%60)
}

// At returns the instant at wall clock c on date d in loc; c = 1440 ("24:00")
// is the first instant of the next day (d.AddDays(1).In(loc)).
//
// Wall times that a DST change makes invalid follow RFC 5545 (3.3.5), the
// same in every zone:
//   - In a gap (the time is skipped), the wall time is read with the UTC
//     offset before the gap, so it is pushed forward past the gap by the
//     gap's length: 02:30 on 2026-03-29 in Europe/Berlin is 03:30 CEST
//     (01:30Z), and 02:30 on 2026-03-08 in America/New_York is 03:30 EDT.
//   - In an overlap (the time happens twice), it is the first of the two:
//     02:30 on 2026-10-25 in Europe/Berlin is 02:30 CEST (00:30Z).
//
// (time.Date alone does not do this consistently: it pushes New York's gap
// backwards to 01:30 EST and picks the second 02:30 in Berlin's overlap.)
// loc must not be nil (as for time.Date).
func (d Date) At(c Clock, loc *time.Location) time.Time {
	if c == 1440 {
		return d.AddDays(1).In(loc)
	}
	// Out-of-range clocks are normalised like time.Date does (minute 1500 of
	// a day is 01:00 of the next day); ParseClock never returns them.
	return civilWallToInstant(d.Year, d.Month, d.Day, 0, int(c), loc)
}

// civilWallToInstant resolves a wall-clock time in loc to an instant with the
// RFC 5545 rules documented on Date.At.
func civilWallToInstant(y int, mo time.Month, d, h, mi int, loc *time.Location) time.Time {
	guess := time.Date(y, mo, d, h, mi, 0, 0, loc)
	// The wall time as seconds since the epoch if it were UTC; an instant u
	// shows this wall time in a zone with offset o iff u = wall - o.
	wall := time.Date(y, mo, d, h, mi, 0, 0, time.UTC).Unix()

	// Zone offsets that can matter: the one time.Date picked, and the ones
	// right before and after it (DST changes are far apart, so at most one
	// change lies near any wall time).
	start, end := guess.ZoneBounds()
	_, gOff := guess.Zone()
	offsets := []int{gOff}
	if !start.IsZero() {
		_, o := start.Add(-time.Second).Zone()
		offsets = append(offsets, o)
	}
	if !end.IsZero() {
		_, o := end.Zone()
		offsets = append(offsets, o)
	}

	// The wall time exists with offset o if the instant wall-o is in a zone
	// with offset o. If several exist (an overlap), take the earliest.
	var best time.Time
	found := false
	for _, o := range offsets {
		u := time.Unix(wall-int64(o), 0).In(loc)
		if _, uo := u.Zone(); uo == o && (!found || u.Before(best)) {
			best, found = u, true
		}
	}
	if found {
		return best
	}

	// A gap: find the change T (the start or end of guess's zone) where the
	// offset grows from before to after and the wall time lies in
	// [T+before, T+after); read it with the offset before the gap.
	for _, t := range []time.Time{start, end} {
		if t.IsZero() {
			continue
		}
		_, before := t.Add(-time.Second).Zone()
		_, after := t.Zone()
		tu := t.Unix()
		if before < after && wall-int64(before) >= tu && wall-int64(after) < tu {
			return time.Unix(wall-int64(before), 0).In(loc)
		}
	}
	return guess // not reached for real zones; time.Date's answer as a fallback
}

// civilDigits parses s as a non-negative decimal made only of ASCII digits
// (no sign, no spaces). s is short (at most 4 bytes here), so no overflow.
func civilDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// civilDaysIn returns the number of days in month m of year y.
func civilDaysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func civilSign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// civilQuote quotes user input for an error message, cut short so that a huge
// input does not end up in the message whole.
func civilQuote(s string) string {
	const limit = 40
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

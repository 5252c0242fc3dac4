package booking

import (
	"strings"
	"time"

	"github.com/perch-hq/perch"
)

// Rule is the subset of an RFC 5545 recurrence rule (RRULE) that a booking
// series may use: daily or weekly, an interval, days of the week, and an end
// (COUNT or UNTIL, exactly one of them).
type Rule struct {
	Freq     string // "DAILY" or "WEEKLY"
	Interval int    // 1..52 (0 in a Rule built by hand means 1)
	// ByDay: for WEEKLY, the days of the week; empty means the weekday of the
	// first occurrence. For DAILY, only days with one of these weekdays are
	// occurrences (FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR is "every weekday").
	ByDay []time.Weekday
	Count int       // the number of occurrences, 1..MaxOccurrences; 0 = not set
	Until time.Time // the last possible start, inclusive, as a UTC instant; zero = not set
}

// MaxOccurrences is the largest COUNT a rule may have, and the usual limit on
// the number of occurrences of a series.
const MaxOccurrences = 366

const (
	rruleMaxLen      = 200
	rruleMaxInterval = 52
	rruleExample     = "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10"
)

var rruleWeekdays = map[string]time.Weekday{
	"MO": time.Monday, "TU": time.Tuesday, "WE": time.Wednesday, "TH": time.Thursday,
	"FR": time.Friday, "SA": time.Saturday, "SU": time.Sunday,
}

func rruleInvalid(format string, args ...any) *perch.Error {
	return perch.Invalid("recurrence", format, args...)
}

// ParseRule parses a recurrence rule such as "FREQ=WEEKLY;BYDAY=MO,WE;INTERVAL=2;COUNT=10",
// optionally prefixed by "RRULE:". Keys and values are case-insensitive;
// parts are separated by ';' and each key may appear once. Supported:
//
//	FREQ      required; DAILY or WEEKLY
//	INTERVAL  1..52 (default 1)
//	BYDAY     MO,TU,WE,TH,FR,SA,SU without numbers ("1MO" is refused), no repeats
//	COUNT     1..MaxOccurrences
//	UNTIL     20261231T170000Z (a UTC time) or 20261231 (a date, taken to mean
//	          23:59:59 UTC of that date); a local time without Z is refused
//
// Exactly one of COUNT and UNTIL is required: RFC 5545 forbids both, and an
// unbounded series is refused. Every error is a validation error on the field
// "recurrence". ParseRule never panics.
func ParseRule(s string) (Rule, error) {
	if s == "" {
		return Rule{}, rruleInvalid("the recurrence rule is empty; give one such as %s", rruleExample)
	}
	if len(s) > rruleMaxLen {
		return Rule{}, rruleInvalid("the recurrence rule is too long; it may have at most %d characters", rruleMaxLen)
	}
	if len(s) >= 6 && strings.EqualFold(s[:6], "RRULE:") {
		s = s[6:]
		if s == "" {
			return Rule{}, rruleInvalid("the recurrence rule is empty; give one such as %s", rruleExample)
		}
	}

	var r Rule
	seen := map[string]bool{}
	for _, part := range strings.Split(s, ";") {
		if part == "" {
			return Rule{}, rruleInvalid("the recurrence rule has an empty part (two ';' in a row, or a ';' at the start or end)")
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok || key == "" {
			return Rule{}, rruleInvalid("%s is not a KEY=VALUE part; write the rule like %s", civilQuote(part), rruleExample)
		}
		key, value = rruleUpper(key), rruleUpper(value)
		switch key {
		case "FREQ", "INTERVAL", "BYDAY", "COUNT", "UNTIL":
		default:
			return Rule{}, rruleInvalid("%s is not supported in a recurrence rule; the supported parts are FREQ, INTERVAL, BYDAY, COUNT and UNTIL", civilQuote(key))
		}
		if seen[key] {
			return Rule{}, rruleInvalid("%s is given more than once in the recurrence rule", key)
		}
		seen[key] = true

		var err error
		switch key {
		case "FREQ":
			if value != "DAILY" && value != "WEEKLY" {
				return Rule{}, rruleInvalid("FREQ=%s is not supported; only DAILY and WEEKLY recurrences are", civilQuote(value))
			}
			r.Freq = value
		case "INTERVAL":
			r.Interval, err = rruleNumber("INTERVAL", value, 1, rruleMaxInterval)
		case "COUNT":
			r.Count, err = rruleNumber("COUNT", value, 1, MaxOccurrences)
		case "UNTIL":
			r.Until, err = rruleUntil(value)
		case "BYDAY":
			r.ByDay, err = rruleByDay(value)
		}
		if err != nil {
			return Rule{}, err
		}
	}
	if r.Freq == "" {
		return Rule{}, rruleInvalid("FREQ is required in a recurrence rule: FREQ=DAILY or FREQ=WEEKLY")
	}
	if r.Interval == 0 {
		r.Interval = 1
	}
	if err := r.check(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// rruleNumber parses a whole number made of digits only, in lo..hi.
func rruleNumber(key, value string, lo, hi int) (int, error) {
	n, ok := 0, value != "" && len(value) <= 6 // more digits are out of range anyway
	if ok {
		n, ok = civilDigits(value)
	}
	if !ok || n < lo || n > hi {
		return 0, rruleInvalid("%s must be a whole number from %d to %d, not %s", key, lo, hi, civilQuote(value))
	}
	return n, nil
}

// rruleUntil parses an (upper-cased) UNTIL value: YYYYMMDD or YYYYMMDDTHHMMSSZ.
func rruleUntil(v string) (time.Time, error) {
	bad := func() (time.Time, error) {
		return time.Time{}, rruleInvalid("UNTIL=%s is not valid; give a date such as 20261231 or a UTC time such as 20261231T170000Z", civilQuote(v))
	}
	if len(v) < 8 {
		return bad()
	}
	date, err := ParseDate(v[0:4] + "-" + v[4:6] + "-" + v[6:8])
	if err != nil {
		return bad()
	}
	switch {
	case len(v) == 8:
		// A date-only UNTIL means the whole of that day, read in UTC: the
		// series may start up to 23:59:59 UTC on that date.
		return time.Date(date.Year, date.Month, date.Day, 23, 59, 59, 0, time.UTC), nil
	case len(v) == 15 && v[8] == 'T':
		if _, ok := civilDigits(v[9:15]); ok {
			return time.Time{}, rruleInvalid("UNTIL=%s is a local time; give it in UTC ending in Z, such as 20261231T170000Z, or give a date such as 20261231", civilQuote(v))
		}
		return bad()
	case len(v) == 16 && v[8] == 'T' && v[15] == 'Z':
		h, ok1 := civilDigits(v[9:11])
		m, ok2 := civilDigits(v[11:13])
		sec, ok3 := civilDigits(v[13:15])
		if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
			return bad()
		}
		return time.Date(date.Year, date.Month, date.Day, h, m, sec, 0, time.UTC), nil
	}
	return bad()
}

// rruleByDay parses an (upper-cased) BYDAY value: a comma-separated list of
// two-letter weekdays without repeats.
func rruleByDay(v string) ([]time.Weekday, error) {
	if v == "" {
		return nil, rruleInvalid("BYDAY is empty; list days such as BYDAY=MO,WE,FR")
	}
	var days []time.Weekday
	var seen [7]bool
	for _, item := range strings.Split(v, ",") {
		wd, ok := rruleWeekdays[item]
		switch {
		case ok && seen[wd]:
			return nil, rruleInvalid("BYDAY lists %s more than once", item)
		case ok:
			seen[wd] = true
			days = append(days, wd)
		case item != "" && strings.ContainsAny(item[:1], "+-0123456789"):
			return nil, rruleInvalid("BYDAY=%s is not supported: days with a number (such as 1MO, the first Monday) are not; use plain days such as MO,WE", civilQuote(v))
		default:
			return nil, rruleInvalid("BYDAY=%s is not valid; use days from MO, TU, WE, TH, FR, SA, SU separated by commas", civilQuote(v))
		}
	}
	return days, nil
}

// check reports whether r is a rule ParseRule could return (an Interval of 0
// counting as 1), so that a Rule built by hand is held to the same limits.
func (r Rule) check() error {
	if r.Freq != "DAILY" && r.Freq != "WEEKLY" {
		return rruleInvalid("FREQ=%s is not supported; only DAILY and WEEKLY recurrences are", civilQuote(r.Freq))
	}
	if r.Interval < 0 || r.Interval > rruleMaxInterval {
		return rruleInvalid("INTERVAL must be a whole number from 1 to %d", rruleMaxInterval)
	}
	if r.Count < 0 || r.Count > MaxOccurrences {
		return rruleInvalid("COUNT must be a whole number from 1 to %d", MaxOccurrences)
	}
	for _, wd := range r.ByDay {
		if wd < time.Sunday || wd > time.Saturday {
			return rruleInvalid("BYDAY has a day that is not a day of the week")
		}
	}
	switch {
	case r.Count > 0 && !r.Until.IsZero():
		return rruleInvalid("COUNT and UNTIL cannot both be given; end the recurrence with one of them")
	case r.Count == 0 && r.Until.IsZero():
		return rruleInvalid("the recurrence must end: give COUNT (how many times) or UNTIL (the last date)")
	}
	return nil
}

// Occurrences returns the local dates of a series whose first occurrence is
// on first, in increasing order.
//
// The first occurrence is always first (like DTSTART in RFC 5545, it counts
// toward COUNT even if its weekday is not in BYDAY). Later ones are:
//   - WEEKLY with INTERVAL n: weeks are counted from the week (Monday to
//     Sunday) that contains first; in every n-th week, each BYDAY weekday
//     after first (or first's weekday if BYDAY is empty).
//   - DAILY with INTERVAL n: every n-th day after first; with BYDAY, only
//     those of these days whose weekday is in BYDAY.
//
// An occurrence is included while COUNT is not reached and its start instant
// startOf(date) is not after Until (inclusive). startOf must be increasing in
// the date (for example d.At(clock, siteZone)); it is called only for
// occurrences, and only when the rule has UNTIL. Dates are stepped as
// calendar days (Date.AddDays), never as 24-hour durations, so DST changes
// never shift a date.
//
// It returns a validation error on "recurrence" if the series would have more
// than max occurrences, if Until is before the start of the first occurrence,
// or if r is not a valid rule. A rule whose later days never match (DAILY;
// INTERVAL=7;BYDAY=TU from a Monday) is scanned for a bounded number of days
// and returns what it found.
func (r Rule) Occurrences(first Date, startOf func(Date) time.Time, max int) ([]Date, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	if first.Year < 1 || first.Year > 9999 || first.AddDays(0) != first {
		return nil, perch.Invalid("date", "%s is not a valid date", civilQuote(first.String()))
	}
	if startOf == nil {
		return nil, perch.Errorf(perch.EINTERNAL, "Occurrences needs a startOf function")
	}
	interval := r.Interval
	if interval == 0 {
		interval = 1
	}
	var match [7]bool
	for _, wd := range r.ByDay {
		match[wd] = true
	}
	switch {
	case len(r.ByDay) > 0:
	case r.Freq == "WEEKLY":
		match[first.Weekday()] = true
	default: // DAILY without BYDAY: every day
		match = [7]bool{true, true, true, true, true, true, true}
	}
	hasUntil := !r.Until.IsZero()
	if hasUntil && startOf(first).After(r.Until) {
		return nil, rruleInvalid("the recurrence ends (UNTIL %s) before its first occurrence starts on %s",
			r.Until.UTC().Format(time.RFC3339), first)
	}
	tooMany := func() error {
		return rruleInvalid("the series would have more than %d occurrences; end it sooner with COUNT or UNTIL", max)
	}
	if max < 1 {
		return nil, tooMany()
	}

	out := []Date{first}
	if r.Count == 1 {
		return out, nil
	}
	// add considers a date after first whose weekday matches; done reports
	// that the series has ended.
	add := func(d Date) (done bool, err error) {
		if r.Count > 0 && len(out) >= r.Count {
			return true, nil
		}
		if hasUntil && startOf(d).After(r.Until) {
			return true, nil
		}
		out = append(out, d)
		if len(out) > max {
			return true, tooMany()
		}
		return false, nil
	}

	// Scan bound: if the rule matches at all, it matches at least once every
	// 7*interval days, so this many days is enough to find max+1 occurrences.
	// Capped so that a huge max cannot make the loop run for long.
	limit := 7 * interval * (min(max, 100*MaxOccurrences) + 1)

	switch r.Freq {
	case "WEEKLY":
		monday := first.AddDays(-((int(first.Weekday()) + 6) % 7))
		for week := 0; week*7 <= limit; week += interval {
			for i := 0; i < 7; i++ {
				d := monday.AddDays(week*7 + i)
				if !d.After(first) || !match[d.Weekday()] {
					continue
				}
				if done, err := add(d); done || err != nil {
					return rruleResult(out, err)
				}
			}
		}
	case "DAILY":
		for step := interval; step <= limit; step += interval {
			d := first.AddDays(step)
			if !match[d.Weekday()] {
				continue
			}
			if done, err := add(d); done || err != nil {
				return rruleResult(out, err)
			}
		}
	}
	return out, nil
}

// rruleUpper upper-cases ASCII letters only, so that no non-ASCII letter can
// turn into an ASCII one (strings.ToUpper maps "ı" to "I" and "ſ" to "S").
func rruleUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		}
	}
	return string(b)
}

func rruleResult(out []Date, err error) ([]Date, error) {
	if err != nil {
		return nil, err
	}
	return out, nil
}

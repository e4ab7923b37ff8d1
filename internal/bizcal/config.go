package bizcal

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by FromEnv. All are optional.
const (
	// EnvHours: opening hours, clauses separated by ";", each
	// "DAYS SPANS": DAYS is a comma-separated list of days or day ranges
	// (mon, tue, wed, thu, fri, sat, sun; "mon-fri"), SPANS a
	// comma-separated list of HH:MM-HH:MM (24:00 allowed as a close) or
	// "closed". Days not named are closed; a later clause overrides an
	// earlier one for the days it names. Default "mon-fri 09:00-17:00".
	// Example: "mon-fri 09:00-12:00,13:00-17:00; sat 09:00-12:00".
	EnvHours = "KOE_BUSINESS_HOURS"
	// EnvHolidays: extra closed days and days open despite a holiday,
	// comma-separated: "YYYY-MM-DD" or "YYYY-MM-DD..YYYY-MM-DD" (a range
	// of at most 366 days), optionally "=NAME"; a leading "!" makes the
	// day(s) open instead. Example: "2026-12-30,2027-01-04=仕事始め前休業,!2026-05-06".
	EnvHolidays = "KOE_HOLIDAYS"
	// EnvYearEnd: the year-end closure, "12-DD..01-DD" (default
	// "12-31..01-03") or "off".
	EnvYearEnd = "KOE_YEAR_END_CLOSURE"
	// EnvZone: the IANA time zone of the hours (default Asia/Tokyo).
	EnvZone = "KOE_BUSINESS_TZ"
)

// VarError is a configuration error in one environment variable.
type VarError struct {
	Var string
	Err error
}

func (e *VarError) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *VarError) Unwrap() error { return e.Err }

// FromEnv builds the calendar that the environment describes (see the Env
// constants); getenv is os.Getenv in production. A malformed value is a
// *VarError naming the variable.
func FromEnv(getenv func(string) string) (*Calendar, error) {
	var cfg Config
	var err error
	if v := strings.TrimSpace(getenv(EnvZone)); v != "" {
		if cfg.Location, err = time.LoadLocation(v); err != nil {
			return nil, &VarError{EnvZone, fmt.Errorf("unknown time zone %q", v)}
		}
	}
	if v := getenv(EnvHours); strings.TrimSpace(v) != "" {
		if cfg.Hours, err = ParseHours(v); err != nil {
			return nil, &VarError{EnvHours, err}
		}
	}
	if v := getenv(EnvHolidays); strings.TrimSpace(v) != "" {
		if cfg.Holidays, cfg.Workdays, err = ParseHolidays(v); err != nil {
			return nil, &VarError{EnvHolidays, err}
		}
	}
	if v := getenv(EnvYearEnd); strings.TrimSpace(v) != "" {
		if cfg.YearEnd, err = ParseYearEnd(v); err != nil {
			return nil, &VarError{EnvYearEnd, err}
		}
	}
	c, err := New(cfg)
	if err != nil {
		return nil, &VarError{EnvHours, err}
	}
	return c, nil
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// ParseHours parses opening hours in the syntax of EnvHours.
func ParseHours(s string) (Week, error) {
	var w Week
	for i, clause := range strings.Split(s, ";") {
		clause = strings.TrimSpace(clause)
		if clause == "" {
			continue
		}
		days, spans, ok := strings.Cut(clause, " ")
		if !ok {
			return Week{}, fmt.Errorf("clause %d %q: want DAYS HH:MM-HH:MM", i+1, clause)
		}
		set, err := parseDays(days)
		if err != nil {
			return Week{}, fmt.Errorf("clause %d %q: %w", i+1, clause, err)
		}
		list, err := parseSpans(strings.TrimSpace(spans))
		if err != nil {
			return Week{}, fmt.Errorf("clause %d %q: %w", i+1, clause, err)
		}
		for _, d := range set {
			w[d] = list
		}
	}
	if err := w.validate(); err != nil {
		return Week{}, err
	}
	return w, nil
}

func parseDays(s string) ([]time.Weekday, error) {
	var out []time.Weekday
	for tok := range strings.SplitSeq(strings.ToLower(s), ",") {
		a, b, isRange := strings.Cut(tok, "-")
		from, ok1 := dayNames[a]
		to, ok2 := from, true
		if isRange {
			to, ok2 = dayNames[b]
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%q is not a day or day range (mon, tue, …, sun; mon-fri)", tok)
		}
		for d := from; ; d = (d + 1) % 7 {
			out = append(out, d)
			if d == to {
				break
			}
		}
	}
	return out, nil
}

func parseSpans(s string) ([]Span, error) {
	if strings.EqualFold(s, "closed") {
		return []Span{}, nil
	}
	var out []Span
	for tok := range strings.SplitSeq(s, ",") {
		tok = strings.TrimSpace(tok)
		a, b, ok := strings.Cut(tok, "-")
		if !ok {
			return nil, fmt.Errorf("%q is not HH:MM-HH:MM", tok)
		}
		open, err1 := parseClock(a)
		close, err2 := parseClock(b)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("%q: %w", tok, err)
		}
		if open >= close {
			return nil, fmt.Errorf("%q: opens at or after it closes", tok)
		}
		if n := len(out); n > 0 && open < out[n-1].Close {
			return nil, fmt.Errorf("%q overlaps or precedes the span before it", tok)
		}
		out = append(out, Span{open, close})
	}
	return out, nil
}

func parseClock(s string) (time.Duration, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 ||
		hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM, 00:00–24:00)", s)
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute, nil
}

// FormatHours formats w in the syntax ParseHours reads, one clause per
// open weekday from Monday.
func FormatHours(w Week) string {
	var clauses []string
	for i := range 7 {
		d := time.Weekday((i + 1) % 7)
		if len(w[d]) == 0 {
			continue
		}
		spans := make([]string, len(w[d]))
		for j, s := range w[d] {
			spans[j] = s.String()
		}
		clauses = append(clauses, strings.ToLower(d.String()[:3])+" "+strings.Join(spans, ","))
	}
	return strings.Join(clauses, "; ")
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	d := Date{t.Year(), t.Month(), t.Day()}
	if err != nil || !d.valid() {
		return Date{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return d, nil
}

// maxRange bounds a date range in EnvHolidays.
const maxRange = 366

// ParseHolidays parses closed and open days in the syntax of EnvHolidays.
// Empty entries are ignored.
func ParseHolidays(s string) (closed []Holiday, open []Date, err error) {
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		spec, name, _ := strings.Cut(entry, "=")
		name = strings.TrimSpace(name)
		spec = strings.TrimSpace(spec)
		isOpen := strings.HasPrefix(spec, "!")
		spec = strings.TrimPrefix(spec, "!")
		a, b, isRange := strings.Cut(spec, "..")
		from, err := ParseDate(a)
		if err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		to := from
		if isRange {
			if to, err = ParseDate(b); err != nil {
				return nil, nil, fmt.Errorf("entry %d: %w", i+1, err)
			}
		}
		if to.Compare(from) < 0 {
			return nil, nil, fmt.Errorf("entry %d: range %s ends before it starts", i+1, spec)
		}
		if to.Compare(from.AddDays(maxRange-1)) > 0 {
			return nil, nil, fmt.Errorf("entry %d: range %s is longer than %d days", i+1, spec, maxRange)
		}
		if isOpen && name != "" {
			return nil, nil, fmt.Errorf("entry %d: an open day (!) takes no name", i+1)
		}
		for d := from; d.Compare(to) <= 0; d = d.AddDays(1) {
			if isOpen {
				open = append(open, d)
			} else {
				closed = append(closed, Holiday{d, name})
			}
		}
	}
	return closed, open, nil
}

// ParseYearEnd parses the year-end closure in the syntax of EnvYearEnd.
func ParseYearEnd(s string) (YearEnd, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return YearEnd{Off: true}, nil
	}
	a, b, ok := strings.Cut(s, "..")
	from, err1 := monthDay(a, "12")
	to, err2 := monthDay(b, "01")
	if !ok || err1 != nil || err2 != nil {
		return YearEnd{}, fmt.Errorf("%q is not a year-end closure (12-DD..01-DD, or off)", s)
	}
	return YearEnd{From: from, To: to}, nil
}

func monthDay(s, month string) (int, error) {
	m, d, ok := strings.Cut(strings.TrimSpace(s), "-")
	n, err := strconv.Atoi(d)
	if !ok || m != month || err != nil || len(d) != 2 || n < 1 || n > 31 {
		return 0, errors.New("bad day")
	}
	return n, nil
}

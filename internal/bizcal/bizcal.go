// Package bizcal is a business-hours calendar: opening hours per weekday,
// public holidays and a year-end closure in one time zone (Asia/Tokyo by
// default). SLA due times are computed on it: "respond within 8 business
// hours" from a Friday 16:00 complaint is Monday 15:00, and skips
// Golden Week.
//
// A Calendar is immutable after New and safe for concurrent use. Times
// passed in may be in any location; results are in the calendar's.
package bizcal

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Date is a civil date, without time or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, dd := t.In(loc).Date()
	return Date{y, m, dd}
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// At returns the instant of the given offset from midnight of d in loc.
func (d Date) At(loc *time.Location, offset time.Duration) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc).Add(offset)
}

// AddDays returns the date n days after d (n may be negative).
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// Weekday returns d's day of the week.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Compare orders dates: -1, 0 or +1.
func (d Date) Compare(o Date) int {
	return cmp.Or(cmp.Compare(d.Year, o.Year), cmp.Compare(d.Month, o.Month), cmp.Compare(d.Day, o.Day))
}

// Holiday is a closed day with its name.
type Holiday struct {
	Date Date   `json:"date"`
	Name string `json:"name"`
}

// Span is an opening interval of a day, as offsets from midnight:
// open at Open, closed from Close on (Open < Close ≤ 24h).
type Span struct {
	Open, Close time.Duration
}

// Week holds the opening spans of each weekday, indexed by time.Weekday;
// a day without spans is closed.
type Week [7][]Span

// DefaultWeek is Monday to Friday, 9:00–17:00.
func DefaultWeek() Week {
	var w Week
	for d := time.Monday; d <= time.Friday; d++ {
		w[d] = []Span{{9 * time.Hour, 17 * time.Hour}}
	}
	return w
}

// YearEnd is the year-end closure (年末年始休業): December From through
// January To, both inclusive, every year. The zero value is the usual
// 12/31–1/3; Off disables it.
type YearEnd struct {
	Off bool
	// From is a day of December, To a day of January (0: 31 and 3).
	From, To int
}

// Config configures New. The zero Config is the default calendar:
// Asia/Tokyo, Monday to Friday 9:00–17:00, Japanese public holidays and
// the year-end closure 12/31–1/3.
type Config struct {
	// Location of the opening hours (default Asia/Tokyo).
	Location *time.Location
	// Hours per weekday; the zero Week means DefaultWeek.
	Hours Week
	// Holidays are extra closed days (company holidays).
	Holidays []Holiday
	// Workdays are days open despite a built-in holiday or the year-end
	// closure (their weekday's hours apply; a Sunday stays closed unless
	// Sunday has hours).
	Workdays []Date
	// NoPublicHolidays leaves out the built-in Japanese public holidays.
	NoPublicHolidays bool
	YearEnd          YearEnd
}

// Calendar answers when business is open and adds business time.
type Calendar struct {
	loc      *time.Location
	week     Week
	closed   map[Date]string
	open     map[Date]bool
	yearEnd  YearEnd
	lastStop Date // after this date only the week and the year-end closure close days
}

// Tokyo returns the Asia/Tokyo location, or a fixed +09:00 zone named "JST"
// when the time zone database is missing (Japan has had no daylight saving
// time since 1951, so the two agree).
var Tokyo = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60)
})

// New checks cfg and builds its calendar. It fails when no weekday has
// opening hours or a span is malformed (overlapping, empty, beyond 24h).
func New(cfg Config) (*Calendar, error) {
	c := &Calendar{loc: cfg.Location, week: cfg.Hours, closed: map[Date]string{}, open: map[Date]bool{}, yearEnd: cfg.YearEnd}
	if c.loc == nil {
		c.loc = Tokyo()
	}
	if c.week.empty() {
		c.week = DefaultWeek()
	}
	if err := c.week.validate(); err != nil {
		return nil, fmt.Errorf("bizcal: %w", err)
	}
	if !c.yearEnd.Off {
		if c.yearEnd.From == 0 {
			c.yearEnd.From = 31
		}
		if c.yearEnd.To == 0 {
			c.yearEnd.To = 3
		}
		if c.yearEnd.From < 1 || c.yearEnd.From > 31 || c.yearEnd.To < 1 || c.yearEnd.To > 31 {
			return nil, fmt.Errorf("bizcal: year-end closure 12-%02d..01-%02d is not a date range", c.yearEnd.From, c.yearEnd.To)
		}
	}
	if !cfg.NoPublicHolidays {
		for _, h := range jpHolidays {
			c.closed[h.Date] = h.Name
		}
	}
	for _, h := range cfg.Holidays {
		if !h.Date.valid() {
			return nil, fmt.Errorf("bizcal: holiday %s is not a date", h.Date)
		}
		c.closed[h.Date] = cmp.Or(h.Name, "休業日")
	}
	for _, d := range cfg.Workdays {
		if !d.valid() {
			return nil, fmt.Errorf("bizcal: workday %s is not a date", d)
		}
		c.open[d] = true
	}
	for d := range c.closed {
		if d.Compare(c.lastStop) > 0 {
			c.lastStop = d
		}
	}
	return c, nil
}

// Default returns the default calendar (the zero Config).
func Default() *Calendar {
	c, err := New(Config{})
	if err != nil {
		panic("bizcal: default calendar: " + err.Error()) // the zero Config is valid by construction
	}
	return c
}

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Closed reports whether the whole day d is closed, and why: a holiday's
// name, "年末年始休業" or "定休日" (a weekday without hours).
func (c *Calendar) Closed(d Date) (reason string, closed bool) {
	if c.open[d] {
		if len(c.week[d.Weekday()]) == 0 {
			return "定休日", true
		}
		return "", false
	}
	if name, ok := c.closed[d]; ok {
		return name, true
	}
	if !c.yearEnd.Off && ((d.Month == time.December && d.Day >= c.yearEnd.From) || (d.Month == time.January && d.Day <= c.yearEnd.To)) {
		return "年末年始休業", true
	}
	if len(c.week[d.Weekday()]) == 0 {
		return "定休日", true
	}
	return "", false
}

// IsOpen reports whether business is open at t.
func (c *Calendar) IsOpen(t time.Time) bool {
	_, ok := c.span(t)
	return ok
}

// span returns the end of the opening span containing t.
func (c *Calendar) span(t time.Time) (end time.Time, ok bool) {
	t = t.In(c.loc)
	day := DateOf(t, c.loc)
	if _, closed := c.Closed(day); closed {
		return time.Time{}, false
	}
	for _, s := range c.week[day.Weekday()] {
		open, close := day.At(c.loc, s.Open), day.At(c.loc, s.Close)
		if !t.Before(open) && t.Before(close) {
			return close, true
		}
	}
	return time.Time{}, false
}

// Next returns t (in the calendar's location) if business is open at t,
// else the next instant it opens.
func (c *Calendar) Next(t time.Time) time.Time {
	t = t.In(c.loc)
	day := DateOf(t, c.loc)
	// An open weekday exists (New checks), so past the last listed
	// closed day an open day comes within a week plus the year-end closure
	// (at most 62 days).
	limit := day
	if c.lastStop.Compare(limit) > 0 {
		limit = c.lastStop
	}
	limit = limit.AddDays(7 + 70)
	for ; day.Compare(limit) <= 0; day = day.AddDays(1) {
		if _, closed := c.Closed(day); closed {
			continue
		}
		for _, s := range c.week[day.Weekday()] {
			open, close := day.At(c.loc, s.Open), day.At(c.loc, s.Close)
			if t.Before(open) {
				return open
			}
			if t.Before(close) {
				return t
			}
		}
	}
	panic("bizcal: no open day found") // unreachable: New requires an open weekday
}

// Add returns the instant when d of business time has passed from t: time
// outside opening hours does not count. A result that falls on a closing
// time is that closing time (9:00 + 8h on a 9–17 day is 17:00 the same
// day). d ≤ 0 gives Next(t).
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	cur := c.Next(t)
	for d > 0 {
		end, ok := c.span(cur)
		if !ok { // cannot happen: Next returns an open instant
			panic("bizcal: Next returned a closed instant")
		}
		left := end.Sub(cur)
		if d <= left {
			return cur.Add(d)
		}
		d -= left
		cur = c.Next(end)
	}
	return cur
}

// Holidays returns the closed days listed in the calendar (built-in and
// configured holidays, not weekends or the year-end closure) from from to
// to inclusive, in date order.
func (c *Calendar) Holidays(from, to Date) []Holiday {
	var out []Holiday
	for d, name := range c.closed {
		if d.Compare(from) >= 0 && d.Compare(to) <= 0 && !c.open[d] {
			out = append(out, Holiday{d, name})
		}
	}
	slices.SortFunc(out, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out
}

func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return d.AddDays(0) == d
}

func (w Week) empty() bool {
	for _, spans := range w {
		if spans != nil {
			return false
		}
	}
	return true
}

func (w Week) validate() error {
	open := false
	for day, spans := range w {
		var prev time.Duration
		for i, s := range spans {
			if s.Open < 0 || s.Close > 24*time.Hour || s.Open >= s.Close {
				return fmt.Errorf("%s: span %s is empty or outside the day", time.Weekday(day), s)
			}
			if i > 0 && s.Open < prev {
				return fmt.Errorf("%s: spans overlap or are out of order", time.Weekday(day))
			}
			prev = s.Close
			open = true
		}
	}
	if !open {
		return fmt.Errorf("no weekday has opening hours")
	}
	return nil
}

// String formats s as HH:MM-HH:MM.
func (s Span) String() string { return clock(s.Open) + "-" + clock(s.Close) }

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

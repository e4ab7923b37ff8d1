package bizcal

import (
	"testing"
	"time"
)

// FuzzParseHours: the parser never panics, and what it accepts formats to
// a string that parses back to the same week and builds a calendar whose
// Add terminates.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"mon-fri 09:00-17:00", "mon-fri 09:00-12:00,13:00-17:00; sat 10:00-12:00",
		"fri-mon 00:00-24:00", "sun closed", "mon 9:00-9:01", ";;", "mon-", "mon 24:00-24:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseHours(s)
		if err != nil {
			return
		}
		again, err := ParseHours(FormatHours(w))
		if err != nil {
			t.Fatalf("FormatHours(ParseHours(%q)) = %q does not parse: %v", s, FormatHours(w), err)
		}
		if FormatHours(again) != FormatHours(w) {
			t.Fatalf("round trip of %q: %q != %q", s, FormatHours(again), FormatHours(w))
		}
		c, err := New(Config{Hours: w})
		if err != nil {
			t.Fatalf("New with parsed hours %q: %v", s, err)
		}
		from := time.Date(2026, 12, 25, 12, 0, 0, 0, Tokyo())
		if got := c.Add(from, 10*time.Hour); got.Before(from) || !c.IsOpen(c.Next(got)) {
			t.Fatalf("Add from %v = %v", from, got)
		}
	})
}

// FuzzParseHolidays: never panics; accepted days are valid dates.
func FuzzParseHolidays(f *testing.F) {
	for _, s := range []string{"2026-12-30,2027-01-04", "2027-01-04..2027-01-05=休み", "!2026-05-06", ",,", "=", "..", "!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		closed, open, err := ParseHolidays(s)
		if err != nil {
			return
		}
		for _, h := range closed {
			if !h.Date.valid() {
				t.Fatalf("ParseHolidays(%q) gave invalid %v", s, h.Date)
			}
		}
		if _, err := New(Config{Holidays: closed, Workdays: open}); err != nil {
			t.Fatalf("New with parsed holidays of %q: %v", s, err)
		}
	})
}

// FuzzParseYearEnd: never panics; accepted closures build a calendar.
func FuzzParseYearEnd(f *testing.F) {
	for _, s := range []string{"12-31..01-03", "off", "12-01..01-31", "..", "12-..01-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		y, err := ParseYearEnd(s)
		if err != nil {
			return
		}
		if _, err := New(Config{YearEnd: y}); err != nil {
			t.Fatalf("New with year end %q: %v", s, err)
		}
	})
}

package bizcal

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// jst builds an instant in Asia/Tokyo.
func jst(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, Tokyo())
}

func mustNew(t *testing.T, cfg Config) *Calendar {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIsOpen(t *testing.T) {
	c := Default()
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"weekday morning", jst(2026, 11, 20, 9, 0), true},
		{"just before opening", jst(2026, 11, 20, 8, 59), false},
		{"last minute", jst(2026, 11, 20, 16, 59), true},
		{"closing time is closed", jst(2026, 11, 20, 17, 0), false},
		{"saturday", jst(2026, 11, 21, 10, 0), false},
		{"sunday", jst(2026, 11, 22, 10, 0), false},
		{"勤労感謝の日 on a Monday", jst(2026, 11, 23, 10, 0), false},
		{"国民の休日 in silver week", jst(2026, 9, 22, 10, 0), false},
		{"振替休日 after こどもの日", jst(2026, 5, 6, 10, 0), false},
		{"year-end closure 12/31", jst(2026, 12, 31, 10, 0), false},
		{"year-end closure 1/2 Saturday anyway", jst(2027, 1, 2, 10, 0), false},
		{"year-end closure 1/4 is open", jst(2027, 1, 4, 10, 0), true},
		{"12/30 is open", jst(2026, 12, 30, 10, 0), true},
		// 2026-11-20 00:30 UTC is 09:30 in Tokyo.
		{"UTC input converted", time.Date(2026, 11, 20, 0, 30, 0, 0, time.UTC), true},
		// 2026-11-20 08:30 UTC is 17:30 in Tokyo.
		{"UTC daytime is Tokyo evening", time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsOpen(tt.at); got != tt.want {
				t.Errorf("IsOpen(%v) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestNextAndAdd(t *testing.T) {
	c := Default()
	tests := []struct {
		name     string
		from     time.Time
		add      time.Duration
		wantNext time.Time
		wantAdd  time.Time
	}{
		{"open: within the day", jst(2026, 11, 20, 10, 0), 30 * time.Minute,
			jst(2026, 11, 20, 10, 0), jst(2026, 11, 20, 10, 30)},
		{"ends exactly at closing", jst(2026, 11, 19, 9, 0), 8 * time.Hour,
			jst(2026, 11, 19, 9, 0), jst(2026, 11, 19, 17, 0)},
		{"crosses into the next day", jst(2026, 11, 19, 16, 0), 2 * time.Hour,
			jst(2026, 11, 19, 16, 0), jst(2026, 11, 20, 10, 0)},
		{"friday evening to monday", jst(2026, 11, 13, 18, 0), 30 * time.Minute,
			jst(2026, 11, 16, 9, 0), jst(2026, 11, 16, 9, 30)},
		{"friday 16:00 + 8h skips the weekend and the holiday monday", jst(2026, 11, 20, 16, 0), 8 * time.Hour,
			jst(2026, 11, 20, 16, 0), jst(2026, 11, 24, 16, 0)},
		{"before opening", jst(2026, 11, 19, 7, 0), time.Hour,
			jst(2026, 11, 19, 9, 0), jst(2026, 11, 19, 10, 0)},
		{"golden week 2026", jst(2026, 5, 1, 16, 30), time.Hour,
			jst(2026, 5, 1, 16, 30), jst(2026, 5, 7, 9, 30)},
		{"silver week 2026", jst(2026, 9, 18, 17, 0), 24 * time.Hour,
			jst(2026, 9, 24, 9, 0), jst(2026, 9, 28, 17, 0)},
		{"year end 2026/27", jst(2026, 12, 30, 16, 0), 2 * time.Hour,
			jst(2026, 12, 30, 16, 0), jst(2027, 1, 4, 10, 0)},
		{"zero duration is the next opening", jst(2026, 11, 21, 12, 0), 0,
			jst(2026, 11, 24, 9, 0), jst(2026, 11, 24, 9, 0)},
		{"several days", jst(2026, 11, 24, 11, 0), 3 * 8 * time.Hour,
			jst(2026, 11, 24, 11, 0), jst(2026, 11, 27, 11, 0)},
		{"sub-minute precision kept", jst(2026, 11, 24, 16, 59).Add(30 * time.Second), time.Minute,
			jst(2026, 11, 24, 16, 59).Add(30 * time.Second), jst(2026, 11, 25, 9, 0).Add(30 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Next(tt.from); !got.Equal(tt.wantNext) {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.wantNext)
			}
			got := c.Add(tt.from, tt.add)
			if !got.Equal(tt.wantAdd) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.from, tt.add, got, tt.wantAdd)
			}
			if got.Location() != Tokyo() {
				t.Errorf("Add result in %v, want Asia/Tokyo", got.Location())
			}
		})
	}
}

func TestConfiguredCalendar(t *testing.T) {
	hours, err := ParseHours("mon-fri 09:00-12:00,13:00-17:00; sat 10:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	closed, open, err := ParseHolidays("2026-11-26=創立記念日, !2026-11-23")
	if err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, Config{Hours: hours, Holidays: closed, Workdays: open, YearEnd: YearEnd{Off: true}})
	tests := []struct {
		name string
		from time.Time
		add  time.Duration
		want time.Time
	}{
		{"lunch break skipped", jst(2026, 11, 24, 11, 30), time.Hour, jst(2026, 11, 24, 13, 30)},
		{"saturday morning counts", jst(2026, 11, 20, 16, 0), 2 * time.Hour, jst(2026, 11, 21, 11, 0)},
		{"holiday made a workday", jst(2026, 11, 21, 11, 0), 2 * time.Hour, jst(2026, 11, 23, 10, 0)},
		{"company holiday closed", jst(2026, 11, 25, 16, 0), 2 * time.Hour, jst(2026, 11, 27, 10, 0)},
		{"year-end closure off", jst(2026, 12, 31, 9, 0), time.Hour, jst(2026, 12, 31, 10, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Add(tt.from, tt.add); !got.Equal(tt.want) {
				t.Errorf("Add(%v, %v) = %v, want %v", tt.from, tt.add, got, tt.want)
			}
		})
	}
	if name, ok := c.Closed(Date{2026, 11, 26}); !ok || name != "創立記念日" {
		t.Errorf("Closed(2026-11-26) = %q, %v; want 創立記念日, true", name, ok)
	}
	if _, ok := c.Closed(Date{2026, 11, 22}); !ok {
		t.Error("Sunday is open; want closed (no hours)")
	}
}

// TestOtherZone: a calendar in another zone keeps wall-clock hours there,
// and across a daylight-saving change business time stays exact.
func TestOtherZone(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	c := mustNew(t, Config{Location: ny, NoPublicHolidays: true, YearEnd: YearEnd{Off: true}})
	// DST ends on 2026-11-01 (a Sunday): Friday 16:00 EDT + 2h = Monday 10:00 EST.
	from := time.Date(2026, 10, 30, 16, 0, 0, 0, ny)
	want := time.Date(2026, 11, 2, 10, 0, 0, 0, ny)
	if got := c.Add(from, 2*time.Hour); !got.Equal(want) {
		t.Errorf("Add = %v, want %v", got, want)
	}
	if c.IsOpen(time.Date(2026, 11, 2, 14, 30, 0, 0, time.UTC)) { // 09:30 EST
		// 14:30 UTC on Nov 2 is 09:30 EST: open.
	} else {
		t.Error("09:30 EST is closed; want open")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no open weekday", Config{Hours: Week{time.Monday: []Span{}}}},
		{"span beyond the day", Config{Hours: Week{time.Monday: {{9 * time.Hour, 25 * time.Hour}}}}},
		{"overlapping spans", Config{Hours: Week{time.Monday: {{9 * time.Hour, 12 * time.Hour}, {11 * time.Hour, 13 * time.Hour}}}}},
		{"bad holiday", Config{Holidays: []Holiday{{Date{2026, 2, 30}, "x"}}}},
		{"bad year end", Config{YearEnd: YearEnd{From: 40}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.cfg); err == nil {
				t.Error("New succeeded, want an error")
			}
		})
	}
}

func TestParseHours(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"mon-fri 09:00-17:00", "mon 09:00-17:00; tue 09:00-17:00; wed 09:00-17:00; thu 09:00-17:00; fri 09:00-17:00"},
		{"MON,wed 9:00-12:00 ; sat 10:00-24:00", "mon 09:00-12:00; wed 09:00-12:00; sat 10:00-24:00"},
		{"fri-mon 08:30-09:00", "mon 08:30-09:00; fri 08:30-09:00; sat 08:30-09:00; sun 08:30-09:00"},
		{"mon-sun 09:00-17:00; sat-sun closed", "mon 09:00-17:00; tue 09:00-17:00; wed 09:00-17:00; thu 09:00-17:00; fri 09:00-17:00"},
		{"mon 09:00-12:00,12:00-13:00", "mon 09:00-12:00,12:00-13:00"},
		{"", ""},
		{"mon", ""},
		{"mon 17:00-09:00", ""},
		{"mon 09:00-12:00,11:00-13:00", ""},
		{"xyz 09:00-17:00", ""},
		{"mon 9-17", ""},
		{"mon 24:30-25:00", ""},
		{"mon 09:60-10:00", ""},
		{"sat-sun closed", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, err := ParseHours(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Errorf("ParseHours(%q) = %s, want an error", tt.in, FormatHours(w))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHours(%q): %v", tt.in, err)
			}
			if got := FormatHours(w); got != tt.want {
				t.Errorf("ParseHours(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseHolidays(t *testing.T) {
	closed, open, err := ParseHolidays("2026-12-30, 2027-01-04..2027-01-05=仕事始め延期,,!2026-05-06")
	if err != nil {
		t.Fatal(err)
	}
	want := []Holiday{{Date{2026, 12, 30}, ""}, {Date{2027, 1, 4}, "仕事始め延期"}, {Date{2027, 1, 5}, "仕事始め延期"}}
	if len(closed) != len(want) {
		t.Fatalf("closed = %v, want %v", closed, want)
	}
	for i := range want {
		if closed[i] != want[i] {
			t.Errorf("closed[%d] = %v, want %v", i, closed[i], want[i])
		}
	}
	if len(open) != 1 || open[0] != (Date{2026, 5, 6}) {
		t.Errorf("open = %v, want [2026-05-06]", open)
	}
	for _, bad := range []string{"2026-13-01", "2026-02-30", "tomorrow", "2027-01-05..2027-01-04", "2026-01-01..2028-01-01", "!2026-05-06=x", "2026/12/30"} {
		t.Run(bad, func(t *testing.T) {
			if _, _, err := ParseHolidays(bad); err == nil {
				t.Errorf("ParseHolidays(%q) succeeded, want an error", bad)
			}
		})
	}
}

func TestParseYearEnd(t *testing.T) {
	tests := []struct {
		in      string
		want    YearEnd
		wantErr bool
	}{
		{"12-29..01-03", YearEnd{From: 29, To: 3}, false},
		{"off", YearEnd{Off: true}, false},
		{"OFF", YearEnd{Off: true}, false},
		{"01-03..12-29", YearEnd{}, true},
		{"12-32..01-03", YearEnd{}, true},
		{"12-29", YearEnd{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseYearEnd(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseYearEnd(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	t.Run("defaults", func(t *testing.T) {
		c, err := FromEnv(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Add(jst(2026, 12, 30, 16, 0), 2*time.Hour), jst(2027, 1, 4, 10, 0); !got.Equal(want) {
			t.Errorf("Add = %v, want %v", got, want)
		}
	})
	t.Run("configured", func(t *testing.T) {
		c, err := FromEnv(env(map[string]string{
			EnvHolidays: "2026-12-30,2027-01-04", EnvHours: "mon-fri 09:00-17:00", EnvYearEnd: "12-31..01-03",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.Add(jst(2026, 12, 29, 16, 0), 2*time.Hour), jst(2027, 1, 5, 10, 0); !got.Equal(want) {
			t.Errorf("Add = %v, want %v", got, want)
		}
	})
	for _, v := range []string{EnvHours, EnvHolidays, EnvYearEnd, EnvZone} {
		t.Run("bad "+v, func(t *testing.T) {
			_, err := FromEnv(env(map[string]string{v: "nonsense"}))
			var ve *VarError
			if !errors.As(err, &ve) || ve.Var != v || !strings.HasPrefix(err.Error(), v+": ") {
				t.Errorf("FromEnv with bad %s: error %v, want a VarError naming it", v, err)
			}
		})
	}
}

func TestHolidaysList(t *testing.T) {
	c := mustNew(t, Config{Holidays: []Holiday{{Date{2026, 5, 7}, ""}}, Workdays: []Date{{2026, 5, 6}}})
	got := c.Holidays(Date{2026, 5, 1}, Date{2026, 5, 31})
	want := []Holiday{{Date{2026, 5, 3}, "憲法記念日"}, {Date{2026, 5, 4}, "みどりの日"}, {Date{2026, 5, 5}, "こどもの日"}, {Date{2026, 5, 7}, "休業日"}}
	if len(got) != len(want) {
		t.Fatalf("Holidays = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Holidays[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

package bizcal

import (
	"testing"
	"time"
)

// TestHolidaysFollowTheAct recomputes 2025–2028's public holidays from the
// rules of the Act on National Holidays (国民の祝日に関する法律) and compares
// them with the data, so a typo in the list cannot go unnoticed.
func TestHolidaysFollowTheAct(t *testing.T) {
	nthMonday := func(y int, m time.Month, n int) Date {
		first := Date{y, m, 1}
		off := (int(time.Monday) - int(first.Weekday()) + 7) % 7
		return first.AddDays(off + 7*(n-1))
	}
	// Equinoxes as announced by the National Astronomical Observatory.
	spring := map[int]int{2025: 20, 2026: 20, 2027: 21, 2028: 20}
	autumn := map[int]int{2025: 23, 2026: 23, 2027: 23, 2028: 22}
	var want []Holiday
	for y := 2025; y <= 2028; y++ {
		base := []Holiday{
			{Date{y, 1, 1}, "元日"},
			{nthMonday(y, 1, 2), "成人の日"},
			{Date{y, 2, 11}, "建国記念の日"},
			{Date{y, 2, 23}, "天皇誕生日"},
			{Date{y, 3, spring[y]}, "春分の日"},
			{Date{y, 4, 29}, "昭和の日"},
			{Date{y, 5, 3}, "憲法記念日"},
			{Date{y, 5, 4}, "みどりの日"},
			{Date{y, 5, 5}, "こどもの日"},
			{nthMonday(y, 7, 3), "海の日"},
			{Date{y, 8, 11}, "山の日"},
			{nthMonday(y, 9, 3), "敬老の日"},
			{Date{y, 9, autumn[y]}, "秋分の日"},
			{nthMonday(y, 10, 2), "スポーツの日"},
			{Date{y, 11, 3}, "文化の日"},
			{Date{y, 11, 23}, "勤労感謝の日"},
		}
		is := map[Date]bool{}
		for _, h := range base {
			is[h.Date] = true
		}
		// 国民の休日: a weekday between two holidays.
		for _, h := range base {
			mid := h.Date.AddDays(1)
			if !is[mid] && is[mid.AddDays(1)] && mid.Weekday() != time.Sunday {
				base = append(base, Holiday{mid, "国民の休日"})
			}
		}
		for _, h := range base {
			is[h.Date] = true
		}
		// 振替休日: a holiday on a Sunday moves to the next non-holiday.
		for _, h := range base {
			if h.Date.Weekday() == time.Sunday {
				next := h.Date.AddDays(1)
				for is[next] {
					next = next.AddDays(1)
				}
				base = append(base, Holiday{next, "振替休日"})
				is[next] = true
			}
		}
		sortHolidays(base)
		want = append(want, base...)
	}
	got := JapaneseHolidays()
	if len(got) != len(want) {
		t.Errorf("%d holidays, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("holiday %d = %s %s, want %s %s", i, got[i].Date, got[i].Name, want[i].Date, want[i].Name)
		}
	}
}

func sortHolidays(h []Holiday) {
	for i := 1; i < len(h); i++ {
		for j := i; j > 0 && h[j].Date.Compare(h[j-1].Date) < 0; j-- {
			h[j], h[j-1] = h[j-1], h[j]
		}
	}
}

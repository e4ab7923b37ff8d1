package jpinput

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var whenSeeds = []string{
	"たった今", "30分前", "2時間前", "3日前の夜", "今朝8時", "昨日の夕方", "昨夜", "おととい",
	"今日の午後3時半", "午前9時15分", "11月3日14時", "11/3 14:00", "2026/11/03 14:00",
	"2026-11-03T14:00", "2026年11月3日 午後2時", "令和8年11月3日", "令和元年5月1日", "R8.11.3",
	"平成31年4月30日", "三時", "十一月三日", "十四時", "１１月３日　１４時", "just now",
	"this morning", "yesterday evening", "2 hours ago", "Nov 3 2pm", "yesterday at 5pm",
	"2月30日", "25時", "明日", "深夜", "12月31日", "midnight", "月曜日", "",
}

func FuzzParseWhen(f *testing.F) {
	for _, s := range whenSeeds {
		f.Add(s, int64(0))
		f.Add(s, int64(-10*3600)) // 00:30 JST
	}
	f.Fuzz(func(t *testing.T, s string, shift int64) {
		now := testNow.Add(time.Duration(shift%(400*24*3600)) * time.Second)
		w, err := ParseWhen(s, now)
		if err != nil {
			if w != (When{}) {
				t.Fatalf("non-zero When %+v with error %v", w, err)
			}
			for _, e := range []error{ErrEmpty, ErrUnrecognised, ErrInvalidDate, ErrFuture, ErrTooOld} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error %v", err)
		}
		if w.Time.After(now.Add(FutureTolerance)) {
			t.Fatalf("ParseWhen(%q) = %v, after now %v", s, w.Time, now)
		}
		if w.Time.Before(now.AddDate(-MaxAgeYears-1, 0, 0)) {
			t.Fatalf("ParseWhen(%q) = %v, too old for now %v", s, w.Time, now)
		}
		if w.Time.Location() != Tokyo() {
			t.Fatalf("location %v", w.Time.Location())
		}
		if w.Precision < Minute || w.Precision > Day || (w.Precision == PartOfDay) != (w.Part != 0) {
			t.Fatalf("bad precision/part %+v", w)
		}
		if w.Format("ja") == "" || w.Format("en") == "" {
			t.Fatalf("empty Format for %+v", w)
		}
	})
}

func FuzzParsePolicyNumber(f *testing.F) {
	for _, s := range []string{"1234567890", "AB12345678", "ab-1234-5678", "証券番号は１２３４５６７８９０です",
		"123", "ABC12345678", "12AB345678", "12345678901", "あいう", "Policy No. K123456789", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n := Normalize(s); Normalize(n) != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", s, n, Normalize(n))
		}
		got, err := ParsePolicyNumber(s)
		mask := MaskPolicyNumber(s)
		if err != nil {
			if got != "" {
				t.Fatalf("result %q with error", got)
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrFormat) {
				t.Fatalf("unexpected error %v", err)
			}
			if strings.Trim(mask, "*") != "" {
				t.Fatalf("mask of invalid input %q reveals %q", s, mask)
			}
			if in := strings.TrimSpace(s); len(in) >= 4 && strings.Contains(err.Error(), in) {
				t.Fatalf("error %q contains input", err)
			}
			return
		}
		again, err := ParsePolicyNumber(got)
		if err != nil || again != got {
			t.Fatalf("re-parse of %q = %q, %v", got, again, err)
		}
		if len(mask) != len(got) || mask[:2] != got[:2] || mask[len(mask)-4:] != got[len(got)-4:] || strings.Trim(mask[2:len(mask)-4], "*") != "" {
			t.Fatalf("MaskPolicyNumber(%q) = %q for %q", s, mask, got)
		}
	})
}

func FuzzParsePhone(f *testing.F) {
	for _, s := range []string{"090-1234-5678", "09012345678", "(03)1234-5678", "03-1234-5678", "0120-123-456",
		"+81 90 1234 5678", "+81-3-1234-5678", "０９０ー１２３４ー５６７８", "+81 (0)3 1234 5678", "0800-123-4567",
		"電話番号は090-1234-5678です", "+1 555", "110", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePhone(s)
		if err != nil {
			if p != (Phone{}) {
				t.Fatalf("non-zero Phone with error")
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrFormat) {
				t.Fatalf("unexpected error %v", err)
			}
			if in := strings.TrimSpace(s); len(in) >= 4 && strings.Contains(err.Error(), in) {
				t.Fatalf("error %q contains input", err)
			}
			if m := MaskPhone(s); strings.ContainsAny(m, "0123456789") {
				t.Fatalf("MaskPhone(%q) = %q reveals digits of an invalid number", s, m)
			}
			return
		}
		for _, form := range []string{p.E164, p.Display, p.National} {
			again, err := ParsePhone(form)
			if err != nil || again != p {
				t.Fatalf("re-parse of %q = %+v, %v; want %+v", form, again, err, p)
			}
		}
		if !strings.HasPrefix(p.E164, "+81") || p.National[0] != '0' || p.E164[3:] != p.National[1:] {
			t.Fatalf("inconsistent %+v", p)
		}
		if strings.ReplaceAll(p.Display, "-", "") != p.National {
			t.Fatalf("display %q does not match national %q", p.Display, p.National)
		}
		m := p.Masked()
		if len(m) != len(p.Display) || m == p.Display {
			t.Fatalf("Masked() = %q for %q", m, p.Display)
		}
	})
}

func FuzzParseCallTime(f *testing.F) {
	for _, s := range []string{"平日の午前", "18時以降", "いつでも", "午後2時〜4時", "明日の午前中", "anytime",
		"after 6pm", "2-4pm", "14:00-16:00", "12時まで", "15時頃", "夜8時以降", "10時〜2時", "3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCallTime(s)
		if err != nil {
			if c != (CallTime{}) {
				t.Fatalf("non-zero CallTime with error")
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrUnrecognised) && !errors.Is(err, ErrInvalidDate) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if c.From < 0 || c.To > 1440 || c.From >= c.To {
			t.Fatalf("ParseCallTime(%q) = %+v: bad window", s, c)
		}
		if c.Anytime && (c.Days != AnyDay || c.From != 0 || c.To != 1440) {
			t.Fatalf("Anytime with constraints: %+v", c)
		}
		if c.Format("ja") == "" || c.Format("en") == "" {
			t.Fatalf("empty Format for %+v", c)
		}
	})
}

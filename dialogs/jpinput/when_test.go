package jpinput

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// jst builds a Tokyo time for test tables.
func jst(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, Tokyo())
}

// testNow is Sunday 22 November 2026, 10:30 in Tokyo.
var testNow = jst(2026, 11, 22, 10, 30)

type whenCase struct {
	name   string
	in     string
	now    time.Time // zero: testNow
	want   time.Time
	prec   Precision
	approx bool
	part   Part
	err    error
}

func runWhen(t *testing.T, tests []whenCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			w, err := ParseWhen(tt.in, now)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("ParseWhen(%q) = %+v, %v; want error %v", tt.in, w, err, tt.err)
				}
				if w != (When{}) {
					t.Errorf("When = %+v on error, want zero", w)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWhen(%q) error = %v", tt.in, err)
			}
			if !w.Time.Equal(tt.want) || w.Precision != tt.prec || w.Approximate != tt.approx || w.Part != tt.part {
				t.Errorf("ParseWhen(%q) = {%s %v approx=%v part=%v}, want {%s %v approx=%v part=%v}",
					tt.in, w.Time.Format(time.RFC3339), w.Precision, w.Approximate, w.Part,
					tt.want.Format(time.RFC3339), tt.prec, tt.approx, tt.part)
			}
			if w.Time.Location() != Tokyo() {
				t.Errorf("location = %v, want Tokyo", w.Time.Location())
			}
		})
	}
}

func TestParseWhenRelative(t *testing.T) {
	t.Parallel()
	runWhen(t, []whenCase{
		{name: "たった今", in: "たった今", want: testNow, prec: Minute, approx: true},
		{name: "今", in: "今", want: testNow, prec: Minute, approx: true},
		{name: "さっき", in: "さっき", want: testNow, prec: Minute, approx: true},
		{name: "ついさっき", in: "ついさっきです", want: testNow, prec: Minute, approx: true},
		{name: "先ほど", in: "先ほど", want: testNow, prec: Minute, approx: true},
		{name: "just now", in: "Just now", want: testNow, prec: Minute, approx: true},
		{name: "now truncates seconds", in: "今", now: testNow.Add(42 * time.Second), want: testNow, prec: Minute, approx: true},
		{name: "now in another zone", in: "今", now: testNow.UTC(), want: testNow, prec: Minute, approx: true},
		{name: "N分前", in: "30分前", want: jst(2026, 11, 22, 10, 0), prec: Minute, approx: true},
		{name: "full-width 分前", in: "１５分ほど前", want: jst(2026, 11, 22, 10, 15), prec: Minute, approx: true},
		{name: "kanji 十分前", in: "十分前", want: jst(2026, 11, 22, 10, 20), prec: Minute, approx: true},
		{name: "N時間前", in: "2時間前", want: jst(2026, 11, 22, 8, 30), prec: Hour, approx: true},
		{name: "時間半前", in: "1時間半前", want: jst(2026, 11, 22, 9, 0), prec: Hour, approx: true},
		{name: "一時間前 kanji", in: "一時間前", want: jst(2026, 11, 22, 9, 30), prec: Hour, approx: true},
		{name: "hours ago across midnight", in: "12時間前", want: jst(2026, 11, 21, 22, 30), prec: Hour, approx: true},
		{name: "N日前", in: "3日前", want: jst(2026, 11, 19, 0, 0), prec: Day},
		{name: "N日前の夜", in: "3日前の夜", want: jst(2026, 11, 19, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "週間前", in: "1週間前", want: jst(2026, 11, 15, 0, 0), prec: Day},
		{name: "2 hours ago", in: "2 hours ago", want: jst(2026, 11, 22, 8, 30), prec: Hour, approx: true},
		{name: "an hour ago", in: "an hour ago", want: jst(2026, 11, 22, 9, 30), prec: Hour, approx: true},
		{name: "half an hour ago", in: "half an hour ago", want: jst(2026, 11, 22, 10, 0), prec: Minute, approx: true},
		{name: "5 mins ago", in: "5 mins ago", want: jst(2026, 11, 22, 10, 25), prec: Minute, approx: true},
		{name: "2 days ago", in: "2 days ago", want: jst(2026, 11, 20, 0, 0), prec: Day},
		{name: "too many days ago", in: "2000日前", err: ErrTooOld},
		{name: "too many hours ago", in: "99999時間前", err: ErrTooOld},
		{name: "now with a time contradicts", in: "さっき3時", err: ErrUnrecognised},
		{name: "two relative", in: "2時間前 30分前", err: ErrUnrecognised},
	})
}

func TestParseWhenDaysAndParts(t *testing.T) {
	t.Parallel()
	runWhen(t, []whenCase{
		{name: "今日", in: "今日", want: jst(2026, 11, 22, 0, 0), prec: Day},
		{name: "昨日", in: "昨日", want: jst(2026, 11, 21, 0, 0), prec: Day},
		{name: "おととい", in: "おととい", want: jst(2026, 11, 20, 0, 0), prec: Day},
		{name: "一昨日", in: "一昨日", want: jst(2026, 11, 20, 0, 0), prec: Day},
		{name: "yesterday", in: "yesterday", want: jst(2026, 11, 21, 0, 0), prec: Day},
		{name: "今朝8時", in: "今朝8時", want: jst(2026, 11, 22, 8, 0), prec: Hour},
		{name: "今朝", in: "今朝", want: jst(2026, 11, 22, 8, 0), prec: PartOfDay, part: PartMorning},
		{name: "今朝 clamped while morning lasts", in: "今朝", now: jst(2026, 11, 22, 7, 0), want: jst(2026, 11, 22, 7, 0), prec: PartOfDay, part: PartMorning},
		{name: "今朝 before morning", in: "今朝", now: jst(2026, 11, 22, 4, 0), err: ErrFuture},
		{name: "昨日の夕方", in: "昨日の夕方", want: jst(2026, 11, 21, 17, 0), prec: PartOfDay, part: PartEvening},
		{name: "昨夜", in: "昨夜", want: jst(2026, 11, 21, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "昨晩", in: "昨晩", want: jst(2026, 11, 21, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "昨夜11時", in: "昨夜11時", want: jst(2026, 11, 21, 23, 0), prec: Hour},
		{name: "昨夜2時 is after midnight", in: "昨夜2時", want: jst(2026, 11, 22, 2, 0), prec: Hour},
		{name: "昨日の深夜 is next day 1:00", in: "昨日の深夜", want: jst(2026, 11, 22, 1, 0), prec: PartOfDay, part: PartLateNight},
		{name: "深夜 alone", in: "深夜", want: jst(2026, 11, 22, 1, 0), prec: PartOfDay, part: PartLateNight},
		{name: "深夜 just after midnight clamps", in: "深夜", now: jst(2026, 11, 22, 0, 30), want: jst(2026, 11, 22, 0, 30), prec: PartOfDay, part: PartLateNight},
		{name: "夜 alone is last night", in: "夜", want: jst(2026, 11, 21, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "朝 alone is this morning", in: "朝", want: jst(2026, 11, 22, 8, 0), prec: PartOfDay, part: PartMorning},
		{name: "午後 alone is yesterday afternoon", in: "午後", want: jst(2026, 11, 21, 15, 0), prec: PartOfDay, part: PartAfternoon},
		{name: "昼", in: "昨日の昼", want: jst(2026, 11, 21, 12, 0), prec: PartOfDay, part: PartNoon},
		{name: "未明", in: "今日の未明", want: jst(2026, 11, 22, 3, 0), prec: PartOfDay, part: PartSmallHours},
		{name: "夕方5時頃", in: "事故は昨日の夕方5時ごろです", want: jst(2026, 11, 21, 17, 0), prec: Hour, approx: true},
		{name: "夜9時", in: "夜9時", want: jst(2026, 11, 21, 21, 0), prec: Hour},
		{name: "昼1時", in: "昨日の昼1時", want: jst(2026, 11, 21, 13, 0), prec: Hour},
		{name: "this morning", in: "this morning", want: jst(2026, 11, 22, 8, 0), prec: PartOfDay, part: PartMorning},
		{name: "yesterday evening", in: "yesterday evening", want: jst(2026, 11, 21, 17, 0), prec: PartOfDay, part: PartEvening},
		{name: "last night", in: "last night", want: jst(2026, 11, 21, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "yesterday at 5pm", in: "yesterday at 5pm", want: jst(2026, 11, 21, 17, 0), prec: Hour},
		{name: "around 3pm yesterday", in: "around 3 pm yesterday", want: jst(2026, 11, 21, 15, 0), prec: Hour, approx: true},
		{name: "weekday", in: "月曜日", want: jst(2026, 11, 16, 0, 0), prec: Day},
		{name: "weekday today", in: "日曜の朝", want: jst(2026, 11, 22, 8, 0), prec: PartOfDay, part: PartMorning},
		{name: "english weekday", in: "friday night", want: jst(2026, 11, 20, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "今日の夜 is ahead", in: "今日の夜", err: ErrFuture},
		{name: "明日", in: "明日", err: ErrFuture},
		{name: "tomorrow morning", in: "tomorrow morning", err: ErrFuture},
		{name: "来週", in: "来週の月曜", err: ErrFuture},
		{name: "two days", in: "昨日 今日", err: ErrUnrecognised},
		{name: "two parts", in: "朝 夜", err: ErrUnrecognised},
	})
}

func TestParseWhenClock(t *testing.T) {
	t.Parallel()
	runWhen(t, []whenCase{
		{name: "今日の午後3時半 ahead", in: "今日の午後3時半", err: ErrFuture},
		{name: "今日の午後3時半 later", in: "今日の午後3時半", now: jst(2026, 11, 22, 16, 0), want: jst(2026, 11, 22, 15, 30), prec: Minute},
		{name: "午前9時15分", in: "午前9時15分", want: jst(2026, 11, 22, 9, 15), prec: Minute},
		{name: "午後2時 floats to yesterday", in: "午後2時", want: jst(2026, 11, 21, 14, 0), prec: Hour},
		{name: "午前0時", in: "今日の午前0時", want: jst(2026, 11, 22, 0, 0), prec: Hour},
		{name: "午前12時 is midnight", in: "今日の午前12時", want: jst(2026, 11, 22, 0, 0), prec: Hour},
		{name: "午後12時 is noon", in: "昨日の午後12時", want: jst(2026, 11, 21, 12, 0), prec: Hour},
		{name: "午後14時 accepted", in: "昨日の午後14時", want: jst(2026, 11, 21, 14, 0), prec: Hour},
		{name: "12am", in: "yesterday 12am", want: jst(2026, 11, 21, 0, 0), prec: Hour},
		{name: "三時 ambiguous morning", in: "三時", want: jst(2026, 11, 22, 3, 0), prec: Hour},
		{name: "3時 ambiguous afternoon", in: "3時", now: jst(2026, 11, 22, 16, 0), want: jst(2026, 11, 22, 15, 0), prec: Hour},
		{name: "昨日の3時 takes the later", in: "昨日の3時", want: jst(2026, 11, 21, 15, 0), prec: Hour},
		{name: "十四時", in: "十四時", want: jst(2026, 11, 21, 14, 0), prec: Hour},
		{name: "3時半", in: "3時半", want: jst(2026, 11, 22, 3, 30), prec: Minute},
		{name: "22時 floats", in: "22時", want: jst(2026, 11, 21, 22, 0), prec: Hour},
		{name: "10時25分 just before", in: "10時25分", want: jst(2026, 11, 22, 10, 25), prec: Minute},
		{name: "10時34分 within tolerance", in: "10時34分", want: jst(2026, 11, 22, 10, 34), prec: Minute},
		{name: "10:40 floats to yesterday", in: "10:40", want: jst(2026, 11, 21, 22, 40), prec: Minute},
		{name: "today 10:40 is future", in: "今日の10時40分", want: jst(2026, 11, 21, 22, 40), err: ErrFuture},
		{name: "14:05", in: "昨日14:05", want: jst(2026, 11, 21, 14, 5), prec: Minute},
		{name: "5:30 pm", in: "yesterday 5:30 pm", want: jst(2026, 11, 21, 17, 30), prec: Minute},
		{name: "正午", in: "昨日の正午", want: jst(2026, 11, 21, 12, 0), prec: Hour},
		{name: "noon", in: "yesterday noon", want: jst(2026, 11, 21, 12, 0), prec: Hour},
		{name: "midnight", in: "midnight", want: jst(2026, 11, 22, 0, 0), prec: Hour},
		{name: "24時", in: "昨日の24時", want: jst(2026, 11, 22, 0, 0), prec: Hour},
		{name: "25時", in: "25時", err: ErrInvalidDate},
		{name: "24時30分", in: "24時30分", err: ErrInvalidDate},
		{name: "14時70分", in: "14時70分", err: ErrInvalidDate},
		{name: "午前13時", in: "午前13時", err: ErrInvalidDate},
		{name: "13am", in: "13am", err: ErrInvalidDate},
		{name: "午後24時", in: "午後24時", err: ErrInvalidDate},
		{name: "two times", in: "3時 4時", err: ErrUnrecognised},
	})
}

func TestParseWhenDates(t *testing.T) {
	t.Parallel()
	jan1 := jst(2027, 1, 1, 0, 10)
	runWhen(t, []whenCase{
		{name: "11月3日14時", in: "11月3日14時", want: jst(2026, 11, 3, 14, 0), prec: Hour},
		{name: "11/3 14:00", in: "11/3 14:00", want: jst(2026, 11, 3, 14, 0), prec: Minute},
		{name: "2026/11/03 14:00", in: "2026/11/03 14:00", want: jst(2026, 11, 3, 14, 0), prec: Minute},
		{name: "ISO T", in: "2026-11-03T14:00", want: jst(2026, 11, 3, 14, 0), prec: Minute},
		{name: "ISO space", in: "2026-11-03 14:00", want: jst(2026, 11, 3, 14, 0), prec: Minute},
		{name: "年月日 午後", in: "2026年11月3日 午後2時", want: jst(2026, 11, 3, 14, 0), prec: Hour},
		{name: "dotted", in: "2026.11.3", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "令和8年", in: "令和8年11月3日", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "令和元年", in: "令和元年5月1日", now: jst(2020, 1, 1, 12, 0), want: jst(2019, 5, 1, 0, 0), prec: Day},
		{name: "R8.11.3", in: "R8.11.3", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "R8/11/3 夜", in: "r8/11/3 夜", want: jst(2026, 11, 3, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "平成31年4月30日", in: "平成31年4月30日", now: jst(2020, 1, 1, 12, 0), want: jst(2019, 4, 30, 0, 0), prec: Day},
		{name: "H31.4.30", in: "H31.4.30", now: jst(2020, 1, 1, 12, 0), want: jst(2019, 4, 30, 0, 0), prec: Day},
		{name: "平成31年5月1日 did not exist", in: "平成31年5月1日", err: ErrInvalidDate},
		{name: "令和1年4月1日 did not exist", in: "令和1年4月1日", err: ErrInvalidDate},
		{name: "令和0年", in: "令和0年1月1日", err: ErrInvalidDate},
		{name: "昭和 too old", in: "昭和60年1月1日", err: ErrTooOld},
		{name: "十一月三日", in: "十一月三日", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "十一月三日十四時", in: "十一月三日十四時", want: jst(2026, 11, 3, 14, 0), prec: Hour},
		{name: "full-width", in: "１１月３日　１４時", want: jst(2026, 11, 3, 14, 0), prec: Hour},
		{name: "with weekday", in: "11月3日(火)", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "Nov 3 2pm", in: "Nov 3 2pm", want: jst(2026, 11, 3, 14, 0), prec: Hour},
		{name: "November 3rd, 2026 at 2:15pm", in: "November 3rd, 2026 at 2:15pm", want: jst(2026, 11, 3, 14, 15), prec: Minute},
		{name: "3 November", in: "3 November 2026", want: jst(2026, 11, 3, 0, 0), prec: Day},
		{name: "day of month", in: "3日の夕方", want: jst(2026, 11, 3, 17, 0), prec: PartOfDay, part: PartEvening},
		{name: "day of month later than today", in: "25日", want: jst(2026, 10, 25, 0, 0), prec: Day},
		{name: "31日 skips short months", in: "31日", now: jst(2026, 12, 15, 9, 0), want: jst(2026, 10, 31, 0, 0), prec: Day},
		{name: "today by date", in: "11月22日", want: jst(2026, 11, 22, 0, 0), prec: Day},
		{name: "today by date later hour is future", in: "11月22日 15時", err: ErrFuture},
		{name: "date after today is last year", in: "11月23日", want: jst(2025, 11, 23, 0, 0), prec: Day},
		{name: "12月31日 asked on 1 Jan", in: "12月31日", now: jan1, want: jst(2026, 12, 31, 0, 0), prec: Day},
		{name: "12/31 23:50 asked on 1 Jan", in: "12/31 23:50", now: jan1, want: jst(2026, 12, 31, 23, 50), prec: Minute},
		{name: "昨日 on 1 Jan", in: "昨日の夜", now: jan1, want: jst(2026, 12, 31, 21, 0), prec: PartOfDay, part: PartNight},
		{name: "23時 just after midnight", in: "23時", now: jan1, want: jst(2026, 12, 31, 23, 0), prec: Hour},
		{name: "1月1日 asked on 1 Jan", in: "1月1日", now: jan1, want: jst(2027, 1, 1, 0, 0), prec: Day},
		{name: "去年の12月", in: "去年の12月24日", now: jan1, want: jst(2026, 12, 24, 0, 0), prec: Day},
		{name: "2月29日 picks a leap year", in: "2月29日", want: jst(2024, 2, 29, 0, 0), prec: Day},
		{name: "2026年2月29日", in: "2026年2月29日", err: ErrInvalidDate},
		{name: "2月30日", in: "2月30日", err: ErrInvalidDate},
		{name: "13月1日", in: "13月1日", err: ErrInvalidDate},
		{name: "11/31", in: "11/31", err: ErrInvalidDate},
		{name: "32日", in: "32日", err: ErrInvalidDate},
		{name: "future full date", in: "2026年12月1日", err: ErrFuture},
		{name: "too old", in: "2020年1月1日", err: ErrTooOld},
		{name: "just inside three years", in: "2023年11月23日", want: jst(2023, 11, 23, 0, 0), prec: Day},
		{name: "date and relative day contradict", in: "昨日 11月3日", err: ErrUnrecognised},
	})
}

func TestParseWhenUnrecognised(t *testing.T) {
	t.Parallel()
	runWhen(t, []whenCase{
		{name: "empty", in: "", err: ErrEmpty},
		{name: "blank", in: " \u3000", err: ErrEmpty},
		{name: "don't know", in: "わからない", err: ErrUnrecognised},
		{name: "month alone", in: "11月", err: ErrUnrecognised},
		{name: "year alone", in: "去年", err: ErrUnrecognised},
		{name: "last week", in: "先週の金曜", err: ErrUnrecognised},
		{name: "few hours", in: "数時間前", err: ErrUnrecognised},
		{name: "bare number", in: "3", err: ErrUnrecognised},
		{name: "particles only", in: "のに", err: ErrUnrecognised},
		{name: "extra words", in: "昨日の夕方に駐車場で", err: ErrUnrecognised},
		{name: "english gibberish", in: "maybe", err: ErrUnrecognised},
	})
}

func TestWhenFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, ja, en string
	}{
		{"11月3日14時5分頃", "2026年11月3日(火) 14:05頃", "Tue 3 Nov 2026, about 14:05"},
		{"11月3日14時", "2026年11月3日(火) 14時", "Tue 3 Nov 2026, 14:00"},
		{"昨日の夕方", "2026年11月21日(土) 夕方", "Sat 21 Nov 2026, evening"},
		{"昨日の深夜", "2026年11月21日(土) 深夜", "Sat 21 Nov 2026, late night"},
		{"おととい", "2026年11月20日(金)", "Fri 20 Nov 2026"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, err := ParseWhen(tt.in, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.Format("ja"); got != tt.ja {
				t.Errorf("Format(ja) = %q, want %q", got, tt.ja)
			}
			if got := w.Format("en"); got != tt.en {
				t.Errorf("Format(en) = %q, want %q", got, tt.en)
			}
		})
	}
}

func TestParseLINEDatetime(t *testing.T) {
	t.Parallel()
	utc := time.UTC
	tests := []struct {
		name  string
		param string
		loc   *time.Location
		want  time.Time
		err   error
	}{
		{"datetime", "2026-11-03T14:00", nil, jst(2026, 11, 3, 14, 0), nil},
		{"date", "2026-11-03", nil, jst(2026, 11, 3, 0, 0), nil},
		{"time", "14:00", nil, time.Date(0, 1, 1, 14, 0, 0, 0, Tokyo()), nil},
		{"other zone", "2026-11-03T14:00", utc, time.Date(2026, 11, 3, 14, 0, 0, 0, utc), nil},
		{"empty", "", nil, time.Time{}, ErrEmpty},
		{"impossible date", "2026-02-30", nil, time.Time{}, ErrInvalidDate},
		{"impossible time", "25:00", nil, time.Time{}, ErrInvalidDate},
		{"with seconds", "2026-11-03T14:00:00", nil, time.Time{}, ErrUnrecognised},
		{"slashes", "2026/11/03", nil, time.Time{}, ErrUnrecognised},
		{"text", "昨日", nil, time.Time{}, ErrUnrecognised},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLINEDatetime(tt.param, tt.loc)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ParseLINEDatetime(%q) error = %v, want %v", tt.param, err, tt.err)
			}
			if !got.Equal(tt.want) || (err == nil && got.Location().String() != tt.want.Location().String()) {
				t.Errorf("ParseLINEDatetime(%q) = %v, want %v", tt.param, got, tt.want)
			}
		})
	}
}

func TestParseLINEWhen(t *testing.T) {
	t.Parallel()
	runLINE := []struct {
		name  string
		param string
		want  time.Time
		prec  Precision
		err   error
	}{
		{"datetime", "2026-11-22T09:00", jst(2026, 11, 22, 9, 0), Minute, nil},
		{"date", "2026-11-21", jst(2026, 11, 21, 0, 0), Day, nil},
		{"time today", "10:00", jst(2026, 11, 22, 10, 0), Minute, nil},
		{"time later is yesterday", "11:00", jst(2026, 11, 21, 11, 0), Minute, nil},
		{"future datetime", "2026-11-22T12:00", time.Time{}, 0, ErrFuture},
		{"too old", "2020-01-01", time.Time{}, 0, ErrTooOld},
		{"garbage", "x", time.Time{}, 0, ErrUnrecognised},
	}
	for _, tt := range runLINE {
		t.Run(tt.name, func(t *testing.T) {
			w, err := ParseLINEWhen(tt.param, testNow)
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("ParseLINEWhen(%q) error = %v, want %v", tt.param, err, tt.err)
			}
			if !w.Time.Equal(tt.want) || w.Precision != tt.prec || w.Approximate {
				t.Errorf("ParseLINEWhen(%q) = %+v, want %v %v", tt.param, w, tt.want, tt.prec)
			}
		})
	}
}

func TestParseWhenTooLong(t *testing.T) {
	t.Parallel()
	if _, err := ParseWhen(strings.Repeat("昨日", MaxTextLen), testNow); !errors.Is(err, ErrUnrecognised) {
		t.Errorf("long input: error = %v, want ErrUnrecognised", err)
	}
	if _, err := ParseCallTime(strings.Repeat("平日", MaxTextLen)); !errors.Is(err, ErrUnrecognised) {
		t.Errorf("long call time: error = %v, want ErrUnrecognised", err)
	}
}

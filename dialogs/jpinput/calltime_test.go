package jpinput

import (
	"errors"
	"testing"
)

func TestParseCallTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     string
		want   CallTime
		ja, en string
	}{
		{"いつでも", "いつでも", CallTime{Anytime: true, To: 1440}, "いつでも", "any time"},
		{"いつでも大丈夫です", "いつでも大丈夫です", CallTime{Anytime: true, To: 1440}, "いつでも", "any time"},
		{"anytime", "Anytime", CallTime{Anytime: true, To: 1440}, "いつでも", "any time"},
		{"平日の午前", "平日の午前", CallTime{Days: Weekdays, From: 540, To: 720}, "平日 9:00〜12:00", "weekdays 9:00–12:00"},
		{"明日の午前中", "明日の午前中でお願いします", CallTime{Days: Tomorrow, From: 540, To: 720}, "明日 9:00〜12:00", "tomorrow 9:00–12:00"},
		{"18時以降", "18時以降", CallTime{From: 1080, To: 1440}, "18:00以降", "after 18:00"},
		{"after 6pm", "after 6pm", CallTime{From: 1080, To: 1440}, "18:00以降", "after 18:00"},
		{"夜8時以降", "夜8時以降", CallTime{From: 1200, To: 1440}, "20:00以降", "after 20:00"},
		{"午後2時〜4時", "午後2時〜4時", CallTime{From: 840, To: 960}, "14:00〜16:00", "14:00–16:00"},
		{"午後2時から4時の間", "午後２時から４時の間", CallTime{From: 840, To: 960}, "14:00〜16:00", "14:00–16:00"},
		{"2-4pm", "2-4pm", CallTime{From: 840, To: 960}, "14:00〜16:00", "14:00–16:00"},
		{"between 2 and 4pm", "between 2 and 4pm", CallTime{From: 840, To: 960}, "14:00〜16:00", "14:00–16:00"},
		{"11-1pm", "11am-1pm", CallTime{From: 660, To: 780}, "11:00〜13:00", "11:00–13:00"},
		{"14:00-16:00", "14:00-16:00", CallTime{From: 840, To: 960}, "14:00〜16:00", "14:00–16:00"},
		{"10時〜2時", "10時〜2時", CallTime{From: 600, To: 840}, "10:00〜14:00", "10:00–14:00"},
		{"12時まで", "12時まで", CallTime{To: 720}, "12:00まで", "before 12:00"},
		{"before 5pm", "before 5pm", CallTime{To: 1020}, "17:00まで", "before 17:00"},
		{"15時頃", "15時頃", CallTime{From: 900, To: 960}, "15:00〜16:00", "15:00–16:00"},
		{"3時 is afternoon", "3時", CallTime{From: 900, To: 960}, "15:00〜16:00", "15:00–16:00"},
		{"at 3", "at 3", CallTime{From: 900, To: 960}, "15:00〜16:00", "15:00–16:00"},
		{"十四時半", "十四時半", CallTime{From: 870, To: 930}, "14:30〜15:30", "14:30–15:30"},
		{"土日の夕方", "土日の夕方", CallTime{Days: Weekends, From: 960, To: 1080}, "土日祝 16:00〜18:00", "weekends and holidays 16:00–18:00"},
		{"平日ならいつでも", "平日ならいつでも", CallTime{Days: Weekdays, To: 1440}, "平日(時間指定なし)", "weekdays, any time"},
		{"今日の18時以降", "今日の18時以降", CallTime{Days: Today, From: 1080, To: 1440}, "本日 18:00以降", "today after 18:00"},
		{"weekday mornings", "weekday morning", CallTime{Days: Weekdays, From: 540, To: 720}, "平日 9:00〜12:00", "weekdays 9:00–12:00"},
		{"午後", "午後", CallTime{From: 720, To: 1080}, "12:00〜18:00", "12:00–18:00"},
		{"お昼休み", "昼休みに電話ください", CallTime{From: 720, To: 780}, "12:00〜13:00", "12:00–13:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallTime(tt.in)
			if err != nil {
				t.Fatalf("ParseCallTime(%q) error = %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseCallTime(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.Format("ja"); s != tt.ja {
				t.Errorf("Format(ja) = %q, want %q", s, tt.ja)
			}
			if s := got.Format("en"); s != tt.en {
				t.Errorf("Format(en) = %q, want %q", s, tt.en)
			}
		})
	}
}

func TestParseCallTimeErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{"empty", "", ErrEmpty},
		{"blank", "\u3000", ErrEmpty},
		{"bare number", "3", ErrUnrecognised},
		{"unknown", "どうでもいい", ErrUnrecognised},
		{"negation", "夜以外", ErrUnrecognised},
		{"two day words", "平日 土日", ErrUnrecognised},
		{"two windows", "午前 夕方", ErrUnrecognised},
		{"25時", "25時以降", ErrInvalidDate},
		{"minutes", "14:70-16:00", ErrInvalidDate},
		{"backwards", "16時〜14時", ErrInvalidDate},
		{"午前13時", "午前13時", ErrInvalidDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCallTime(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseCallTime(%q) = %+v, %v; want %v", tt.in, got, err, tt.err)
			}
			if got != (CallTime{}) {
				t.Errorf("CallTime = %+v on error, want zero", got)
			}
		})
	}
}

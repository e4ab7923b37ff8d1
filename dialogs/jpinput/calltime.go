package jpinput

import (
	"fmt"
	"regexp"
	"strings"
)

// CallDays says on which days the customer wants to be called.
type CallDays int

// Day constraints of a CallTime.
const (
	AnyDay   CallDays = iota // no constraint
	Weekdays                 // 平日, weekdays
	Weekends                 // 土日, 土日祝, 週末, 休日, weekends
	Today                    // 今日, 本日, today
	Tomorrow                 // 明日, あした, tomorrow
)

// CallTime is a preferred time to be called back. It is relative (Today,
// Tomorrow, Weekdays), not a calendar date: the caller resolves it with its
// own clock when it schedules the call.
type CallTime struct {
	// Anytime is true when the customer set no constraint at all
	// (いつでも, anytime); then Days is AnyDay and the window is the
	// whole day.
	Anytime bool
	Days    CallDays
	// From and To are minutes after midnight, 0 <= From < To <= 1440,
	// the window [From, To). 0 means "no earlier limit", 1440 "no later
	// limit".
	From, To int
}

// Format returns the CallTime for people in lang ("ja", default, or "en"):
// "平日 9:00〜12:00", "18:00以降", "明日 12:00まで", "いつでも",
// "weekdays 09:00–12:00", "after 18:00", "any time".
func (c CallTime) Format(lang string) string {
	en := lang == "en"
	var day string
	switch c.Days {
	case Weekdays:
		day = pick(en, "平日", "weekdays")
	case Weekends:
		day = pick(en, "土日祝", "weekends and holidays")
	case Today:
		day = pick(en, "本日", "today")
	case Tomorrow:
		day = pick(en, "明日", "tomorrow")
	}
	var win string
	switch {
	case c.From <= 0 && c.To >= 1440:
		if day == "" {
			return pick(en, "いつでも", "any time")
		}
		win = pick(en, "(時間指定なし)", ", any time")
		return day + win
	case c.To >= 1440:
		win = pick(en, clock(c.From)+"以降", "after "+clock(c.From))
	case c.From <= 0:
		win = pick(en, clock(c.To)+"まで", "before "+clock(c.To))
	default:
		win = clock(c.From) + pick(en, "〜", "–") + clock(c.To)
	}
	if day == "" {
		return win
	}
	return day + " " + win
}

func pick(en bool, ja, eng string) string {
	if en {
		return eng
	}
	return ja
}

func clock(min int) string { return fmt.Sprintf("%d:%02d", min/60, min%60) }

// Named windows. Hours are call-centre friendly rather than literal.
var callWindows = map[string][2]int{
	"朝":  {8, 10},
	"午前": {9, 12}, "午前中": {9, 12}, "morning": {9, 12},
	"昼": {12, 13}, "お昼": {12, 13}, "昼休み": {12, 13}, "lunch": {12, 13}, "lunchtime": {12, 13},
	"午後": {12, 18}, "afternoon": {12, 18}, "昼過ぎ": {13, 15},
	"夕方": {16, 18},
	"夜":  {18, 21}, "晩": {18, 21}, "evening": {18, 21}, "night": {18, 21},
}

const clockRe = `(?:(午前|午後)|\b(am|pm|a\.m\.|p\.m\.)\s*)?(\d{1,2})(?:\s*:\s*(\d{2})|\s*(時)\s*(?:(\d{1,2})\s*分|(半))?)?(?:\s*(a\.m\.|p\.m\.|am\b|pm\b))?`

// clockAt is one side of a window as written.
type clockAt struct {
	h, min int
	mer    int  // 0 none, 1 am, 2 pm
	marked bool // had 時, :, am/pm or 午前/午後
}

// clockGroups is the number of capturing groups in clockRe.
const clockGroups = 8

// clockFrom reads the groups of clockRe: 午前/午後, am/pm before, hour,
// minutes after ':', 時, minutes before 分, 半, am/pm after.
func clockFrom(m []string) clockAt {
	c := clockAt{h: atoi(m[2]), mer: merOf(m[0], m[1], m[7])}
	switch {
	case m[3] != "":
		c.min = atoi(m[3])
	case m[5] != "":
		c.min = atoi(m[5])
	case m[6] != "":
		c.min = 30
	}
	c.marked = c.mer != 0 || m[3] != "" || m[4] != ""
	return c
}

type callParse struct {
	anytime   bool
	days      CallDays
	hasDays   bool
	from, to  clockAt
	hasFrom   bool
	hasTo     bool
	point     bool
	window    [2]int
	hasWindow bool
	pmHint    bool
}

type callRule struct {
	re *regexp.Regexp
	fn func(p *callParse, m []string) error
}

var callRules = []callRule{
	{regexp.MustCompile(`いつでも|何時でも|なんじでも|\bany\s*time\b|\bwhenever\b|\bany\s+day\b`),
		func(p *callParse, _ []string) error { p.anytime = true; return nil }},
	{regexp.MustCompile(`平日|土日祝日?|土日|週末|休日|本日|今日|明日|あした|\bweekdays?\b|\bweekends?\b|\btoday\b|\btomorrow\b`),
		func(p *callParse, m []string) error {
			if p.hasDays {
				return ErrUnrecognised
			}
			p.hasDays = true
			switch m[0] {
			case "平日", "weekday", "weekdays":
				p.days = Weekdays
			case "本日", "今日", "today":
				p.days = Today
			case "明日", "あした", "tomorrow":
				p.days = Tomorrow
			default:
				p.days = Weekends
			}
			return nil
		}},
	// A range: 14時〜16時, 午後2時から4時, 2-4pm, 14:00-16:00, between 2 and 4pm.
	{regexp.MustCompile(`(?:\bbetween\s+)?` + clockRe + `\s*(?:~|-|から|\bto\b|\buntil\b|\btill\b|\band\b)\s*` + clockRe + `\s*(?:まで|の間|の間で)?`),
		func(p *callParse, m []string) error {
			if p.hasFrom || p.hasTo {
				return ErrUnrecognised
			}
			p.from, p.to = clockFrom(m[1:1+clockGroups]), clockFrom(m[1+clockGroups:1+2*clockGroups])
			p.hasFrom, p.hasTo = true, true
			return nil
		}},
	// After: 18時以降, 18時から, after 6pm, from 6.
	{regexp.MustCompile(`\b(?:after|from)\s+` + clockRe + `|` + clockRe + `\s*(?:以降|以後|から|過ぎ|すぎ|\bonwards\b|\bor\s+later\b)`),
		func(p *callParse, m []string) error {
			if p.hasFrom || p.hasTo {
				return ErrUnrecognised
			}
			if m[3] != "" {
				p.from = clockFrom(m[1 : 1+clockGroups])
				p.from.marked = true
			} else {
				p.from = clockFrom(m[1+clockGroups : 1+2*clockGroups])
			}
			p.hasFrom = true
			return nil
		}},
	// Before: 12時まで, 12時以前, before noon, until 5pm.
	{regexp.MustCompile(`\b(?:before|until|till|by)\s+` + clockRe + `|` + clockRe + `\s*(?:まで|以前|前)`),
		func(p *callParse, m []string) error {
			if p.hasFrom || p.hasTo {
				return ErrUnrecognised
			}
			if m[3] != "" {
				p.to = clockFrom(m[1 : 1+clockGroups])
				p.to.marked = true
			} else {
				p.to = clockFrom(m[1+clockGroups : 1+2*clockGroups])
			}
			p.hasTo = true
			return nil
		}},
	// A single time: 15時頃, 3pm, at 3.
	{regexp.MustCompile(`\bat\s+` + clockRe + `|` + clockRe),
		func(p *callParse, m []string) error {
			if p.hasFrom || p.hasTo {
				return ErrUnrecognised
			}
			if m[3] != "" {
				p.from = clockFrom(m[1 : 1+clockGroups])
				p.from.marked = true
			} else {
				p.from = clockFrom(m[1+clockGroups : 1+2*clockGroups])
			}
			p.hasFrom, p.point = true, true
			return nil
		}},
	{regexp.MustCompile(`午前中|午前|午後|昼休み|昼過ぎ|お昼|昼|夕方|朝|夜|晩|\blunchtime\b|\blunch\b|\bmorning\b|\bafternoon\b|\bevening\b|\bnight\b`),
		func(p *callParse, m []string) error {
			if p.hasWindow {
				return ErrUnrecognised
			}
			p.window, p.hasWindow = callWindows[m[0]], true
			return nil
		}},
}

// callFiller is removed after all rules ran; what is left must be empty.
var callFiller = regexp.MustCompile(`希望します|希望|でお願いします|お願いします|お願い|助かります|大丈夫|可能|都合|がいい|が良い|いい|良い|ください|下さい|電話|連絡|頃|ごろ|くらい|ぐらい|でしたら|であれば|ならば|なら|だと|です|以外なら|の間|は|が|の|に|で|も|\bin\s+the\b|\bthe\b|\bin\b|\bon\b|\bplease\b|\bcall\b|\bme\b|\bis\b|\bare\b|\bfine\b|\bok\b|\bgood\b|\bbest\b|\bworks?\b|\bany\b|\baround\b|\babout\b|[\s、。,.!?:;()~\-/・]+`)

// ParseCallTime reads a preferred time to be called back.
//
// Understood, alone or combined as "days + time":
//
//   - no constraint: いつでも, 何時でも, anytime, whenever → Anytime;
//   - days: 平日 / weekdays, 土日 / 土日祝 / 週末 / 休日 / weekends,
//     今日 / 本日 / today, 明日 / あした / tomorrow;
//   - named windows (call-centre hours): 朝 8–10, 午前(中) / morning 9–12,
//     昼 / お昼 / 昼休み / lunch 12–13, 午後 / afternoon 12–18, 昼過ぎ 13–15,
//     夕方 16–18, 夜 / 晩 / evening / night 18–21;
//   - ranges: 14時〜16時, 午後2時から4時, 14:00-16:00, 2-4pm, "between 2
//     and 4pm" (午前/午後 or am/pm on one side applies to both);
//   - open ends: 18時以降 / 18時から / after 6pm → [18:00, 24:00);
//     12時まで / before noon-ish "before 12" → [0:00, 12:00);
//   - one time: 15時頃, 3pm, "at 3" → [15:00, 16:00).
//
// An hour from 1 to 7 written without 午前/午後 or am/pm is read as
// afternoon (2時 is 14:00), since nobody asks for a call at 2 a.m.; so is
// an hour written with 午後/夕方/夜 (夜8時以降 is after 20:00). In a range,
// an end hour smaller than the start is moved to the afternoon (10時〜2時
// is 10:00–14:00). Errors: ErrEmpty, ErrInvalidDate (25時, 14:70, a
// window that ends before it starts), ErrUnrecognised (longer than MaxTextLen characters, anything else,
// including words left over that are not fillers such as 希望, お願いします,
// で, please).
func ParseCallTime(s string) (CallTime, error) {
	text := strings.ToLower(kanjiNumerals(Normalize(s)))
	if text == "" {
		return CallTime{}, ErrEmpty
	}
	if len([]rune(text)) > MaxTextLen {
		return CallTime{}, ErrUnrecognised
	}
	var p callParse
	found := false
	for _, r := range callRules {
		for i := 0; ; i++ {
			loc := r.re.FindStringSubmatchIndex(text)
			if loc == nil {
				break
			}
			if i > 32 || loc[0] == loc[1] {
				return CallTime{}, ErrUnrecognised
			}
			if err := r.fn(&p, submatches(text, loc)); err != nil {
				return CallTime{}, err
			}
			found = true
			text = text[:loc[0]] + " " + text[loc[1]:]
		}
	}
	if callFiller.ReplaceAllString(text, "") != "" || !found {
		return CallTime{}, ErrUnrecognised
	}
	return p.resolve()
}

func (p *callParse) resolve() (CallTime, error) {
	c := CallTime{Days: p.days, From: 0, To: 1440}
	if p.anytime && !p.hasDays && !p.hasFrom && !p.hasTo && !p.hasWindow {
		c.Anytime = true
		return c, nil
	}
	if !p.hasDays && !p.hasFrom && !p.hasTo && !p.hasWindow {
		return CallTime{}, ErrUnrecognised
	}
	if p.hasWindow {
		if !p.hasFrom && !p.hasTo {
			c.From, c.To = p.window[0]*60, p.window[1]*60
			return c, nil
		}
		p.pmHint = p.window[0] >= 12
	}
	if p.hasFrom && p.hasTo && !p.point {
		// One side's 午前/午後 applies to the other.
		if p.from.mer == 0 {
			p.from.mer = p.to.mer
			if p.from.mer == 2 && p.from.h > p.to.h && p.to.h < 12 {
				p.from.mer = 1 // "11-1pm": 11 is a.m.
			}
		}
		if p.to.mer == 0 {
			p.to.mer = p.from.mer
		}
		if !p.from.marked && !p.to.marked {
			return CallTime{}, ErrUnrecognised
		}
	} else if p.hasFrom && !p.from.marked || p.hasTo && !p.to.marked {
		return CallTime{}, ErrUnrecognised
	}
	var err error
	if p.hasFrom {
		if c.From, err = p.from.minutes(p.pmHint); err != nil {
			return CallTime{}, err
		}
		if p.point {
			c.To = min(c.From+60, 1440)
		}
	}
	if p.hasTo {
		if c.To, err = p.to.minutes(p.pmHint); err != nil {
			return CallTime{}, err
		}
		if p.hasFrom && c.To <= c.From && c.To < 12*60 && p.to.mer == 0 {
			c.To += 12 * 60
		}
	}
	if c.From >= c.To || c.To > 1440 {
		return CallTime{}, ErrInvalidDate
	}
	return c, nil
}

// minutes converts a clock to minutes after midnight, reading 1–7 without
// a marker (and any hour below 12 with pmHint) as afternoon.
func (c clockAt) minutes(pmHint bool) (int, error) {
	h := c.h
	if h < 0 || h > 24 || c.min < 0 || c.min > 59 || (h == 24 && c.min != 0) {
		return 0, ErrInvalidDate
	}
	switch c.mer {
	case 1:
		if h > 12 {
			return 0, ErrInvalidDate
		}
		if h == 12 {
			h = 0
		}
	case 2:
		if h > 23 {
			return 0, ErrInvalidDate
		}
		if h < 12 {
			h += 12
		}
	default:
		if (h >= 1 && h <= 7) || (pmHint && h < 12) {
			h += 12
		}
	}
	return h*60 + c.min, nil
}

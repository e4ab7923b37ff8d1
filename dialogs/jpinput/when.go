package jpinput

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Precision says how exactly a When was given.
type Precision int

// Precisions, finest first.
const (
	// Minute: a clock time with minutes (14:05, 3時半), or "now" / N分前.
	Minute Precision = iota + 1
	// Hour: a clock hour (14時, 2pm) or N時間前.
	Hour
	// PartOfDay: a part of the day (朝, 夕方, last night); Time holds its
	// representative hour (see Part).
	PartOfDay
	// Day: a date only; Time is 00:00 of that day.
	Day
)

// String returns "minute", "hour", "part_of_day" or "day".
func (p Precision) String() string {
	switch p {
	case Minute:
		return "minute"
	case Hour:
		return "hour"
	case PartOfDay:
		return "part_of_day"
	case Day:
		return "day"
	}
	return "unknown"
}

// Part is a part of the day. Each maps to a representative time, used as
// When.Time, and a window used to decide whether it has begun yet:
//
//	part            words                               time           window
//	PartSmallHours  未明                                03:00          00–05
//	PartDawn        早朝 明け方 early morning           05:00          04–07
//	PartMorning     朝 朝方 今朝 morning                08:00          05–11
//	PartForenoon    午前 午前中 昼前                    10:00          06–12
//	PartNoon        昼 お昼 昼間                        12:00          11–14
//	PartEarlyAfternoon 昼過ぎ                           13:00          12–15
//	PartAfternoon   午後 afternoon                      15:00          12–18
//	PartEvening     夕方 夕刻 evening                   17:00          15–19
//	PartNight       夜 晩 夜間 昨夜 今夜 night          21:00          18–24
//	PartLateNight   深夜 夜中 真夜中 夜遅く late night  01:00 next day 22–05 next day
//
// So 昨日の深夜 is 01:00 today, the small hours after yesterday evening.
type Part int

// Parts of the day; see the table on Part.
const (
	PartSmallHours Part = iota + 1
	PartDawn
	PartMorning
	PartForenoon
	PartNoon
	PartEarlyAfternoon
	PartAfternoon
	PartEvening
	PartNight
	PartLateNight
)

type partInfo struct {
	ja, en          string
	rep, start, end int // hours after midnight of the day named
}

var partTable = map[Part]partInfo{
	PartSmallHours:     {"未明", "small hours", 3, 0, 5},
	PartDawn:           {"早朝", "early morning", 5, 4, 7},
	PartMorning:        {"朝", "morning", 8, 5, 11},
	PartForenoon:       {"午前中", "late morning", 10, 6, 12},
	PartNoon:           {"昼", "midday", 12, 11, 14},
	PartEarlyAfternoon: {"昼過ぎ", "early afternoon", 13, 12, 15},
	PartAfternoon:      {"午後", "afternoon", 15, 12, 18},
	PartEvening:        {"夕方", "evening", 17, 15, 19},
	PartNight:          {"夜", "night", 21, 18, 24},
	PartLateNight:      {"深夜", "late night", 25, 22, 29},
}

// String returns the Japanese word for the part ("夕方"), or "".
func (p Part) String() string { return partTable[p].ja }

// hour24 reads an explicit 0–12 o'clock within a part of the day: 夕方5時
// is 17, 夜9時 21, 夜中2時 26 (02:00 the next day), 朝8時 8, 昼1時 13.
func (p Part) hour24(h int) int {
	switch p {
	case PartNoon:
		if h >= 1 && h <= 5 {
			return h + 12
		}
	case PartEarlyAfternoon, PartAfternoon, PartEvening:
		if h < 12 {
			return h + 12
		}
	case PartNight:
		switch {
		case h >= 1 && h <= 4:
			return 24 + h
		case h == 0 || h == 12:
			return 24
		default:
			return h + 12
		}
	case PartLateNight:
		switch {
		case h <= 5:
			return 24 + h
		case h == 12:
			return 24
		default:
			return h + 12
		}
	}
	return h
}

// When is the parsed time of an event, in Asia/Tokyo.
type When struct {
	// Time is the instant, in Tokyo time: exact for Minute, the full hour
	// for Hour, the representative time of the Part for PartOfDay (or
	// now, if the part has begun but its representative time is still
	// ahead), 00:00 for Day.
	Time      time.Time
	Precision Precision
	// Approximate is true when the customer hedged (頃, くらい, 約, たぶん,
	// around, about, …) or used a relative expression (さっき, N分前,
	// N時間前, just now).
	Approximate bool
	// Part is set when Precision is PartOfDay.
	Part Part
}

// Format returns the When for the customer in lang ("ja", default, or
// "en"): "2026年11月3日(火) 14:05頃", "2026年11月21日(土) 夕方",
// "Tue 3 Nov 2026, about 14:05". A late-night part is shown on the day it
// belongs to (昨日の深夜 shows yesterday's date with 深夜).
func (w When) Format(lang string) string {
	t := w.Time
	if w.Precision == PartOfDay && partTable[w.Part].rep >= 24 && t.Hour() < 12 {
		t = t.AddDate(0, 0, -1)
	}
	if lang == "en" {
		s := t.Format("Mon 2 Jan 2006")
		switch w.Precision {
		case Minute:
			s += ", " + aboutEN(w.Approximate) + t.Format("15:04")
		case Hour:
			s += ", " + aboutEN(w.Approximate) + t.Format("15:00")
		case PartOfDay:
			s += ", " + partTable[w.Part].en
		}
		return s
	}
	wd := [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()]
	s := strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日(" + wd + ")"
	switch w.Precision {
	case Minute:
		s += " " + t.Format("15:04") + aboutJA(w.Approximate)
	case Hour:
		s += " " + strconv.Itoa(t.Hour()) + "時" + aboutJA(w.Approximate)
	case PartOfDay:
		s += " " + partTable[w.Part].ja
	}
	return s
}

func aboutEN(b bool) string {
	if b {
		return "about "
	}
	return ""
}

func aboutJA(b bool) string {
	if b {
		return "頃"
	}
	return ""
}

// whenParse collects the pieces found in the text.
type whenParse struct {
	found  bool
	future bool
	now    bool
	approx bool

	ago     time.Duration
	hasAgo  bool
	agoPrec Precision

	dayOff    int
	hasDayOff bool

	y, m, d           int
	hasY, hasMD, hasD bool
	yearOff           int
	hasYearOff        bool

	wd    time.Weekday
	hasWD bool

	h, min       int
	hasH, hasMin bool
	mer          int // 0 none, 1 am, 2 pm

	part Part
}

type whenRule struct {
	re *regexp.Regexp
	fn func(p *whenParse, m []string) error
}

const merRe = `(?:(午前|午後)|\b(a\.m\.|p\.m\.|am|pm)\b)`
const merSuffixRe = `(?:\s*(a\.m\.|p\.m\.|am\b|pm\b))?`

func merOf(s ...string) int {
	for _, v := range s {
		switch v {
		case "午前", "am", "a.m.":
			return 1
		case "午後", "pm", "p.m.":
			return 2
		}
	}
	return 0
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

var errConflict = ErrUnrecognised

func (p *whenParse) setDayOff(n int) error {
	if p.hasDayOff {
		return errConflict
	}
	p.dayOff, p.hasDayOff, p.found = n, true, true
	return nil
}

func (p *whenParse) setPart(pt Part) error {
	if p.part != 0 {
		return errConflict
	}
	p.part, p.found = pt, true
	return nil
}

func (p *whenParse) setYearOff(n int) error {
	if p.hasYearOff || p.hasY {
		return errConflict
	}
	p.yearOff, p.hasYearOff, p.found = n, true, true
	return nil
}

func (p *whenParse) setAgo(d time.Duration, prec Precision) error {
	if p.hasAgo {
		return errConflict
	}
	p.ago, p.hasAgo, p.agoPrec, p.approx, p.found = d, true, prec, true, true
	return nil
}

func (p *whenParse) setDate(y, m, d int, hasY bool) error {
	if p.hasMD || p.hasD {
		return errConflict
	}
	p.y, p.m, p.d, p.hasY, p.hasMD, p.found = y, m, d, hasY, true, true
	return nil
}

func (p *whenParse) setTime(h, min int, hasMin bool, mer int) error {
	if p.hasH {
		return errConflict
	}
	p.h, p.min, p.hasMin, p.mer, p.hasH, p.found = h, min, hasMin, mer, true, true
	return nil
}

var monthNames = map[string]int{
	"january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6,
	"july": 7, "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8,
	"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}

const monthRe = `(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)`

var weekdayNames = map[string]time.Weekday{
	"日": time.Sunday, "月": time.Monday, "火": time.Tuesday, "水": time.Wednesday,
	"木": time.Thursday, "金": time.Friday, "土": time.Saturday,
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "tues": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "thur": time.Thursday, "thurs": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

type era struct {
	offset     int // Gregorian year of era year 1, minus 1
	start, end [3]int
}

var eras = map[string]era{
	"令和": {2018, [3]int{2019, 5, 1}, [3]int{9999, 12, 31}},
	"r":  {2018, [3]int{2019, 5, 1}, [3]int{9999, 12, 31}},
	"平成": {1988, [3]int{1989, 1, 8}, [3]int{2019, 4, 30}},
	"h":  {1988, [3]int{1989, 1, 8}, [3]int{2019, 4, 30}},
	"昭和": {1925, [3]int{1926, 12, 25}, [3]int{1989, 1, 7}},
	"s":  {1925, [3]int{1926, 12, 25}, [3]int{1989, 1, 7}},
}

func dateKey(y, m, d int) int { return y*10000 + m*100 + d }

// whenRules run in order; each match is handled and blanked out before the
// next rule, so longer and more specific forms come first.
var whenRules = []whenRule{
	{regexp.MustCompile(`明日|明後日|あした|あさって|\btomorrow\b|来週|来月|来年|\bnext\s+(?:week|month|year)\b`),
		func(p *whenParse, _ []string) error { p.future, p.found = true, true; return nil }},
	{regexp.MustCompile(`今回|事故|発生`), func(*whenParse, []string) error { return nil }},
	{regexp.MustCompile(`たった今|ついさっき|さっき|先ほど|先程|さきほど|数分前|\bjust\s+now\b|\bright\s+now\b|\ba\s+(?:moment|minute)\s+ago\b|\bmoments\s+ago\b|\ba\s+few\s+minutes\s+ago\b`),
		func(p *whenParse, _ []string) error { p.now, p.approx, p.found = true, true, true; return nil }},
	{regexp.MustCompile(`さきおととい|おととい|おとつい|昨日|きのう|今日|きょう|本日|今朝|けさ|昨夜|昨晩|ゆうべ|夕べ|今夜|今晩|今年|去年|昨年|おととし|\bthe\s+day\s+before\s+yesterday\b|\byesterday\b|\btoday\b|\bthis\s+(?:morning|afternoon|evening)\b|\btonight\b|\blast\s+night\b|\blast\s+year\b|\bthis\s+year\b`),
		func(p *whenParse, m []string) error {
			w := strings.Join(strings.Fields(m[0]), " ")
			switch w {
			case "さきおととい":
				return p.setDayOff(-3)
			case "おととい", "おとつい", "the day before yesterday":
				return p.setDayOff(-2)
			case "昨日", "きのう", "yesterday":
				return p.setDayOff(-1)
			case "今日", "きょう", "本日", "today":
				return p.setDayOff(0)
			case "今朝", "けさ", "this morning":
				if err := p.setDayOff(0); err != nil {
					return err
				}
				return p.setPart(PartMorning)
			case "this afternoon":
				if err := p.setDayOff(0); err != nil {
					return err
				}
				return p.setPart(PartAfternoon)
			case "this evening":
				if err := p.setDayOff(0); err != nil {
					return err
				}
				return p.setPart(PartEvening)
			case "今夜", "今晩", "tonight":
				if err := p.setDayOff(0); err != nil {
					return err
				}
				return p.setPart(PartNight)
			case "昨夜", "昨晩", "ゆうべ", "夕べ", "last night":
				if err := p.setDayOff(-1); err != nil {
					return err
				}
				return p.setPart(PartNight)
			case "今年", "this year":
				return p.setYearOff(0)
			case "去年", "昨年", "last year":
				return p.setYearOff(-1)
			case "おととし":
				return p.setYearOff(-2)
			}
			return ErrUnrecognised
		}},
	{regexp.MustCompile(`今|\bnow\b`),
		func(p *whenParse, _ []string) error { p.now, p.approx, p.found = true, true, true; return nil }},
	// Relative: N分前, N時間(半)前, N日前, N週間前, "2 hours ago".
	{regexp.MustCompile(`(\d{1,6})\s*分\s*(?:ほど|くらい|ぐらい|位)?\s*前`),
		func(p *whenParse, m []string) error {
			return p.setAgo(time.Duration(atoi(m[1]))*time.Minute, Minute)
		}},
	{regexp.MustCompile(`(\d{1,5})\s*時間\s*(半)?\s*(?:ほど|くらい|ぐらい|位)?\s*前`),
		func(p *whenParse, m []string) error {
			d := time.Duration(atoi(m[1])) * time.Hour
			if m[2] != "" {
				d += 30 * time.Minute
			}
			return p.setAgo(d, Hour)
		}},
	{regexp.MustCompile(`(\d{1,4})\s*日\s*(ほど|くらい|ぐらい|位)?\s*前`),
		func(p *whenParse, m []string) error {
			if m[2] != "" {
				p.approx = true
			}
			return p.setDayOff(-atoi(m[1]))
		}},
	{regexp.MustCompile(`(\d{1,3})\s*週間\s*(ほど|くらい|ぐらい|位)?\s*前`),
		func(p *whenParse, m []string) error {
			if m[2] != "" {
				p.approx = true
			}
			return p.setDayOff(-7 * atoi(m[1]))
		}},
	{regexp.MustCompile(`(?:\b(\d{1,5})|\b(an|a|one)|\b(half)\s+an?)\s*(minutes?|mins?|hours?|hrs?|h|days?|weeks?)\s+ago\b`),
		func(p *whenParse, m []string) error {
			n := 1
			if m[1] != "" {
				n = atoi(m[1])
			}
			unit := m[4]
			switch {
			case m[3] != "": // half an hour
				if !strings.HasPrefix(unit, "h") {
					return ErrUnrecognised
				}
				return p.setAgo(30*time.Minute, Minute)
			case strings.HasPrefix(unit, "m"):
				return p.setAgo(time.Duration(n)*time.Minute, Minute)
			case strings.HasPrefix(unit, "h"):
				return p.setAgo(time.Duration(n)*time.Hour, Hour)
			case strings.HasPrefix(unit, "d"):
				return p.setDayOff(-n)
			default:
				return p.setDayOff(-7 * n)
			}
		}},
	// Dates.
	{regexp.MustCompile(`(\d{4})\s*(?:年|/|-|\.)\s*(\d{1,2})\s*(?:月|/|-|\.)\s*(\d{1,2})\s*日?(?:t(\d{1,2}):(\d{2})(?::(\d{2}))?)?`),
		func(p *whenParse, m []string) error {
			if err := p.setDate(atoi(m[1]), atoi(m[2]), atoi(m[3]), true); err != nil {
				return err
			}
			if m[4] != "" {
				return p.setTime(atoi(m[4]), atoi(m[5]), true, 0)
			}
			return nil
		}},
	{regexp.MustCompile(`(令和|平成|昭和|\b[rhs])\s*(\d{1,2})\s*(?:年|/|-|\.)\s*(\d{1,2})\s*(?:月|/|-|\.)\s*(\d{1,2})\s*日?`),
		func(p *whenParse, m []string) error {
			e := eras[m[1]]
			ey, mo, d := atoi(m[2]), atoi(m[3]), atoi(m[4])
			y := e.offset + ey
			if ey < 1 || !validDate(y, mo, d) {
				return ErrInvalidDate
			}
			k := dateKey(y, mo, d)
			if k < dateKey(e.start[0], e.start[1], e.start[2]) || k > dateKey(e.end[0], e.end[1], e.end[2]) {
				return ErrInvalidDate
			}
			return p.setDate(y, mo, d, true)
		}},
	{regexp.MustCompile(`(\d{1,2})\s*月\s*(\d{1,2})\s*日|\b(\d{1,2})\s*/\s*(\d{1,2})\b`),
		func(p *whenParse, m []string) error {
			if m[1] != "" {
				return p.setDate(0, atoi(m[1]), atoi(m[2]), false)
			}
			return p.setDate(0, atoi(m[3]), atoi(m[4]), false)
		}},
	{regexp.MustCompile(`\b` + monthRe + `\b\.?\s*(\d{1,2})(?:st|nd|rd|th)?\b(?:\s*,?\s*(\d{4})\b)?|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?` + monthRe + `\b\.?(?:\s*,?\s*(\d{4})\b)?`),
		func(p *whenParse, m []string) error {
			if m[1] != "" {
				return p.setDate(atoi(m[3]), monthNames[m[1]], atoi(m[2]), m[3] != "")
			}
			return p.setDate(atoi(m[6]), monthNames[m[5]], atoi(m[4]), m[6] != "")
		}},
	{regexp.MustCompile(`([月火水木金土日])曜日?|\(([月火水木金土日])\)|\b(sunday|monday|tuesday|wednesday|thursday|friday|saturday|sun|mon|tues|tue|wed|thurs|thur|thu|fri|sat)\b\.?`),
		func(p *whenParse, m []string) error {
			if p.hasWD {
				return errConflict
			}
			p.wd, p.hasWD, p.found = weekdayNames[m[1]+m[2]+m[3]], true, true
			return nil
		}},
	{regexp.MustCompile(`(\d{1,2})\s*日`),
		func(p *whenParse, m []string) error {
			if p.hasMD || p.hasD {
				return errConflict
			}
			p.d, p.hasD, p.found = atoi(m[1]), true, true
			return nil
		}},
	// Times.
	{regexp.MustCompile(merRe + `?\s*(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?` + merSuffixRe),
		func(p *whenParse, m []string) error {
			mer := merOf(m[1], m[2], m[6])
			if m[1]+m[2] != "" && m[6] != "" && merOf(m[1], m[2]) != merOf(m[6]) {
				return ErrUnrecognised
			}
			return p.setTime(atoi(m[3]), atoi(m[4]), true, mer)
		}},
	{regexp.MustCompile(merRe + `?\s*(\d{1,2})\s*時\s*(?:(\d{1,2})\s*分|(半))?`),
		func(p *whenParse, m []string) error {
			switch {
			case m[4] != "":
				return p.setTime(atoi(m[3]), atoi(m[4]), true, merOf(m[1], m[2]))
			case m[5] != "":
				return p.setTime(atoi(m[3]), 30, true, merOf(m[1], m[2]))
			}
			return p.setTime(atoi(m[3]), 0, false, merOf(m[1], m[2]))
		}},
	{regexp.MustCompile(`\b(\d{1,2})\s*(a\.m\.|p\.m\.|am\b|pm\b)|\b(\d{1,2})\s*o'?clock\b`),
		func(p *whenParse, m []string) error {
			if m[1] != "" {
				return p.setTime(atoi(m[1]), 0, false, merOf(m[2]))
			}
			return p.setTime(atoi(m[3]), 0, false, 0)
		}},
	{regexp.MustCompile(`正午|\bnoon\b|\bmidnight\b`),
		func(p *whenParse, m []string) error {
			if m[0] == "midnight" {
				return p.setTime(24, 0, false, 0)
			}
			return p.setTime(12, 0, false, 0)
		}},
	// Parts of the day (after 今朝/昨夜… and 午前N時 have been taken).
	{regexp.MustCompile(`午前中|午前|午後|昼過ぎ|昼すぎ|昼前|昼間|お昼|昼|夕方|夕刻|真夜中|夜中|深夜|夜遅く|夜間|夜|晩|早朝|明け方|未明|朝方|朝|\bearly\s+(?:in\s+the\s+)?morning\b|\bmorning\b|\bafternoon\b|\bevening\b|\blate\s+(?:at\s+)?night\b|\bnight\b`),
		func(p *whenParse, m []string) error {
			w := strings.Join(strings.Fields(m[0]), " ")
			switch {
			case w == "未明":
				return p.setPart(PartSmallHours)
			case w == "早朝" || w == "明け方" || strings.HasPrefix(w, "early"):
				return p.setPart(PartDawn)
			case w == "朝" || w == "朝方" || w == "morning":
				return p.setPart(PartMorning)
			case w == "午前" || w == "午前中" || w == "昼前":
				return p.setPart(PartForenoon)
			case w == "昼" || w == "お昼" || w == "昼間":
				return p.setPart(PartNoon)
			case w == "昼過ぎ" || w == "昼すぎ":
				return p.setPart(PartEarlyAfternoon)
			case w == "午後" || w == "afternoon":
				return p.setPart(PartAfternoon)
			case w == "夕方" || w == "夕刻" || w == "evening":
				return p.setPart(PartEvening)
			case w == "夜" || w == "晩" || w == "夜間" || w == "night":
				return p.setPart(PartNight)
			default: // 深夜 夜中 真夜中 夜遅く late night
				return p.setPart(PartLateNight)
			}
		}},
	{regexp.MustCompile(`頃|ごろ|ころ|くらい|ぐらい|位|ほど|程|約|およそ|大体|だいたい|たぶん|多分|確か|\baround\b|\babout\b|\bapprox(?:imately)?\b\.?|\broughly\b|\bmaybe\b|\bprobably\b|\bish\b`),
		func(p *whenParse, _ []string) error { p.approx = true; return nil }},
}

// whenFiller is removed after all rules ran; what is left must be empty.
var whenFiller = regexp.MustCompile(`でした|です|だった|だと思います|と思います|思います|時点|は|が|の|に|で|から|\bat\b|\bon\b|\bin\b|\bthe\b|\bof\b|\bit\b|\bwas\b|\bhappened\b|\bearlier\b|[\s、。,.!?:;()\[\]「」~\-/・]+`)

func submatches(s string, loc []int) []string {
	m := make([]string, len(loc)/2)
	for i := range m {
		if loc[2*i] >= 0 {
			m[i] = s[loc[2*i]:loc[2*i+1]]
		}
	}
	return m
}

// prepareWhen normalises text for the rules: Normalize, lower case, words
// that contain kanji numerals rewritten, kanji numerals to digits.
func prepareWhen(s string) string {
	s = strings.ToLower(Normalize(s))
	s = strings.NewReplacer(
		"一昨昨日", "さきおととい", "一昨日", "おととい", "一昨年", "おととし",
		"元年", "1年",
	).Replace(s)
	return kanjiNumerals(s)
}

// ParseWhen reads when something happened — an accident — from free text
// in Japanese or English, relative to now. now may be in any zone; the
// result is in Asia/Tokyo (Tokyo).
//
// Understood (combinations as people write them, with particles, 頃 and
// spaces anywhere):
//
//   - now: たった今 今 さっき ついさっき 先ほど 数分前, "just now", "now"
//     → now, Minute, Approximate;
//   - relative: N分前 (Minute), N時間前 / N時間半前 (Hour), N日前, N週間前
//     (Day, or with a time), "2 hours ago", "half an hour ago", "3 days
//     ago"; 分前 and 時間前 are Approximate;
//   - days: 今日 本日 昨日 きのう おととい 一昨日 さきおととい, "today",
//     "yesterday", 今朝 (today morning), 昨夜 昨晩 ゆうべ (yesterday night),
//     今夜 今晩, "this morning", "last night", weekdays 月曜(日) / (月) /
//     "monday" (the most recent such day, today included);
//   - dates: 11月3日, 11/3, 3日 (day of month), 2026年11月3日,
//     2026/11/03, 2026-11-03, 2026-11-03T14:00, 2026.11.3, "Nov 3",
//     "3 November 2026"; eras 令和8年11月3日, 令和元年…, R8.11.3,
//     平成31年4月30日, H31.4.30, 昭和… (checked against the era's dates);
//     今年/去年/おととし with a month and day;
//   - times: 14時, 14時5分, 3時半, 14:05, 午前/午後N時(M分), 2pm, "5:30 pm",
//     正午, "noon", "midnight" (00:00 after the day named), 24時 (00:00
//     of the next day);
//   - parts of the day (see Part): 朝 昼 夕方 夜 深夜 …, "morning",
//     "evening", with or without an hour (夕方5時 is 17:00, 夜9時 21:00,
//     深夜2時 02:00 of the next day);
//   - kanji numerals (十一月三日, 三時, 十四時) and full-width digits.
//
// Resolution rules:
//
//   - a date without a year is the most recent such date that is not
//     after today (12月31日 asked on 1 January is last year's);
//   - a time without a date is the most recent such time not in the
//     future: 22時 asked at 10:30 is yesterday 22:00;
//   - an hour from 1 to 11 with no 午前/午後, am/pm or part of the day can
//     mean either half of the day: the later of the two readings that is not
//     in the future is chosen (3時 asked at 10:30 is 03:00 today; asked at
//     16:00 it is 15:00 today; 昨日の3時 is 15:00 yesterday);
//   - 午前12時 and 12am are 00:00; 午後12時 and 12pm are 12:00; 午後14時 is
//     accepted as 14:00;
//   - a part of the day that has begun but whose representative time is
//     still ahead is clamped to now (今朝 at 07:00 is 07:00).
//
// Errors:
//
//   - ErrEmpty: blank input;
//   - ErrFuture: more than FutureTolerance after now, or a future word
//     (明日, 来週, tomorrow, "next week");
//   - ErrInvalidDate: the date or time does not exist (2月30日, 13月1日,
//     25時, 14時70分, 午前13時, 令和0年, 平成32年);
//   - ErrTooOld: earlier than MaxAgeYears years before now;
//   - ErrUnrecognised: text longer than MaxTextLen characters, and anything else, including text left over that is
//     not a particle or filler (事故は, です, 頃, at, around, … are
//     fillers), vague forms (11月 alone, 先週, 数時間前) and contradictions
//     (昨日 and 11月3日 together, さっき with 3時).
func ParseWhen(s string, now time.Time) (When, error) {
	text := prepareWhen(s)
	if strings.TrimSpace(text) == "" {
		return When{}, ErrEmpty
	}
	if len([]rune(text)) > MaxTextLen {
		return When{}, ErrUnrecognised
	}
	var p whenParse
	for _, r := range whenRules {
		for i := 0; ; i++ {
			loc := r.re.FindStringSubmatchIndex(text)
			if loc == nil {
				break
			}
			if i > 32 || loc[0] == loc[1] {
				return When{}, ErrUnrecognised
			}
			if err := r.fn(&p, submatches(text, loc)); err != nil {
				return When{}, err
			}
			text = text[:loc[0]] + " " + text[loc[1]:]
		}
	}
	if whenFiller.ReplaceAllString(text, "") != "" || !p.found {
		return When{}, ErrUnrecognised
	}
	return p.resolve(now)
}

func (p *whenParse) resolve(now time.Time) (When, error) {
	if p.future {
		return When{}, ErrFuture
	}
	loc := Tokyo()
	now = now.In(loc)
	today := midnight(now)

	if p.now || p.hasAgo {
		if (p.now && p.hasAgo) || p.hasDayOff || p.hasMD || p.hasD || p.hasWD || p.hasH || p.part != 0 || p.hasYearOff {
			return When{}, ErrUnrecognised
		}
		w := When{Time: now.Truncate(time.Minute), Precision: Minute, Approximate: true}
		if p.hasAgo {
			if p.ago > 24*366*(MaxAgeYears+1)*time.Hour {
				return When{}, ErrTooOld
			}
			w.Time = now.Add(-p.ago).Truncate(time.Minute)
			w.Precision = p.agoPrec
		}
		return check(w, now)
	}

	base, floating := today, false
	switch {
	case p.hasDayOff:
		if p.hasMD || p.hasD || p.hasYearOff {
			return When{}, ErrUnrecognised
		}
		if p.dayOff < -366*(MaxAgeYears+1) {
			return When{}, ErrTooOld
		}
		base = today.AddDate(0, 0, p.dayOff)
	case p.hasMD:
		if p.hasYearOff {
			if p.hasY {
				return When{}, ErrUnrecognised
			}
			p.y, p.hasY = now.Year()+p.yearOff, true
		}
		if p.hasY {
			if !validDate(p.y, p.m, p.d) {
				return When{}, ErrInvalidDate
			}
			base = time.Date(p.y, time.Month(p.m), p.d, 0, 0, 0, 0, loc)
			break
		}
		if !validDate(2000, p.m, p.d) { // 2000 is a leap year: 2月29日 exists
			return When{}, ErrInvalidDate
		}
		found := false
		for y := now.Year(); y >= now.Year()-MaxAgeYears-1; y-- {
			if !validDate(y, p.m, p.d) {
				continue
			}
			if c := time.Date(y, time.Month(p.m), p.d, 0, 0, 0, 0, loc); !c.After(today) {
				base, found = c, true
				break
			}
		}
		if !found {
			return When{}, ErrTooOld
		}
	case p.hasD:
		if p.hasYearOff {
			return When{}, ErrUnrecognised
		}
		if p.d < 1 || p.d > 31 {
			return When{}, ErrInvalidDate
		}
		found := false
		for i := 0; i < 13 && !found; i++ {
			first := time.Date(today.Year(), today.Month()-time.Month(i), 1, 0, 0, 0, 0, loc)
			if p.d > daysIn(first.Year(), first.Month()) {
				continue
			}
			if c := first.AddDate(0, 0, p.d-1); !c.After(today) {
				base, found = c, true
			}
		}
		if !found {
			return When{}, ErrInvalidDate
		}
	case p.hasWD:
		if p.hasYearOff {
			return When{}, ErrUnrecognised
		}
		back := (int(today.Weekday()) - int(p.wd) + 7) % 7
		base = today.AddDate(0, 0, -back)
	case p.hasYearOff:
		return When{}, ErrUnrecognised
	default:
		floating = true
	}

	limit := now.Add(FutureTolerance)
	var w When
	switch {
	case p.hasH:
		hours, err := p.hours()
		if err != nil {
			return When{}, err
		}
		bases := []time.Time{base}
		if floating {
			bases = append(bases, base.AddDate(0, 0, -1))
		}
		var best, earliest time.Time
		for _, b := range bases {
			for _, h := range hours {
				c := b.Add(time.Duration(h)*time.Hour + time.Duration(p.min)*time.Minute)
				if earliest.IsZero() || c.Before(earliest) {
					earliest = c
				}
				if !c.After(limit) && (best.IsZero() || c.After(best)) {
					best = c
				}
			}
		}
		if best.IsZero() {
			best = earliest
		}
		w = When{Time: best, Precision: Hour}
		if p.hasMin {
			w.Precision = Minute
		}
	case p.part != 0:
		info := partTable[p.part]
		b := base
		if floating && b.Add(time.Duration(info.start)*time.Hour).After(now) {
			b = b.AddDate(0, 0, -1)
		}
		t := b.Add(time.Duration(info.rep) * time.Hour)
		if t.After(limit) && !b.Add(time.Duration(info.start)*time.Hour).After(now) {
			t = now.Truncate(time.Minute)
		}
		w = When{Time: t, Precision: PartOfDay, Part: p.part}
	default:
		if floating {
			return When{}, ErrUnrecognised
		}
		w = When{Time: base, Precision: Day}
	}
	w.Approximate = p.approx
	return check(w, now)
}

// hours returns the candidate hours (0–29, ≥ 24 meaning the next day) for
// the clock hour found, applying 午前/午後, am/pm and the part of the day.
func (p *whenParse) hours() ([]int, error) {
	h := p.h
	if h < 0 || h > 24 || p.min < 0 || p.min > 59 || (h == 24 && p.min != 0) {
		return nil, ErrInvalidDate
	}
	switch p.mer {
	case 1:
		if h > 12 {
			return nil, ErrInvalidDate
		}
		if h == 12 {
			h = 0
		}
		return []int{h}, nil
	case 2:
		if h > 23 {
			return nil, ErrInvalidDate
		}
		if h < 12 {
			h += 12
		}
		return []int{h}, nil
	}
	if p.part != 0 && h <= 12 {
		return []int{p.part.hour24(h)}, nil
	}
	if h >= 1 && h <= 11 {
		return []int{h, h + 12}, nil
	}
	return []int{h}, nil
}

func check(w When, now time.Time) (When, error) {
	if w.Time.After(now.Add(FutureTolerance)) {
		return When{}, ErrFuture
	}
	if w.Time.Before(midnight(now).AddDate(-MaxAgeYears, 0, 0)) {
		return When{}, ErrTooOld
	}
	return w, nil
}

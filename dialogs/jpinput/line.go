package jpinput

import (
	"regexp"
	"strings"
	"time"
)

var (
	lineDatetime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$`)
	lineDate     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	lineTime     = regexp.MustCompile(`^\d{2}:\d{2}$`)
)

// ParseLINEDatetime parses the params of a LINE datetime-picker postback
// ("datetime" mode "2026-11-03T14:00", "date" mode "2026-11-03", "time"
// mode "14:00") in loc (nil means Tokyo). A time-only param gives that
// clock time on 1 January of year 0 in loc; combine it with a date
// yourself, or use ParseLINEWhen.
//
// Errors: ErrEmpty for a blank param, ErrUnrecognised for any other shape,
// ErrInvalidDate for values out of range ("2026-02-30", "25:00").
func ParseLINEDatetime(param string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = Tokyo()
	}
	param = strings.TrimSpace(param)
	var layout string
	switch {
	case param == "":
		return time.Time{}, ErrEmpty
	case lineDatetime.MatchString(param):
		layout = "2006-01-02T15:04"
	case lineDate.MatchString(param):
		layout = "2006-01-02"
	case lineTime.MatchString(param):
		layout = "15:04"
	default:
		return time.Time{}, ErrUnrecognised
	}
	t, err := time.ParseInLocation(layout, param, loc)
	if err != nil {
		return time.Time{}, ErrInvalidDate
	}
	return t, nil
}

// ParseLINEWhen turns a LINE datetime-picker param into a When, with the
// same checks as ParseWhen (ErrFuture, ErrTooOld): a datetime gives
// Precision Minute, a date Precision Day, and a time alone the most recent
// such time not in the future (today, else yesterday), Precision Minute.
// Approximate is false: the customer picked the value.
func ParseLINEWhen(param string, now time.Time) (When, error) {
	loc := Tokyo()
	t, err := ParseLINEDatetime(param, loc)
	if err != nil {
		return When{}, err
	}
	now = now.In(loc)
	w := When{Time: t, Precision: Minute}
	switch p := strings.TrimSpace(param); {
	case lineDate.MatchString(p):
		w.Precision = Day
	case lineTime.MatchString(p):
		c := midnight(now).Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute)
		if c.After(now.Add(FutureTolerance)) {
			c = c.AddDate(0, 0, -1)
		}
		w.Time = c
	}
	return check(w, now)
}

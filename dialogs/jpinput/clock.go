package jpinput

import (
	"sync"
	"time"
	_ "time/tzdata" // Asia/Tokyo must work on hosts without zoneinfo.
)

var tokyo = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Tokyo"); err == nil {
		return loc
	}
	return time.FixedZone("JST", 9*60*60)
})

// Tokyo returns the Asia/Tokyo location, or a fixed +09:00 zone named
// "JST" if the time zone database cannot be loaded (Japan has no daylight
// saving time, so both give the same instants).
func Tokyo() *time.Location { return tokyo() }

const (
	// FutureTolerance is how far after now a parsed time may be before it
	// is rejected with ErrFuture (clocks differ; "now" is typed late).
	FutureTolerance = 5 * time.Minute
	// MaxAgeYears is how far back a date may be before ErrTooOld.
	MaxAgeYears = 3
	// MaxTextLen bounds the free text ParseWhen and ParseCallTime read
	// (in characters, after normalisation); longer answers are
	// ErrUnrecognised rather than searched.
	MaxTextLen = 200
)

func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func validDate(y, m, d int) bool {
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, time.Month(m))
}

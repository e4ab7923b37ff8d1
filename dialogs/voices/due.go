package voices

import (
	"fmt"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/jpinput"
)

// FormatDue renders a due time for customers, in Asia/Tokyo:
// 「11月25日(水)17時」 (17時30分 with minutes) or "17:00 on Wed 25 Nov".
func FormatDue(lang koe.Lang, t time.Time) string {
	t = t.In(jpinput.Tokyo())
	if lang == koe.English {
		return t.Format("15:04 on Mon 2 Jan")
	}
	wd := [...]string{"日", "月", "火", "水", "木", "金", "土"}[t.Weekday()]
	hm := fmt.Sprintf("%d時", t.Hour())
	if t.Minute() != 0 {
		hm += fmt.Sprintf("%02d分", t.Minute())
	}
	return fmt.Sprintf("%d月%d日(%s)%s", int(t.Month()), t.Day(), wd, hm)
}

// formatDateTime renders when a case was received, in Asia/Tokyo.
func formatDateTime(lang koe.Lang, t time.Time) string {
	t = t.In(jpinput.Tokyo())
	if lang == koe.English {
		return t.Format("2 Jan 2006 15:04")
	}
	return fmt.Sprintf("%d年%d月%d日 %s", t.Year(), int(t.Month()), t.Day(), t.Format("15:04"))
}

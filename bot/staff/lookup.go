package staff

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/slack"
)

// Lookup answers the /koe slash command: given an accident report or case
// reference it shows that record as its alert does (masked, without
// buttons), only to the staff member who asked.
type Lookup struct {
	Reports koe.ReportStore
	Cases   koe.CaseStore
	Now     func() time.Time
}

var lookupRef = regexp.MustCompile(`(?i)\b(AR|C)-?(\d{8})-?([0-9A-Z]{4})\b`)

// lookupUsage is the help the command shows for anything but a reference.
const lookupUsage = "使い方: `/koe AR-YYYYMMDD-XXXX`（事故連絡）または `/koe C-YYYYMMDD-XXXX`（苦情・お問い合わせ）で、その受付の内容と状況を表示します。"

// OnCommand implements bot/slack's CommandsConfig.OnCommand.
func (l *Lookup) OnCommand(ctx context.Context, c slack.Command) (slack.Message, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	m := lookupRef.FindStringSubmatch(strings.TrimSpace(c.Text))
	if m == nil {
		return slack.Message{Text: lookupUsage, Body: lookupUsage}, nil
	}
	prefix := strings.ToUpper(m[1])
	ref := prefix + "-" + m[2] + "-" + strings.ToUpper(m[3])
	var (
		msg slack.Message
		err error
	)
	switch prefix {
	case koe.RefAccident:
		var r koe.AccidentReport
		if r, err = l.Reports.GetReport(ctx, ref); err == nil {
			msg = AccidentAlert(r, now())
		}
	default:
		var cs koe.Case
		if cs, err = l.Cases.GetCase(ctx, ref); err == nil {
			msg = CaseAlert(cs, now())
		}
	}
	switch {
	case errors.Is(err, koe.ErrNotFound):
		text := ref + " は見つかりませんでした。"
		return slack.Message{Text: text, Body: text}, nil
	case err != nil:
		return slack.Message{}, fmt.Errorf("staff: lookup %s: %w", ref, err)
	}
	msg.Buttons, msg.Key = nil, "" // a private view: act on the alert itself
	return msg, nil
}

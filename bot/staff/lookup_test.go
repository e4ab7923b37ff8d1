package staff_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakes"
)

func TestLookupCommand(t *testing.T) {
	reports := fakes.NewReportStore()
	rep := sampleReport()
	if _, err := reports.CreateReport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	l := &staff.Lookup{Reports: reports, Cases: fakes.NewCaseStore()}
	for _, tt := range []struct{ text, want, notWant string }{
		{"ar-20261122-7f3k", "12****7890", "1234567890"},
		{"AR202611227F3K", "AR-20261122-7F3K", "accident.assign"},
		{"C-20261122-ZZZZ", "見つかりませんでした", ""},
		{"help", "使い方", ""},
	} {
		msg, err := l.OnCommand(context.Background(), slack.Command{Command: "/koe", Text: tt.text})
		if err != nil {
			t.Fatalf("%q: %v", tt.text, err)
		}
		text, blocks := slack.RenderMessage(msg)
		shown := text + fmtBlocks(blocks)
		if !strings.Contains(shown, tt.want) || (tt.notWant != "" && strings.Contains(shown, tt.notWant)) {
			t.Errorf("%q: shows %s; want %q and not %q", tt.text, shown, tt.want, tt.notWant)
		}
		if len(msg.Buttons) != 0 {
			t.Errorf("%q: private view has buttons", tt.text)
		}
	}
}

func fmtBlocks(blocks any) string {
	b, _ := json.Marshal(blocks)
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}

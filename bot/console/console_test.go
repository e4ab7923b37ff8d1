package console_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/console"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func newChat(w *bytes.Buffer) *console.Chat {
	c := console.NewChat("console:alice", w)
	n := 0
	c.NewID = func() string { n++; return fmt.Sprintf("id%d", n) }
	c.Now = func() time.Time { return t0 }
	return c
}

var offer = koe.Outbound{ID: "x", To: "console:alice", Replies: []koe.Reply{
	{Card: &koe.Card{Title: "確認", Buttons: []koe.Action{{Kind: koe.ActionPostback, Label: "詳細", Data: "detail"}}}},
	{Text: "選んでください", QuickReplies: []koe.Action{
		{Kind: koe.ActionPostback, Label: "はい", Data: "yes"},
		{Kind: koe.ActionMessage, Label: "いいえ", Text: "いいえです"},
		{Kind: koe.ActionLocation, Label: "位置情報"},
	}},
}}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name   string
		offer  bool
		line   string
		want   koe.Message
		errHas string
	}{
		{name: "text", line: "  こんにちは ", want: koe.Message{Kind: koe.KindText, Text: "こんにちは"}},
		{name: "number without choices is text", line: "2", want: koe.Message{Kind: koe.KindText, Text: "2"}},
		{name: "card button", offer: true, line: "1", want: koe.Message{Kind: koe.KindPostback, Postback: &koe.Postback{Data: "detail"}}},
		{name: "postback choice", offer: true, line: "2", want: koe.Message{Kind: koe.KindPostback, Postback: &koe.Postback{Data: "yes"}}},
		{name: "full-width number", offer: true, line: "２", want: koe.Message{Kind: koe.KindPostback, Postback: &koe.Postback{Data: "yes"}}},
		{name: "message choice", offer: true, line: "3", want: koe.Message{Kind: koe.KindText, Text: "いいえです"}},
		{name: "location choice needs command", offer: true, line: "4", errHas: "/location"},
		{name: "out of range", offer: true, line: "5", errHas: "choose 1-4"},
		{name: "zero", offer: true, line: "0", errHas: "no choice 0"},
		{name: "postback", line: "/postback menu:feedback", want: koe.Message{Kind: koe.KindPostback, Postback: &koe.Postback{Data: "menu:feedback"}}},
		{name: "postback params", line: "/postback when date=2026-11-22", want: koe.Message{Kind: koe.KindPostback, Postback: &koe.Postback{Data: "when", Params: map[string]string{"date": "2026-11-22"}}}},
		{name: "postback bad param", line: "/postback when date", errHas: "key=value"},
		{name: "postback no data", line: "/postback", errHas: "/postback DATA"},
		{name: "location", line: "/location 35.68 139.76", want: koe.Message{Kind: koe.KindLocation, Location: &koe.Location{Latitude: 35.68, Longitude: 139.76}}},
		{name: "location bad", line: "/location 95 139", errHas: "latitude"},
		{name: "location missing", line: "/location 35.68", errHas: "/location LAT LNG"},
		{name: "image with spaces", line: "/image ./my photo.jpg", want: koe.Message{Kind: koe.KindImage, Image: &koe.Image{Path: "./my photo.jpg"}}},
		{name: "image missing", line: "/image", errHas: "/image PATH"},
		{name: "follow", line: "/follow", want: koe.Message{Kind: koe.KindFollow}},
		{name: "unfollow", line: "/unfollow", want: koe.Message{Kind: koe.KindUnfollow}},
		{name: "unknown", line: "/sticker", errHas: "unknown command"},
		{name: "empty", line: "   ", errHas: "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := newChat(&buf)
			if tt.offer {
				if err := c.Send(context.Background(), offer); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.ParseLine(tt.line)
			if tt.errHas != "" {
				if !errors.Is(err, console.ErrSyntax) || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("ParseLine(%q) error = %v, want ErrSyntax mentioning %q", tt.line, err, tt.errHas)
				}
				if tt.offer && len(c.Choices()) != 4 {
					t.Errorf("a failed parse consumed the choices")
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			want := tt.want
			want.ID, want.User, want.SentAt = "id1", "console:alice", t0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ParseLine(%q) =\n%+v, want\n%+v", tt.line, got, want)
			}
			if len(c.Choices()) != 0 {
				t.Errorf("choices not consumed after a message")
			}
		})
	}
}

func TestRender(t *testing.T) {
	got, choices := console.Render([]koe.Reply{
		{Text: "一行目\n二行目\n"},
		{Card: &koe.Card{Title: "事故受付", Urgent: true, Note: "ご確認ください", Fields: []koe.CardField{{Label: "日時", Value: "11/22 14:00"}, {Label: "内容", Value: "a\nb"}},
			Buttons: []koe.Action{{Kind: koe.ActionURI, Label: "地図", URL: "https://example.com/m"}}}},
		{Text: "どうぞ", QuickReplies: []koe.Action{
			{Kind: koe.ActionPostback, Label: "はい", Data: "y"},
			{Kind: koe.ActionCamera, Label: "写真"},
			{Kind: koe.ActionDatetime, Label: "日時", Data: "when", Picker: &koe.DatetimePicker{Mode: "date"}},
		}},
	})
	want := `一行目
二行目

+-- (!) 事故受付
| 日時: 11/22 14:00
| 内容: a
|   b
| ご確認ください
| [1] 地図 <https://example.com/m>
+--

どうぞ
[2] はい
[3] 写真 (/image PATH)
[4] 日時 (/postback when date=VALUE)
`
	if got != want {
		t.Errorf("Render =\n%s\nwant\n%s", got, want)
	}
	if len(choices) != 4 || choices[1].Data != "y" {
		t.Errorf("choices = %+v", choices)
	}
}

func TestSendOnlyRemembersOwnUsersChoices(t *testing.T) {
	var buf bytes.Buffer
	c := newChat(&buf)
	other := offer
	other.To = "console:bob"
	if err := c.Send(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if len(c.Choices()) != 0 {
		t.Error("choices of another user's batch were remembered")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Send(ctx, offer); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with cancelled context = %v", err)
	}
}

// echo is a handler that replies through the chat like the engine would:
// the text it got and two choices.
type echo struct {
	chat *console.Chat
	got  []koe.Message
	fail bool
}

func (e *echo) Handle(ctx context.Context, msg koe.Message) error {
	e.got = append(e.got, msg)
	if e.fail {
		return errors.New("dialogs: something broke")
	}
	label := msg.Text
	if msg.Postback != nil {
		label = "postback " + msg.Postback.Data
	}
	return e.chat.Send(ctx, koe.Outbound{To: msg.User, Replies: []koe.Reply{{Text: "got " + label, QuickReplies: []koe.Action{
		{Kind: koe.ActionPostback, Label: "A", Data: "a"}, {Kind: koe.ActionPostback, Label: "B", Data: "b"},
	}}}})
}

func TestRun(t *testing.T) {
	var out bytes.Buffer
	c := newChat(&out)
	h := &echo{chat: c}
	in := strings.NewReader("hello\n\n2\n/bogus\n9\n/quit\nnot read\n")
	if err := c.Run(context.Background(), in, h); err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := "> got hello\n[1] A\n[2] B\n> > got postback b\n[1] A\n[2] B\n> ! console: syntax: unknown command /bogus; " +
		"commands: /postback DATA [key=value ...], /location LAT LNG, /image PATH, /follow, /unfollow, /quit\n> ! console: syntax: no choice 9; choose 1-2\n> "
	// The empty line prints a prompt again without calling the handler.
	if got := out.String(); got != want {
		t.Errorf("Run output =\n%q\nwant\n%q", got, want)
	}
	if len(h.got) != 2 || h.got[0].ID == h.got[1].ID {
		t.Errorf("handler got %+v, want 2 messages with distinct ids", h.got)
	}
}

func TestRunEOFAndHandlerError(t *testing.T) {
	var out bytes.Buffer
	c := newChat(&out)
	h := &echo{chat: c, fail: true}
	if err := c.Run(context.Background(), strings.NewReader("hi"), h); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := "> ! the bot could not handle that message: dialogs: something broke\n> \n"; out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	if err := console.NewChat("console:alice", &out).Run(ctx, strings.NewReader("hi\n"), &echo{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

func TestDefaultIDsAreUnique(t *testing.T) {
	c := console.NewChat("console:alice", &bytes.Buffer{})
	a, _ := c.ParseLine("x")
	b, _ := c.ParseLine("x")
	if a.ID == "" || a.ID == b.ID {
		t.Errorf("ids %q and %q, want unique", a.ID, b.ID)
	}
}

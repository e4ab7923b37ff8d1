package staff_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/slack"
	"github.com/koehq/koe/bot/staff"
	"github.com/koehq/koe/internal/fakes"
	"github.com/koehq/koe/internal/fakeslack"
)

func TestPraise(t *testing.T) {
	at := jst(2026, 11, 20, 10, 0)
	praise := koe.Voice{
		ID: "ev1/0", User: "line:Ucustomer", Source: "free_text", Kind: koe.VoicePraise, Topic: koe.TopicClaims,
		Text: "担当の鈴木様にとても親切にしていただきました。山田花子と申します。090-1234-5678、証券番号 AB12345678、hanako@example.jp <!channel>",
		At:   at,
	}
	request := praise
	request.ID, request.Kind, request.Text = "ev2/0", koe.VoiceRequest, "もっと早くしてほしい"
	tests := []struct {
		name      string
		job       koe.Job
		wantPosts int
		wantErr   error
	}{
		{"praise", koe.Job{ID: "voice.praise:ev1/0", Attrs: map[string]string{"voice": "ev1/0"}}, 1, nil},
		{"not praise", koe.Job{ID: "voice.praise:ev2/0", Attrs: map[string]string{"voice": "ev2/0"}, Created: at}, 0, nil},
		{"no voice id", koe.Job{ID: "voice.praise:x"}, 0, koe.ErrInvalid},
		{"unknown voice", koe.Job{ID: "voice.praise:nope", Attrs: map[string]string{"voice": "nope"}, Created: at}, 0, koe.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := fakeslack.New(t)
			sc, err := slack.NewClient(slack.ClientConfig{BotToken: fakeslack.BotToken, APIURL: fs.URL(), PerChannelInterval: -1})
			if err != nil {
				t.Fatal(err)
			}
			vs := fakes.NewVoiceStore()
			for _, v := range []koe.Voice{praise, request} {
				if _, err := vs.AddVoice(context.Background(), v); err != nil {
					t.Fatal(err)
				}
			}
			p, err := staff.NewPraise(staff.PraiseConfig{Voices: vs, Slack: sc, Channel: "CPRAISE", Now: func() time.Time { return at }})
			if err != nil {
				t.Fatal(err)
			}
			tt.job.Kind = staff.JobVoicePraise
			err = p.Handlers()[staff.JobVoicePraise].HandleJob(context.Background(), tt.job)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("handle = %v, want %v", err, tt.wantErr)
			}
			posts := fs.Posts()
			if len(posts) != tt.wantPosts {
				t.Fatalf("%d posts, want %d", len(posts), tt.wantPosts)
			}
			if tt.wantPosts == 0 {
				return
			}
			body := posts[0].Text + string(posts[0].Blocks)
			if posts[0].Channel != "CPRAISE" {
				t.Errorf("posted to %s, want CPRAISE", posts[0].Channel)
			}
			for _, want := range []string{"親切にしていただきました", "保険金", "2026-11-20", "[PHONE]", "[NAME]", "[EMAIL]"} {
				if !strings.Contains(body, want) {
					t.Errorf("praise post lacks %q: %s", want, body)
				}
			}
			for _, secret := range []string{"鈴木", "山田", "花子", "090-1234-5678", "AB12345678", "hanako@example.jp", "Ucustomer", "<!channel>"} {
				if strings.Contains(body, secret) {
					t.Errorf("praise post contains %q", secret)
				}
			}
		})
	}
}

func TestNewPraiseRejects(t *testing.T) {
	if _, err := staff.NewPraise(staff.PraiseConfig{Voices: fakes.NewVoiceStore()}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("NewPraise without Slack and channel = %v, want ErrInvalid", err)
	}
}

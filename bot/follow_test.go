package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/internal/fakes"
)

func TestFollowTracker(t *testing.T) {
	ctx := context.Background()
	follow := fakes.NewFollowStore()
	var handled []string
	tr := &bot.FollowTracker{Follow: follow, Next: koe.HandlerFunc(func(ctx context.Context, m koe.Message) error {
		handled = append(handled, m.ID)
		return nil
	})}
	u := koe.UserID("line:Ublock")
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		msg  koe.Message
		want bool
	}{
		{koe.Message{ID: "1", User: u, Kind: koe.KindText, Text: "こんにちは", SentAt: t0}, true},
		{koe.Message{ID: "2", User: u, Kind: koe.KindUnfollow, SentAt: t0.Add(time.Minute)}, false},
		{koe.Message{ID: "3", User: u, Kind: koe.KindFollow, SentAt: t0.Add(-time.Hour)}, false}, // older: ignored
		{koe.Message{ID: "4", User: u, Kind: koe.KindFollow, SentAt: t0.Add(time.Hour)}, true},
	}
	for _, s := range steps {
		if err := tr.Handle(ctx, s.msg); err != nil {
			t.Fatal(err)
		}
		if got, err := follow.Following(ctx, u); err != nil || got != s.want {
			t.Errorf("after %s (%s): following = %v, %v; want %v", s.msg.ID, s.msg.Kind, got, err, s.want)
		}
	}
	if len(handled) != len(steps) {
		t.Errorf("next handled %v, want every message", handled)
	}
}

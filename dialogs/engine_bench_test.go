package dialogs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs"
	"github.com/koehq/koe/internal/fakes"
)

// BenchmarkHandle is one step of the main menu per message, on in-memory
// fakes, logging as `koe serve` does (JSON at info level).
func BenchmarkHandle(b *testing.B) {
	now := func() time.Time { return defaultNow }
	eng, err := dialogs.NewEngine(dialogs.Config{
		Sessions: fakes.NewSessionStore(now),
		Senders:  map[koe.Channel]koe.Sender{koe.ChannelLINE: &fakes.Sender{}},
		Now:      now,
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		msg := koe.Message{ID: fmt.Sprint("m", i), User: koe.UserID(fmt.Sprint("line:U", i%1000)), Kind: koe.KindText, Text: "メニュー", SentAt: defaultNow}
		if err := eng.Handle(ctx, msg); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

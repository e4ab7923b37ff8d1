package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/sqlite"
)

// benchParallelism is goroutines per GOMAXPROCS in the parallel benchmarks:
// the service has many webhook requests and dispatcher workers in flight,
// which is what lets group commit share fsyncs.
const benchParallelism = 8

func openBench(b *testing.B) *sqlite.Store {
	b.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "koe.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func benchMsg(n int64) koe.Message {
	return koe.Message{
		ID:         fmt.Sprintf("evt-%d", n),
		User:       koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U%05d", n%5000)),
		Kind:       koe.KindText,
		Text:       "事故の連絡をしたいです",
		ReplyToken: "0f3779fba3b349968c5d07db31eab56f",
		SentAt:     time.Now(),
	}
}

func reportRate(b *testing.B, events int64) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(events)/s, "events/s")
	}
}

// BenchmarkAppend measures durable intake: one message per Append.
func BenchmarkAppend(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s := openBench(b)
		ctx := context.Background()
		var n int64
		for b.Loop() {
			n++
			if _, err := s.Append(ctx, benchMsg(n)); err != nil {
				b.Fatal(err)
			}
		}
		reportRate(b, n)
	})
	b.Run("parallel", func(b *testing.B) {
		s := openBench(b)
		ctx := context.Background()
		var n atomic.Int64
		b.SetParallelism(benchParallelism)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := s.Append(ctx, benchMsg(n.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportRate(b, n.Load())
	})
}

// BenchmarkCycle measures the service's whole path for one event: append,
// claim, load and save the user's session, ack. Each op is one event.
func BenchmarkCycle(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	var n, acked atomic.Int64
	b.SetParallelism(benchParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		owner := fmt.Sprintf("w%d", n.Add(1))
		for pb.Next() {
			if _, err := s.Append(ctx, benchMsg(n.Add(1))); err != nil {
				b.Error(err)
				return
			}
			ds, err := s.Claim(ctx, owner, 1, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			for _, d := range ds {
				if err := process(ctx, s, d); err != nil {
					b.Error(err)
					return
				}
				acked.Add(1)
			}
		}
	})
	b.StopTimer()
	// Drain what other goroutines claimed first, so the count is honest.
	for {
		ds, err := s.Claim(ctx, "drain", 100, time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) == 0 {
			break
		}
		for _, d := range ds {
			if err := process(ctx, s, d); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRate(b, acked.Load())
}

func process(ctx context.Context, s *sqlite.Store, d koe.Delivery) error {
	sess, err := s.LoadSession(ctx, d.Message.User)
	if errors.Is(err, koe.ErrNotFound) {
		sess = koe.Session{User: d.Message.User, Lang: koe.Japanese}
	} else if err != nil {
		return err
	}
	sess.State = "step"
	sess.MarkApplied(d.Message.ID)
	sess.UpdatedAt = time.Now()
	sess.ExpiresAt = sess.UpdatedAt.Add(time.Hour)
	if _, err := s.SaveSession(ctx, sess); err != nil {
		return err
	}
	return s.Ack(ctx, d)
}

package redis_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/redis"
)

// BenchmarkCycle measures what the service does per inbound event: append
// it, claim it, load and save the user's session, ack it. One op is one
// event. On miniredis by default; on a real server with KOE_TEST_REDIS_URL:
//
//	KOE_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run '^$' -bench Cycle ./store/redis/
func BenchmarkCycle(b *testing.B) {
	for _, shards := range []int{16, 1} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) { benchCycle(b, shards) })
	}
}

// roundTrips counts what a client sends: one per command outside a
// pipeline, one per pipeline.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

// benchStore is a Store on a fresh server or prefix whose client counts
// round trips.
func benchStore(b *testing.B, shards int) (*redis.Store, *roundTrips) {
	srv := newServer(b)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		b.Fatal(err)
	}
	opts.PoolSize = 32
	c := goredis.NewClient(opts)
	b.Cleanup(func() { c.Close() })
	rt := &roundTrips{}
	c.AddHook(rt)
	return redis.New(c, redis.Options{Prefix: srv.prefix, Shards: shards}), rt
}

func benchCycle(b *testing.B, shards int) {
	b.Run("serial", func(b *testing.B) {
		s, rt := benchStore(b, shards)
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("Ubench%d", i%256))
			m := koe.Message{ID: fmt.Sprintf("evt-%d", i), User: u, Kind: koe.KindText, Text: "車をぶつけました", SentAt: time.Now()}
			if _, err := s.Append(ctx, m); err != nil {
				b.Fatal(err)
			}
			ds, err := s.Claim(ctx, "bench", 1, time.Minute)
			if err != nil || len(ds) != 1 {
				b.Fatalf("Claim = %d, %v", len(ds), err)
			}
			process(b, s, ds[0])
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/event")
	})

	b.Run("parallel", func(b *testing.B) {
		s, rt := benchStore(b, shards)
		ctx := context.Background()
		var worker, processed atomic.Int64
		b.SetParallelism(4) // 4×GOMAXPROCS goroutines sharing one pool
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			w := worker.Add(1)
			i := 0
			for pb.Next() {
				i++
				u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("Ubench%d-%d", w, i%64))
				m := koe.Message{ID: fmt.Sprintf("evt-%d-%d", w, i), User: u, Kind: koe.KindText, Text: "車をぶつけました", SentAt: time.Now()}
				if _, err := s.Append(ctx, m); err != nil {
					b.Fatal(err)
				}
				ds, err := s.Claim(ctx, fmt.Sprint("bench-", w), 4, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range ds {
					process(b, s, d)
					processed.Add(1)
				}
			}
		})
		b.StopTimer()
		b.ReportMetric(float64(processed.Load())/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(rt.n.Load())/float64(max(processed.Load(), 1)), "roundtrips/event")
	})

	b.Run("idle-claim", func(b *testing.B) {
		s, rt := benchStore(b, shards)
		ctx := context.Background()
		b.ResetTimer()
		for range b.N {
			ds, err := s.Claim(ctx, "idle", 16, time.Minute)
			if err != nil || len(ds) != 0 {
				b.Fatalf("Claim = %d, %v", len(ds), err)
			}
		}
		b.StopTimer()
		b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
	})
}

// process is the dispatcher's part: load (or start) the session, save it,
// ack the delivery.
func process(b *testing.B, s *redis.Store, d koe.Delivery) {
	ctx := context.Background()
	sess, err := s.LoadSession(ctx, d.Message.User)
	if errors.Is(err, koe.ErrNotFound) {
		sess = koe.Session{User: d.Message.User, Lang: koe.Japanese}
	} else if err != nil {
		b.Fatal(err)
	}
	sess.State = "step"
	sess.MarkApplied(d.Message.ID)
	sess.UpdatedAt = time.Now()
	sess.ExpiresAt = sess.UpdatedAt.Add(time.Hour)
	if _, err := s.SaveSession(ctx, sess); err != nil {
		b.Fatal(err)
	}
	if err := s.Ack(ctx, d); err != nil {
		b.Fatal(err)
	}
}

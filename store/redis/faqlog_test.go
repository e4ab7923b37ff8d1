package redis_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/storetest"
)

// TestFAQLogOneSlot records, marks and lists answers and checks that every
// script call names keys of the one slot {P:faq}, and that every key left
// behind is in it.
func TestFAQLogOneSlot(t *testing.T) {
	srv := newServer(t)
	opts, err := goredis.ParseURL(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	client := goredis.NewClient(opts)
	t.Cleanup(func() { client.Close() })
	rec := &scriptRecorder{}
	client.AddHook(rec)
	clk := storetest.NewClock(time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC))
	s := redis.New(client, redis.Options{Prefix: srv.prefix, Now: clk.Now})
	ctx := t.Context()
	yes := true
	for i := range 5 {
		u := koe.NewUserID(koe.ChannelLINE, fmt.Sprintf("U-faq-%d", i))
		a := koe.FAQAnswer{ID: fmt.Sprintf("a%d", i), User: u, Entry: "e", At: clk.Now().Add(time.Duration(i) * time.Minute)}
		if _, err := s.RecordAnswer(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkAnswer(ctx, a.ID, &yes, ""); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Answers(ctx, time.Time{}, time.Time{}); err != nil || len(got) != 5 {
		t.Fatalf("Answers = %d, %v; want 5", len(got), err)
	}

	want := keySlot(srv.prefix + ":{" + srv.prefix + ":faq}:d")
	rec.mu.Lock()
	calls := slices.Clone(rec.calls)
	rec.mu.Unlock()
	if len(calls) < 11 {
		// EVALSHA then EVAL the first time a script runs: at least 11.
		t.Errorf("recorded %d script calls, want at least 11 (5 records, 5 marks, 1 listing)", len(calls))
	}
	for _, args := range calls {
		nkeys, err := strconv.Atoi(args[2])
		if err != nil || nkeys < 1 {
			t.Errorf("script call %v: numkeys %q, want at least one key", args[:3], args[2])
			continue
		}
		for _, k := range args[3 : 3+nkeys] {
			if keySlot(k) != want {
				t.Errorf("script key %q in slot %d, want %d", k, keySlot(k), want)
			}
		}
	}
	keys, err := client.Keys(ctx, srv.prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 {
		t.Errorf("keys = %v, want the three FAQ keys", keys)
	}
	for _, k := range keys {
		if !strings.Contains(k, "{"+srv.prefix+":faq}") || keySlot(k) != want {
			t.Errorf("key %q is outside {%s:faq}", k, srv.prefix)
		}
	}
}

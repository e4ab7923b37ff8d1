package followup_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/followup"
	"github.com/koehq/koe/internal/fakes"
)

func start(t *testing.T, q koe.Queue, handlers map[string]followup.Handler) {
	t.Helper()
	w, err := followup.New(followup.Config{
		Queue: q, Handlers: handlers, Consumer: "test", MaxAttempts: 3,
		PollInterval: 5 * time.Millisecond, Backoff: func(int) time.Duration { return time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestWorkerOutcomes: success completes; a transient failure is retried
// until it works; ErrInvalid, an unknown kind and exhausted attempts go to
// the dead letters; a panic is a failure, not a crash.
func TestWorkerOutcomes(t *testing.T) {
	q := fakes.NewQueue(time.Now)
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(id string) int { mu.Lock(); defer mu.Unlock(); calls[id]++; return calls[id] }
	start(t, q, map[string]followup.Handler{
		"ok": followup.HandlerFunc(func(ctx context.Context, j koe.Job) error { count(j.ID); return nil }),
		"flaky": followup.HandlerFunc(func(ctx context.Context, j koe.Job) error {
			if count(j.ID) < 3 {
				return errors.New("slack 500")
			}
			return nil
		}),
		"bad": followup.HandlerFunc(func(ctx context.Context, j koe.Job) error {
			count(j.ID)
			return fmt.Errorf("no such report: %w", koe.ErrInvalid)
		}),
		"broken": followup.HandlerFunc(func(ctx context.Context, j koe.Job) error { count(j.ID); return errors.New("always") }),
		"panics": followup.HandlerFunc(func(ctx context.Context, j koe.Job) error {
			if count(j.ID) == 1 {
				panic("boom")
			}
			return nil
		}),
	})
	if _, err := q.Enqueue(context.Background(),
		koe.Job{ID: "j-ok", Kind: "ok"}, koe.Job{ID: "j-flaky", Kind: "flaky"}, koe.Job{ID: "j-bad", Kind: "bad"},
		koe.Job{ID: "j-broken", Kind: "broken"}, koe.Job{ID: "j-panics", Kind: "panics"}, koe.Job{ID: "j-unknown", Kind: "nobody"},
	); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every job settled", func() bool { return len(q.Completed())+len(q.DeadJobs()) == 6 })
	completed := q.Completed()
	slices.Sort(completed)
	if want := []string{"j-flaky", "j-ok", "j-panics"}; !slices.Equal(completed, want) {
		t.Errorf("completed %v, want %v", completed, want)
	}
	var dead []string
	for _, d := range q.DeadJobs() {
		dead = append(dead, d.Job.ID)
	}
	slices.Sort(dead)
	if want := []string{"j-bad", "j-broken", "j-unknown"}; !slices.Equal(dead, want) {
		t.Errorf("dead %v, want %v", dead, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for id, want := range map[string]int{"j-ok": 1, "j-flaky": 3, "j-bad": 1, "j-broken": 3, "j-panics": 2} {
		if calls[id] != want {
			t.Errorf("%s handled %d times, want %d", id, calls[id], want)
		}
	}
}

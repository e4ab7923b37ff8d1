package bot_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot"
	"github.com/koehq/koe/internal/redistest"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/sqlite"
)

// backend opens handles onto one shared store; each call is another
// "replica" of the same data.
type backend struct {
	name string
	open func(t *testing.T) func() koe.Store
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t *testing.T) func() koe.Store {
			path := t.TempDir() + "/koe.db"
			return func() koe.Store {
				s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
		}},
		{"redis", func(t *testing.T) func() koe.Store {
			addr := os.Getenv("KOE_TEST_REDIS_URL")
			var opts *goredis.Options
			if addr == "" {
				opts = &goredis.Options{Addr: miniredis.RunT(t).Addr()}
			} else {
				var err error
				if opts, err = goredis.ParseURL(addr); err != nil {
					t.Fatal(err)
				}
			}
			prefix := fmt.Sprintf("koetest-bot-%d", rand.Int64())
			t.Cleanup(func() { deleteKeys(t, opts, prefix) })
			return func() koe.Store {
				c := goredis.NewClient(opts)
				s := redis.New(c, redis.Options{Prefix: prefix})
				t.Cleanup(func() { c.Close() })
				return s
			}
		}},
	}
}

func deleteKeys(t *testing.T, opts *goredis.Options, prefix string) {
	c := goredis.NewClient(opts)
	defer c.Close()
	redistest.DeleteKeys(t, c, prefix)
}

func textMsg(user string, i int) koe.Message {
	return koe.Message{
		ID:     fmt.Sprintf("%s-%04d", user, i),
		User:   koe.UserID("line:" + user),
		Kind:   koe.KindText,
		Text:   fmt.Sprint(i),
		SentAt: time.Now(),
	}
}

// orderChecker is a handler that records, per user, the order messages
// arrive in and fails the test if two messages of one user overlap.
type orderChecker struct {
	t        *testing.T
	mu       sync.Mutex
	seen     map[koe.UserID][]string
	inFlight map[koe.UserID]bool
	active   atomic.Int32
	peak     atomic.Int32
	total    atomic.Int32
}

func newOrderChecker(t *testing.T) *orderChecker {
	return &orderChecker{t: t, seen: map[koe.UserID][]string{}, inFlight: map[koe.UserID]bool{}}
}

func (c *orderChecker) Handle(ctx context.Context, m koe.Message) error {
	c.mu.Lock()
	if c.inFlight[m.User] {
		c.t.Errorf("two messages of %s in flight at once (second: %s)", m.User, m.ID)
	}
	c.inFlight[m.User] = true
	c.mu.Unlock()
	n := c.active.Add(1)
	for p := c.peak.Load(); n > p && !c.peak.CompareAndSwap(p, n); p = c.peak.Load() {
	}
	time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
	c.active.Add(-1)
	c.mu.Lock()
	c.inFlight[m.User] = false
	c.seen[m.User] = append(c.seen[m.User], m.ID)
	c.mu.Unlock()
	c.total.Add(1)
	return nil
}

func startDispatcher(t *testing.T, cfg bot.DispatcherConfig) (stop func()) {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 10 * time.Millisecond
	}
	d, err := bot.NewDispatcher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDispatcherPerUserOrderAcrossReplicas interleaves the messages of many
// users and lets three dispatchers (replicas, each with its own store
// handle) drain them concurrently: every user's messages must be handled
// one at a time, in the order they were appended.
func TestDispatcherPerUserOrderAcrossReplicas(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			open := b.open(t)
			const users, perUser = 40, 15
			var msgs []koe.Message
			for i := range perUser {
				for u := range users {
					msgs = append(msgs, textMsg(fmt.Sprintf("U%02d", u), i))
				}
			}
			checker := newOrderChecker(t)
			for r := range 3 {
				startDispatcher(t, bot.DispatcherConfig{
					Inbox: open(), Handler: checker, Owner: fmt.Sprintf("replica-%d", r), Workers: 8,
				})
			}
			writer := open()
			for start := 0; start < len(msgs); start += 25 { // several webhook calls
				if _, err := writer.Append(context.Background(), msgs[start:min(start+25, len(msgs))]...); err != nil {
					t.Fatal(err)
				}
			}
			waitFor(t, "all messages", func() bool { return checker.total.Load() == users*perUser })
			checker.mu.Lock()
			defer checker.mu.Unlock()
			for u := range users {
				user := koe.UserID(fmt.Sprintf("line:U%02d", u))
				got := checker.seen[user]
				if len(got) != perUser {
					t.Fatalf("%s handled %d messages, want %d", user, len(got), perUser)
				}
				for i, id := range got {
					if want := fmt.Sprintf("U%02d-%04d", u, i); id != want {
						t.Fatalf("%s message %d = %s, want %s (order broken)", user, i, id, want)
					}
				}
			}
			if p := checker.peak.Load(); p < 2 {
				t.Errorf("peak concurrency %d; want several users handled at once", p)
			}
		})
	}
}

// TestDispatcherRetriesThenBuries: a failing message is retried with
// backoff while the user's later messages wait behind it; after
// MaxAttempts it goes to the dead letters and the queue moves on.
func TestDispatcherRetriesThenBuries(t *testing.T) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			st := b.open(t)()
			var mu sync.Mutex
			var log []string
			h := koe.HandlerFunc(func(ctx context.Context, m koe.Message) error {
				mu.Lock()
				defer mu.Unlock()
				log = append(log, m.ID)
				switch m.ID {
				case "A-0000": // fails once, then works
					if countOf(log, m.ID) == 1 {
						return errors.New("transient")
					}
				case "B-0000": // never works
					return errors.New("poison")
				}
				return nil
			})
			startDispatcher(t, bot.DispatcherConfig{
				Inbox: st, Handler: h, Owner: "r1", MaxAttempts: 3,
				RetryBackoff: func(int) time.Duration { return 20 * time.Millisecond },
			})
			if _, err := st.Append(context.Background(), textMsg("A", 0), textMsg("A", 1), textMsg("B", 0), textMsg("B", 1)); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "A-0001 and B-0001", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return countOf(log, "A-0001") == 1 && countOf(log, "B-0001") == 1
			})
			waitFor(t, "empty inbox", func() bool { n, _ := st.Depth(context.Background()); return n == 0 })
			mu.Lock()
			defer mu.Unlock()
			if got := countOf(log, "A-0000"); got != 2 {
				t.Errorf("A-0000 tried %d times, want 2", got)
			}
			if got := countOf(log, "B-0000"); got != 3 {
				t.Errorf("B-0000 tried %d times, want 3 (MaxAttempts)", got)
			}
			if indexOf(log, "A-0001") < lastIndexOf(log, "A-0000") {
				t.Errorf("A-0001 handled before A-0000 succeeded: %v", log)
			}
			if indexOf(log, "B-0001") < lastIndexOf(log, "B-0000") {
				t.Errorf("B-0001 handled before B-0000 was buried: %v", log)
			}
		})
	}
}

// TestDispatcherFinishesInFlightOnShutdown: cancelling Run stops claiming
// but the event being handled completes and is acked, and events not yet
// claimed stay for the next start.
func TestDispatcherFinishesInFlightOnShutdown(t *testing.T) {
	st := backends()[0].open(t)()
	started, release := make(chan struct{}), make(chan struct{})
	var handled atomic.Int32
	h := koe.HandlerFunc(func(ctx context.Context, m koe.Message) error {
		if m.ID == "A-0000" {
			close(started)
			<-release
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		handled.Add(1)
		return nil
	})
	stop := startDispatcher(t, bot.DispatcherConfig{Inbox: st, Handler: h, Owner: "r1", Workers: 1})
	if _, err := st.Append(context.Background(), textMsg("A", 0), textMsg("A", 1)); err != nil {
		t.Fatal(err)
	}
	<-started
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("Run returned while an event was still being handled")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-stopped
	if got := handled.Load(); got != 1 {
		t.Errorf("handled %d events, want 1 (the one in flight)", got)
	}
	if n, err := st.Depth(context.Background()); err != nil || n != 1 {
		t.Errorf("Depth = %d, %v; want 1 (A-0001 waits for the next start)", n, err)
	}
}

// TestDispatcherSurvivesPanicAndShowsLoading: a panicking handler is an
// error (retried), not a crash; a slow one triggers the loading callback.
func TestDispatcherSurvivesPanicAndShowsLoading(t *testing.T) {
	st := backends()[0].open(t)()
	var calls atomic.Int32
	var loadingFor sync.Map
	h := koe.HandlerFunc(func(ctx context.Context, m koe.Message) error {
		if m.ID == "P-0000" && calls.Add(1) == 1 {
			panic("boom")
		}
		if m.ID == "S-0000" {
			time.Sleep(150 * time.Millisecond)
		}
		return nil
	})
	startDispatcher(t, bot.DispatcherConfig{
		Inbox: st, Handler: h, Owner: "r1", LoadingAfter: 20 * time.Millisecond,
		RetryBackoff: func(int) time.Duration { return time.Millisecond },
		Loading:      func(ctx context.Context, u koe.UserID) { loadingFor.Store(u, true) },
	})
	if _, err := st.Append(context.Background(), textMsg("P", 0), textMsg("S", 0)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "empty inbox", func() bool { n, _ := st.Depth(context.Background()); return n == 0 })
	if calls.Load() != 2 {
		t.Errorf("panicking message handled %d times, want 2", calls.Load())
	}
	if _, ok := loadingFor.Load(koe.UserID("line:S")); !ok {
		t.Error("loading indicator not shown for the slow event")
	}
	if _, ok := loadingFor.Load(koe.UserID("line:P")); ok {
		t.Error("loading indicator shown for a fast event")
	}
}

func countOf(s []string, v string) (n int) {
	for _, x := range s {
		if x == v {
			n++
		}
	}
	return n
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func lastIndexOf(s []string, v string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == v {
			return i
		}
	}
	return -1
}

package fakes_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/internal/fakes"
)

const u = koe.UserID("line:U1")

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSessionStoreVersionsAndExpiry(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	st := fakes.NewSessionStore(clk.Now)

	if _, err := st.LoadSession(ctx, u); !errors.Is(err, koe.ErrNotFound) {
		t.Fatalf("load missing = %v, want ErrNotFound", err)
	}
	s := koe.Session{User: u, Vars: map[string]string{"a": "1"}, ExpiresAt: clk.Now().Add(time.Minute)}
	s1, err := st.SaveSession(ctx, s)
	if err != nil || s1.Version != 1 {
		t.Fatalf("first save = %v, %v; want version 1", s1.Version, err)
	}
	if _, err := st.SaveSession(ctx, s); !errors.Is(err, koe.ErrConflict) {
		t.Errorf("save at version 0 over a live session = %v, want ErrConflict", err)
	}
	s1.Vars["a"] = "changed by caller"
	got, err := st.LoadSession(ctx, u)
	if err != nil || got.Var("a") != "1" {
		t.Errorf("load = %+v, %v; stored state must not alias the caller's", got, err)
	}
	got.State = "q2"
	s2, err := st.SaveSession(ctx, got)
	if err != nil || s2.Version != 2 {
		t.Fatalf("second save = %v, %v", s2.Version, err)
	}
	if _, err := st.SaveSession(ctx, s1); !errors.Is(err, koe.ErrConflict) {
		t.Errorf("stale save = %v, want ErrConflict", err)
	}

	clk.Add(time.Minute)
	if _, err := st.LoadSession(ctx, u); !errors.Is(err, koe.ErrNotFound) {
		t.Errorf("load expired = %v, want ErrNotFound", err)
	}
	fresh := koe.Session{User: u, ExpiresAt: clk.Now().Add(time.Minute)}
	if s, err := st.SaveSession(ctx, fresh); err != nil || s.Version != 1 {
		t.Errorf("save fresh over expired = %v, %v; want version 1", s.Version, err)
	}
	if err := st.DeleteSession(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteSession(ctx, u); err != nil {
		t.Errorf("delete missing = %v, want nil", err)
	}
	if _, err := st.LoadSession(ctx, u); !errors.Is(err, koe.ErrNotFound) {
		t.Errorf("load deleted = %v", err)
	}
	if saves, conflicts, deletes := st.Stats(); saves != 3 || conflicts != 2 || deletes != 2 {
		t.Errorf("Stats = %d, %d, %d; want 3, 2, 2", saves, conflicts, deletes)
	}
	if _, err := st.SaveSession(ctx, koe.Session{User: "nobody"}); !errors.Is(err, koe.ErrInvalid) {
		t.Errorf("save without valid user = %v, want ErrInvalid", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.LoadSession(cctx, u); !errors.Is(err, context.Canceled) {
		t.Errorf("load with cancelled context = %v", err)
	}
}

func TestSessionStoreConcurrentSavesOneWins(t *testing.T) {
	ctx := context.Background()
	st := fakes.NewSessionStore(nil)
	var wg sync.WaitGroup
	wins := make(chan int, 8)
	for i := range 8 {
		wg.Go(func() {
			if _, err := st.SaveSession(ctx, koe.Session{User: u, State: fmt.Sprint(i)}); err == nil {
				wins <- i
			}
		})
	}
	wg.Wait()
	close(wins)
	if n := len(wins); n != 1 {
		t.Errorf("%d concurrent saves at version 0 won, want 1", n)
	}
}

func TestSenderRecords(t *testing.T) {
	ctx := context.Background()
	var s fakes.Sender
	if _, ok := s.Last(); ok {
		t.Error("Last on empty sender")
	}
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Go(func() {
			_ = s.Send(ctx, koe.Outbound{ID: fmt.Sprint(i), Replies: []koe.Reply{{Text: "x"}}})
		})
	}
	wg.Wait()
	if n := len(s.Sent()); n != 10 {
		t.Errorf("recorded %d, want 10", n)
	}
	boom := errors.New("down")
	s.SetErr(boom)
	if err := s.Send(ctx, koe.Outbound{ID: "fail"}); !errors.Is(err, boom) {
		t.Errorf("Send = %v, want %v", err, boom)
	}
	if n, a := len(s.Sent()), s.Attempts(); n != 10 || a != 11 {
		t.Errorf("sent %d attempts %d, want 10 and 11", n, a)
	}
	out := koe.Outbound{ID: "last", Replies: []koe.Reply{{Text: "a", QuickReplies: []koe.Action{{Label: "x"}}}}}
	s.SetErr(nil)
	_ = s.Send(ctx, out)
	out.Replies[0].QuickReplies[0].Label = "mutated"
	if last, _ := s.Last(); last.Replies[0].QuickReplies[0].Label != "x" {
		t.Error("recorded batch aliases the caller's")
	}
	s.Reset()
	if len(s.Sent()) != 0 || s.Attempts() != 0 {
		t.Error("Reset did not forget")
	}
}

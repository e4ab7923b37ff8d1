package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// TestSessions checks koe.SessionStore: optimistic versions, round trips,
// expiry and deletion.
func TestSessions(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	t.Run("LoadMissing", func(t *testing.T) {
		t.Parallel()
		s := newBackend(t)(t, NewClock(t0).Now)
		_, err := s.LoadSession(t.Context(), user("nobody"))
		if !errors.Is(err, koe.ErrNotFound) {
			t.Fatalf("LoadSession(missing) = %v, want ErrNotFound", err)
		}
	})

	t.Run("SaveNew", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		in := newSession(user("new"), clk.Now())
		got, err := s.SaveSession(t.Context(), in)
		if err != nil {
			t.Fatalf("SaveSession(version 0) = %v", err)
		}
		if got.Version != 1 {
			t.Errorf("saved Version = %d, want 1", got.Version)
		}
		want := in
		want.Version = 1
		if !reflect.DeepEqual(normSession(got), normSession(want)) {
			t.Errorf("SaveSession returned\n%+v\nwant\n%+v", got, want)
		}
		// Saving version 0 again is a conflict: a live session exists.
		if _, err := s.SaveSession(t.Context(), in); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second SaveSession(version 0) = %v, want ErrConflict", err)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		s := open(t, clk.Now)
		in := fullSession(user("roundtrip"), clk.Now())
		saved := mustSave(t, s, in)
		for name, st := range map[string]koe.Store{"same handle": s, "second handle": open(t, clk.Now)} {
			got, err := st.LoadSession(t.Context(), in.User)
			if err != nil {
				t.Fatalf("%s: LoadSession = %v", name, err)
			}
			if !reflect.DeepEqual(normSession(got), normSession(saved)) {
				t.Errorf("%s: LoadSession =\n%+v\nwant\n%+v", name, got, saved)
			}
		}
		// Update through the loaded value: every field may change.
		next := saved
		next.State = "confirm"
		next.Vars = map[string]string{"only": "this"}
		next.History = nil
		next.Applied = []string{"m-9"}
		next.Outbox = nil
		next.Invalid = 0
		next.UpdatedAt = clk.Now().Add(time.Minute)
		next2 := mustSave(t, s, next)
		if next2.Version != 2 {
			t.Errorf("Version after update = %d, want 2", next2.Version)
		}
		got, err := s.LoadSession(t.Context(), in.User)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normSession(got), normSession(next2)) {
			t.Errorf("after update LoadSession =\n%+v\nwant\n%+v", got, next2)
		}
	})

	t.Run("StaleSave", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		v1 := mustSave(t, s, newSession(user("stale"), clk.Now()))
		v2in := v1
		v2in.State = "second"
		v2 := mustSave(t, s, v2in)
		for _, tc := range []struct {
			name    string
			version int64
		}{
			{"zero over live", 0},
			{"older", 1},
			{"ahead", 3},
			{"far ahead", 99},
		} {
			stale := v2
			stale.Version = tc.version
			stale.State = "stale-" + tc.name
			stale.Vars = map[string]string{"stale": "yes"}
			if _, err := s.SaveSession(t.Context(), stale); !errors.Is(err, koe.ErrConflict) {
				t.Errorf("%s: SaveSession(version %d over 2) = %v, want ErrConflict", tc.name, tc.version, err)
			}
		}
		got, err := s.LoadSession(t.Context(), v2.User)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normSession(got), normSession(v2)) {
			t.Errorf("after stale saves LoadSession =\n%+v\nwant unchanged\n%+v", got, v2)
		}
	})

	t.Run("ConcurrentSavers", func(t *testing.T) {
		// Savers racing from the same version, on two handles: exactly one
		// wins each round and the stored session is the winner's.
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		handles := []koe.Store{open(t, clk.Now), open(t, clk.Now)}
		u := user("racer")
		cur := mustSave(t, handles[0], newSession(u, clk.Now()))
		const rounds, savers = 10, 6
		for r := range rounds {
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				winners []koe.Session
				others  []error
			)
			start := make(chan struct{})
			for i := range savers {
				wg.Go(func() {
					s := cur
					s.State = fmt.Sprintf("round%d-saver%d", r, i)
					<-start
					got, err := handles[i%len(handles)].SaveSession(t.Context(), s)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						winners = append(winners, got)
					case errors.Is(err, koe.ErrConflict):
					default:
						others = append(others, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(others) > 0 {
				t.Fatalf("round %d: unexpected errors: %v", r, others)
			}
			if len(winners) != 1 {
				t.Fatalf("round %d: %d savers won, want exactly 1", r, len(winners))
			}
			got, err := handles[1].LoadSession(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != winners[0].State || got.Version != cur.Version+1 {
				t.Fatalf("round %d: stored (state %q, version %d), want winner's (%q, %d)",
					r, got.State, got.Version, winners[0].State, cur.Version+1)
			}
			cur = got
		}
	})

	t.Run("Expiry", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("expiry")
		in := newSession(u, clk.Now())
		in.ExpiresAt = clk.Now().Add(30 * time.Minute)
		saved := mustSave(t, s, in)

		clk.Advance(30*time.Minute - time.Nanosecond)
		if _, err := s.LoadSession(t.Context(), u); err != nil {
			t.Fatalf("LoadSession just before ExpiresAt = %v, want the session", err)
		}
		clk.Advance(time.Nanosecond) // now == ExpiresAt: expired
		if _, err := s.LoadSession(t.Context(), u); !errors.Is(err, koe.ErrNotFound) {
			t.Fatalf("LoadSession at ExpiresAt = %v, want ErrNotFound", err)
		}
		clk.Advance(time.Hour)
		if _, err := s.LoadSession(t.Context(), u); !errors.Is(err, koe.ErrNotFound) {
			t.Fatalf("LoadSession after ExpiresAt = %v, want ErrNotFound", err)
		}
		// The expired session is gone: saving over its version conflicts…
		stale := saved
		stale.ExpiresAt = clk.Now().Add(time.Hour)
		if _, err := s.SaveSession(t.Context(), stale); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("SaveSession(version %d) over expired session = %v, want ErrConflict", stale.Version, err)
		}
		// …and a fresh session (version 0) takes its place.
		fresh := newSession(u, clk.Now())
		fresh.State = "fresh"
		got := mustSave(t, s, fresh)
		if got.Version != 1 {
			t.Errorf("fresh session over expired one: Version = %d, want 1", got.Version)
		}
		loaded, err := s.LoadSession(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.State != "fresh" || loaded.Version != 1 {
			t.Errorf("LoadSession = (state %q, version %d), want (\"fresh\", 1)", loaded.State, loaded.Version)
		}
	})

	t.Run("ExtendExpiry", func(t *testing.T) {
		// Saving moves the expiry to the new ExpiresAt.
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("extend")
		in := newSession(u, clk.Now())
		in.ExpiresAt = clk.Now().Add(10 * time.Minute)
		v1 := mustSave(t, s, in)
		clk.Advance(9 * time.Minute)
		v1.ExpiresAt = clk.Now().Add(10 * time.Minute)
		mustSave(t, s, v1)
		clk.Advance(9 * time.Minute) // past the first expiry, before the second
		if _, err := s.LoadSession(t.Context(), u); err != nil {
			t.Fatalf("LoadSession after extending = %v, want the session", err)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u, other := user("delete"), user("keep")
		mustSave(t, s, newSession(u, clk.Now()))
		mustSave(t, s, newSession(other, clk.Now()))
		if err := s.DeleteSession(t.Context(), u); err != nil {
			t.Fatalf("DeleteSession = %v", err)
		}
		if _, err := s.LoadSession(t.Context(), u); !errors.Is(err, koe.ErrNotFound) {
			t.Errorf("LoadSession after delete = %v, want ErrNotFound", err)
		}
		if _, err := s.LoadSession(t.Context(), other); err != nil {
			t.Errorf("other user's session after delete = %v, want it kept", err)
		}
		if err := s.DeleteSession(t.Context(), u); err != nil {
			t.Errorf("DeleteSession(missing) = %v, want nil", err)
		}
		if err := s.DeleteSession(t.Context(), user("never")); err != nil {
			t.Errorf("DeleteSession(never saved) = %v, want nil", err)
		}
		if got := mustSave(t, s, newSession(u, clk.Now())); got.Version != 1 {
			t.Errorf("save after delete: Version = %d, want 1", got.Version)
		}
	})

	t.Run("UsersAreIndependent", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		a, b := newSession(user("ind-a"), clk.Now()), newSession(user("ind-b"), clk.Now())
		a.State, b.State = "a-state", "b-state"
		mustSave(t, s, a)
		mustSave(t, s, b)
		for _, want := range []koe.Session{a, b} {
			got, err := s.LoadSession(t.Context(), want.User)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != want.State {
				t.Errorf("LoadSession(%s).State = %q, want %q", want.User.Hash(), got.State, want.State)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("cancel")
		mustSave(t, s, newSession(u, clk.Now()))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.LoadSession(ctx, u); !errors.Is(err, context.Canceled) {
			t.Errorf("LoadSession(cancelled) = %v, want context.Canceled", err)
		}
		if _, err := s.SaveSession(ctx, newSession(user("cancel-2"), clk.Now())); !errors.Is(err, context.Canceled) {
			t.Errorf("SaveSession(cancelled) = %v, want context.Canceled", err)
		}
		if err := s.DeleteSession(ctx, u); !errors.Is(err, context.Canceled) {
			t.Errorf("DeleteSession(cancelled) = %v, want context.Canceled", err)
		}
	})
}

func user(name string) koe.UserID { return koe.NewUserID(koe.ChannelLINE, "U"+name) }

// newSession is a minimal fresh session living for a day.
func newSession(u koe.UserID, now time.Time) koe.Session {
	return koe.Session{
		User:      u,
		Lang:      koe.Japanese,
		UpdatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// fullSession sets every field, including an outbox with a card.
func fullSession(u koe.UserID, now time.Time) koe.Session {
	return koe.Session{
		User:    u,
		Lang:    koe.English,
		Dialog:  "accident",
		State:   "ask_location",
		Vars:    map[string]string{"date": "2026-11-21", "injured": "no", "note": "ぶつけられました"},
		History: []string{"start", "ask_date", "ask_injured"},
		Invalid: 2,
		Applied: []string{"m-1", "m-2", "m-3"},
		Outbox: &koe.Outbound{
			ID:   "m-3",
			To:   u,
			Lang: koe.English,
			Replies: []koe.Reply{
				{Text: "Where did it happen?", QuickReplies: []koe.Action{
					{Kind: koe.ActionLocation, Label: "Send location"},
					{Kind: koe.ActionPostback, Label: "Skip", Data: "skip", Text: "Skip"},
					{Kind: koe.ActionDatetime, Label: "When", Data: "when", Picker: &koe.DatetimePicker{Mode: "datetime", Min: "2026-11-01T00:00"}},
				}},
				{Card: &koe.Card{
					AltText: "Summary", Title: "Report", Note: "draft", Urgent: true,
					Fields:  []koe.CardField{{Label: "Date", Value: "2026-11-21"}},
					Buttons: []koe.Action{{Kind: koe.ActionURI, Label: "Open", URL: "https://example.com/x"}},
				}},
			},
			RetryKey:      "3f1c2a9e-6b0d-4e7a-9c61-2b8f0d1e5a47",
			ReplyToken:    "reply-token-1",
			TokenIssuedAt: now.Add(-time.Second),
		},
		UpdatedAt: now,
		ExpiresAt: now.Add(24 * time.Hour),
	}
}

// normSession makes times comparable with reflect.DeepEqual (same instant,
// UTC, no monotonic reading).
func normSession(s koe.Session) koe.Session {
	s.UpdatedAt = s.UpdatedAt.UTC().Round(0)
	s.ExpiresAt = s.ExpiresAt.UTC().Round(0)
	if s.Outbox != nil {
		o := *s.Outbox
		o.TokenIssuedAt = o.TokenIssuedAt.UTC().Round(0)
		s.Outbox = &o
	}
	return s
}

func mustSave(t *testing.T, s koe.Store, sess koe.Session) koe.Session {
	t.Helper()
	got, err := s.SaveSession(t.Context(), sess)
	if err != nil {
		t.Fatalf("SaveSession(version %d) = %v", sess.Version, err)
	}
	if got.Version != sess.Version+1 {
		t.Fatalf("SaveSession(version %d) returned version %d, want %d", sess.Version, got.Version, sess.Version+1)
	}
	return got
}

package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// FollowFactory is Factory for a koe.FollowStore alone (a fake, or a
// backend seen through that port). Every call within one test returns a
// store over the same data.
type FollowFactory func(t *testing.T, now func() time.Time) koe.FollowStore

// TestFollow runs the koe.FollowStore conformance tests (TestFollowStore)
// on a backend.
func TestFollow(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestFollowStore(t, func(t *testing.T) FollowFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.FollowStore { return open(t, now) }
	}, f)
}

// TestFollowStore checks koe.FollowStore: unknown users follow, the newest
// record wins whatever the order of the calls.
//
// Choices the port's comments leave open, which the suite fixes: a record
// with the same time as the stored one replaces it; an invalid user is
// ErrInvalid for both methods. Every method given a cancelled context
// returns an error that wraps context.Canceled and changes nothing.
func TestFollowStore(t *testing.T, newStore func(t *testing.T) FollowFactory, f Features) {
	t.Run("UnknownFollows", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		if got := mustFollowing(t, s, user("fo-unknown")); !got {
			t.Errorf("Following(unknown) = false, want true")
		}
	})

	type set struct {
		following bool
		at        time.Time
	}
	for _, tc := range []struct {
		name string
		sets []set
		want bool
	}{
		{"unfollow", []set{{false, t0}}, false},
		{"follow", []set{{true, t0}}, true},
		{"unfollow then refollow", []set{{false, t0}, {true, t0.Add(time.Hour)}}, true},
		{"follow then unfollow", []set{{true, t0}, {false, t0.Add(time.Nanosecond)}}, false},
		{"older follow after unfollow", []set{{false, t0}, {true, t0.Add(-time.Nanosecond)}}, false},
		{"older unfollow after follow", []set{{true, t0}, {false, t0.Add(-time.Hour)}}, true},
		{"same time: the later call wins", []set{{true, t0}, {false, t0}}, false},
		{"out of order thrice", []set{{false, t0.Add(2 * time.Hour)}, {true, t0}, {true, t0.Add(time.Hour)}}, false},
	} {
		t.Run("Order/"+tc.name, func(t *testing.T) {
			t.Parallel()
			clk := NewClock(t0)
			open := newStore(t)
			u, other := user("fo-order"), user("fo-order-other")
			for _, st := range tc.sets {
				// Each record through a new handle, as replicas would.
				if err := open(t, clk.Now).SetFollowing(t.Context(), u, st.following, st.at); err != nil {
					t.Fatalf("SetFollowing(%v, %v) = %v", st.following, st.at, err)
				}
			}
			for name, s := range map[string]koe.FollowStore{"first handle": open(t, clk.Now), "second handle": open(t, clk.Now)} {
				if got := mustFollowing(t, s, u); got != tc.want {
					t.Errorf("%s: Following = %v, want %v", name, got, tc.want)
				}
				if got := mustFollowing(t, s, other); !got {
					t.Errorf("%s: Following(other user) = false, want true", name)
				}
			}
		})
	}

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		for _, u := range []koe.UserID{"", "U1"} {
			if err := s.SetFollowing(t.Context(), u, false, t0); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("SetFollowing(%q) = %v, want ErrInvalid", u, err)
			}
			if _, err := s.Following(t.Context(), u); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("Following(%q) = %v, want ErrInvalid", u, err)
			}
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		s := newStore(t)(t, NewClock(t0).Now)
		u := user("fo-ctx")
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := s.SetFollowing(ctx, u, false, t0); !errors.Is(err, context.Canceled) {
			t.Errorf("SetFollowing(cancelled) = %v, want context.Canceled", err)
		}
		if _, err := s.Following(ctx, u); !errors.Is(err, context.Canceled) {
			t.Errorf("Following(cancelled) = %v, want context.Canceled", err)
		}
		if got := mustFollowing(t, s, u); !got {
			t.Errorf("Following after a cancelled unfollow = false, want true")
		}
	})
}

func mustFollowing(t *testing.T, s koe.FollowStore, u koe.UserID) bool {
	t.Helper()
	got, err := s.Following(t.Context(), u)
	if err != nil {
		t.Fatalf("Following = %v", err)
	}
	return got
}

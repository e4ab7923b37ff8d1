// Package storetest is the conformance suite for koe.Store. Every backend
// (store/sqlite, store/redis) runs it from a few lines in its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Factory {
//			path := filepath.Join(t.TempDir(), "koe.db") // fresh, isolated data
//			return func(t *testing.T, now func() time.Time) koe.Store {
//				s, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: now})
//				if err != nil {
//					t.Fatal(err)
//				}
//				t.Cleanup(func() { s.Close() })
//				return s
//			}
//		}, storetest.Features{})
//	}
//
// The suite is the definition of correct behaviour: what it checks is what
// the koe.Inbox, koe.SessionStore and koe.Store doc comments promise, plus
// one choice those comments leave open and the dispatcher relies on: Claim
// hands out the users whose head message is oldest first, and returns the
// deliveries in the order their messages were appended.
//
// Time boundaries follow the session rule "expired when ExpiresAt is not
// after now": a lease taken at T with ttl d is live while now < T+d; a
// message released at T with retryAfter r is claimable when now >= T+r; an
// id accepted at T is deduplicated while now < T+DedupeWindow. Ack, Release
// and Bury return ErrConflict for any lease the store does not hold (lost,
// already acked, or made up). Every method given a cancelled context returns
// an error that wraps context.Canceled.
//
// Subtests call t.Parallel, so a backend's newBackend must be safe to call
// from parallel subtests (each call gets its own temp file or key prefix).
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// Factory opens a new handle onto one backend's data. Every call within one
// test returns a store over the same data (same file, same key prefix), so
// the suite can simulate a crash and restart by opening a second handle. now
// is the clock the store must use for session expiry, leases, retry delays
// and the dedupe window.
//
// The factory should register the handle's Close with t.Cleanup. The suite
// sometimes closes a handle itself first, so Close must tolerate being
// called twice (the cleanup may ignore the second call's error).
type Factory func(t *testing.T, now func() time.Time) koe.Store

// Features declares a backend's known differences from the full contract.
// A declared difference skips the tests that need it; the suite never
// branches on it.
type Features struct {
	// LeaseServerClock: queue leases run out by the server's clock, not by
	// the Factory's now (Redis Streams measure a pending entry's idle time
	// themselves), so the queue tests that expire a lease by advancing the
	// fake clock are skipped; the backend tests lease expiry itself with
	// real short leases.
	LeaseServerClock bool
}

// Run runs every group of the suite as subtests. newBackend is called once
// per subtest and must return a Factory over fresh, isolated data.
func Run(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	t.Run("Sessions", func(t *testing.T) { TestSessions(t, newBackend, f) })
	t.Run("Inbox", func(t *testing.T) { TestInbox(t, newBackend, f) })
	t.Run("Store", func(t *testing.T) { TestStore(t, newBackend, f) })
	t.Run("Reports", func(t *testing.T) { TestReports(t, newBackend, f) })
	t.Run("Queue", func(t *testing.T) { TestQueue(t, newBackend, f) })
	t.Run("Voices", func(t *testing.T) { TestVoices(t, newBackend, f) })
	t.Run("Cases", func(t *testing.T) { TestCases(t, newBackend, f) })
	t.Run("FAQLog", func(t *testing.T) { TestFAQLog(t, newBackend, f) })
	t.Run("Surveys", func(t *testing.T) { TestSurveys(t, newBackend, f) })
	t.Run("Follow", func(t *testing.T) { TestFollow(t, newBackend, f) })
}

// TestStore checks what koe.Store adds to the two ports: Ping and Close.
func TestStore(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		s := newBackend(t)(t, NewClock(t0).Now)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping = %v, want nil", err)
		}
	})
	t.Run("CloseKeepsWrites", func(t *testing.T) {
		// Writes that returned before Close are visible to the next handle.
		t.Parallel()
		open := newBackend(t)
		clk := NewClock(t0)
		s1 := open(t, clk.Now)
		u := user("close")
		mustAppend(t, s1, 3, msg("close-1", u), msg("close-2", u), msg("close-3", u))
		sess := mustSave(t, s1, newSession(u, clk.Now()))
		if err := s1.Close(); err != nil {
			t.Fatalf("Close = %v, want nil", err)
		}
		s2 := open(t, clk.Now)
		if n := mustDepth(t, s2); n != 3 {
			t.Errorf("Depth after reopen = %d, want 3", n)
		}
		got, err := s2.LoadSession(t.Context(), u)
		if err != nil {
			t.Fatalf("LoadSession after reopen: %v", err)
		}
		if got.Version != sess.Version {
			t.Errorf("Version after reopen = %d, want %d", got.Version, sess.Version)
		}
	})
}

// t0 is the suite's start of time: a fixed instant with nanoseconds, so
// backends that round timestamps fail the round-trip tests.
var t0 = time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC)

// Clock is a fake clock for stores under test. Its zero value is not
// usable; make one with NewClock. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock that reads start until it is advanced.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's current time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

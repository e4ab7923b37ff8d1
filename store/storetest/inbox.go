package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// ttl is the lease the inbox tests ask for unless a test says otherwise.
const ttl = 30 * time.Second

// TestInbox checks koe.Inbox: durability across handles, dedupe, per-user
// order, leases, release, dead letters and depth.
func TestInbox(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	t.Run("EmptyClaim", func(t *testing.T) {
		t.Parallel()
		s := newBackend(t)(t, NewClock(t0).Now)
		if got := mustClaim(t, s, "w1", 10); len(got) != 0 {
			t.Errorf("Claim on empty inbox = %d deliveries, want 0", len(got))
		}
		if n := mustDepth(t, s); n != 0 {
			t.Errorf("Depth of empty inbox = %d, want 0", n)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		// Every field of every kind of message survives append and claim,
		// also through a second handle.
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		s := open(t, clk.Now)
		in := fullMessages(clk.Now())
		mustAppend(t, s, len(in), in...)
		got := mustClaim(t, open(t, clk.Now), "w1", 100)
		if len(got) != len(in) {
			t.Fatalf("Claim = %d deliveries, want %d (one per user)", len(got), len(in))
		}
		leases := map[string]bool{}
		for i, d := range got {
			if !reflect.DeepEqual(normMessage(d.Message), normMessage(in[i])) {
				t.Errorf("delivery %d: Message =\n%+v\nwant\n%+v", i, d.Message, in[i])
			}
			if d.Attempt != 1 {
				t.Errorf("delivery %d: Attempt = %d, want 1", i, d.Attempt)
			}
			if d.Lease == "" || leases[d.Lease] {
				t.Errorf("delivery %d: Lease %q is empty or not unique", i, d.Lease)
			}
			leases[d.Lease] = true
		}
		for _, d := range got {
			mustAck(t, s, d)
		}
		if n := mustDepth(t, s); n != 0 {
			t.Errorf("Depth after acking all = %d, want 0", n)
		}
	})

	t.Run("AppendCountsNew", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		a, b := user("count-a"), user("count-b")
		for _, tc := range []struct {
			name string
			msgs []koe.Message
			want int
		}{
			{"none", nil, 0},
			{"three new", []koe.Message{msg("c1", a), msg("c2", a), msg("c3", b)}, 3},
			{"all seen", []koe.Message{msg("c1", a), msg("c3", b)}, 0},
			{"one new among seen", []koe.Message{msg("c2", a), msg("c4", b), msg("c3", b)}, 1},
			{"same id twice in one call", []koe.Message{msg("c5", a), msg("c5", a), msg("c6", b)}, 2},
		} {
			n, err := s.Append(t.Context(), tc.msgs...)
			if err != nil {
				t.Fatalf("%s: Append = %v", tc.name, err)
			}
			if n != tc.want {
				t.Errorf("%s: Append added %d, want %d", tc.name, n, tc.want)
			}
		}
		if n := mustDepth(t, s); n != 6 {
			t.Errorf("Depth = %d, want 6", n)
		}
		// Each id is delivered exactly once, in append order per user.
		want := map[koe.UserID][]string{a: {"c1", "c2", "c5"}, b: {"c3", "c4", "c6"}}
		if got := drain(t, s, 20); !reflect.DeepEqual(got, want) {
			t.Errorf("delivered %v, want %v", got, want)
		}
	})

	t.Run("DedupeAfterAckAndBury", func(t *testing.T) {
		// An id stays known after its message is acked or buried, across
		// handles, until DedupeWindow has passed.
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		s := open(t, clk.Now)
		u, v := user("dedupe-u"), user("dedupe-v")
		mustAppend(t, s, 2, msg("d1", u), msg("d2", v))
		ds := mustClaim(t, s, "w1", 10)
		if len(ds) != 2 {
			t.Fatalf("Claim = %d deliveries, want 2", len(ds))
		}
		mustAck(t, s, ds[0])
		if err := s.Bury(t.Context(), ds[1], "test"); err != nil {
			t.Fatalf("Bury = %v", err)
		}
		s2 := open(t, clk.Now)
		clk.Advance(koe.DedupeWindow - time.Minute)
		mustAppend(t, s2, 0, msg("d1", u), msg("d2", v))
		if got := mustClaim(t, s2, "w1", 10); len(got) != 0 {
			t.Errorf("Claim after re-appending acked/buried ids = %d deliveries, want 0", len(got))
		}
		if n := mustDepth(t, s2); n != 0 {
			t.Errorf("Depth = %d, want 0", n)
		}
		// After the window the ids are forgotten and accepted again.
		clk.Advance(2 * time.Minute)
		mustAppend(t, s2, 2, msg("d1", u), msg("d2", v))
		got := mustClaim(t, s2, "w1", 10)
		if ids := messageIDs(got); !reflect.DeepEqual(ids, []string{"d1", "d2"}) {
			t.Errorf("Claim after the dedupe window = %v, want [d1 d2]", ids)
		}
	})

	t.Run("DedupePending", func(t *testing.T) {
		// A redelivery of a message that is still pending (or leased) is
		// skipped, not queued a second time.
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("pend")
		mustAppend(t, s, 2, msg("p1", u), msg("p2", u))
		ds := mustClaim(t, s, "w1", 10)
		mustAppend(t, s, 0, msg("p1", u), msg("p2", u))
		if n := mustDepth(t, s); n != 2 {
			t.Errorf("Depth = %d, want 2", n)
		}
		mustAck(t, s, ds[0])
		if got := messageIDs(mustClaim(t, s, "w1", 10)); !reflect.DeepEqual(got, []string{"p2"}) {
			t.Errorf("Claim after ack = %v, want [p2]", got)
		}
	})

	t.Run("PerUserOrder", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		s1, s2 := open(t, clk.Now), open(t, clk.Now)
		a, b := user("order-a"), user("order-b")
		mustAppend(t, s1, 5, msg("a1", a), msg("b1", b), msg("a2", a), msg("a3", a), msg("b2", b))

		first := mustClaim(t, s1, "w1", 10)
		if ids := messageIDs(first); !reflect.DeepEqual(ids, []string{"a1", "b1"}) {
			t.Fatalf("first Claim = %v, want [a1 b1] (each user's oldest, oldest first)", ids)
		}
		// Both users are leased: nothing for anyone, on any handle.
		for _, c := range []struct {
			name  string
			s     koe.Store
			owner string
		}{{"same owner", s1, "w1"}, {"other owner", s1, "w2"}, {"other handle", s2, "w3"}} {
			if got := mustClaim(t, c.s, c.owner, 10); len(got) != 0 {
				t.Errorf("%s: Claim while both users are leased = %v, want none", c.name, messageIDs(got))
			}
		}
		mustAck(t, s2, first[0]) // ack through the other handle
		a2 := mustClaim(t, s2, "w3", 10)
		if got := messageIDs(a2); !reflect.DeepEqual(got, []string{"a2"}) {
			t.Fatalf("Claim after acking a1 = %v, want [a2]", got)
		}
		mustAck(t, s1, first[1])
		// a2 is still leased by w3, so only b proceeds.
		if got := drain(t, s1, 10); !reflect.DeepEqual(got, map[koe.UserID][]string{b: {"b2"}}) {
			t.Errorf("drain while a2 is leased = %v, want only b2", got)
		}
		mustAck(t, s1, a2[0])
		if got := drain(t, s1, 10); !reflect.DeepEqual(got, map[koe.UserID][]string{a: {"a3"}}) {
			t.Errorf("drain after acking a2 = %v, want only a3", got)
		}
	})

	t.Run("OldestUsersFirst", func(t *testing.T) {
		// With more ready users than max, the users whose head message is
		// oldest are served first, and deliveries come oldest first.
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		var msgs []koe.Message
		for i := range 5 {
			msgs = append(msgs, msg(fmt.Sprintf("o%d", i), user(fmt.Sprintf("oldest-%d", i))))
		}
		mustAppend(t, s, 3, msgs[2], msgs[0], msgs[4])
		mustAppend(t, s, 2, msgs[1], msgs[3])
		for _, want := range [][]string{{"o2", "o0"}, {"o4", "o1"}, {"o3"}, nil} {
			got := messageIDs(mustClaim(t, s, "w1", 2))
			if !slices.Equal(got, want) {
				t.Fatalf("Claim(max 2) = %v, want %v", got, want)
			}
		}
	})

	t.Run("ClaimMax", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		var msgs []koe.Message
		for i := range 7 {
			u := user(fmt.Sprintf("max-%d", i))
			msgs = append(msgs, msg(fmt.Sprintf("x%d-1", i), u), msg(fmt.Sprintf("x%d-2", i), u))
		}
		mustAppend(t, s, len(msgs), msgs...)
		for _, tc := range []struct{ max, want int }{{1, 1}, {3, 3}, {10, 3}, {10, 0}} {
			if got := mustClaim(t, s, "w1", tc.max); len(got) != tc.want {
				t.Errorf("Claim(max %d) = %d deliveries, want %d", tc.max, len(got), tc.want)
			}
		}
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("lease")
		mustAppend(t, s, 2, msg("l1", u), msg("l2", u))
		d1 := mustClaimOne(t, s, "w1", "l1", 1)

		clk.Advance(ttl - time.Second)
		if got := mustClaim(t, s, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim before the lease ran out = %v, want none", messageIDs(got))
		}
		clk.Advance(2 * time.Second)
		d2 := mustClaimOne(t, s, "w2", "l1", 2)
		if d2.Lease == d1.Lease {
			t.Errorf("redelivery reused lease %q", d1.Lease)
		}
		// The first owner lost its lease.
		for name, op := range map[string]func() error{
			"Ack":     func() error { return s.Ack(t.Context(), d1) },
			"Release": func() error { return s.Release(t.Context(), d1, 0) },
			"Bury":    func() error { return s.Bury(t.Context(), d1, "lost") },
		} {
			if err := op(); !errors.Is(err, koe.ErrConflict) {
				t.Errorf("%s with a lost lease = %v, want ErrConflict", name, err)
			}
		}
		// A third expiry gives Attempt 3.
		clk.Advance(ttl + time.Second)
		d3 := mustClaimOne(t, s, "w3", "l1", 3)
		mustAck(t, s, d3)
		if err := s.Ack(t.Context(), d3); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second Ack = %v, want ErrConflict", err)
		}
		if err := s.Ack(t.Context(), d2); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("Ack of an acked message with an old lease = %v, want ErrConflict", err)
		}
		mustClaimOne(t, s, "w1", "l2", 1)
		if n := mustDepth(t, s); n != 1 {
			t.Errorf("Depth = %d, want 1", n)
		}
	})

	t.Run("ForgedLease", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("forged")
		mustAppend(t, s, 1, msg("f1", u))
		d := mustClaimOne(t, s, "w1", "f1", 1)
		forged := d
		forged.Lease = d.Lease + "-not"
		if err := s.Ack(t.Context(), forged); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("Ack with a wrong lease = %v, want ErrConflict", err)
		}
		mustAck(t, s, d)
		never := koe.Delivery{Message: msg("never-appended", u), Attempt: 1, Lease: "made-up", Seq: 12345}
		if err := s.Ack(t.Context(), never); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("Ack of a message never appended = %v, want ErrConflict", err)
		}
	})

	t.Run("CrashAndRestart", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		u := user("crash")

		s1 := open(t, clk.Now)
		mustAppend(t, s1, 2, msg("k1", u), msg("k2", u))
		if err := s1.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}

		s2 := open(t, clk.Now)
		lost := mustClaimOne(t, s2, "w-dead", "k1", 1)
		// s2 "crashes": it never acks. A new process starts.
		s3 := open(t, clk.Now)
		if got := mustClaim(t, s3, "w-new", 10); len(got) != 0 {
			t.Fatalf("Claim while the dead owner's lease is live = %v, want none", messageIDs(got))
		}
		clk.Advance(ttl)
		d := mustClaimOne(t, s3, "w-new", "k1", 2)
		mustAck(t, s3, d)
		if err := s2.Ack(t.Context(), lost); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("late Ack from the dead owner = %v, want ErrConflict", err)
		}
		mustAck(t, s3, mustClaimOne(t, s3, "w-new", "k2", 1))
		if n := mustDepth(t, s3); n != 0 {
			t.Errorf("Depth = %d, want 0", n)
		}
	})

	t.Run("Release", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		a, b := user("rel-a"), user("rel-b")
		mustAppend(t, s, 3, msg("r1", a), msg("r2", a), msg("s1", b))
		ds := mustClaim(t, s, "w1", 10)
		if ids := messageIDs(ds); !reflect.DeepEqual(ids, []string{"r1", "s1"}) {
			t.Fatalf("Claim = %v, want [r1 s1]", ids)
		}
		if err := s.Release(t.Context(), ds[0], time.Minute); err != nil {
			t.Fatalf("Release = %v", err)
		}
		mustAck(t, s, ds[1])
		mustAppend(t, s, 1, msg("s2", b))
		// a is held back (neither r1 nor r2); b proceeds.
		ds2 := mustClaim(t, s, "w2", 10)
		if got := messageIDs(ds2); !reflect.DeepEqual(got, []string{"s2"}) {
			t.Fatalf("Claim during retryAfter = %v, want [s2]", got)
		}
		mustAck(t, s, ds2[0])
		if err := s.Release(t.Context(), ds[0], 0); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second Release of the same lease = %v, want ErrConflict", err)
		}
		clk.Advance(time.Minute - time.Second)
		if got := mustClaim(t, s, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim before retryAfter passed = %v, want none", messageIDs(got))
		}
		clk.Advance(time.Second)
		d := mustClaimOne(t, s, "w2", "r1", 2)
		// Release with no delay: claimable at once, at the head.
		if err := s.Release(t.Context(), d, 0); err != nil {
			t.Fatalf("Release(0) = %v", err)
		}
		d = mustClaimOne(t, s, "w3", "r1", 3)
		mustAck(t, s, d)
		mustClaimOne(t, s, "w3", "r2", 1)
		if n := mustDepth(t, s); n != 1 { // r2, leased
			t.Errorf("Depth = %d, want 1", n)
		}
	})

	t.Run("Bury", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newBackend(t)
		s := open(t, clk.Now)
		u := user("bury")
		mustAppend(t, s, 2, msg("b1", u), msg("b2", u))
		d := mustClaimOne(t, s, "w1", "b1", 1)
		if err := s.Bury(t.Context(), d, "handler failed 5 times"); err != nil {
			t.Fatalf("Bury = %v", err)
		}
		if n := mustDepth(t, s); n != 1 {
			t.Errorf("Depth after Bury = %d, want 1", n)
		}
		if err := s.Bury(t.Context(), d, "again"); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second Bury = %v, want ErrConflict", err)
		}
		next := mustClaimOne(t, open(t, clk.Now), "w2", "b2", 1)
		mustAck(t, s, next)
		clk.Advance(ttl * 10)
		if got := mustClaim(t, s, "w1", 10); len(got) != 0 {
			t.Errorf("Claim after Bury and Ack = %v, want none (the buried message must not return)", messageIDs(got))
		}
	})

	t.Run("Depth", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		a, b := user("depth-a"), user("depth-b")
		mustAppend(t, s, 4, msg("e1", a), msg("e2", a), msg("e3", b), msg("e4", b))
		steps := []struct {
			name string
			do   func()
			want int
		}{
			{"appended", func() {}, 4},
			{"claimed (leased is still pending)", func() { mustClaim(t, s, "w1", 10) }, 4},
		}
		for _, st := range steps {
			st.do()
			if n := mustDepth(t, s); n != st.want {
				t.Errorf("%s: Depth = %d, want %d", st.name, n, st.want)
			}
		}
		clk.Advance(ttl)
		ds := mustClaim(t, s, "w2", 10) // e1, e3 again
		if len(ds) != 2 {
			t.Fatalf("re-Claim = %d, want 2", len(ds))
		}
		mustAck(t, s, ds[0])
		if n := mustDepth(t, s); n != 3 {
			t.Errorf("after Ack: Depth = %d, want 3", n)
		}
		if err := s.Release(t.Context(), ds[1], time.Hour); err != nil {
			t.Fatal(err)
		}
		if n := mustDepth(t, s); n != 3 {
			t.Errorf("after Release: Depth = %d, want 3", n)
		}
		if err := s.Bury(t.Context(), mustClaimOne(t, s, "w1", "e2", 1), "x"); err != nil {
			t.Fatal(err)
		}
		if n := mustDepth(t, s); n != 2 {
			t.Errorf("after Bury: Depth = %d, want 2", n)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		s := newBackend(t)(t, clk.Now)
		u := user("ctx")
		mustAppend(t, s, 1, msg("ctx1", u))
		d := mustClaimOne(t, s, "w1", "ctx1", 1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		ops := []struct {
			name string
			do   func() error
		}{
			{"Append", func() error { _, err := s.Append(ctx, msg("ctx2", u)); return err }},
			{"Claim", func() error { _, err := s.Claim(ctx, "w1", 1, ttl); return err }},
			{"Ack", func() error { return s.Ack(ctx, d) }},
			{"Release", func() error { return s.Release(ctx, d, 0) }},
			{"Bury", func() error { return s.Bury(ctx, d, "x") }},
			{"Depth", func() error { _, err := s.Depth(ctx); return err }},
			{"Ping", func() error { return s.Ping(ctx) }},
		}
		for _, op := range ops {
			if err := op.do(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s(cancelled) = %v, want context.Canceled", op.name, err)
			}
		}
		// The lease is still held: the cancelled Ack did not ack.
		mustAck(t, s, d)
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		testConcurrent(t, newBackend)
	})
}

// testConcurrent appends many users' messages from several goroutines while
// several owners, each on its own handle, claim and ack. It checks that every
// message is delivered once, each user's messages in order, and never two
// of one user's messages leased at the same time.
func testConcurrent(t *testing.T, newBackend func(t *testing.T) Factory) {
	const (
		users    = 24
		perUser  = 20
		total    = users * perUser
		owners   = 4
		appender = 3
	)
	clk := NewClock(t0)
	open := newBackend(t)
	uid := func(i int) koe.UserID { return user(fmt.Sprintf("conc-%02d", i)) }
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var (
		mu         sync.Mutex
		held       = map[koe.UserID]string{} // user → message id under lease
		ackStarted = map[koe.UserID]int{}    // user → acks begun
		delivered  = map[koe.UserID][]string{}
		violations []string
		done       atomic.Int64
		wg         sync.WaitGroup
		errs       = make(chan error, owners+appender)
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(violations) < 20 {
			violations = append(violations, fmt.Sprintf(format, args...))
		}
	}

	// Appenders: appender k owns users k, k+appender, …; it appends their
	// messages in rounds, so users interleave and batches vary in size.
	for k := range appender {
		s := open(t, clk.Now)
		wg.Go(func() {
			for m := range perUser {
				var batch []koe.Message
				for i := k; i < users; i += appender {
					batch = append(batch, msg(fmt.Sprintf("conc-%02d-%03d", i, m), uid(i)))
				}
				n, err := s.Append(ctx, batch...)
				if err != nil {
					errs <- fmt.Errorf("Append: %w", err)
					return
				}
				if n != len(batch) {
					errs <- fmt.Errorf("Append added %d of %d new messages", n, len(batch))
					return
				}
			}
		})
	}

	for o := range owners {
		s := open(t, clk.Now)
		owner := fmt.Sprintf("owner-%d", o)
		wg.Go(func() {
			for done.Load() < total {
				if ctx.Err() != nil {
					errs <- fmt.Errorf("%s: gave up with %d of %d delivered: %w", owner, done.Load(), total, ctx.Err())
					return
				}
				ds, err := s.Claim(ctx, owner, 5, time.Hour)
				if err != nil {
					errs <- fmt.Errorf("Claim: %w", err)
					return
				}
				if len(ds) == 0 {
					time.Sleep(time.Millisecond) // poll
					continue
				}
				for _, d := range ds {
					u, id := d.Message.User, d.Message.ID
					mu.Lock()
					if h, ok := held[u]; ok {
						violations = append(violations, fmt.Sprintf("%s claimed %s while %s of the same user is leased", owner, id, h))
					}
					if want := fmt.Sprintf("%s-%03d", string(u)[len("line:U"):], ackStarted[u]); id != want {
						violations = append(violations, fmt.Sprintf("%s claimed %s, want %s next for that user", owner, id, want))
					}
					if d.Attempt != 1 {
						violations = append(violations, fmt.Sprintf("%s: Attempt = %d, want 1", id, d.Attempt))
					}
					held[u] = id
					delivered[u] = append(delivered[u], id)
					mu.Unlock()
				}
				for _, d := range ds {
					mu.Lock()
					delete(held, d.Message.User)
					ackStarted[d.Message.User]++
					mu.Unlock()
					if err := s.Ack(ctx, d); err != nil {
						fail("%s: Ack(%s) = %v", owner, d.Message.ID, err)
					}
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, v := range violations {
		t.Error(v)
	}
	for i := range users {
		u := uid(i)
		want := make([]string, perUser)
		for m := range want {
			want[m] = fmt.Sprintf("conc-%02d-%03d", i, m)
		}
		if got := delivered[u]; !slices.Equal(got, want) {
			t.Errorf("user %d: delivered %v, want %v", i, got, want)
		}
	}
	if n := mustDepth(t, open(t, clk.Now)); n != 0 {
		t.Errorf("Depth after everything was acked = %d, want 0", n)
	}
}

// msg is a text message from u.
func msg(id string, u koe.UserID) koe.Message {
	return koe.Message{ID: id, User: u, Kind: koe.KindText, Text: "text of " + id, SentAt: t0}
}

// fullMessages returns one message of every kind, each from its own user,
// with every field set somewhere.
func fullMessages(now time.Time) []koe.Message {
	return []koe.Message{
		{ID: "evt-text", User: user("rt-text"), Kind: koe.KindText, Text: "車をぶつけてしまいました 🚗", ReplyToken: "rt-1", SentAt: now.Add(-time.Second), Redelivery: true},
		{ID: "evt-postback", User: user("rt-postback"), Kind: koe.KindPostback, ReplyToken: "rt-2", SentAt: now,
			Postback: &koe.Postback{Data: "action=date&step=2", Params: map[string]string{"datetime": "2026-11-21T14:00"}}},
		{ID: "evt-location", User: user("rt-location"), Kind: koe.KindLocation, SentAt: now,
			Location: &koe.Location{Title: "交差点", Address: "東京都千代田区1-1", Latitude: 35.681236, Longitude: 139.767125}},
		{ID: "evt-image", User: koe.NewUserID(koe.ChannelConsole, "alice"), Kind: koe.KindImage, SentAt: now,
			Image: &koe.Image{ContentID: "5551234", Path: "/tmp/photo.jpg"}},
		{ID: "evt-sticker", User: user("rt-sticker"), Kind: koe.KindSticker, SentAt: now,
			Sticker: &koe.Sticker{PackageID: "446", StickerID: "1988", Keywords: []string{"happy", "thanks"}}},
		{ID: "evt-follow", User: user("rt-follow"), Kind: koe.KindFollow, SentAt: now},
		{ID: "evt-unfollow", User: user("rt-unfollow"), Kind: koe.KindUnfollow, SentAt: now},
	}
}

func normMessage(m koe.Message) koe.Message {
	m.SentAt = m.SentAt.UTC().Round(0)
	return m
}

func messageIDs(ds []koe.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.Message.ID)
	}
	return ids
}

func mustAppend(t *testing.T, s koe.Store, want int, msgs ...koe.Message) {
	t.Helper()
	n, err := s.Append(t.Context(), msgs...)
	if err != nil {
		t.Fatalf("Append = %v", err)
	}
	if n != want {
		t.Fatalf("Append added %d, want %d", n, want)
	}
}

func mustClaim(t *testing.T, s koe.Store, owner string, max int) []koe.Delivery {
	t.Helper()
	ds, err := s.Claim(t.Context(), owner, max, ttl)
	if err != nil {
		t.Fatalf("Claim = %v", err)
	}
	if len(ds) > max {
		t.Fatalf("Claim(max %d) returned %d deliveries", max, len(ds))
	}
	return ds
}

// mustClaimOne claims and expects exactly the message id at the attempt.
func mustClaimOne(t *testing.T, s koe.Store, owner, id string, attempt int) koe.Delivery {
	t.Helper()
	ds := mustClaim(t, s, owner, 10)
	if len(ds) != 1 || ds[0].Message.ID != id {
		t.Fatalf("Claim = %v, want [%s]", messageIDs(ds), id)
	}
	if ds[0].Attempt != attempt {
		t.Fatalf("Claim(%s).Attempt = %d, want %d", id, ds[0].Attempt, attempt)
	}
	if ds[0].Lease == "" {
		t.Fatalf("Claim(%s).Lease is empty", id)
	}
	return ds[0]
}

func mustAck(t *testing.T, s koe.Store, d koe.Delivery) {
	t.Helper()
	if err := s.Ack(t.Context(), d); err != nil {
		t.Fatalf("Ack(%s) = %v", d.Message.ID, err)
	}
}

func mustDepth(t *testing.T, s koe.Store) int {
	t.Helper()
	n, err := s.Depth(t.Context())
	if err != nil {
		t.Fatalf("Depth = %v", err)
	}
	return n
}

// drain claims and acks until nothing is ready, returning each user's
// delivered ids in order. It gives up after limit rounds.
func drain(t *testing.T, s koe.Store, limit int) map[koe.UserID][]string {
	t.Helper()
	got := map[koe.UserID][]string{}
	for range limit {
		ds := mustClaim(t, s, "drain", 100)
		if len(ds) == 0 {
			return got
		}
		for _, d := range ds {
			got[d.Message.User] = append(got[d.Message.User], d.Message.ID)
			mustAck(t, s, d)
		}
	}
	t.Fatalf("drain: still messages after %d rounds", limit)
	return got
}

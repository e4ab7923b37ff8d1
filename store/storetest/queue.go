package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/koehq/koe"
)

// QueueFactory is Factory for a koe.Queue alone (a fake, or a backend seen
// through that port). Every call within one test returns a queue over the
// same data.
type QueueFactory func(t *testing.T, now func() time.Time) koe.Queue

// TestQueue runs the koe.Queue conformance tests on a backend.
func TestQueue(t *testing.T, newBackend func(t *testing.T) Factory, f Features) {
	TestQueuePort(t, func(t *testing.T) QueueFactory {
		open := newBackend(t)
		return func(t *testing.T, now func() time.Time) koe.Queue { return open(t, now) }
	}, f)
}

// TestQueuePort checks koe.Queue: dedupe by Job.ID, leases, redelivery,
// retries, dead letters and stats.
//
// Choices the port's comments leave open, which the suite fixes: a job
// needs an ID and a Kind (ErrInvalid otherwise, nothing stored); a job that
// was dead-lettered is remembered for DedupeWindow like a completed one;
// Claim hands out jobs in no particular order, returns an empty slice when
// nothing is ready or max is not positive, and refuses a ttl that is not
// positive with ErrInvalid; a lease that ran out but whose job nobody
// claimed again is still its holder's (a late Complete counts); Complete,
// Retry and DeadLetter return ErrConflict for any lease the queue does not
// hold (lost, already used, or made up). QueueStats counts every job not
// yet completed or dead-lettered (ready, leased or waiting for a retry) and
// measures the oldest one's age from when it was enqueued (by the queue's
// clock, to the millisecond; Job.Created is not used). Time boundaries are
// those of the inbox, to the millisecond: a lease taken at T with ttl d is
// live while now < T+d; a retry at T with delay r is claimable when
// now >= T+r; a job with NotBefore N is claimable when now >= N (and at
// once when N is zero or past); an ID finished at T is skipped while now < T+DedupeWindow.
// Every method given a cancelled context returns an error that wraps
// context.Canceled.
func TestQueuePort(t *testing.T, newQueue func(t *testing.T) QueueFactory, f Features) {
	skipServerClock := func(t *testing.T) {
		t.Helper()
		if f.LeaseServerClock {
			t.Skip("lease expiry follows the server's clock (Features.LeaseServerClock)")
		}
	}

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)(t, NewClock(t0).Now)
		if got := mustClaimJobs(t, q, "w1", 10); len(got) != 0 {
			t.Errorf("Claim on empty queue = %d deliveries, want 0", len(got))
		}
		if depth, oldest := mustStats(t, q); depth != 0 || oldest != 0 {
			t.Errorf("QueueStats of empty queue = %d, %v; want 0, 0", depth, oldest)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		// Every field of a job survives enqueue and claim, also through a
		// second handle.
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q := open(t, clk.Now)
		in := []koe.Job{
			{ID: "rt-1", Kind: "accident.alert", Ref: "AR-20261122-7F3K",
				Attrs: map[string]string{"channel": "C0ACC", "note": "事故連絡", "empty": ""}, Created: clk.Now().Add(-time.Second)},
			{ID: "rt-2", Kind: "case.reminder", Created: clk.Now()},
			{ID: "rt-3", Kind: "customer.push", Ref: "C-1"},
		}
		mustEnqueue(t, q, len(in), in...)
		got := mustClaimJobs(t, open(t, clk.Now), "w1", 10)
		if len(got) != len(in) {
			t.Fatalf("Claim = %d deliveries, want %d", len(got), len(in))
		}
		byID := map[string]koe.JobDelivery{}
		leases := map[string]bool{}
		for _, d := range got {
			byID[d.Job.ID] = d
			if d.Attempt != 1 {
				t.Errorf("%s: Attempt = %d, want 1", d.Job.ID, d.Attempt)
			}
			if d.Lease == "" || leases[d.Lease] {
				t.Errorf("%s: Lease %q is empty or not unique", d.Job.ID, d.Lease)
			}
			leases[d.Lease] = true
		}
		for _, j := range in {
			d, ok := byID[j.ID]
			if !ok {
				t.Errorf("job %s not delivered", j.ID)
				continue
			}
			if !reflect.DeepEqual(normJob(d.Job), normJob(j)) {
				t.Errorf("job %s =\n%+v\nwant\n%+v", j.ID, d.Job, j)
			}
		}
		for _, d := range got {
			mustComplete(t, q, d)
		}
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("QueueStats depth after completing all = %d, want 0", depth)
		}
		if got := mustClaimJobs(t, q, "w1", 10); len(got) != 0 {
			t.Errorf("Claim after completing all = %d deliveries, want 0", len(got))
		}
	})

	t.Run("EnqueueCountsNew", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)(t, NewClock(t0).Now)
		for _, tc := range []struct {
			name string
			jobs []koe.Job
			want int
		}{
			{"none", nil, 0},
			{"three new", []koe.Job{job("e1"), job("e2"), job("e3")}, 3},
			{"all pending", []koe.Job{job("e1"), job("e3")}, 0},
			{"one new among pending", []koe.Job{job("e2"), job("e4"), job("e3")}, 1},
			{"same id twice in one call", []koe.Job{job("e5"), job("e5"), job("e6")}, 2},
		} {
			n, err := q.Enqueue(t.Context(), tc.jobs...)
			if err != nil {
				t.Fatalf("%s: Enqueue = %v", tc.name, err)
			}
			if n != tc.want {
				t.Errorf("%s: Enqueue added %d, want %d", tc.name, n, tc.want)
			}
		}
		if depth, _ := mustStats(t, q); depth != 6 {
			t.Errorf("depth = %d, want 6", depth)
		}
		// Each job is delivered once.
		got := jobIDs(mustClaimJobs(t, q, "w1", 100))
		if want := []string{"e1", "e2", "e3", "e4", "e5", "e6"}; !reflect.DeepEqual(got, want) {
			t.Errorf("delivered %v, want %v", got, want)
		}
	})

	t.Run("EnqueueWhileLeasedOrDelayed", func(t *testing.T) {
		// A job that is leased or waiting for a retry is still pending.
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		mustEnqueue(t, q, 2, job("p1"), job("p2"))
		ds := mustClaimJobs(t, q, "w1", 10)
		if len(ds) != 2 {
			t.Fatalf("Claim = %d, want 2", len(ds))
		}
		mustRetry(t, q, ds[0], time.Hour)
		mustEnqueue(t, q, 0, job("p1"), job("p2"))
		if depth, _ := mustStats(t, q); depth != 2 {
			t.Errorf("depth = %d, want 2", depth)
		}
	})

	t.Run("DedupeWindow", func(t *testing.T) {
		// An ID stays known after its job is completed or dead-lettered,
		// across handles, until DedupeWindow has passed.
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q := open(t, clk.Now)
		mustEnqueue(t, q, 2, job("w1"), job("w2"))
		ds := mustClaimJobs(t, q, "c", 10)
		if len(ds) != 2 {
			t.Fatalf("Claim = %d, want 2", len(ds))
		}
		byID := map[string]koe.JobDelivery{}
		for _, d := range ds {
			byID[d.Job.ID] = d
		}
		mustComplete(t, q, byID["w1"])
		if err := q.DeadLetter(t.Context(), byID["w2"], "test"); err != nil {
			t.Fatalf("DeadLetter = %v", err)
		}
		q2 := open(t, clk.Now)
		mustEnqueue(t, q2, 0, job("w1"), job("w2"))
		clk.Advance(koe.DedupeWindow - time.Second)
		mustEnqueue(t, q2, 0, job("w1"), job("w2"))
		clk.Advance(time.Second)
		mustEnqueue(t, q2, 2, job("w1"), job("w2"))
		ds = mustClaimJobs(t, q2, "c", 10)
		if got := jobIDs(ds); !reflect.DeepEqual(got, []string{"w1", "w2"}) {
			t.Errorf("after the window: delivered %v, want [w1 w2]", got)
		}
		for _, d := range ds {
			if d.Attempt != 1 {
				t.Errorf("re-enqueued %s: Attempt = %d, want 1", d.Job.ID, d.Attempt)
			}
		}
	})

	t.Run("ClaimMax", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)(t, NewClock(t0).Now)
		mustEnqueue(t, q, 5, job("m1"), job("m2"), job("m3"), job("m4"), job("m5"))
		seen := map[string]bool{}
		for _, tc := range []struct{ max, want int }{{0, 0}, {-1, 0}, {2, 2}, {1, 1}, {10, 2}, {10, 0}} {
			ds := mustClaimJobs(t, q, "w1", tc.max)
			if len(ds) != tc.want {
				t.Errorf("Claim(max %d) = %d deliveries, want %d", tc.max, len(ds), tc.want)
			}
			for _, d := range ds {
				if seen[d.Job.ID] {
					t.Errorf("job %s delivered twice", d.Job.ID)
				}
				seen[d.Job.ID] = true
			}
		}
		if len(seen) != 5 {
			t.Errorf("delivered %d distinct jobs, want 5", len(seen))
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		t.Parallel()
		q := newQueue(t)(t, NewClock(t0).Now)
		for _, tc := range []struct {
			name string
			jobs []koe.Job
		}{
			{"no id", []koe.Job{job("ok-1"), {Kind: "k"}}},
			{"no kind", []koe.Job{job("ok-2"), {ID: "x"}}},
		} {
			if n, err := q.Enqueue(t.Context(), tc.jobs...); !errors.Is(err, koe.ErrInvalid) || n != 0 {
				t.Errorf("%s: Enqueue = %d, %v; want 0, ErrInvalid", tc.name, n, err)
			}
		}
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("depth after refused enqueues = %d, want 0 (nothing written)", depth)
		}
		for _, ttl := range []time.Duration{0, -time.Second} {
			if _, err := q.ClaimJobs(t.Context(), "w1", 1, ttl); !errors.Is(err, koe.ErrInvalid) {
				t.Errorf("Claim(ttl %v) = %v, want ErrInvalid", ttl, err)
			}
		}
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		// A lease is live while now < T+ttl; then the job is handed out
		// again with a higher Attempt and the old lease is lost.
		skipServerClock(t)
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q := open(t, clk.Now)
		mustEnqueue(t, q, 1, job("l1"))
		d1 := mustClaimJob(t, q, "w1", "l1", 1)
		q2 := open(t, clk.Now)
		clk.Advance(ttl - time.Millisecond)
		if got := mustClaimJobs(t, q2, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim before the lease ran out = %v, want none", jobIDs(got))
		}
		clk.Advance(time.Millisecond)
		d2 := mustClaimJob(t, q2, "w2", "l1", 2)
		if d2.Lease == d1.Lease {
			t.Errorf("redelivery has the old lease %q", d1.Lease)
		}
		for name, op := range map[string]func() error{
			"Complete":   func() error { return q.Complete(t.Context(), d1) },
			"Retry":      func() error { return q.Retry(t.Context(), d1, 0) },
			"DeadLetter": func() error { return q.DeadLetter(t.Context(), d1, "x") },
		} {
			if err := op(); !errors.Is(err, koe.ErrConflict) {
				t.Errorf("%s with the lost lease = %v, want ErrConflict", name, err)
			}
		}
		// The new holder is unaffected.
		if got := mustClaimJobs(t, q, "w1", 10); len(got) != 0 {
			t.Errorf("Claim while redelivered = %v, want none", jobIDs(got))
		}
		mustComplete(t, q2, d2)
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("depth = %d, want 0", depth)
		}
	})

	t.Run("CrashRedelivers", func(t *testing.T) {
		// A consumer claims and dies (its handle is abandoned); after the
		// lease a new process (a new handle) gets the jobs again.
		skipServerClock(t)
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q1 := open(t, clk.Now)
		mustEnqueue(t, q1, 2, job("k1"), job("k2"))
		if got := mustClaimJobs(t, q1, "dead-worker", 10); len(got) != 2 {
			t.Fatalf("Claim = %d, want 2", len(got))
		}
		clk.Advance(ttl)
		q2 := open(t, clk.Now)
		ds := mustClaimJobs(t, q2, "new-worker", 10)
		if got := jobIDs(ds); !reflect.DeepEqual(got, []string{"k1", "k2"}) {
			t.Fatalf("after restart: delivered %v, want [k1 k2]", got)
		}
		for _, d := range ds {
			if d.Attempt != 2 {
				t.Errorf("%s: Attempt = %d, want 2", d.Job.ID, d.Attempt)
			}
			mustComplete(t, q2, d)
		}
	})

	t.Run("LateCompleteAfterUnclaimedExpiry", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		mustEnqueue(t, q, 1, job("late"))
		d := mustClaimJob(t, q, "w1", "late", 1)
		clk.Advance(10 * ttl)
		if err := q.Complete(t.Context(), d); err != nil {
			t.Fatalf("late Complete = %v, want nil", err)
		}
		if got := mustClaimJobs(t, q, "w1", 10); len(got) != 0 {
			t.Errorf("Claim after late Complete = %v, want none", jobIDs(got))
		}
	})

	t.Run("Retry", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q := open(t, clk.Now)
		mustEnqueue(t, q, 1, job("r1"))
		d1 := mustClaimJob(t, q, "w1", "r1", 1)
		mustRetry(t, q, d1, 10*time.Second)
		if err := q.Retry(t.Context(), d1, 0); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second Retry with the same lease = %v, want ErrConflict", err)
		}
		if err := q.Complete(t.Context(), d1); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("Complete after Retry = %v, want ErrConflict", err)
		}
		if depth, _ := mustStats(t, q); depth != 1 {
			t.Errorf("depth while waiting to retry = %d, want 1", depth)
		}
		q2 := open(t, clk.Now)
		if got := mustClaimJobs(t, q2, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim right after Retry = %v, want none", jobIDs(got))
		}
		clk.Advance(10*time.Second - time.Millisecond)
		if got := mustClaimJobs(t, q2, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim before the delay passed = %v, want none", jobIDs(got))
		}
		clk.Advance(time.Millisecond)
		d2 := mustClaimJob(t, q2, "w2", "r1", 2)
		// No delay: claimable at once, by anyone.
		mustRetry(t, q2, d2, 0)
		d3 := mustClaimJob(t, q, "w1", "r1", 3)
		mustComplete(t, q, d3)
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("depth = %d, want 0", depth)
		}
	})

	t.Run("NotBefore", func(t *testing.T) {
		// A scheduled job is pending (counted, deduplicated) but not
		// claimable before its NotBefore; a NotBefore in the past is at once.
		t.Parallel()
		clk := NewClock(t0)
		open := newQueue(t)
		q := open(t, clk.Now)
		later := job("nb-later")
		later.NotBefore = clk.Now().Add(time.Hour)
		later.Attrs = map[string]string{"why": "sla reminder"}
		past := job("nb-past")
		past.NotBefore = clk.Now().Add(-time.Hour)
		mustEnqueue(t, q, 3, later, past, job("nb-now"))
		ds := mustClaimJobs(t, q, "w1", 10)
		if got, want := jobIDs(ds), []string{"nb-now", "nb-past"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Claim = %v, want %v (not the scheduled job)", got, want)
		}
		for _, d := range ds {
			mustComplete(t, q, d)
		}
		checkStats(t, q, "while scheduled", 1, 0)
		mustEnqueue(t, q, 0, later) // still pending: skipped
		clk.Advance(time.Hour - time.Millisecond)
		q2 := open(t, clk.Now)
		if got := mustClaimJobs(t, q2, "w2", 10); len(got) != 0 {
			t.Fatalf("Claim a millisecond before NotBefore = %v, want none", jobIDs(got))
		}
		checkStats(t, q2, "just before NotBefore", 1, time.Hour-time.Millisecond)
		clk.Advance(time.Millisecond)
		d := mustClaimJob(t, q2, "w2", "nb-later", 1)
		if !reflect.DeepEqual(normJob(d.Job), normJob(later)) {
			t.Errorf("scheduled job =\n%+v\nwant\n%+v", d.Job, later)
		}
		mustComplete(t, q2, d)
		checkStats(t, q2, "after completing", 0, 0)
	})

	t.Run("DeadLetter", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		mustEnqueue(t, q, 1, job("x1"))
		d1 := mustClaimJob(t, q, "w1", "x1", 1)
		mustRetry(t, q, d1, 0)
		d1 = mustClaimJob(t, q, "w1", "x1", 2)
		if err := q.DeadLetter(t.Context(), d1, "keeps failing"); err != nil {
			t.Fatalf("DeadLetter = %v", err)
		}
		for name, op := range map[string]func() error{
			"Complete":   func() error { return q.Complete(t.Context(), d1) },
			"Retry":      func() error { return q.Retry(t.Context(), d1, 0) },
			"DeadLetter": func() error { return q.DeadLetter(t.Context(), d1, "again") },
		} {
			if err := op(); !errors.Is(err, koe.ErrConflict) {
				t.Errorf("%s after DeadLetter = %v, want ErrConflict", name, err)
			}
		}
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("depth after DeadLetter = %d, want 0", depth)
		}
		mustEnqueue(t, q, 1, job("x2"))
		clk.Advance(time.Hour)
		d2 := mustClaimJob(t, q, "w1", "x2", 1)
		mustComplete(t, q, d2)
		if got := mustClaimJobs(t, q, "w1", 10); len(got) != 0 {
			t.Errorf("Claim after DeadLetter = %v, want none", jobIDs(got))
		}
	})

	t.Run("MadeUpLeases", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		mustEnqueue(t, q, 1, job("f1"))
		d := mustClaimJob(t, q, "w1", "f1", 1)
		for _, tc := range []struct {
			name string
			d    koe.JobDelivery
		}{
			{"other lease", koe.JobDelivery{Job: d.Job, Attempt: 1, Lease: d.Lease + "x"}},
			{"empty lease", koe.JobDelivery{Job: d.Job, Attempt: 1}},
			{"unknown job", koe.JobDelivery{Job: job("f-unknown"), Attempt: 1, Lease: d.Lease}},
			{"never claimed", koe.JobDelivery{Job: job("f-unknown"), Attempt: 1, Lease: "1-0.1.w1"}},
		} {
			for name, op := range map[string]func() error{
				"Complete":   func() error { return q.Complete(t.Context(), tc.d) },
				"Retry":      func() error { return q.Retry(t.Context(), tc.d, 0) },
				"DeadLetter": func() error { return q.DeadLetter(t.Context(), tc.d, "x") },
			} {
				if err := op(); !errors.Is(err, koe.ErrConflict) {
					t.Errorf("%s: %s = %v, want ErrConflict", tc.name, name, err)
				}
			}
		}
		// The real lease still works, once.
		mustComplete(t, q, d)
		if err := q.Complete(t.Context(), d); !errors.Is(err, koe.ErrConflict) {
			t.Errorf("second Complete = %v, want ErrConflict", err)
		}
	})

	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		old := job("s-old")
		old.Created = t0.Add(-24 * time.Hour) // not what the age is measured from
		mustEnqueue(t, q, 1, old)
		clk.Advance(5 * time.Second)
		mustEnqueue(t, q, 2, job("s-2"), job("s-3"))
		clk.Advance(2 * time.Second)
		checkStats(t, q, "after enqueue", 3, 7*time.Second)
		// Leased and delayed jobs are still pending.
		ds := mustClaimJobs(t, q, "w1", 10)
		if len(ds) != 3 {
			t.Fatalf("Claim = %d, want 3", len(ds))
		}
		byID := map[string]koe.JobDelivery{}
		for _, d := range ds {
			byID[d.Job.ID] = d
		}
		mustRetry(t, q, byID["s-2"], time.Minute)
		checkStats(t, q, "while leased and delayed", 3, 7*time.Second)
		mustComplete(t, q, byID["s-old"])
		checkStats(t, q, "after completing the oldest", 2, 2*time.Second)
		if err := q.DeadLetter(t.Context(), byID["s-3"], "x"); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		checkStats(t, q, "after dead-lettering one", 1, 3*time.Second)
		clk.Advance(time.Minute)
		mustComplete(t, q, mustClaimJob(t, q, "w1", "s-2", 2))
		checkStats(t, q, "after completing all", 0, 0)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		clk := NewClock(t0)
		q := newQueue(t)(t, clk.Now)
		mustEnqueue(t, q, 1, job("ctx1"))
		d := mustClaimJob(t, q, "w1", "ctx1", 1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		for _, op := range []struct {
			name string
			do   func() error
		}{
			{"Enqueue", func() error { _, err := q.Enqueue(ctx, job("ctx2")); return err }},
			{"Claim", func() error { _, err := q.ClaimJobs(ctx, "w1", 1, ttl); return err }},
			{"Complete", func() error { return q.Complete(ctx, d) }},
			{"Retry", func() error { return q.Retry(ctx, d, 0) }},
			{"DeadLetter", func() error { return q.DeadLetter(ctx, d, "x") }},
			{"QueueStats", func() error { _, _, err := q.QueueStats(ctx); return err }},
		} {
			if err := op.do(); !errors.Is(err, context.Canceled) {
				t.Errorf("%s(cancelled) = %v, want context.Canceled", op.name, err)
			}
		}
		// The lease is still held and ctx2 was not enqueued.
		mustComplete(t, q, d)
		if depth, _ := mustStats(t, q); depth != 0 {
			t.Errorf("depth = %d, want 0", depth)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Producers and consumers on separate handles: every job is
		// completed exactly once, at its first attempt (handlers finish
		// within the lease).
		t.Parallel()
		const (
			producers = 2
			perProd   = 60
			consumers = 4
			total     = producers * perProd
		)
		clk := NewClock(t0)
		open := newQueue(t)
		var (
			mu        sync.Mutex
			completed = map[string]int{}
			problems  []string
			wg        sync.WaitGroup
		)
		fail := func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			problems = append(problems, fmt.Sprintf(format, args...))
		}
		for p := range producers {
			q := open(t, clk.Now)
			wg.Go(func() {
				for i := range perProd {
					// Every job is enqueued twice, by two calls.
					j := job(fmt.Sprintf("cc-%d-%d", p, i))
					for range 2 {
						if _, err := q.Enqueue(t.Context(), j); err != nil {
							fail("Enqueue: %v", err)
							return
						}
					}
				}
			})
		}
		done := make(chan struct{})
		var doneOnce sync.Once
		deadline := time.Now().Add(60 * time.Second)
		for c := range consumers {
			q := open(t, clk.Now)
			name := fmt.Sprintf("consumer-%d", c)
			wg.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if time.Now().After(deadline) {
						fail("%s: deadline passed", name)
						doneOnce.Do(func() { close(done) })
						return
					}
					ds, err := q.ClaimJobs(t.Context(), name, 8, ttl)
					if err != nil {
						fail("%s: Claim: %v", name, err)
						return
					}
					for _, d := range ds {
						if d.Attempt != 1 {
							fail("%s: %s at attempt %d", name, d.Job.ID, d.Attempt)
						}
						if err := q.Complete(t.Context(), d); err != nil {
							fail("%s: Complete %s: %v", name, d.Job.ID, err)
							continue
						}
						mu.Lock()
						completed[d.Job.ID]++
						n := len(completed)
						mu.Unlock()
						if n == total {
							doneOnce.Do(func() { close(done) })
						}
					}
				}
			})
		}
		wg.Wait()
		for _, p := range problems {
			t.Error(p)
		}
		if len(completed) != total {
			t.Errorf("%d distinct jobs completed, want %d", len(completed), total)
		}
		for _, id := range slices.Sorted(maps.Keys(completed)) {
			if n := completed[id]; n != 1 {
				t.Errorf("job %s completed %d times", id, n)
			}
		}
		if depth, _ := mustStats(t, open(t, clk.Now)); depth != 0 {
			t.Errorf("depth at the end = %d, want 0", depth)
		}
	})
}

func job(id string) koe.Job {
	return koe.Job{ID: id, Kind: "test.kind", Ref: "ref-" + id, Created: t0}
}

// normJob makes Created and NotBefore comparable and an empty Attrs map nil.
func normJob(j koe.Job) koe.Job {
	j.Created = j.Created.UTC().Round(0)
	j.NotBefore = j.NotBefore.UTC().Round(0)
	if len(j.Attrs) == 0 {
		j.Attrs = nil
	}
	return j
}

// jobIDs returns the deliveries' job ids, sorted.
func jobIDs(ds []koe.JobDelivery) []string {
	ids := make([]string, 0, len(ds))
	for _, d := range ds {
		ids = append(ids, d.Job.ID)
	}
	slices.Sort(ids)
	return ids
}

func mustEnqueue(t *testing.T, q koe.Queue, want int, jobs ...koe.Job) {
	t.Helper()
	n, err := q.Enqueue(t.Context(), jobs...)
	if err != nil {
		t.Fatalf("Enqueue = %v", err)
	}
	if n != want {
		t.Fatalf("Enqueue added %d, want %d", n, want)
	}
}

func mustClaimJobs(t *testing.T, q koe.Queue, consumer string, max int) []koe.JobDelivery {
	t.Helper()
	ds, err := q.ClaimJobs(t.Context(), consumer, max, ttl)
	if err != nil {
		t.Fatalf("Claim = %v", err)
	}
	if ds == nil {
		t.Fatalf("Claim = nil slice, want non-nil")
	}
	return ds
}

func mustClaimJob(t *testing.T, q koe.Queue, consumer, id string, attempt int) koe.JobDelivery {
	t.Helper()
	ds := mustClaimJobs(t, q, consumer, 10)
	if len(ds) != 1 || ds[0].Job.ID != id || ds[0].Attempt != attempt {
		var got []string
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s@%d", d.Job.ID, d.Attempt))
		}
		t.Fatalf("Claim = %v, want [%s@%d]", got, id, attempt)
	}
	return ds[0]
}

func mustComplete(t *testing.T, q koe.Queue, d koe.JobDelivery) {
	t.Helper()
	if err := q.Complete(t.Context(), d); err != nil {
		t.Fatalf("Complete(%s) = %v", d.Job.ID, err)
	}
}

func mustRetry(t *testing.T, q koe.Queue, d koe.JobDelivery, delay time.Duration) {
	t.Helper()
	if err := q.Retry(t.Context(), d, delay); err != nil {
		t.Fatalf("Retry(%s) = %v", d.Job.ID, err)
	}
}

func mustStats(t *testing.T, q koe.Queue) (int, time.Duration) {
	t.Helper()
	depth, oldest, err := q.QueueStats(t.Context())
	if err != nil {
		t.Fatalf("QueueStats = %v", err)
	}
	return depth, oldest
}

// checkStats allows the oldest age to be off by less than a millisecond
// (stores may keep times to the millisecond).
func checkStats(t *testing.T, q koe.Queue, when string, depth int, oldest time.Duration) {
	t.Helper()
	d, o := mustStats(t, q)
	if diff := (o - oldest).Abs(); d != depth || diff >= time.Millisecond {
		t.Errorf("%s: QueueStats = %d, %v; want %d, %v", when, d, o, depth, oldest)
	}
}

package redis_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/redis"
	"github.com/koehq/koe/store/storetest"
)

// TestQueueIsAConsumerGroup: jobs travel through the stream and its
// consumer group; a completed job leaves neither an entry nor a pending
// entry behind (XACK + XDEL).
func TestQueueIsAConsumerGroup(t *testing.T) {
	srv := newServer(t)
	s := open(t, srv, storetest.NewClock(start).Now)
	c := rawClient(t, srv)
	ctx := t.Context()
	stream := fmt.Sprintf("%s:{%s:queue}:s", srv.prefix, srv.prefix)
	if _, err := s.Enqueue(ctx, koe.Job{ID: "g1", Kind: "k"}, koe.Job{ID: "g2", Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	if n, err := c.XLen(ctx, stream).Result(); err != nil || n != 2 {
		t.Fatalf("XLEN = %d, %v; want 2", n, err)
	}
	ds, err := s.ClaimJobs(ctx, "w1", 10, time.Minute)
	if err != nil || len(ds) != 2 {
		t.Fatalf("ClaimJobs = %v, %v", ds, err)
	}
	p, err := c.XPending(ctx, stream, "koe").Result()
	if err != nil || p.Count != 2 || p.Consumers["w1"] != 2 {
		t.Fatalf("XPENDING = %+v, %v; want 2 pending for w1", p, err)
	}
	for _, d := range ds {
		if err := s.Complete(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	p, err = c.XPending(ctx, stream, "koe").Result()
	if err != nil || p.Count != 0 {
		t.Errorf("XPENDING after Complete = %+v, %v; want none", p, err)
	}
	if n, err := c.XLen(ctx, stream).Result(); err != nil || n != 0 {
		t.Errorf("XLEN after Complete = %d, %v; want 0", n, err)
	}
}

// TestQueueRealClockLease runs leases on the real clock with a short ttl:
// the job comes back to another consumer once the lease ran out.
func TestQueueRealClockLease(t *testing.T) {
	srv := newServer(t)
	q1 := open(t, srv, time.Now)
	q2 := open(t, srv, time.Now)
	ctx := t.Context()
	if _, err := q1.Enqueue(ctx, koe.Job{ID: "rl", Kind: "k"}); err != nil {
		t.Fatal(err)
	}
	d1, err := q1.ClaimJobs(ctx, "w1", 1, 30*time.Millisecond)
	if err != nil || len(d1) != 1 {
		t.Fatalf("ClaimJobs = %v, %v", d1, err)
	}
	var d2 []koe.JobDelivery
	for deadline := time.Now().Add(5 * time.Second); len(d2) == 0; {
		if time.Now().After(deadline) {
			t.Fatal("job not redelivered within 5s of a 30ms lease")
		}
		if d2, err = q2.ClaimJobs(ctx, "w2", 1, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if d2[0].Attempt != 2 || d2[0].Job.ID != "rl" {
		t.Errorf("redelivery = %+v, want rl at attempt 2", d2[0])
	}
	if err := q1.Complete(ctx, d1[0]); !errors.Is(err, koe.ErrConflict) {
		t.Errorf("Complete with the lost lease = %v, want ErrConflict", err)
	}
	if err := q2.Complete(ctx, d2[0]); err != nil {
		t.Errorf("Complete = %v", err)
	}
}

// TestDeadJobs: dead-lettered jobs are kept in the dead-letter stream with
// their attempts, reason and time, newest first.
func TestDeadJobs(t *testing.T) {
	srv := newServer(t)
	clk := storetest.NewClock(start)
	s := open(t, srv, clk.Now)
	ctx := t.Context()
	jobs := []koe.Job{
		{ID: "d1", Kind: "accident.alert", Ref: "AR-1", Attrs: map[string]string{"a": "b"}, Created: start},
		{ID: "d2", Kind: "case.reminder"},
	}
	var want []redis.DeadJob
	for i, j := range jobs {
		if n, err := s.Enqueue(ctx, j); err != nil || n != 1 {
			t.Fatalf("Enqueue = %d, %v", n, err)
		}
		ds, err := s.ClaimJobs(ctx, "w", 1, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("ClaimJobs = %v, %v", ds, err)
		}
		if i == 0 {
			if err := s.Retry(ctx, ds[0], 0); err != nil {
				t.Fatal(err)
			}
			if ds, err = s.ClaimJobs(ctx, "w", 1, time.Minute); err != nil || len(ds) != 1 {
				t.Fatalf("ClaimJobs = %v, %v", ds, err)
			}
		}
		clk.Advance(time.Second)
		reason := "reason " + ds[0].Job.ID
		if err := s.DeadLetter(ctx, ds[0], reason); err != nil {
			t.Fatalf("DeadLetter = %v", err)
		}
		want = append([]redis.DeadJob{{Job: ds[0].Job, Attempts: ds[0].Attempt, Reason: reason, At: clk.Now()}}, want...)
	}
	if want[1].Attempts != 2 || want[0].Attempts != 1 {
		t.Fatalf("attempts %d, %d; want 2 and 1", want[1].Attempts, want[0].Attempts)
	}
	for _, tc := range []struct {
		limit int
		want  []redis.DeadJob
	}{{10, want}, {1, want[:1]}, {0, []redis.DeadJob{}}} {
		got, err := s.DeadJobs(ctx, tc.limit)
		if err != nil {
			t.Fatalf("DeadJobs(%d) = %v", tc.limit, err)
		}
		for i := range got {
			got[i].Job.Created = got[i].Job.Created.UTC()
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DeadJobs(%d) =\n%+v\nwant\n%+v", tc.limit, got, tc.want)
		}
	}
}

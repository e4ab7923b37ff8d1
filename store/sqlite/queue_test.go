package sqlite_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/koehq/koe"
	"github.com/koehq/koe/store/sqlite"
	"github.com/koehq/koe/store/storetest"
)

// TestDeadJobs: dead-lettered jobs are kept with their attempts, reason and
// time, newest first, also for a second handle.
func TestDeadJobs(t *testing.T) {
	clk := storetest.NewClock(time.Date(2026, 11, 22, 9, 30, 0, 123456789, time.UTC))
	open := newBackend(t)
	s := open(t, clk.Now).(*sqlite.Store)
	q := s
	ctx := t.Context()
	jobs := []koe.Job{
		{ID: "d1", Kind: "accident.alert", Ref: "AR-1", Attrs: map[string]string{"a": "b"}, Created: clk.Now()},
		{ID: "d2", Kind: "case.reminder"},
	}
	var want []sqlite.DeadJob
	for i, j := range jobs {
		if n, err := q.Enqueue(ctx, j); err != nil || n != 1 {
			t.Fatalf("Enqueue = %d, %v", n, err)
		}
		ds, err := q.ClaimJobs(ctx, "w", 1, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("Claim = %v, %v", ds, err)
		}
		if i == 0 {
			if err := q.Retry(ctx, ds[0], 0); err != nil {
				t.Fatal(err)
			}
			if ds, err = q.ClaimJobs(ctx, "w", 1, time.Minute); err != nil || len(ds) != 1 {
				t.Fatalf("Claim = %v, %v", ds, err)
			}
		}
		clk.Advance(time.Second)
		reason := "reason " + ds[0].Job.ID
		if err := q.DeadLetter(ctx, ds[0], reason); err != nil {
			t.Fatalf("DeadLetter = %v", err)
		}
		want = append([]sqlite.DeadJob{{Job: ds[0].Job, Attempts: ds[0].Attempt, Reason: reason, At: clk.Now()}}, want...)
	}
	if want[1].Attempts != 2 || want[0].Attempts != 1 {
		t.Fatalf("attempts %d, %d; want 2 and 1", want[1].Attempts, want[0].Attempts)
	}
	s2 := open(t, clk.Now).(*sqlite.Store)
	for _, tc := range []struct {
		limit int
		want  []sqlite.DeadJob
	}{{10, want}, {1, want[:1]}, {0, []sqlite.DeadJob{}}} {
		got, err := s2.DeadJobs(ctx, tc.limit)
		if err != nil {
			t.Fatalf("DeadJobs(%d) = %v", tc.limit, err)
		}
		for i := range got {
			got[i].At = got[i].At.UTC()
			got[i].Job.Created = got[i].Job.Created.UTC()
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DeadJobs(%d) =\n%+v\nwant\n%+v", tc.limit, got, tc.want)
		}
	}
}

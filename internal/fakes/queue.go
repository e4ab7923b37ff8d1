package fakes

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/koehq/koe"
)

var _ koe.Queue = (*Queue)(nil)

// Queue is an in-memory koe.Queue with leases, retry delays and the dedupe
// window judged by an injected clock; it behaves as the store conformance
// suite requires (storetest.TestQueuePort). It is safe for concurrent use.
type Queue struct {
	now func() time.Time

	mu       sync.Mutex
	jobs     map[string]*fakeJob
	finished map[string]time.Time // id → completed or dead-lettered at
	dead     []DeadJob
	leases   int
	done     []string  // ids in the order they were completed
	enqueued []koe.Job // every job accepted, in order
}

type fakeJob struct {
	job       koe.Job
	enqueued  time.Time
	available time.Time
	attempts  int
	lease     string
}

// DeadJob is a job moved aside by Queue.DeadLetter.
type DeadJob struct {
	Job      koe.Job
	Attempts int
	Reason   string
	At       time.Time
}

// NewQueue returns an empty queue on the clock now (time.Now when nil).
func NewQueue(now func() time.Time) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{now: now, jobs: map[string]*fakeJob{}, finished: map[string]time.Time{}}
}

// Enqueue adds jobs whose ID is neither pending nor finished within
// koe.DedupeWindow; ErrInvalid (nothing added) for a job without ID or Kind.
// A job is claimable from its NotBefore, or at once when that has passed.
func (q *Queue) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, j := range jobs {
		if j.ID == "" || j.Kind == "" {
			return 0, fmt.Errorf("fakes: enqueue: %w", koe.ErrInvalid)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	added := 0
	for _, j := range jobs {
		if _, ok := q.jobs[j.ID]; ok {
			continue
		}
		if at, ok := q.finished[j.ID]; ok && now.Before(at.Add(koe.DedupeWindow)) {
			continue
		}
		j.Attrs = maps.Clone(j.Attrs)
		available := now
		if j.NotBefore.After(now) {
			available = j.NotBefore
		}
		q.jobs[j.ID] = &fakeJob{job: j, enqueued: now, available: available}
		q.enqueued = append(q.enqueued, j)
		added++
	}
	return added, nil
}

// Claim leases up to limit ready jobs (oldest available first) for ttl.
func (q *Queue) ClaimJobs(ctx context.Context, consumer string, limit int, ttl time.Duration) ([]koe.JobDelivery, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("fakes: claim: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.now()
	var ready []*fakeJob
	for _, j := range q.jobs {
		if !j.available.After(now) {
			ready = append(ready, j)
		}
	}
	slices.SortFunc(ready, func(a, b *fakeJob) int { return a.available.Compare(b.available) })
	out := []koe.JobDelivery{}
	for _, j := range ready[:min(len(ready), max(limit, 0))] {
		q.leases++
		j.lease = consumer + "#" + strconv.Itoa(q.leases)
		j.attempts++
		j.available = now.Add(ttl)
		job := j.job
		job.Attrs = maps.Clone(job.Attrs)
		out = append(out, koe.JobDelivery{Job: job, Attempt: j.attempts, Lease: j.lease})
	}
	return out, nil
}

// held returns the job d's lease holds, or nil.
func (q *Queue) held(d koe.JobDelivery) *fakeJob {
	j, ok := q.jobs[d.Job.ID]
	if !ok || d.Lease == "" || j.lease != d.Lease {
		return nil
	}
	return j
}

// Complete removes the job; ErrConflict if the lease is not held.
func (q *Queue) Complete(ctx context.Context, d koe.JobDelivery) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held(d) == nil {
		return fmt.Errorf("fakes: complete: %w", koe.ErrConflict)
	}
	delete(q.jobs, d.Job.ID)
	q.finished[d.Job.ID] = q.now()
	q.done = append(q.done, d.Job.ID)
	return nil
}

// Retry makes the job claimable after delay; ErrConflict if the lease is
// not held.
func (q *Queue) Retry(ctx context.Context, d koe.JobDelivery, delay time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.held(d)
	if j == nil {
		return fmt.Errorf("fakes: retry: %w", koe.ErrConflict)
	}
	j.lease = ""
	j.available = q.now().Add(max(delay, 0))
	return nil
}

// DeadLetter moves the job to the dead jobs; ErrConflict if the lease is
// not held.
func (q *Queue) DeadLetter(ctx context.Context, d koe.JobDelivery, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	j := q.held(d)
	if j == nil {
		return fmt.Errorf("fakes: dead-letter: %w", koe.ErrConflict)
	}
	now := q.now()
	delete(q.jobs, d.Job.ID)
	q.finished[d.Job.ID] = now
	q.dead = append(q.dead, DeadJob{Job: j.job, Attempts: j.attempts, Reason: reason, At: now})
	return nil
}

// QueueStats returns the pending jobs and the age of the oldest.
func (q *Queue) QueueStats(ctx context.Context) (int, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var oldest time.Time
	for _, j := range q.jobs {
		if oldest.IsZero() || j.enqueued.Before(oldest) {
			oldest = j.enqueued
		}
	}
	if len(q.jobs) == 0 {
		return 0, 0, nil
	}
	return len(q.jobs), max(q.now().Sub(oldest), 0), nil
}

// DeadJobs returns the dead-lettered jobs, newest first.
func (q *Queue) DeadJobs() []DeadJob {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := slices.Clone(q.dead)
	slices.Reverse(out)
	return out
}

// Completed returns the ids of completed jobs, in completion order.
func (q *Queue) Completed() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.done)
}

// Pending returns the pending jobs (ready, leased or delayed), by ID.
func (q *Queue) Pending() []koe.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]koe.Job, 0, len(q.jobs))
	for _, id := range slices.Sorted(maps.Keys(q.jobs)) {
		out = append(out, q.jobs[id].job)
	}
	return out
}

// Enqueued returns every job Enqueue accepted (not the duplicates it
// skipped), in the order it accepted them, finished ones included.
func (q *Queue) Enqueued() []koe.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.enqueued)
}

package dialogs_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/koehq/koe"
)

// memReports is a tiny in-memory koe.ReportStore for transcripts.
type memReports struct {
	mu    sync.Mutex
	byRef map[string]koe.AccidentReport
	order []string // refs, oldest first
}

func newMemReports() *memReports { return &memReports{byRef: make(map[string]koe.AccidentReport)} }

func (m *memReports) CreateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, old := range m.byRef {
		if old.Key == r.Key && r.Key != "" {
			return old, fmt.Errorf("mem: create report: %w", koe.ErrDuplicate)
		}
	}
	if _, ok := m.byRef[r.Ref]; ok {
		return koe.AccidentReport{}, fmt.Errorf("mem: create report: ref taken: %w", koe.ErrDuplicate)
	}
	r.Version = 1
	m.byRef[r.Ref] = r
	m.order = append(m.order, r.Ref)
	return r, nil
}

func (m *memReports) GetReport(ctx context.Context, ref string) (koe.AccidentReport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.byRef[ref]
	if !ok {
		return koe.AccidentReport{}, fmt.Errorf("mem: get report: %w", koe.ErrNotFound)
	}
	return r, nil
}

func (m *memReports) ReportsByUser(ctx context.Context, user koe.UserID, limit int) ([]koe.AccidentReport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []koe.AccidentReport
	for _, ref := range slices.Backward(m.order) {
		if r := m.byRef[ref]; r.User == user && len(out) < limit {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memReports) UpdateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.byRef[r.Ref]
	switch {
	case !ok:
		return koe.AccidentReport{}, koe.ErrNotFound
	case old.Version != r.Version:
		return koe.AccidentReport{}, koe.ErrConflict
	}
	r.Version++
	m.byRef[r.Ref] = r
	return r, nil
}

// memQueue is a tiny koe.Queue that records enqueued jobs, once per ID.
type memQueue struct {
	mu   sync.Mutex
	jobs []koe.Job
}

func (q *memQueue) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, j := range jobs {
		if slices.ContainsFunc(q.jobs, func(o koe.Job) bool { return o.ID == j.ID }) {
			continue
		}
		q.jobs = append(q.jobs, j)
		n++
	}
	return n, nil
}

func (q *memQueue) Jobs() []koe.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.jobs)
}

func (q *memQueue) ClaimJobs(context.Context, string, int, time.Duration) ([]koe.JobDelivery, error) {
	return nil, nil
}
func (q *memQueue) Complete(context.Context, koe.JobDelivery) error             { return nil }
func (q *memQueue) Retry(context.Context, koe.JobDelivery, time.Duration) error { return nil }
func (q *memQueue) DeadLetter(context.Context, koe.JobDelivery, string) error   { return nil }
func (q *memQueue) QueueStats(context.Context) (int, time.Duration, error)      { return 0, 0, nil }

// seqReader is a deterministic io.Reader for reference numbers: bytes
// 7, 15, 3, 19 (AR-…-7F3K), then counting on.
type seqReader struct {
	mu sync.Mutex
	n  byte
}

func (r *seqReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seed := []byte{7, 15, 3, 19}
	for i := range p {
		if int(r.n) < len(seed) {
			p[i] = seed[r.n]
		} else {
			p[i] = r.n * 5
		}
		r.n++
	}
	return len(p), nil
}

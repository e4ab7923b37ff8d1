package fakes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/koehq/koe"
)

var _ koe.ReportStore = (*ReportStore)(nil)

// ReportStore is an in-memory koe.ReportStore that behaves as the store
// conformance suite requires (storetest.TestReportStore). Reports are
// deep-copied on the way in and out. It is safe for concurrent use.
type ReportStore struct {
	mu      sync.Mutex
	byRef   map[string]koe.AccidentReport
	byKey   map[string]string
	order   []string // refs in the order created
	creates int
	updates int
}

// NewReportStore returns an empty store.
func NewReportStore() *ReportStore {
	return &ReportStore{byRef: map[string]koe.AccidentReport{}, byKey: map[string]string{}}
}

// CreateReport stores r at Version 1; the stored report and ErrDuplicate
// for a known Key; a zero report and ErrDuplicate for a Ref of another Key;
// ErrInvalid without a Ref, Key or valid User.
func (st *ReportStore) CreateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return koe.AccidentReport{}, err
	}
	if r.Ref == "" || r.Key == "" || !r.User.Valid() {
		return koe.AccidentReport{}, fmt.Errorf("fakes: create report: %w", koe.ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if ref, ok := st.byKey[r.Key]; ok {
		return CloneReport(st.byRef[ref]), fmt.Errorf("fakes: create report: %w", koe.ErrDuplicate)
	}
	if _, ok := st.byRef[r.Ref]; ok {
		return koe.AccidentReport{}, fmt.Errorf("fakes: create report: ref taken: %w", koe.ErrDuplicate)
	}
	r = CloneReport(r)
	r.Version = 1
	st.byRef[r.Ref] = r
	st.byKey[r.Key] = r.Ref
	st.order = append(st.order, r.Ref)
	st.creates++
	return CloneReport(r), nil
}

// GetReport returns the report with ref, or ErrNotFound.
func (st *ReportStore) GetReport(ctx context.Context, ref string) (koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return koe.AccidentReport{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	r, ok := st.byRef[ref]
	if !ok {
		return koe.AccidentReport{}, fmt.Errorf("fakes: get report: %w", koe.ErrNotFound)
	}
	return CloneReport(r), nil
}

// ReportsByUser returns the user's reports by SubmittedAt, newest first (ties
// by Ref, descending), at most limit.
func (st *ReportStore) ReportsByUser(ctx context.Context, user koe.UserID, limit int) ([]koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []koe.AccidentReport{}
	for _, r := range st.byRef {
		if r.User == user {
			out = append(out, CloneReport(r))
		}
	}
	slices.SortFunc(out, func(a, b koe.AccidentReport) int {
		return cmp.Or(b.SubmittedAt.Compare(a.SubmittedAt), cmp.Compare(b.Ref, a.Ref))
	})
	return out[:min(len(out), max(limit, 0))], nil
}

// UpdateReport stores r over the same version and returns it at Version+1:
// ErrNotFound if absent, ErrConflict if stale, ErrInvalid if Key, User or
// SubmittedAt changed.
func (st *ReportStore) UpdateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return koe.AccidentReport{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.byRef[r.Ref]
	switch {
	case !ok:
		return koe.AccidentReport{}, fmt.Errorf("fakes: update report: %w", koe.ErrNotFound)
	case old.Key != r.Key || old.User != r.User || !old.SubmittedAt.Equal(r.SubmittedAt):
		return koe.AccidentReport{}, fmt.Errorf("fakes: update report: identity changed: %w", koe.ErrInvalid)
	case old.Version != r.Version:
		return koe.AccidentReport{}, fmt.Errorf("fakes: update report: %w", koe.ErrConflict)
	}
	r = CloneReport(r)
	r.Version++
	st.byRef[r.Ref] = r
	st.updates++
	return CloneReport(r), nil
}

// Stats reports how many creates and updates succeeded.
func (st *ReportStore) Stats() (creates, updates int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.creates, st.updates
}

// All returns copies of the stored reports in the order they were created.
func (st *ReportStore) All() []koe.AccidentReport {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]koe.AccidentReport, 0, len(st.order))
	for _, ref := range st.order {
		out = append(out, CloneReport(st.byRef[ref]))
	}
	return out
}

// CloneReport returns a deep copy of r.
func CloneReport(r koe.AccidentReport) koe.AccidentReport {
	if r.Location != nil {
		l := *r.Location
		r.Location = &l
	}
	if r.Alert != nil {
		a := *r.Alert
		r.Alert = &a
	}
	r.Involved = slices.Clone(r.Involved)
	r.Photos = slices.Clone(r.Photos)
	r.History = slices.Clone(r.History)
	return r
}

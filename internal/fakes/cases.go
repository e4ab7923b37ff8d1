package fakes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/koehq/koe"
)

var _ koe.CaseStore = (*CaseStore)(nil)

// CaseStore is an in-memory koe.CaseStore that behaves as the store
// conformance suite requires (storetest.TestCaseStore). Cases are
// deep-copied on the way in and out. It is safe for concurrent use.
type CaseStore struct {
	mu      sync.Mutex
	byRef   map[string]koe.Case
	byKey   map[string]string
	order   []string // refs in the order they were created
	creates int
	updates int
}

// NewCaseStore returns an empty store.
func NewCaseStore() *CaseStore {
	return &CaseStore{byRef: map[string]koe.Case{}, byKey: map[string]string{}}
}

// CreateCase stores c at Version 1; the stored case and ErrDuplicate for a
// known Key; a zero case and ErrDuplicate for a Ref of another Key;
// ErrInvalid without a Ref, Key or valid User.
func (st *CaseStore) CreateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, err
	}
	if c.Ref == "" || c.Key == "" || !c.User.Valid() {
		return koe.Case{}, fmt.Errorf("fakes: create case: %w", koe.ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if ref, ok := st.byKey[c.Key]; ok {
		return CloneCase(st.byRef[ref]), fmt.Errorf("fakes: create case: %w", koe.ErrDuplicate)
	}
	if _, ok := st.byRef[c.Ref]; ok {
		return koe.Case{}, fmt.Errorf("fakes: create case: ref taken: %w", koe.ErrDuplicate)
	}
	c = CloneCase(c)
	c.Version = 1
	st.byRef[c.Ref] = c
	st.byKey[c.Key] = c.Ref
	st.order = append(st.order, c.Ref)
	st.creates++
	return CloneCase(c), nil
}

// GetCase returns the case with ref, or ErrNotFound.
func (st *CaseStore) GetCase(ctx context.Context, ref string) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	c, ok := st.byRef[ref]
	if !ok {
		return koe.Case{}, fmt.Errorf("fakes: get case: %w", koe.ErrNotFound)
	}
	return CloneCase(c), nil
}

// UpdateCase stores c over the same version and returns it at Version+1:
// ErrNotFound if absent, ErrConflict if stale, ErrInvalid if Key, User or
// CreatedAt changed.
func (st *CaseStore) UpdateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.byRef[c.Ref]
	switch {
	case !ok:
		return koe.Case{}, fmt.Errorf("fakes: update case: %w", koe.ErrNotFound)
	case old.Key != c.Key || old.User != c.User || !old.CreatedAt.Equal(c.CreatedAt):
		return koe.Case{}, fmt.Errorf("fakes: update case: identity changed: %w", koe.ErrInvalid)
	case old.Version != c.Version:
		return koe.Case{}, fmt.Errorf("fakes: update case: %w", koe.ErrConflict)
	}
	c = CloneCase(c)
	c.Version++
	st.byRef[c.Ref] = c
	st.updates++
	return CloneCase(c), nil
}

// Cases returns the cases f selects by CreatedAt, newest first (ties by
// Ref, descending); ErrInvalid for a negative Limit.
func (st *CaseStore) Cases(ctx context.Context, f koe.CaseFilter) ([]koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("fakes: cases: %w", koe.ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []koe.Case{}
	for _, c := range st.byRef {
		if (f.Status != "" && c.Status != f.Status) || (f.Type != "" && c.Type != f.Type) || (f.User != "" && c.User != f.User) {
			continue
		}
		out = append(out, CloneCase(c))
	}
	SortCases(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// CaseByAlert returns the case whose Alert is (channel, ts), or
// ErrNotFound. If several cases carry that alert, the newest is returned.
func (st *CaseStore) CaseByAlert(ctx context.Context, channel, ts string) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var found []koe.Case
	for _, c := range st.byRef {
		if c.Alert != nil && c.Alert.Channel == channel && c.Alert.TS == ts {
			found = append(found, c)
		}
	}
	if len(found) == 0 {
		return koe.Case{}, fmt.Errorf("fakes: case by alert: %w", koe.ErrNotFound)
	}
	SortCases(found)
	return CloneCase(found[0]), nil
}

// All returns every stored case in the order it was created.
func (st *CaseStore) All() []koe.Case {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]koe.Case, 0, len(st.order))
	for _, ref := range st.order {
		out = append(out, CloneCase(st.byRef[ref]))
	}
	return out
}

// Stats reports how many creates and updates succeeded.
func (st *CaseStore) Stats() (creates, updates int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.creates, st.updates
}

// SortCases orders cases as CaseStore.Cases returns them: by CreatedAt,
// newest first, ties by Ref descending.
func SortCases(cs []koe.Case) {
	slices.SortFunc(cs, func(a, b koe.Case) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.Ref, a.Ref))
	})
}

// CloneCase returns a deep copy of c.
func CloneCase(c koe.Case) koe.Case {
	c.Urgency = slices.Clone(c.Urgency)
	c.History = slices.Clone(c.History)
	if c.Score != nil {
		s := *c.Score
		c.Score = &s
	}
	if c.Alert != nil {
		a := *c.Alert
		c.Alert = &a
	}
	return c
}

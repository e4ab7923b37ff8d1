package fakes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/koehq/koe"
)

var _ koe.FAQLog = (*FAQLog)(nil)

// FAQLog is an in-memory koe.FAQLog that behaves as the store conformance
// suite requires (storetest.TestFAQLog). Answers are deep-copied on the way
// in and out. It is safe for concurrent use.
type FAQLog struct {
	mu    sync.Mutex
	byID  map[string]koe.FAQAnswer
	order []string // ids in the order they were recorded
	dupes int
	marks int
}

// NewFAQLog returns an empty log.
func NewFAQLog() *FAQLog {
	return &FAQLog{byID: map[string]koe.FAQAnswer{}}
}

// RecordAnswer stores a; the stored answer and ErrDuplicate for a known ID;
// ErrInvalid (nothing stored) without an ID, a valid User, an Entry or At.
func (l *FAQLog) RecordAnswer(ctx context.Context, a koe.FAQAnswer) (koe.FAQAnswer, error) {
	if err := ctx.Err(); err != nil {
		return koe.FAQAnswer{}, err
	}
	if err := ValidFAQAnswer(a); err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("fakes: record answer: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.byID[a.ID]; ok {
		l.dupes++
		return CloneFAQAnswer(old), fmt.Errorf("fakes: record answer: %w", koe.ErrDuplicate)
	}
	a = CloneFAQAnswer(a)
	l.byID[a.ID] = a
	l.order = append(l.order, a.ID)
	return CloneFAQAnswer(a), nil
}

// MarkAnswer sets Helpful and CaseRef of the answer with id (the last mark
// wins; a nil helpful or empty caseRef clears the field); ErrNotFound if
// there is none.
func (l *FAQLog) MarkAnswer(ctx context.Context, id string, helpful *bool, caseRef string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.byID[id]
	if !ok {
		return fmt.Errorf("fakes: mark answer: %w", koe.ErrNotFound)
	}
	a.Helpful = cloneBool(helpful)
	a.CaseRef = caseRef
	l.byID[id] = a
	l.marks++
	return nil
}

// Answers returns the answers with At in [from, to), oldest first (ties by
// ID ascending). A zero bound is open.
func (l *FAQLog) Answers(ctx context.Context, from, to time.Time) ([]koe.FAQAnswer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []koe.FAQAnswer{}
	for _, a := range l.byID {
		if (!from.IsZero() && a.At.Before(from)) || (!to.IsZero() && !a.At.Before(to)) {
			continue
		}
		out = append(out, CloneFAQAnswer(a))
	}
	SortFAQAnswers(out)
	return out, nil
}

// All returns every recorded answer in the order it was recorded.
func (l *FAQLog) All() []koe.FAQAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]koe.FAQAnswer, 0, len(l.order))
	for _, id := range l.order {
		out = append(out, CloneFAQAnswer(l.byID[id]))
	}
	return out
}

// Get returns the answer with id, if recorded.
func (l *FAQLog) Get(id string) (koe.FAQAnswer, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a, ok := l.byID[id]
	return CloneFAQAnswer(a), ok
}

// Stats reports how many RecordAnswer calls were refused as duplicates and
// how many MarkAnswer calls succeeded.
func (l *FAQLog) Stats() (duplicates, marks int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dupes, l.marks
}

// ValidFAQAnswer reports koe.ErrInvalid for an answer without an ID, a valid
// User, an Entry or a time. Backends share this rule.
func ValidFAQAnswer(a koe.FAQAnswer) error {
	if a.ID == "" || !a.User.Valid() || a.Entry == "" || a.At.IsZero() {
		return koe.ErrInvalid
	}
	return nil
}

// SortFAQAnswers orders answers as FAQLog.Answers returns them: by At,
// oldest first, ties by ID ascending.
func SortFAQAnswers(as []koe.FAQAnswer) {
	slices.SortFunc(as, func(a, b koe.FAQAnswer) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.ID, b.ID))
	})
}

// CloneFAQAnswer returns a deep copy of a.
func CloneFAQAnswer(a koe.FAQAnswer) koe.FAQAnswer {
	a.Helpful = cloneBool(a.Helpful)
	return a
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

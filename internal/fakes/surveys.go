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

var _ koe.SurveyStore = (*SurveyStore)(nil)

// SurveyStore is an in-memory koe.SurveyStore that behaves as the store
// conformance suite requires (storetest.TestSurveys). Surveys are
// deep-copied on the way in and out. It is safe for concurrent use; the
// fatigue check and the create happen under one lock.
type SurveyStore struct {
	mu        sync.Mutex
	byID      map[string]koe.Survey
	byKey     map[string]string
	order     []string // ids in the order they were created
	creates   int
	updates   int
	fatigued  int
	duplicate int
}

// NewSurveyStore returns an empty store.
func NewSurveyStore() *SurveyStore {
	return &SurveyStore{byID: map[string]koe.Survey{}, byKey: map[string]string{}}
}

// CreateSurvey stores s at Version 1 unless the user has a survey with
// SentAt at or after notBefore (ErrConflict, nothing stored). A known Key
// returns the stored survey and ErrDuplicate (checked before fatigue, so a
// retried request is recognised); an ID taken by another Key returns a zero
// survey and ErrDuplicate; ErrInvalid (see ValidSurvey) stores nothing.
func (st *SurveyStore) CreateSurvey(ctx context.Context, s koe.Survey, notBefore time.Time) (koe.Survey, error) {
	if err := ctx.Err(); err != nil {
		return koe.Survey{}, err
	}
	if err := ValidSurvey(s); err != nil {
		return koe.Survey{}, fmt.Errorf("fakes: create survey: %w", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if id, ok := st.byKey[s.Key]; ok {
		st.duplicate++
		return CloneSurvey(st.byID[id]), fmt.Errorf("fakes: create survey: %w", koe.ErrDuplicate)
	}
	if _, ok := st.byID[s.ID]; ok {
		st.duplicate++
		return koe.Survey{}, fmt.Errorf("fakes: create survey: id taken: %w", koe.ErrDuplicate)
	}
	for _, o := range st.byID {
		if o.User == s.User && !o.SentAt.Before(notBefore) {
			st.fatigued++
			return koe.Survey{}, fmt.Errorf("fakes: create survey: fatigue: %w", koe.ErrConflict)
		}
	}
	s = CloneSurvey(s)
	s.Version = 1
	st.byID[s.ID] = s
	st.byKey[s.Key] = s.ID
	st.order = append(st.order, s.ID)
	st.creates++
	return CloneSurvey(s), nil
}

// GetSurvey returns the survey with id, or ErrNotFound.
func (st *SurveyStore) GetSurvey(ctx context.Context, id string) (koe.Survey, error) {
	if err := ctx.Err(); err != nil {
		return koe.Survey{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[id]
	if !ok {
		return koe.Survey{}, fmt.Errorf("fakes: get survey: %w", koe.ErrNotFound)
	}
	return CloneSurvey(s), nil
}

// UpdateSurvey stores s over the same version and returns it at Version+1:
// ErrNotFound if absent, ErrConflict if stale, ErrInvalid if s is invalid or
// its Key, User or SentAt changed.
func (st *SurveyStore) UpdateSurvey(ctx context.Context, s koe.Survey) (koe.Survey, error) {
	if err := ctx.Err(); err != nil {
		return koe.Survey{}, err
	}
	if err := ValidSurvey(s); err != nil {
		return koe.Survey{}, fmt.Errorf("fakes: update survey: %w", err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	old, ok := st.byID[s.ID]
	switch {
	case !ok:
		return koe.Survey{}, fmt.Errorf("fakes: update survey: %w", koe.ErrNotFound)
	case old.Key != s.Key || old.User != s.User || !old.SentAt.Equal(s.SentAt):
		return koe.Survey{}, fmt.Errorf("fakes: update survey: identity changed: %w", koe.ErrInvalid)
	case old.Version != s.Version:
		return koe.Survey{}, fmt.Errorf("fakes: update survey: %w", koe.ErrConflict)
	}
	s = CloneSurvey(s)
	s.Version++
	st.byID[s.ID] = s
	st.updates++
	return CloneSurvey(s), nil
}

// Surveys returns the surveys f selects (SentAt in [From, To), zero bounds
// open; Touchpoint and User when set), oldest first, ties by ID.
func (st *SurveyStore) Surveys(ctx context.Context, f koe.SurveyFilter) ([]koe.Survey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []koe.Survey{}
	for _, s := range st.byID {
		if MatchSurvey(f, s) {
			out = append(out, CloneSurvey(s))
		}
	}
	SortSurveys(out)
	return out, nil
}

// All returns every stored survey in the order it was created.
func (st *SurveyStore) All() []koe.Survey {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]koe.Survey, 0, len(st.order))
	for _, id := range st.order {
		out = append(out, CloneSurvey(st.byID[id]))
	}
	return out
}

// SurveyStats counts what the store did.
type SurveyStats struct {
	Creates, Updates int
	Fatigued         int // creates refused by the fatigue budget
	Duplicates       int // creates refused as duplicates
}

// Stats reports how many calls succeeded or were refused.
func (st *SurveyStore) Stats() SurveyStats {
	st.mu.Lock()
	defer st.mu.Unlock()
	return SurveyStats{Creates: st.creates, Updates: st.updates, Fatigued: st.fatigued, Duplicates: st.duplicate}
}

// ValidSurvey reports ErrInvalid for a survey without an ID, Key, valid
// User, Touchpoint or SentAt, or with a Score outside 0–10 or a
// Satisfaction outside 1–5.
func ValidSurvey(s koe.Survey) error {
	switch {
	case s.ID == "" || s.Key == "" || !s.User.Valid() || s.Touchpoint == "" || s.SentAt.IsZero():
		return fmt.Errorf("survey needs id, key, user, touchpoint and sent time: %w", koe.ErrInvalid)
	case s.Score != nil && (*s.Score < 0 || *s.Score > 10):
		return fmt.Errorf("score out of range: %w", koe.ErrInvalid)
	case s.Satisfaction != nil && (*s.Satisfaction < 1 || *s.Satisfaction > 5):
		return fmt.Errorf("satisfaction out of range: %w", koe.ErrInvalid)
	}
	return nil
}

// MatchSurvey reports whether f selects s.
func MatchSurvey(f koe.SurveyFilter, s koe.Survey) bool {
	switch {
	case !f.From.IsZero() && s.SentAt.Before(f.From):
		return false
	case !f.To.IsZero() && !s.SentAt.Before(f.To):
		return false
	case f.Touchpoint != "" && s.Touchpoint != f.Touchpoint:
		return false
	case f.User != "" && s.User != f.User:
		return false
	}
	return true
}

// SortSurveys orders surveys as SurveyStore.Surveys returns them: by
// SentAt, oldest first, ties by ID ascending.
func SortSurveys(ss []koe.Survey) {
	slices.SortFunc(ss, func(a, b koe.Survey) int {
		return cmp.Or(a.SentAt.Compare(b.SentAt), cmp.Compare(a.ID, b.ID))
	})
}

// CloneSurvey returns a deep copy of s.
func CloneSurvey(s koe.Survey) koe.Survey {
	if s.Score != nil {
		v := *s.Score
		s.Score = &v
	}
	if s.Satisfaction != nil {
		v := *s.Satisfaction
		s.Satisfaction = &v
	}
	return s
}

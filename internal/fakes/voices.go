package fakes

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/koehq/koe"
)

var _ koe.VoiceStore = (*VoiceStore)(nil)

// VoiceStore is an in-memory koe.VoiceStore that behaves as the store
// conformance suite requires (storetest.TestVoiceStore). Voices are
// deep-copied on the way in and out. It is safe for concurrent use.
type VoiceStore struct {
	mu    sync.Mutex
	byID  map[string]koe.Voice
	order []string // ids in the order they were added
	dupes int
}

// NewVoiceStore returns an empty store.
func NewVoiceStore() *VoiceStore {
	return &VoiceStore{byID: map[string]koe.Voice{}}
}

// AddVoice stores v; the stored voice and ErrDuplicate for a known ID;
// ErrInvalid (nothing stored) without an ID or a valid User.
func (st *VoiceStore) AddVoice(ctx context.Context, v koe.Voice) (koe.Voice, error) {
	if err := ctx.Err(); err != nil {
		return koe.Voice{}, err
	}
	if v.ID == "" || !v.User.Valid() {
		return koe.Voice{}, fmt.Errorf("fakes: add voice: %w", koe.ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if old, ok := st.byID[v.ID]; ok {
		st.dupes++
		return CloneVoice(old), fmt.Errorf("fakes: add voice: %w", koe.ErrDuplicate)
	}
	v = CloneVoice(v)
	st.byID[v.ID] = v
	st.order = append(st.order, v.ID)
	return CloneVoice(v), nil
}

// Voices returns the voices f selects by At, newest first (ties by ID,
// descending); ErrInvalid for a negative Limit.
func (st *VoiceStore) Voices(ctx context.Context, f koe.VoiceFilter) ([]koe.Voice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("fakes: voices: %w", koe.ErrInvalid)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	out := []koe.Voice{}
	for _, v := range st.byID {
		if (!f.From.IsZero() && v.At.Before(f.From)) || (!f.To.IsZero() && !v.At.Before(f.To)) {
			continue
		}
		if f.Kind != "" && v.Kind != f.Kind {
			continue
		}
		out = append(out, CloneVoice(v))
	}
	SortVoices(out)
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// All returns every stored voice in the order it was added.
func (st *VoiceStore) All() []koe.Voice {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]koe.Voice, 0, len(st.order))
	for _, id := range st.order {
		out = append(out, CloneVoice(st.byID[id]))
	}
	return out
}

// GetVoice returns the voice with id, or koe.ErrNotFound.
func (st *VoiceStore) GetVoice(ctx context.Context, id string) (koe.Voice, error) {
	if err := ctx.Err(); err != nil {
		return koe.Voice{}, err
	}
	v, ok := st.Get(id)
	if !ok {
		return koe.Voice{}, fmt.Errorf("fakes: get voice: %w", koe.ErrNotFound)
	}
	return v, nil
}

// Get returns the voice with id, if stored.
func (st *VoiceStore) Get(id string) (koe.Voice, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	v, ok := st.byID[id]
	return CloneVoice(v), ok
}

// Duplicates reports how many AddVoice calls were refused as duplicates.
func (st *VoiceStore) Duplicates() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.dupes
}

// SortVoices orders voices as VoiceStore.Voices returns them: by At,
// newest first, ties by ID descending.
func SortVoices(vs []koe.Voice) {
	slices.SortFunc(vs, func(a, b koe.Voice) int {
		return cmp.Or(b.At.Compare(a.At), cmp.Compare(b.ID, a.ID))
	})
}

// CloneVoice returns a deep copy of v.
func CloneVoice(v koe.Voice) koe.Voice {
	v.Urgency = slices.Clone(v.Urgency)
	return v
}

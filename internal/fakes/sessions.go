package fakes

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/koehq/koe"
)

var _ koe.SessionStore = (*SessionStore)(nil)

// SessionStore is an in-memory koe.SessionStore with optimistic versions and
// idle expiry judged by an injected clock. It is safe for concurrent use.
// Sessions are deep-copied on the way in and out, so callers cannot change
// stored state by mutating what they hold.
type SessionStore struct {
	now func() time.Time

	// BeforeSave, when set, is called at the start of every SaveSession with
	// the session about to be saved, before the version check and without
	// the store's lock held. Tests use it to make a concurrent write (for
	// example by calling Put) and so provoke ErrConflict.
	BeforeSave func(s koe.Session)

	mu        sync.Mutex
	sessions  map[koe.UserID]koe.Session
	loads     int
	saves     int
	conflicts int
	deletes   int
}

// NewSessionStore returns an empty store whose expiry clock is now
// (time.Now when nil).
func NewSessionStore(now func() time.Time) *SessionStore {
	if now == nil {
		now = time.Now
	}
	return &SessionStore{now: now, sessions: make(map[koe.UserID]koe.Session)}
}

// live reports whether s has not expired at t. A zero ExpiresAt never
// expires.
func live(s koe.Session, t time.Time) bool {
	return s.ExpiresAt.IsZero() || s.ExpiresAt.After(t)
}

// LoadSession returns a copy of the user's session, or koe.ErrNotFound when
// there is none or it has expired. A cancelled context returns its error.
func (st *SessionStore) LoadSession(ctx context.Context, user koe.UserID) (koe.Session, error) {
	if err := ctx.Err(); err != nil {
		return koe.Session{}, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.loads++
	s, ok := st.sessions[user]
	if !ok || !live(s, st.now()) {
		return koe.Session{}, fmt.Errorf("fakes: load session: %w", koe.ErrNotFound)
	}
	return CloneSession(s), nil
}

// SaveSession stores s when the live stored version equals s.Version (0
// when there is no live session) and returns it with Version+1; otherwise it
// returns koe.ErrConflict and changes nothing.
func (st *SessionStore) SaveSession(ctx context.Context, s koe.Session) (koe.Session, error) {
	if err := ctx.Err(); err != nil {
		return koe.Session{}, err
	}
	if !s.User.Valid() {
		return koe.Session{}, fmt.Errorf("fakes: save session: user: %w", koe.ErrInvalid)
	}
	if st.BeforeSave != nil {
		st.BeforeSave(CloneSession(s))
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	var current int64
	if old, ok := st.sessions[s.User]; ok && live(old, st.now()) {
		current = old.Version
	}
	if s.Version != current {
		st.conflicts++
		return koe.Session{}, fmt.Errorf("fakes: save session at version %d (stored %d): %w", s.Version, current, koe.ErrConflict)
	}
	s = CloneSession(s)
	s.Version++
	st.sessions[s.User] = s
	st.saves++
	return CloneSession(s), nil
}

// DeleteSession forgets the user's session; a missing one is not an error.
func (st *SessionStore) DeleteSession(ctx context.Context, user koe.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.sessions, user)
	st.deletes++
	return nil
}

// Put stores s as is (no version check, Version kept), replacing whatever
// is stored. It is for arranging a test's starting state.
func (st *SessionStore) Put(s koe.Session) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sessions[s.User] = CloneSession(s)
}

// Get returns a copy of the stored session, expired or not, and whether one
// is stored.
func (st *SessionStore) Get(user koe.UserID) (koe.Session, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.sessions[user]
	return CloneSession(s), ok
}

// Stats reports how many saves succeeded, how many were refused as stale
// and how many deletes were made.
func (st *SessionStore) Stats() (saves, conflicts, deletes int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.saves, st.conflicts, st.deletes
}

// Loads returns how many times LoadSession was called.
func (st *SessionStore) Loads() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.loads
}

// CloneSession returns a deep copy of s.
func CloneSession(s koe.Session) koe.Session {
	s.Vars = maps.Clone(s.Vars)
	s.History = slices.Clone(s.History)
	s.Applied = slices.Clone(s.Applied)
	if s.Outbox != nil {
		o := CloneOutbound(*s.Outbox)
		s.Outbox = &o
	}
	return s
}

// CloneOutbound returns a deep copy of o.
func CloneOutbound(o koe.Outbound) koe.Outbound {
	o.Replies = slices.Clone(o.Replies)
	for i, r := range o.Replies {
		r.QuickReplies = cloneActions(r.QuickReplies)
		if r.Card != nil {
			c := *r.Card
			c.Fields = slices.Clone(c.Fields)
			c.Buttons = cloneActions(c.Buttons)
			r.Card = &c
		}
		o.Replies[i] = r
	}
	return o
}

func cloneActions(as []koe.Action) []koe.Action {
	as = slices.Clone(as)
	for i := range as {
		if as[i].Picker != nil {
			p := *as[i].Picker
			as[i].Picker = &p
		}
	}
	return as
}

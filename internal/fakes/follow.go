package fakes

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/koehq/koe"
)

var _ koe.FollowStore = (*FollowStore)(nil)

// FollowStore is an in-memory koe.FollowStore that behaves as the store
// conformance suite requires (storetest.TestFollow). It is safe for
// concurrent use.
type FollowStore struct {
	mu    sync.Mutex
	state map[koe.UserID]followRecord
	sets  int
}

type followRecord struct {
	following bool
	at        time.Time
}

// NewFollowStore returns an empty store: every user follows.
func NewFollowStore() *FollowStore {
	return &FollowStore{state: map[koe.UserID]followRecord{}}
}

// SetFollowing records following as of at unless a record with a later at
// is stored (a record with an equal at overwrites); ErrInvalid for an
// invalid user.
func (fs *FollowStore) SetFollowing(ctx context.Context, user koe.UserID, following bool, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !user.Valid() {
		return fmt.Errorf("fakes: set following: %w", koe.ErrInvalid)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.sets++
	if old, ok := fs.state[user]; ok && old.at.After(at) {
		return nil
	}
	fs.state[user] = followRecord{following: following, at: at}
	return nil
}

// Following reports the newest record for user, true when there is none;
// ErrInvalid for an invalid user.
func (fs *FollowStore) Following(ctx context.Context, user koe.UserID) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if !user.Valid() {
		return false, fmt.Errorf("fakes: following: %w", koe.ErrInvalid)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	r, ok := fs.state[user]
	return !ok || r.following, nil
}

// Sets reports how many SetFollowing calls were accepted (including ones
// an older at made no-ops).
func (fs *FollowStore) Sets() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.sets
}

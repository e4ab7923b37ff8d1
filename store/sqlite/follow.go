package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/koehq/koe"
)

var _ koe.FollowStore = (*Store)(nil)

// Follow SQL: an upsert that keeps the newer record (an equal time
// overwrites), and the lookup.
const (
	setFollowingSQL = `INSERT INTO follows (user, following, at) VALUES (?1, ?2, ?3)
		ON CONFLICT (user) DO UPDATE SET following = excluded.following, at = excluded.at
		WHERE excluded.at >= follows.at`
	followingSQL = `SELECT following FROM follows WHERE user = ?1`
)

// SetFollowing records whether user follows the account as of at, unless
// a record with a later at is stored (an equal at overwrites). An invalid
// user is koe.ErrInvalid. The comparison and the write are one statement.
func (s *Store) SetFollowing(ctx context.Context, user koe.UserID, following bool, at time.Time) error {
	if !user.Valid() {
		return fmt.Errorf("sqlite: set following: %w", koe.ErrInvalid)
	}
	err := s.write(ctx, func(w *writeTx) error {
		_, err := w.tx.ExecContext(w.ctx, setFollowingSQL, string(user), following, nanos(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: set following: %w", err)
	}
	return nil
}

// Following reports whether user follows the account: the newest record,
// true when there is none. An invalid user is koe.ErrInvalid.
func (s *Store) Following(ctx context.Context, user koe.UserID) (bool, error) {
	if err := s.check(ctx); err != nil {
		return false, fmt.Errorf("sqlite: following: %w", err)
	}
	if !user.Valid() {
		return false, fmt.Errorf("sqlite: following: %w", koe.ErrInvalid)
	}
	var following bool
	err := s.rdb.QueryRowContext(ctx, followingSQL, string(user)).Scan(&following)
	if errNoRows(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: following: %w", err)
	}
	return following, nil
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// Follow state lives beside the user's session, in the user's slot:
//
//	P:{u:<user>}:follow  hash  at (Unix ns), f ("1" following, "0" not)
//
// A record replaces the stored one unless the stored one is newer, checked
// and written in one script.

var _ koe.FollowStore = (*Store)(nil)

// setFollowingScript keeps the newer record (an equal time overwrites).
// KEYS: the user's follow hash. ARGV: at (ns), "1" or "0".
// Returns 1 if written, 0 if an older record was ignored.
var setFollowingScript = goredis.NewScript(luaLE + `
local at = redis.call('HGET', KEYS[1], 'at')
if at and not le(at, ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'at', ARGV[1], 'f', ARGV[2])
return 1
`)

func (s *Store) followKey(u koe.UserID) string {
	return s.prefix + ":{u:" + string(u) + "}:follow"
}

// SetFollowing records whether user follows the account as of at, unless
// a record with a later at is stored (an equal at overwrites; times before
// 1970 count as 1970). An invalid user is koe.ErrInvalid.
func (s *Store) SetFollowing(ctx context.Context, user koe.UserID, following bool, at time.Time) error {
	if !user.Valid() {
		return fmt.Errorf("redis: set following: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: set following: %w", err)
	}
	f := "0"
	if following {
		f = "1"
	}
	if err := setFollowingScript.Run(ctx, s.client, []string{s.followKey(user)}, nanos(at), f).Err(); err != nil {
		return fmt.Errorf("redis: set following: %w", err)
	}
	return nil
}

// Following reports whether user follows the account: the newest record,
// true when there is none. An invalid user is koe.ErrInvalid.
func (s *Store) Following(ctx context.Context, user koe.UserID) (bool, error) {
	if !user.Valid() {
		return false, fmt.Errorf("redis: following: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("redis: following: %w", err)
	}
	f, err := s.client.HGet(ctx, s.followKey(user), "f").Result()
	if errors.Is(err, goredis.Nil) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("redis: following: %w", err)
	}
	return f != "0", nil
}

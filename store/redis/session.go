package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// LoadSession returns the user's session, or an error wrapping
// koe.ErrNotFound when there is none or its ExpiresAt is not after now.
// One round trip.
func (s *Store) LoadSession(ctx context.Context, user koe.UserID) (koe.Session, error) {
	vals, err := s.client.HMGet(ctx, s.sessionKey(user), "e", "d").Result()
	if errors.Is(err, goredis.Nil) {
		return koe.Session{}, fmt.Errorf("redis: load session: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.Session{}, fmt.Errorf("redis: load session: %w", err)
	}
	exp, _ := vals[0].(string)
	data, _ := vals[1].(string)
	if data == "" {
		return koe.Session{}, fmt.Errorf("redis: load session: %w", koe.ErrNotFound)
	}
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return koe.Session{}, fmt.Errorf("redis: load session: bad expiry: %w", err)
	}
	if now, _ := strconv.ParseInt(nanos(s.now()), 10, 64); e <= now {
		return koe.Session{}, fmt.Errorf("redis: load session: %w", koe.ErrNotFound)
	}
	var sess koe.Session
	if err := json.Unmarshal([]byte(data), &sess); err != nil {
		return koe.Session{}, fmt.Errorf("redis: load session: decode: %w", err)
	}
	return sess, nil
}

// SaveSession stores sess if the stored live session's version equals
// sess.Version (0: none may be live), and returns sess at Version+1. A
// stale write returns an error wrapping koe.ErrConflict and changes
// nothing; an invalid user returns koe.ErrInvalid. It is one atomic script
// (one round trip), safe against concurrent savers on any replica. The
// session is forgotten at sess.ExpiresAt by the store's clock; Redis drops
// the key a margin later.
func (s *Store) SaveSession(ctx context.Context, sess koe.Session) (koe.Session, error) {
	if !sess.User.Valid() {
		return koe.Session{}, fmt.Errorf("redis: save session: invalid user: %w", koe.ErrInvalid)
	}
	if sess.Version < 0 {
		return koe.Session{}, fmt.Errorf("redis: save session: negative version: %w", koe.ErrInvalid)
	}
	next := sess
	next.Version++
	data, err := json.Marshal(next)
	if err != nil {
		return koe.Session{}, fmt.Errorf("redis: save session: encode: %w", err)
	}
	now := s.now()
	ttl := max(sess.ExpiresAt.Sub(now), 0) + gcMargin
	cmds, err := s.runScripts(ctx, saveSessionScript, []scriptCall{{
		keys: []string{s.sessionKey(sess.User)},
		args: []any{sess.Version, nanos(now), nanos(sess.ExpiresAt), data, ttl.Milliseconds()},
	}})
	if err == nil {
		err = cmds[0].Err()
	}
	if err != nil {
		return koe.Session{}, fmt.Errorf("redis: save session: %w", err)
	}
	if n, _ := cmds[0].Int(); n != 1 {
		return koe.Session{}, fmt.Errorf("redis: save session: version %d is stale: %w", sess.Version, koe.ErrConflict)
	}
	return next, nil
}

// DeleteSession forgets the user's session; deleting a missing session is
// not an error.
func (s *Store) DeleteSession(ctx context.Context, user koe.UserID) error {
	if err := s.client.Del(ctx, s.sessionKey(user)).Err(); err != nil {
		return fmt.Errorf("redis: delete session: %w", err)
	}
	return nil
}

package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/koehq/koe"
)

// LoadSession returns the user's session, or an error wrapping
// koe.ErrNotFound when there is none or it has expired.
func (s *Store) LoadSession(ctx context.Context, user koe.UserID) (koe.Session, error) {
	if err := s.check(ctx); err != nil {
		return koe.Session{}, fmt.Errorf("sqlite: load session: %w", err)
	}
	var (
		version int64
		data    []byte
	)
	err := s.rs.loadSession.QueryRowContext(ctx, string(user), nanos(s.now())).Scan(&version, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return koe.Session{}, fmt.Errorf("sqlite: load session: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.Session{}, fmt.Errorf("sqlite: load session: %w", err)
	}
	var sess koe.Session
	if err := json.Unmarshal(data, &sess); err != nil {
		return koe.Session{}, fmt.Errorf("sqlite: load session: decode: %w", err)
	}
	sess.Version = version
	return sess, nil
}

// SaveSession stores sess if the stored live session's version equals
// sess.Version (0: none may be live) and returns it with Version+1. A stale
// write returns an error wrapping koe.ErrConflict and changes nothing; an
// invalid user id returns koe.ErrInvalid. The session becomes invisible at
// sess.ExpiresAt (a zero ExpiresAt means at once) and is pruned later.
func (s *Store) SaveSession(ctx context.Context, sess koe.Session) (koe.Session, error) {
	if !sess.User.Valid() || sess.Version < 0 {
		return koe.Session{}, fmt.Errorf("sqlite: save session: %w", koe.ErrInvalid)
	}
	out := sess
	out.Version = sess.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Session{}, fmt.Errorf("sqlite: save session: encode: %w", err)
	}
	expires := nanos(sess.ExpiresAt)
	err = s.write(ctx, func(w *writeTx) error {
		now := nanos(w.now())
		var res sql.Result
		var err error
		if sess.Version == 0 {
			res, err = w.exec(w.ws.insertSession, string(sess.User), out.Version, expires, data, now)
		} else {
			res, err = w.exec(w.ws.updateSession, out.Version, expires, data, string(sess.User), sess.Version, now)
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return koe.ErrConflict
		}
		return nil
	})
	if err != nil {
		return koe.Session{}, fmt.Errorf("sqlite: save session: %w", err)
	}
	return out, nil
}

// DeleteSession forgets the user's session; a missing session is not an
// error.
func (s *Store) DeleteSession(ctx context.Context, user koe.UserID) error {
	err := s.write(ctx, func(w *writeTx) error {
		_, err := w.exec(w.ws.deleteSession, string(user))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

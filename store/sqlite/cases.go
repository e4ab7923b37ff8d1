package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/koehq/koe"
)

var _ koe.CaseStore = (*Store)(nil)

// Case SQL, run inside the writer's batch transaction or on the read pool.
const (
	insertCaseSQL = `INSERT INTO cases (ref, key, user, type, status, created_at, alert_channel, alert_ts, version, data)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9) ON CONFLICT DO NOTHING`
	caseByKeySQL  = `SELECT version, data FROM cases WHERE key = ?1`
	caseByRefSQL  = `SELECT version, data FROM cases WHERE ref = ?1`
	caseIdentSQL  = `SELECT key, user, created_at, version FROM cases WHERE ref = ?1`
	updateCaseSQL = `UPDATE cases SET type = ?1, status = ?2, alert_channel = ?3, alert_ts = ?4, version = ?5, data = ?6
		WHERE ref = ?7 AND version = ?8`
	caseByAlertSQL = `SELECT version, data FROM cases WHERE alert_channel = ?1 AND alert_ts = ?2
		ORDER BY created_at DESC, ref DESC LIMIT 1`
)

// CreateCase stores a new case at Version 1, every other field as given
// (times to the nanosecond). A case needs a Ref, a Key and a valid User
// (koe.ErrInvalid otherwise). If a case with c.Key exists it returns that
// case and an error wrapping koe.ErrDuplicate; a Ref used by another Key
// returns a zero case and koe.ErrDuplicate. The check and the insert are
// one write.
func (s *Store) CreateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	if c.Ref == "" || c.Key == "" || !c.User.Valid() {
		return koe.Case{}, fmt.Errorf("sqlite: create case: missing ref, key or user: %w", koe.ErrInvalid)
	}
	out := c
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Case{}, fmt.Errorf("sqlite: create case: encode: %w", err)
	}
	ch, ts := alertCols(c.Alert)
	var existing koe.Case
	err = s.write(ctx, func(w *writeTx) error {
		res, err := w.tx.ExecContext(w.ctx, insertCaseSQL, c.Ref, c.Key, string(c.User), string(c.Type),
			string(c.Status), nanos(c.CreatedAt), ch, ts, data)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		// The key or the ref is taken: the key's case, if any, is the
		// answer to a retried creation.
		var (
			version int64
			stored  []byte
		)
		err = w.tx.QueryRowContext(w.ctx, caseByKeySQL, c.Key).Scan(&version, &stored)
		if errNoRows(err) {
			return fmt.Errorf("ref taken: %w", koe.ErrDuplicate)
		}
		if err != nil {
			return err
		}
		if existing, err = decodeCase(version, stored); err != nil {
			return err
		}
		return koe.ErrDuplicate
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: create case: %w", err)
	}
	return out, nil
}

// GetCase returns the case with ref, or an error wrapping koe.ErrNotFound.
func (s *Store) GetCase(ctx context.Context, ref string) (koe.Case, error) {
	c, err := s.oneCase(ctx, caseByRefSQL, ref)
	if err != nil {
		return koe.Case{}, fmt.Errorf("sqlite: get case: %w", err)
	}
	return c, nil
}

// CaseByAlert returns the case whose Alert is (channel, ts), or an error
// wrapping koe.ErrNotFound. If several cases carry that alert, the newest
// is returned.
func (s *Store) CaseByAlert(ctx context.Context, channel, ts string) (koe.Case, error) {
	c, err := s.oneCase(ctx, caseByAlertSQL, channel, ts)
	if err != nil {
		return koe.Case{}, fmt.Errorf("sqlite: case by alert: %w", err)
	}
	return c, nil
}

func (s *Store) oneCase(ctx context.Context, query string, args ...any) (koe.Case, error) {
	if err := s.check(ctx); err != nil {
		return koe.Case{}, err
	}
	var (
		version int64
		data    []byte
	)
	err := s.rdb.QueryRowContext(ctx, query, args...).Scan(&version, &data)
	if errNoRows(err) {
		return koe.Case{}, koe.ErrNotFound
	}
	if err != nil {
		return koe.Case{}, err
	}
	return decodeCase(version, data)
}

// UpdateCase stores c if the stored case's version equals c.Version and
// returns it with Version+1. It returns an error wrapping koe.ErrNotFound if
// there is no case c.Ref, koe.ErrConflict if c is stale (nothing changes),
// and koe.ErrInvalid if c changes the case's Key, User or CreatedAt, which
// identify and order it. The status, type and alert columns follow c in
// the same write.
func (s *Store) UpdateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	out := c
	out.Version = c.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Case{}, fmt.Errorf("sqlite: update case: encode: %w", err)
	}
	ch, ts := alertCols(c.Alert)
	err = s.write(ctx, func(w *writeTx) error {
		var (
			key, user string
			created   int64
			version   int64
		)
		err := w.tx.QueryRowContext(w.ctx, caseIdentSQL, c.Ref).Scan(&key, &user, &created, &version)
		if errNoRows(err) {
			return koe.ErrNotFound
		}
		if err != nil {
			return err
		}
		if key != c.Key || user != string(c.User) || created != nanos(c.CreatedAt) {
			return fmt.Errorf("key, user or creation time changed: %w", koe.ErrInvalid)
		}
		if version != c.Version {
			return fmt.Errorf("version %d, stored %d: %w", c.Version, version, koe.ErrConflict)
		}
		res, err := w.tx.ExecContext(w.ctx, updateCaseSQL, string(c.Type), string(c.Status), ch, ts,
			out.Version, data, c.Ref, c.Version)
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
		return koe.Case{}, fmt.Errorf("sqlite: update case: %w", err)
	}
	return out, nil
}

// Cases returns the cases f selects (empty fields match all) by CreatedAt,
// newest first (ties by Ref, descending), at most Limit (0: all). A negative
// Limit is koe.ErrInvalid. It never returns a nil slice without an error.
func (s *Store) Cases(ctx context.Context, f koe.CaseFilter) ([]koe.Case, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: cases: %w", err)
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("sqlite: cases: limit %d: %w", f.Limit, koe.ErrInvalid)
	}
	var (
		where []string
		args  []any
	)
	for _, cond := range []struct{ col, val string }{
		{"status", string(f.Status)}, {"type", string(f.Type)}, {"user", string(f.User)},
	} {
		if cond.val != "" {
			args = append(args, cond.val)
			where = append(where, fmt.Sprintf("%s = ?%d", cond.col, len(args)))
		}
	}
	args = append(args, sqlLimit(f.Limit))
	q := "SELECT version, data FROM cases" + whereClause(where) +
		fmt.Sprintf(" ORDER BY created_at DESC, ref DESC LIMIT ?%d", len(args))
	out, err := queryRecords(ctx, s.rdb, true, decodeCase, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cases: %w", err)
	}
	return out, nil
}

// alertCols returns the alert columns: NULLs without an alert.
func alertCols(a *koe.AlertRef) (channel, ts any) {
	if a == nil {
		return nil, nil
	}
	return a.Channel, a.TS
}

// decodeCase decodes a stored case; the version column is authoritative.
func decodeCase(version int64, data []byte) (koe.Case, error) {
	return decodeJSON("case", version, data, func(c *koe.Case, v int64) { c.Version = v })
}

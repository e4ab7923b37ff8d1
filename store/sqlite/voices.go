package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/koehq/koe"
)

var _ koe.VoiceStore = (*Store)(nil)

// Voice SQL, run inside the writer's batch transaction or on the read pool.
const (
	insertVoiceSQL = `INSERT INTO voices (id, user, kind, at, data)
		VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING`
	voiceByIDSQL = `SELECT data FROM voices WHERE id = ?1`
)

// AddVoice stores v, every field as given (times to the nanosecond). A
// voice needs an ID and a valid User (koe.ErrInvalid otherwise). If a voice
// with v.ID exists it returns that voice and an error wrapping
// koe.ErrDuplicate; the check and the insert are one write.
func (s *Store) AddVoice(ctx context.Context, v koe.Voice) (koe.Voice, error) {
	if v.ID == "" || !v.User.Valid() {
		return koe.Voice{}, fmt.Errorf("sqlite: add voice: missing id or user: %w", koe.ErrInvalid)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return koe.Voice{}, fmt.Errorf("sqlite: add voice: encode: %w", err)
	}
	var existing koe.Voice
	err = s.write(ctx, func(w *writeTx) error {
		res, err := w.tx.ExecContext(w.ctx, insertVoiceSQL, v.ID, string(v.User), string(v.Kind), nanos(v.At), data)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var stored []byte
		if err := w.tx.QueryRowContext(w.ctx, voiceByIDSQL, v.ID).Scan(&stored); err != nil {
			return err
		}
		if existing, err = decodeVoice(stored); err != nil {
			return err
		}
		return koe.ErrDuplicate
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: add voice: %w", err)
	}
	return v, nil
}

// GetVoice returns the voice with id, or an error wrapping koe.ErrNotFound.
func (s *Store) GetVoice(ctx context.Context, id string) (koe.Voice, error) {
	if err := s.check(ctx); err != nil {
		return koe.Voice{}, fmt.Errorf("sqlite: get voice: %w", err)
	}
	var data []byte
	err := s.rdb.QueryRowContext(ctx, voiceByIDSQL, id).Scan(&data)
	if errNoRows(err) {
		return koe.Voice{}, fmt.Errorf("sqlite: get voice: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.Voice{}, fmt.Errorf("sqlite: get voice: %w", err)
	}
	v, err := decodeVoice(data)
	if err != nil {
		return koe.Voice{}, fmt.Errorf("sqlite: get voice: %w", err)
	}
	return v, nil
}

// Voices returns the voices f selects: At in [From, To) (zero bounds are
// open), of Kind when set, by At newest first (ties by ID, descending), at
// most Limit (0: all). A negative Limit is koe.ErrInvalid. It never returns
// a nil slice without an error.
func (s *Store) Voices(ctx context.Context, f koe.VoiceFilter) ([]koe.Voice, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: voices: %w", err)
	}
	if f.Limit < 0 {
		return nil, fmt.Errorf("sqlite: voices: limit %d: %w", f.Limit, koe.ErrInvalid)
	}
	var (
		where []string
		args  []any
	)
	if !f.From.IsZero() {
		args = append(args, nanos(f.From))
		where = append(where, fmt.Sprintf("at >= ?%d", len(args)))
	}
	if !f.To.IsZero() {
		args = append(args, nanos(f.To))
		where = append(where, fmt.Sprintf("at < ?%d", len(args)))
	}
	if f.Kind != "" {
		args = append(args, string(f.Kind))
		where = append(where, fmt.Sprintf("kind = ?%d", len(args)))
	}
	args = append(args, sqlLimit(f.Limit))
	q := "SELECT data FROM voices" + whereClause(where) +
		fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT ?%d", len(args))
	out, err := queryRecords(ctx, s.rdb, false, func(_ int64, data []byte) (koe.Voice, error) { return decodeVoice(data) }, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: voices: %w", err)
	}
	return out, nil
}

func decodeVoice(data []byte) (koe.Voice, error) { return decodeJSON[koe.Voice]("voice", 0, data, nil) }

// whereClause joins conditions with AND ("" when there are none).
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// sqlLimit maps a filter's limit (0: none) to SQLite's (-1: none).
func sqlLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// errNoRows reports whether err is the "no row" of a single-row query.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

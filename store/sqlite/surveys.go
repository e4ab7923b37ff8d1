package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/koehq/koe"
)

var _ koe.SurveyStore = (*Store)(nil)

// Survey SQL, run inside the writer's batch transaction or on the read pool.
const (
	surveyByKeySQL   = `SELECT version, data FROM surveys WHERE key = ?1`
	surveyByIDSQL    = `SELECT version, data FROM surveys WHERE id = ?1`
	surveyIDTakenSQL = `SELECT 1 FROM surveys WHERE id = ?1`
	surveyRecentSQL  = `SELECT 1 FROM surveys WHERE user = ?1 AND sent_at >= ?2 LIMIT 1`
	insertSurveySQL  = `INSERT INTO surveys (id, key, user, touchpoint, sent_at, version, data)
		VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)`
	surveyIdentSQL  = `SELECT key, user, sent_at, version FROM surveys WHERE id = ?1`
	updateSurveySQL = `UPDATE surveys SET touchpoint = ?1, version = ?2, data = ?3 WHERE id = ?4 AND version = ?5`
)

// CreateSurvey stores s at Version 1, every other field as given (times to
// the nanosecond), unless the user has a survey with SentAt at or after
// notBefore: then it returns a zero survey and an error wrapping
// koe.ErrConflict and stores nothing. If a survey with s.Key exists it
// returns that survey and koe.ErrDuplicate (checked first, so a retried
// request is recognised, not refused as fatigue); an ID used by another Key
// returns a zero survey and koe.ErrDuplicate. A survey needs an ID, a Key, a
// valid User, a Touchpoint and a SentAt, and a Score in 0–10 and a
// Satisfaction in 1–5 when set (koe.ErrInvalid otherwise). The checks and
// the insert are one write, so concurrent creates for one user — from this
// handle or another on the same file — let exactly one through.
func (s *Store) CreateSurvey(ctx context.Context, sv koe.Survey, notBefore time.Time) (koe.Survey, error) {
	if err := validSurvey(sv); err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: create survey: %w", err)
	}
	out := sv
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: create survey: encode: %w", err)
	}
	var existing koe.Survey
	err = s.write(ctx, func(w *writeTx) error {
		var (
			version int64
			stored  []byte
		)
		err := w.tx.QueryRowContext(w.ctx, surveyByKeySQL, sv.Key).Scan(&version, &stored)
		switch {
		case err == nil:
			if existing, err = decodeSurvey(version, stored); err != nil {
				return err
			}
			return koe.ErrDuplicate
		case !errNoRows(err):
			return err
		}
		var one int
		err = w.tx.QueryRowContext(w.ctx, surveyIDTakenSQL, sv.ID).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("id taken: %w", koe.ErrDuplicate)
		case !errNoRows(err):
			return err
		}
		err = w.tx.QueryRowContext(w.ctx, surveyRecentSQL, string(sv.User), nanos(notBefore)).Scan(&one)
		switch {
		case err == nil:
			return fmt.Errorf("fatigue: %w", koe.ErrConflict)
		case !errNoRows(err):
			return err
		}
		_, err = w.tx.ExecContext(w.ctx, insertSurveySQL, sv.ID, sv.Key, string(sv.User), string(sv.Touchpoint),
			nanos(sv.SentAt), data)
		return err
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: create survey: %w", err)
	}
	return out, nil
}

// GetSurvey returns the survey with id, or an error wrapping
// koe.ErrNotFound.
func (s *Store) GetSurvey(ctx context.Context, id string) (koe.Survey, error) {
	if err := s.check(ctx); err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: get survey: %w", err)
	}
	var (
		version int64
		data    []byte
	)
	err := s.rdb.QueryRowContext(ctx, surveyByIDSQL, id).Scan(&version, &data)
	if errNoRows(err) {
		err = koe.ErrNotFound
	}
	if err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: get survey: %w", err)
	}
	sv, err := decodeSurvey(version, data)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: get survey: %w", err)
	}
	return sv, nil
}

// UpdateSurvey stores sv if the stored survey's version equals sv.Version
// and returns it with Version+1. It returns an error wrapping
// koe.ErrNotFound if there is no survey sv.ID, koe.ErrConflict if sv is
// stale (nothing changes), and koe.ErrInvalid if sv is invalid (see
// CreateSurvey) or changes the survey's Key, User or SentAt, which identify
// it and drive the fatigue rule.
func (s *Store) UpdateSurvey(ctx context.Context, sv koe.Survey) (koe.Survey, error) {
	if err := validSurvey(sv); err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: update survey: %w", err)
	}
	out := sv
	out.Version = sv.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("sqlite: update survey: encode: %w", err)
	}
	err = s.write(ctx, func(w *writeTx) error {
		var (
			key, user string
			sent      int64
			version   int64
		)
		err := w.tx.QueryRowContext(w.ctx, surveyIdentSQL, sv.ID).Scan(&key, &user, &sent, &version)
		if errNoRows(err) {
			return koe.ErrNotFound
		}
		if err != nil {
			return err
		}
		if key != sv.Key || user != string(sv.User) || sent != nanos(sv.SentAt) {
			return fmt.Errorf("key, user or sent time changed: %w", koe.ErrInvalid)
		}
		if version != sv.Version {
			return fmt.Errorf("version %d, stored %d: %w", sv.Version, version, koe.ErrConflict)
		}
		res, err := w.tx.ExecContext(w.ctx, updateSurveySQL, string(sv.Touchpoint), out.Version, data, sv.ID, sv.Version)
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
		return koe.Survey{}, fmt.Errorf("sqlite: update survey: %w", err)
	}
	return out, nil
}

// Surveys returns the surveys f selects — SentAt in [From, To) (zero bounds
// open), of f.Touchpoint and f.User when set — by SentAt, oldest first,
// ties by ID. It never returns a nil slice without an error.
func (s *Store) Surveys(ctx context.Context, f koe.SurveyFilter) ([]koe.Survey, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: surveys: %w", err)
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, val any) {
		args = append(args, val)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if !f.From.IsZero() {
		add("sent_at >= ?%d", nanos(f.From))
	}
	if !f.To.IsZero() {
		add("sent_at < ?%d", nanos(f.To))
	}
	if f.Touchpoint != "" {
		add("touchpoint = ?%d", string(f.Touchpoint))
	}
	if f.User != "" {
		add("user = ?%d", string(f.User))
	}
	q := "SELECT version, data FROM surveys" + whereClause(where) + " ORDER BY sent_at, id"
	out, err := queryRecords(ctx, s.rdb, true, decodeSurvey, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: surveys: %w", err)
	}
	return out, nil
}

// validSurvey checks what every stored survey must have.
func validSurvey(sv koe.Survey) error {
	switch {
	case sv.ID == "" || sv.Key == "" || !sv.User.Valid() || sv.Touchpoint == "" || sv.SentAt.IsZero():
		return fmt.Errorf("missing id, key, user, touchpoint or sent time: %w", koe.ErrInvalid)
	case sv.Score != nil && (*sv.Score < 0 || *sv.Score > 10):
		return fmt.Errorf("score out of range: %w", koe.ErrInvalid)
	case sv.Satisfaction != nil && (*sv.Satisfaction < 1 || *sv.Satisfaction > 5):
		return fmt.Errorf("satisfaction out of range: %w", koe.ErrInvalid)
	}
	return nil
}

// decodeSurvey decodes a stored survey; the version column is
// authoritative.
func decodeSurvey(version int64, data []byte) (koe.Survey, error) {
	return decodeJSON("survey", version, data, func(sv *koe.Survey, v int64) { sv.Version = v })
}

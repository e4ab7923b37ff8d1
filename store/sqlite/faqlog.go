package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/koehq/koe"
)

var _ koe.FAQLog = (*Store)(nil)

// FAQ answer SQL, run inside the writer's batch transaction or on the read
// pool.
const (
	insertFAQAnswerSQL = `INSERT INTO faq_answers (id, user, entry, at, data)
		VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING`
	faqAnswerByIDSQL   = `SELECT data FROM faq_answers WHERE id = ?1`
	updateFAQAnswerSQL = `UPDATE faq_answers SET data = ?2 WHERE id = ?1`
)

// RecordAnswer stores a, every field as given (times to the nanosecond).
// An answer needs an ID, a valid User, an Entry and a non-zero At
// (koe.ErrInvalid otherwise). If an answer with a.ID exists it returns that
// answer, with its latest mark, and an error wrapping koe.ErrDuplicate; the
// check and the insert are one write.
func (s *Store) RecordAnswer(ctx context.Context, a koe.FAQAnswer) (koe.FAQAnswer, error) {
	if a.ID == "" || !a.User.Valid() || a.Entry == "" || a.At.IsZero() {
		return koe.FAQAnswer{}, fmt.Errorf("sqlite: record answer: missing id, user, entry or time: %w", koe.ErrInvalid)
	}
	data, err := json.Marshal(a)
	if err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("sqlite: record answer: encode: %w", err)
	}
	var existing koe.FAQAnswer
	err = s.write(ctx, func(w *writeTx) error {
		res, err := w.tx.ExecContext(w.ctx, insertFAQAnswerSQL, a.ID, string(a.User), a.Entry, nanos(a.At), data)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		var stored []byte
		if err := w.tx.QueryRowContext(w.ctx, faqAnswerByIDSQL, a.ID).Scan(&stored); err != nil {
			return err
		}
		if existing, err = decodeFAQAnswer(stored); err != nil {
			return err
		}
		return koe.ErrDuplicate
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: record answer: %w", err)
	}
	return a, nil
}

// MarkAnswer replaces the Helpful and CaseRef of the answer with id (nil
// and "" clear them; the last mark wins). It returns an error wrapping
// koe.ErrNotFound if there is no such answer. The read and the rewrite are
// one write.
func (s *Store) MarkAnswer(ctx context.Context, id string, helpful *bool, caseRef string) error {
	err := s.write(ctx, func(w *writeTx) error {
		var stored []byte
		err := w.tx.QueryRowContext(w.ctx, faqAnswerByIDSQL, id).Scan(&stored)
		if errNoRows(err) {
			return koe.ErrNotFound
		}
		if err != nil {
			return err
		}
		a, err := decodeFAQAnswer(stored)
		if err != nil {
			return err
		}
		a.Helpful, a.CaseRef = nil, caseRef
		if helpful != nil {
			h := *helpful
			a.Helpful = &h
		}
		data, err := json.Marshal(a)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		_, err = w.tx.ExecContext(w.ctx, updateFAQAnswerSQL, id, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark answer: %w", err)
	}
	return nil
}

// Answers returns the answers with At in [from, to) (zero bounds are open;
// to the nanosecond), oldest first, ties by ID ascending. It never returns
// a nil slice without an error.
func (s *Store) Answers(ctx context.Context, from, to time.Time) ([]koe.FAQAnswer, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: answers: %w", err)
	}
	var (
		where []string
		args  []any
	)
	if !from.IsZero() {
		args = append(args, nanos(from))
		where = append(where, fmt.Sprintf("at >= ?%d", len(args)))
	}
	if !to.IsZero() {
		args = append(args, nanos(to))
		where = append(where, fmt.Sprintf("at < ?%d", len(args)))
	}
	q := "SELECT data FROM faq_answers" + whereClause(where) + " ORDER BY at, id"
	out, err := queryRecords(ctx, s.rdb, false, func(_ int64, data []byte) (koe.FAQAnswer, error) { return decodeFAQAnswer(data) }, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: answers: %w", err)
	}
	return out, nil
}

func decodeFAQAnswer(data []byte) (koe.FAQAnswer, error) {
	return decodeJSON[koe.FAQAnswer]("faq answer", 0, data, nil)
}

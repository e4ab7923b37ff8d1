package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/koehq/koe"
)

var _ koe.ReportStore = (*Store)(nil)

// Report SQL. These statements are not prepared ahead (sqlite.go prepares
// the inbox's and sessions'); each runs inside the writer's batch
// transaction or on the read pool.
const (
	insertReportSQL = `INSERT INTO reports (ref, key, user, submitted_at, version, data)
		VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT DO NOTHING`
	reportByKeySQL   = `SELECT version, data FROM reports WHERE key = ?1`
	reportByRefSQL   = `SELECT version, data FROM reports WHERE ref = ?1`
	reportIdentSQL   = `SELECT key, user, submitted_at, version FROM reports WHERE ref = ?1`
	updateReportSQL  = `UPDATE reports SET version = ?1, data = ?2 WHERE ref = ?3 AND version = ?4`
	reportsByUserSQL = `SELECT version, data FROM reports WHERE user = ?1
		ORDER BY submitted_at DESC, ref DESC LIMIT ?2`
)

// CreateReport stores a new report at Version 1, every other field as
// given. A report needs a Ref, a Key and a valid User (koe.ErrInvalid
// otherwise). If a report with r.Key exists it returns that report and an
// error wrapping koe.ErrDuplicate; a Ref used by another Key returns a zero
// report and koe.ErrDuplicate. The check and the insert are one write.
func (s *Store) CreateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	if r.Ref == "" || r.Key == "" || !r.User.Valid() {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: create report: missing ref, key or user: %w", koe.ErrInvalid)
	}
	out := r
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: create report: encode: %w", err)
	}
	var existing koe.AccidentReport
	err = s.write(ctx, func(w *writeTx) error {
		res, err := w.tx.ExecContext(w.ctx, insertReportSQL, r.Ref, r.Key, string(r.User), nanos(r.SubmittedAt), data)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 1 {
			return nil
		}
		// The key or the ref is taken: the key's report, if any, is the
		// answer to a retried submission.
		var (
			version int64
			stored  []byte
		)
		err = w.tx.QueryRowContext(w.ctx, reportByKeySQL, r.Key).Scan(&version, &stored)
		if errors.Is(err, sql.ErrNoRows) {
			return koe.ErrDuplicate
		}
		if err != nil {
			return err
		}
		if existing, err = decodeReport(version, stored); err != nil {
			return err
		}
		return koe.ErrDuplicate
	})
	if err != nil {
		return existing, fmt.Errorf("sqlite: create report: %w", err)
	}
	return out, nil
}

// GetReport returns the report with ref, or an error wrapping
// koe.ErrNotFound.
func (s *Store) GetReport(ctx context.Context, ref string) (koe.AccidentReport, error) {
	if err := s.check(ctx); err != nil {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: get report: %w", err)
	}
	var (
		version int64
		data    []byte
	)
	err := s.rdb.QueryRowContext(ctx, reportByRefSQL, ref).Scan(&version, &data)
	if errors.Is(err, sql.ErrNoRows) {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: get report: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: get report: %w", err)
	}
	r, err := decodeReport(version, data)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: get report: %w", err)
	}
	return r, nil
}

// ReportsByUser returns the user's reports by SubmittedAt, newest first, at
// most limit (none when limit is not positive). It never returns a nil
// slice without an error.
func (s *Store) ReportsByUser(ctx context.Context, user koe.UserID, limit int) ([]koe.AccidentReport, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: reports by user: %w", err)
	}
	out := []koe.AccidentReport{}
	if limit <= 0 {
		return out, nil
	}
	out, err := queryRecords(ctx, s.rdb, true, decodeReport, reportsByUserSQL, string(user), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reports by user: %w", err)
	}
	return out, nil
}

// UpdateReport stores r if the stored report's version equals r.Version and
// returns it with Version+1. It returns an error wrapping koe.ErrNotFound if
// there is no report r.Ref, koe.ErrConflict if r is stale (nothing
// changes), and koe.ErrInvalid if r changes the report's Key, User or
// SubmittedAt, which identify and order it.
func (s *Store) UpdateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	out := r
	out.Version = r.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("sqlite: update report: encode: %w", err)
	}
	err = s.write(ctx, func(w *writeTx) error {
		var (
			key, user string
			submitted int64
			version   int64
		)
		err := w.tx.QueryRowContext(w.ctx, reportIdentSQL, r.Ref).Scan(&key, &user, &submitted, &version)
		if errors.Is(err, sql.ErrNoRows) {
			return koe.ErrNotFound
		}
		if err != nil {
			return err
		}
		if key != r.Key || user != string(r.User) || submitted != nanos(r.SubmittedAt) {
			return fmt.Errorf("key, user or submission time changed: %w", koe.ErrInvalid)
		}
		if version != r.Version {
			return fmt.Errorf("version %d, stored %d: %w", r.Version, version, koe.ErrConflict)
		}
		res, err := w.tx.ExecContext(w.ctx, updateReportSQL, out.Version, data, r.Ref, r.Version)
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
		return koe.AccidentReport{}, fmt.Errorf("sqlite: update report: %w", err)
	}
	return out, nil
}

// decodeReport decodes a stored report; the version column is
// authoritative.
func decodeReport(version int64, data []byte) (koe.AccidentReport, error) {
	return decodeJSON("report", version, data, func(r *koe.AccidentReport, v int64) { r.Version = v })
}

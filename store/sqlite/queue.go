package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/koehq/koe"
)

// The follow-up queue (koe.Queue) is a lease table in the store's
// database, written through the same group-commit writer. Its methods are
// the Store's, except that Claim is ClaimJobs (koe.Inbox has a Claim of its
// own); Queue adapts the Store to koe.Queue.

var _ koe.Queue = (*Store)(nil)

// DeadJob is a job moved aside by Queue.DeadLetter.
type DeadJob struct {
	Job      koe.Job
	Attempts int       // deliveries before it was dead-lettered
	Reason   string    // as given to DeadLetter
	At       time.Time // when, by the store's clock
}

// dedupePruneLimit bounds how many expired dedupe ids one Enqueue deletes.
const dedupePruneLimit = 100

// Queue SQL, run inside the writer's batch transaction or on the read pool.
const (
	pruneJobsDedupeSQL = `DELETE FROM jobs_dedupe WHERE rowid IN
		(SELECT rowid FROM jobs_dedupe WHERE finished_at <= ?1 LIMIT ?2)`
	// A job is new unless pending (the id conflicts) or finished within
	// the window.
	// available_at is max(now, NotBefore).
	insertJobSQL = `INSERT INTO jobs (id, data, enqueued_at, available_at)
		SELECT ?1, ?2, ?3, max(?3, ?5) WHERE NOT EXISTS (SELECT 1 FROM jobs_dedupe WHERE id = ?1 AND finished_at > ?4)
		ON CONFLICT (id) DO NOTHING`
	// Each lease is the claim's unique prefix and the job id.
	claimJobsSQL = `UPDATE jobs SET lease = ?1 || id, owner = ?2, available_at = ?3, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs WHERE available_at <= ?4 ORDER BY available_at LIMIT ?5)
		RETURNING id, data, attempts, lease`
	completeJobSQL = `DELETE FROM jobs WHERE id = ?1 AND lease = ?2`
	finishJobSQL   = `INSERT INTO jobs_dedupe (id, finished_at) VALUES (?1, ?2)
		ON CONFLICT (id) DO UPDATE SET finished_at = excluded.finished_at`
	retryJobSQL = `UPDATE jobs SET available_at = ?3, lease = NULL, owner = NULL WHERE id = ?1 AND lease = ?2`
	buryJobSQL  = `INSERT INTO jobs_dead (id, data, attempts, reason, dead_at)
		SELECT id, data, attempts, ?3, ?4 FROM jobs WHERE id = ?1 AND lease = ?2`
	deleteJobSQL = `DELETE FROM jobs WHERE id = ?1`
	jobStatsSQL  = `SELECT count(*), coalesce(min(enqueued_at), 0) FROM jobs`
	deadJobsSQL  = `SELECT data, attempts, reason, dead_at FROM jobs_dead ORDER BY n DESC LIMIT ?1`
)

// Enqueue durably adds the jobs and returns how many were new: a job whose
// ID is pending, or was completed or dead-lettered less than
// koe.DedupeWindow ago, is skipped. A job is claimable from its NotBefore,
// or at once when that is zero or past. A job without an ID or Kind makes it
// return koe.ErrInvalid before anything is written. All jobs of one call
// are written in one transaction.
func (q *Store) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	if len(jobs) == 0 {
		if err := q.check(ctx); err != nil {
			return 0, fmt.Errorf("sqlite: enqueue: %w", err)
		}
		return 0, nil
	}
	payloads := make([][]byte, len(jobs))
	for i, j := range jobs {
		if j.ID == "" || j.Kind == "" {
			return 0, fmt.Errorf("sqlite: enqueue: job %d: missing id or kind: %w", i, koe.ErrInvalid)
		}
		p, err := json.Marshal(j)
		if err != nil {
			return 0, fmt.Errorf("sqlite: enqueue: encode job %d: %w", i, err)
		}
		payloads[i] = p
	}
	var added int
	err := q.write(ctx, func(w *writeTx) error {
		added = 0
		now := w.now()
		since := nanos(now.Add(-koe.DedupeWindow))
		if _, err := w.tx.ExecContext(w.ctx, pruneJobsDedupeSQL, since, dedupePruneLimit); err != nil {
			return err
		}
		for i, j := range jobs {
			notBefore := int64(0)
			if !j.NotBefore.IsZero() {
				notBefore = nanos(j.NotBefore)
			}
			res, err := w.tx.ExecContext(w.ctx, insertJobSQL, j.ID, payloads[i], nanos(now), since, notBefore)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: enqueue: %w", err)
	}
	return added, nil
}

// ClaimJobs (koe.Queue's Claim) leases up to max ready jobs (those enqueued, whose retry delay has
// passed or whose lease ran out) for consumer until now+ttl and returns
// them, in no particular order. It returns an empty slice when nothing is
// ready or max is not positive; a ttl that is not positive is
// koe.ErrInvalid.
func (q *Store) ClaimJobs(ctx context.Context, consumer string, max int, ttl time.Duration) ([]koe.JobDelivery, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("sqlite: claim jobs: lease ttl %v: %w", ttl, koe.ErrInvalid)
	}
	if err := q.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	out := []koe.JobDelivery{}
	if max <= 0 {
		return out, nil
	}
	prefix := "j" + q.leases.next() + "."
	err := q.write(ctx, func(w *writeTx) error {
		out = out[:0]
		now := w.now()
		rows, err := w.tx.QueryContext(w.ctx, claimJobsSQL, prefix, consumer, nanos(now.Add(ttl)), nanos(now), max)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id, lease string
				data      []byte
				attempts  int
			)
			if err := rows.Scan(&id, &data, &attempts, &lease); err != nil {
				return err
			}
			var j koe.Job
			if err := json.Unmarshal(data, &j); err != nil {
				return fmt.Errorf("decode job: %w", err)
			}
			out = append(out, koe.JobDelivery{Job: j, Attempt: attempts, Lease: lease})
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim jobs: %w", err)
	}
	return out, nil
}

// Complete removes a finished job and remembers its ID for
// koe.DedupeWindow. It returns an error wrapping koe.ErrConflict if the
// lease is not held (it ran out and the job was claimed again, or it was
// already used). A lease that ran out unclaimed is still held.
func (q *Store) Complete(ctx context.Context, d koe.JobDelivery) error {
	err := q.write(ctx, func(w *writeTx) error {
		if err := execOne(w, completeJobSQL, d.Job.ID, d.Lease); err != nil {
			return err
		}
		_, err := w.tx.ExecContext(w.ctx, finishJobSQL, d.Job.ID, nanos(w.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: complete job: %w", err)
	}
	return nil
}

// Retry frees the lease; the job is claimable again once delay has passed
// (at once when delay is not positive) with a higher Attempt. ErrConflict
// as for Complete.
func (q *Store) Retry(ctx context.Context, d koe.JobDelivery, delay time.Duration) error {
	err := q.write(ctx, func(w *writeTx) error {
		return execOne(w, retryJobSQL, d.Job.ID, d.Lease, nanos(w.now().Add(max(delay, 0))))
	})
	if err != nil {
		return fmt.Errorf("sqlite: retry job: %w", err)
	}
	return nil
}

// DeadLetter moves the job to the dead jobs (see DeadJobs) with reason and
// remembers its ID for koe.DedupeWindow. ErrConflict as for Complete.
func (q *Store) DeadLetter(ctx context.Context, d koe.JobDelivery, reason string) error {
	err := q.write(ctx, func(w *writeTx) error {
		now := nanos(w.now())
		if err := execOne(w, buryJobSQL, d.Job.ID, d.Lease, reason, now); err != nil {
			return err
		}
		if _, err := w.tx.ExecContext(w.ctx, deleteJobSQL, d.Job.ID); err != nil {
			return err
		}
		_, err := w.tx.ExecContext(w.ctx, finishJobSQL, d.Job.ID, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: dead-letter job: %w", err)
	}
	return nil
}

// QueueStats returns the number of pending jobs (ready, leased or waiting
// to be retried) and how long ago the oldest was enqueued (0 when empty).
func (q *Store) QueueStats(ctx context.Context) (int, time.Duration, error) {
	if err := q.check(ctx); err != nil {
		return 0, 0, fmt.Errorf("sqlite: queue stats: %w", err)
	}
	var (
		depth  int
		oldest int64
	)
	if err := q.rdb.QueryRowContext(ctx, jobStatsSQL).Scan(&depth, &oldest); err != nil {
		return 0, 0, fmt.Errorf("sqlite: queue stats: %w", err)
	}
	if depth == 0 {
		return 0, 0, nil
	}
	return depth, max(time.Duration(nanos(q.now())-oldest), 0), nil
}

// DeadJobs returns the dead-lettered jobs, newest first, at most limit.
func (q *Store) DeadJobs(ctx context.Context, limit int) ([]DeadJob, error) {
	if err := q.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
	}
	out := []DeadJob{}
	if limit <= 0 {
		return out, nil
	}
	rows, err := q.rdb.QueryContext(ctx, deadJobsSQL, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			data []byte
			dj   DeadJob
			at   int64
		)
		if err := rows.Scan(&data, &dj.Attempts, &dj.Reason, &at); err != nil {
			return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
		}
		if err := json.Unmarshal(data, &dj.Job); err != nil {
			return nil, fmt.Errorf("sqlite: dead jobs: decode: %w", err)
		}
		dj.At = time.Unix(0, at).UTC()
		out = append(out, dj)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: dead jobs: %w", err)
	}
	return out, nil
}

// execOne runs a write that must change one row; none means the lease is
// not held (koe.ErrConflict).
func execOne(w *writeTx, query string, args ...any) error {
	res, err := w.tx.ExecContext(w.ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("lease not held: %w", koe.ErrConflict)
	}
	return nil
}

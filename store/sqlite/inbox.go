package sqlite

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/koehq/koe"
)

// Append durably stores the messages before returning (their batch has
// committed). Ids accepted within koe.DedupeWindow, including earlier in the
// same call, are skipped. A message without an ID or with an invalid user
// makes the whole call fail with koe.ErrInvalid, storing nothing.
func (s *Store) Append(ctx context.Context, msgs ...koe.Message) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, fmt.Errorf("sqlite: append: %w", err)
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	// Copied, so the op never reads the caller's slice (it may still run
	// after a cancelled caller returned).
	type row struct {
		id, user string
		data     []byte
	}
	rows := make([]row, len(msgs))
	for i, m := range msgs {
		if m.ID == "" || !m.User.Valid() {
			return 0, fmt.Errorf("sqlite: append: message %d: %w", i, koe.ErrInvalid)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return 0, fmt.Errorf("sqlite: append: encode: %w", err)
		}
		rows[i] = row{m.ID, string(m.User), b}
	}
	var added int
	err := s.write(ctx, func(w *writeTx) error {
		added = 0
		now := w.now()
		at, windowStart := nanos(now), nanos(now.Add(-koe.DedupeWindow))
		for _, r := range rows {
			// One statement: the inbox_accept trigger records the id
			// and queues the message.
			res, err := w.exec(w.ws.appendMessage, r.id, r.user, at, r.data, windowStart)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			added += int(n) // 0: seen within the window
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: append: %w", err)
	}
	return added, nil
}

// Claim leases up to max users' oldest pending messages for owner, the
// users whose head message is oldest first, and returns them in that order.
// A user whose message is leased (until the lease ends) or released (until
// its delay passes) is skipped. max <= 0 claims nothing; ttl must be
// positive (koe.ErrInvalid otherwise). If ctx ends while the claim is
// queued or committing, Claim returns ctx's error and any leases it took
// run out after ttl (the messages are then claimed again).
func (s *Store) Claim(ctx context.Context, owner string, max int, ttl time.Duration) ([]koe.Delivery, error) {
	if err := s.check(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	if ttl <= 0 {
		return nil, fmt.Errorf("sqlite: claim: ttl %v: %w", ttl, koe.ErrInvalid)
	}
	if max <= 0 {
		return []koe.Delivery{}, nil
	}
	// Idle polling stays off the writer: ask a read connection first. It
	// sees every committed write, so nothing ready is missed for longer
	// than until the next poll.
	var ready bool
	if err := s.rs.anyReady.QueryRowContext(ctx, nanos(s.now())).Scan(&ready); err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	if !ready {
		return []koe.Delivery{}, nil
	}
	type claimed struct {
		seq      int64
		lease    string
		attempts int
		data     []byte
	}
	var got []claimed
	prefix := s.leases.next() + "-"
	err := s.write(ctx, func(w *writeTx) error {
		got = got[:0]
		now := w.now()
		st, bindLimit, err := w.ws.claimFor(w.ctx, max)
		if err != nil {
			return err
		}
		args := []any{prefix, owner, nanos(now.Add(ttl)), nanos(now), int64(max)}
		if !bindLimit {
			args = args[:4]
		}
		rows, err := w.query(st, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c claimed
			if err := rows.Scan(&c.seq, &c.lease, &c.attempts, &c.data); err != nil {
				return err
			}
			got = append(got, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim: %w", err)
	}
	slices.SortFunc(got, func(a, b claimed) int { return cmp.Compare(a.seq, b.seq) })
	ds := make([]koe.Delivery, 0, len(got))
	for _, c := range got {
		d := koe.Delivery{Attempt: c.attempts, Lease: c.lease, Seq: c.seq}
		if err := json.Unmarshal(c.data, &d.Message); err != nil {
			// The leases are held and run out like any other; the
			// messages are claimed again then.
			return nil, fmt.Errorf("sqlite: claim: decode message %d: %w", c.seq, err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// Ack removes the message and frees its user's lease. It returns an error
// wrapping koe.ErrConflict if the store does not hold d's lease.
func (s *Store) Ack(ctx context.Context, d koe.Delivery) error {
	err := s.write(ctx, func(w *writeTx) error {
		if d.Lease == "" {
			return koe.ErrConflict
		}
		// The inbox_advance trigger moves the queue on.
		return changedOne(w.exec(w.ws.ackHead, string(d.Message.User), d.Lease, d.Seq))
	})
	if err != nil {
		return fmt.Errorf("sqlite: ack: %w", err)
	}
	return nil
}

// Release frees the lease and keeps the message at the head of its user's
// queue, claimable again once retryAfter (negative counts as 0) has passed.
// koe.ErrConflict as for Ack.
func (s *Store) Release(ctx context.Context, d koe.Delivery, retryAfter time.Duration) error {
	retryAfter = max(retryAfter, 0)
	err := s.write(ctx, func(w *writeTx) error {
		if d.Lease == "" {
			return koe.ErrConflict
		}
		return changedOne(w.exec(w.ws.releaseHead, string(d.Message.User), d.Lease, d.Seq, nanos(w.now().Add(retryAfter))))
	})
	if err != nil {
		return fmt.Errorf("sqlite: release: %w", err)
	}
	return nil
}

// Bury moves the message to the dead letters (table inbox_dead, with the
// reason, its attempts and the time) and frees the lease, so the user's
// next message can be claimed. koe.ErrConflict as for Ack.
func (s *Store) Bury(ctx context.Context, d koe.Delivery, reason string) error {
	err := s.write(ctx, func(w *writeTx) error {
		if d.Lease == "" {
			return koe.ErrConflict
		}
		user := string(d.Message.User)
		if err := changedOne(w.exec(w.ws.buryHead, user, d.Lease, d.Seq, reason, nanos(w.now()))); err != nil {
			return err
		}
		return changedOne(w.exec(w.ws.ackHead, user, d.Lease, d.Seq))
	})
	if err != nil {
		return fmt.Errorf("sqlite: bury: %w", err)
	}
	return nil
}

// Depth returns the number of pending messages, leased or not.
func (s *Store) Depth(ctx context.Context) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, fmt.Errorf("sqlite: depth: %w", err)
	}
	var n int
	if err := s.rs.depth.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: depth: %w", err)
	}
	return n, nil
}

// changedOne turns the result of a write guarded by a lease into
// koe.ErrConflict when it changed no row (the lease is not held).
func changedOne(res interface{ RowsAffected() (int64, error) }, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return koe.ErrConflict
	}
	return nil
}

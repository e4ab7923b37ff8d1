package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

const (
	// gcMargin is how long past its logical end a key is kept before Redis
	// expires it; the logical checks use Options.Now, the TTLs real time.
	gcMargin = 24 * time.Hour
	// promoteBatch bounds the users a Claim moves from wait to ready.
	promoteBatch = 1000
	// deadCap is how many dead letters a shard keeps (newest first), and
	// deadTTL how long after the last burial the list is kept.
	deadCap = 10000
	deadTTL = 90 * 24 * time.Hour
)

// Append stores msgs and returns how many were new. Durability is Redis's:
// it answers before fsync unless the server runs with appendfsync always
// (everysec can lose about a second on a crash of the server).
//
// A message whose ID was accepted less than koe.DedupeWindow ago is
// skipped, to the millisecond: an id accepted at T is forgotten from the
// first millisecond at or after T+DedupeWindow. Ids are remembered per inbox
// shard, which suffices because a platform event id belongs to one user.
//
// Messages without an ID or with an invalid user make Append return an
// error wrapping koe.ErrInvalid before anything is written. The messages of
// one shard are stored atomically; with users on several shards a failed
// Append may have stored some shards' messages, and a retry is then
// deduplicated. With several shards it takes two round trips: one to number
// the messages from the global counter (Delivery.Seq is the append order
// across shards, which Claim's oldest-first relies on), one to store them;
// with one shard (Options.Shards = 1) it takes one.
func (s *Store) Append(ctx context.Context, msgs ...koe.Message) (int, error) {
	if len(msgs) == 0 {
		return 0, ctx.Err()
	}
	payloads := make([][]byte, len(msgs))
	for i, m := range msgs {
		if m.ID == "" || !m.User.Valid() {
			return 0, fmt.Errorf("redis: append: message %d: missing id or invalid user: %w", i, koe.ErrInvalid)
		}
		p, err := json.Marshal(m)
		if err != nil {
			return 0, fmt.Errorf("redis: append: encode message %d: %w", i, err)
		}
		payloads[i] = p
	}
	// With several shards the messages are numbered first, from the global
	// counter, so that Seq is the append order across shards; a store of one
	// shard numbers them in its script, from the shard's own counter.
	numbered := s.shards > 1
	var first int64
	if numbered {
		hi, err := s.client.IncrBy(ctx, s.seqKey, int64(len(msgs))).Result()
		if err != nil {
			return 0, fmt.Errorf("redis: append: number messages: %w", err)
		}
		first = hi - int64(len(msgs)) + 1
	}

	now := s.now()
	byShard := make(map[int]*scriptCall)
	var order []int
	for i, m := range msgs {
		n := s.shardOf(m.User)
		k := s.keys(n)
		c := byShard[n]
		if c == nil {
			counter, numberHere := s.seqKey, "1"
			if numbered {
				counter, numberHere = k.ready, "0" // counter unused: any key of the slot
			}
			c = &scriptCall{
				keys: []string{k.seen, k.msg, k.ready, counter},
				args: []any{millis(now), koe.DedupeWindow.Milliseconds(), (koe.DedupeWindow + gcMargin).Milliseconds(), numberHere},
			}
			byShard[n] = c
			order = append(order, n)
		}
		var seq any = ""
		if numbered {
			seq = first + int64(i)
		}
		c.keys = append(c.keys, k.q+string(m.User))
		c.args = append(c.args, m.ID, string(m.User), seq, payloads[i])
	}
	calls := make([]scriptCall, len(order))
	for i, n := range order {
		calls[i] = *byShard[n]
	}
	cmds, err := s.runScripts(ctx, appendScript, calls)
	if err != nil {
		return 0, fmt.Errorf("redis: append: %w", err)
	}
	added := 0
	var firstErr error
	for _, cmd := range cmds {
		n, err := cmd.Int()
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		added += n
	}
	if firstErr != nil {
		return added, fmt.Errorf("redis: append: %w", firstErr)
	}
	return added, nil
}

// Claim leases up to max messages for owner, one per user, choosing the
// users whose head messages were appended first, and returns them in append
// order. Users whose lease or retry delay ran out are served before users
// that were never delayed (their messages are older).
//
// With several shards it takes one round trip when nothing is ready (plain
// reads of every shard's ready and wait sets, walked from a rotating
// shard) and two otherwise (then one script per shard that has work); a
// store of one shard always takes one. With several replicas claiming at
// once a Claim may return fewer than were ready; it never returns more than
// max or two messages of one user. A ttl that is not positive is
// koe.ErrInvalid; a max that is not positive returns nothing.
func (s *Store) Claim(ctx context.Context, owner string, max int, ttl time.Duration) ([]koe.Delivery, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("redis: claim: lease ttl %v: %w", ttl, koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	if max <= 0 {
		return []koe.Delivery{}, nil
	}
	now := s.now()
	nowMS := millis(now)

	if s.shards == 1 {
		// One shard: its script picks the oldest itself, in one round trip.
		return s.claimShards(ctx, now, ttl, []int{0}, map[int]int{0: max})
	}

	// Round one, plain reads of every shard: the oldest ready users (with
	// their head seqs) and the users whose lease or retry delay has run out
	// (their heads are older than any ready head of their shard, as they
	// were delivered before: they sort first).
	start := int(s.next.Add(1) % uint32(s.shards))
	pipe := s.client.Pipeline()
	readyCmds := make([]*goredis.ZSliceCmd, s.shards)
	dueCmds := make([]*goredis.StringSliceCmd, s.shards)
	for i := range s.shards {
		k := s.keys((start + i) % s.shards)
		readyCmds[i] = pipe.ZRangeWithScores(ctx, k.ready, 0, int64(max-1))
		dueCmds[i] = pipe.ZRangeByScore(ctx, k.wait, &goredis.ZRangeBy{
			Min: "-inf", Max: strconv.FormatInt(nowMS, 10), Count: int64(max),
		})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis: claim: look: %w", err)
	}
	type head struct {
		seq   float64
		shard int
	}
	var heads []head
	for i := range s.shards {
		n := (start + i) % s.shards
		for range dueCmds[i].Val() {
			heads = append(heads, head{-1, n})
		}
		for _, z := range readyCmds[i].Val() {
			heads = append(heads, head{z.Score, n})
		}
	}
	if len(heads) == 0 {
		return []koe.Delivery{}, nil
	}
	slices.SortStableFunc(heads, func(a, b head) int { return cmp.Compare(a.seq, b.seq) })
	if len(heads) > max {
		heads = heads[:max]
	}
	budget := make(map[int]int)
	var shards []int
	for _, h := range heads {
		if budget[h.shard] == 0 {
			shards = append(shards, h.shard)
		}
		budget[h.shard]++
	}

	// Round two: lease them.
	return s.claimShards(ctx, now, ttl, shards, budget)
}

// claimShards runs the claim script on each of shards, leasing up to
// budget[shard] messages there, and returns the deliveries in append order.
func (s *Store) claimShards(ctx context.Context, now time.Time, ttl time.Duration, shards []int, budget map[int]int) ([]koe.Delivery, error) {
	nowMS, nowNS := millis(now), nanos(now)
	nonce, err := newNonce()
	if err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	deadline := now.Add(ttl)
	claims := make([]scriptCall, len(shards))
	for i, n := range shards {
		k := s.keys(n)
		claims[i] = scriptCall{
			keys: []string{k.ready, k.wait, k.due, k.msg, k.att, k.lease},
			args: []any{nowMS, nowNS, budget[n], k.q, millis(deadline), nanos(deadline), nonce},
		}
	}
	cmds, err := s.runScripts(ctx, claimScript, claims)
	if err != nil {
		return nil, fmt.Errorf("redis: claim: %w", err)
	}
	var out []koe.Delivery
	var firstErr error // of a whole shard
	for _, cmd := range cmds {
		vals, err := cmd.Slice()
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		for j := 0; j+4 < len(vals); j += 5 {
			d, err := decodeDelivery(vals[j : j+5])
			if err != nil {
				s.buryUndecodable(ctx, d, err)
				continue
			}
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b koe.Delivery) int { return cmp.Compare(a.Seq, b.Seq) })
	if out == nil {
		out = []koe.Delivery{}
	}
	if firstErr != nil && len(out) == 0 {
		return nil, fmt.Errorf("redis: claim: %w", firstErr)
	}
	if firstErr != nil {
		s.log.WarnContext(ctx, "redis: claim: some shards failed", slog.Int("claimed", len(out)), slog.Any("err", firstErr))
	}
	return out, nil
}

// decodeDelivery reads seq, attempt, token, user, payload from a claim
// reply. When only the payload is unreadable it returns the delivery
// without its message (but with its user) and the error.
func decodeDelivery(v []any) (koe.Delivery, error) {
	seqStr, _ := v[0].(string)
	seq, err := strconv.ParseInt(seqStr, 10, 64)
	if err != nil {
		return koe.Delivery{}, fmt.Errorf("bad seq: %w", err)
	}
	attempt, ok := v[1].(int64)
	if !ok {
		return koe.Delivery{}, errors.New("bad attempt")
	}
	token, _ := v[2].(string)
	user, _ := v[3].(string)
	payload, _ := v[4].(string)
	d := koe.Delivery{Attempt: int(attempt), Lease: token, Seq: seq}
	if err := json.Unmarshal([]byte(payload), &d.Message); err != nil {
		d.Message = koe.Message{User: koe.UserID(user)}
		return d, fmt.Errorf("decode message seq %d: %w", seq, err)
	}
	return d, nil
}

// buryUndecodable moves a claimed message that cannot be decoded to the
// dead letters at once: no caller could ever process or bury it, and left
// leased it would block its user's later messages.
func (s *Store) buryUndecodable(ctx context.Context, d koe.Delivery, err error) {
	s.log.ErrorContext(ctx, "redis: claim: undecodable message, burying it", slog.Int64("seq", d.Seq), slog.Any("user", d.Message.User))
	if d.Lease == "" || !d.Message.User.Valid() {
		return
	}
	if berr := s.Bury(ctx, d, "undecodable: "+err.Error()); berr != nil {
		s.log.ErrorContext(ctx, "redis: claim: bury undecodable message", slog.Int64("seq", d.Seq), slog.Any("err", berr))
	}
}

func newNonce() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("lease nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// finishCall is the call to ack, bury or release for d.
func (s *Store) finishCall(d koe.Delivery) (scriptCall, shardKeys, error) {
	if !d.Message.User.Valid() || d.Lease == "" {
		return scriptCall{}, shardKeys{}, fmt.Errorf("delivery without user or lease: %w", koe.ErrInvalid)
	}
	k := s.keys(s.shardOf(d.Message.User))
	return scriptCall{
		keys: []string{k.ready, k.wait, k.due, k.msg, k.att, k.lease, k.q + string(d.Message.User)},
		args: []any{string(d.Message.User), d.Lease, strconv.FormatInt(d.Seq, 10)},
	}, k, nil
}

// runFinish runs one lease-checked script and maps 0 to koe.ErrConflict.
func (s *Store) runFinish(ctx context.Context, op string, sc *goredis.Script, c scriptCall) error {
	cmds, err := s.runScripts(ctx, sc, []scriptCall{c})
	if err == nil {
		err = cmds[0].Err()
	}
	if err != nil {
		return fmt.Errorf("redis: %s: %w", op, err)
	}
	if n, _ := cmds[0].Int(); n != 1 {
		return fmt.Errorf("redis: %s: lease not held: %w", op, koe.ErrConflict)
	}
	return nil
}

// Ack removes the delivered message and frees its user's lease, in one
// atomic step. It returns koe.ErrConflict if d's lease is no longer held
// (it ran out and the message was claimed again, or d was already acked,
// released or buried). A lease that ran out but was not yet claimed again
// is still held.
func (s *Store) Ack(ctx context.Context, d koe.Delivery) error {
	c, _, err := s.finishCall(d)
	if err != nil {
		return fmt.Errorf("redis: ack: %w", err)
	}
	return s.runFinish(ctx, "ack", ackScript, c)
}

// Release frees d's lease and keeps the message at the head of its user's
// queue, claimable again once retryAfter has passed (at once if it is not
// positive); the next claim counts a further attempt. It returns
// koe.ErrConflict if the lease is no longer held.
func (s *Store) Release(ctx context.Context, d koe.Delivery, retryAfter time.Duration) error {
	c, _, err := s.finishCall(d)
	if err != nil {
		return fmt.Errorf("redis: release: %w", err)
	}
	at := s.now().Add(max(retryAfter, 0))
	delayed := "0"
	if retryAfter > 0 {
		delayed = "1"
	}
	c.args = append(c.args, millis(at), nanos(at), delayed)
	return s.runFinish(ctx, "release", releaseScript, c)
}

// deadHead is the first line of a dead-letter record; the script adds
// the attempt count and the stored message as lines two and three.
type deadHead struct {
	Seq      int64     `json:"seq"`
	Lease    string    `json:"lease"`
	Reason   string    `json:"reason"`
	BuriedAt time.Time `json:"buriedAt"`
}

// Bury moves d's message to its shard's dead letters (a capped list,
// newest first, with reason, time and attempts) and frees the lease so the
// user's later messages proceed, in one atomic step. It returns
// koe.ErrConflict if the lease is no longer held. The reason is stored with
// the message; like the message it may hold personal data and is never
// logged.
func (s *Store) Bury(ctx context.Context, d koe.Delivery, reason string) error {
	c, k, err := s.finishCall(d)
	if err != nil {
		return fmt.Errorf("redis: bury: %w", err)
	}
	h, err := json.Marshal(deadHead{Seq: d.Seq, Lease: d.Lease, Reason: reason, BuriedAt: s.now()})
	if err != nil {
		return fmt.Errorf("redis: bury: encode: %w", err)
	}
	c.keys = append(c.keys, k.dead)
	c.args = append(c.args, h, deadCap, deadTTL.Milliseconds())
	return s.runFinish(ctx, "bury", buryScript, c)
}

// DeadLetter is a buried message as kept in the dead letters.
type DeadLetter struct {
	Seq      int64
	Lease    string
	Reason   string
	BuriedAt time.Time
	Attempts int
	// Message is the buried message; zero when it could not be decoded
	// (Reason then says so).
	Message koe.Message
}

// DeadLetters returns up to limit dead letters, newest first, for
// inspection. It does not remove them.
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		return nil, nil
	}
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.StringSliceCmd, s.shards)
	for i := range cmds {
		cmds[i] = pipe.LRange(ctx, s.keys(i).dead, 0, int64(limit-1))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis: dead letters: %w", err)
	}
	var out []DeadLetter
	for _, cmd := range cmds {
		for _, v := range cmd.Val() {
			dl, err := decodeDeadLetter(v)
			if err != nil {
				return nil, fmt.Errorf("redis: dead letters: %w", err)
			}
			out = append(out, dl)
		}
	}
	slices.SortStableFunc(out, func(a, b DeadLetter) int { return b.BuriedAt.Compare(a.BuriedAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// decodeDeadLetter reads a record written by buryScript.
func decodeDeadLetter(rec string) (DeadLetter, error) {
	head, rest, ok1 := strings.Cut(rec, "\n")
	attempts, payload, ok2 := strings.Cut(rest, "\n")
	if !ok1 || !ok2 {
		return DeadLetter{}, errors.New("malformed record")
	}
	var h deadHead
	if err := json.Unmarshal([]byte(head), &h); err != nil {
		return DeadLetter{}, fmt.Errorf("decode record: %w", err)
	}
	n, err := strconv.Atoi(attempts)
	if err != nil {
		return DeadLetter{}, fmt.Errorf("decode record attempts: %w", err)
	}
	dl := DeadLetter{Seq: h.Seq, Lease: h.Lease, Reason: h.Reason, BuriedAt: h.BuriedAt, Attempts: n}
	if err := json.Unmarshal([]byte(payload), &dl.Message); err != nil {
		dl.Message = koe.Message{} // undecodable: Reason says so
	}
	return dl, nil
}

// Depth returns the number of pending messages (leased ones included),
// summed over the shards in one round trip.
func (s *Store) Depth(ctx context.Context) (int, error) {
	pipe := s.client.Pipeline()
	cmds := make([]*goredis.IntCmd, s.shards)
	for i := range cmds {
		cmds[i] = pipe.HLen(ctx, s.keys(i).msg)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("redis: depth: %w", err)
	}
	total := 0
	for _, c := range cmds {
		total += int(c.Val())
	}
	return total, nil
}

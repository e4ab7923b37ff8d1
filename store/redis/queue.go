package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// The follow-up queue (koe.Queue) is a Redis Streams consumer group. Its
// keys share the hash tag {P:queue}, so every operation is one Lua script
// in one Cluster slot. With Q = "P:{P:queue}":
//
//	Q:s      stream  one entry per delivery round of a job: j = job id;
//	         consumer group "koe" (created with MKSTREAM, BUSYGROUP ignored)
//	Q:jobs   hash    job id → job JSON, while the job is pending
//	Q:pend   zset    job id → enqueued at (ms): pending jobs (ready, leased
//	         or delayed), for dedupe, depth and the oldest age
//	Q:att    hash    job id → deliveries of its earlier stream entries
//	Q:lease  zset    entry id → lease deadline (ms, by Options.Now)
//	Q:delay  zset    job id → not before (ms): jobs waiting to be retried
//	         or scheduled (Job.NotBefore), moved into the stream when due
//	Q:done   zset    job id → finished at (ms): the dedupe window
//	Q:dead   stream  dead letters (capped): j, job, attempts, reason, at
//
// A claim reads new entries with XREADGROUP and takes over entries whose
// lease ran out with XCLAIM; Attempt is Q:att plus the entry's delivery
// count from XPENDING. A lease is an entry id, its delivery count and the
// consumer, checked against XPENDING, so a lease is lost exactly when the
// entry was claimed again. Completion is XACK + XDEL.
//
// Leases run out by Options.Now (deadlines travel as script arguments like
// every other time), not by the server's idle times, so the store follows
// the caller's clock; XAUTOCLAIM, which can only compare server idle times,
// is therefore not used.

var _ koe.Queue = (*Store)(nil)

// DeadJob is a job moved aside by DeadLetter.
type DeadJob struct {
	Job      koe.Job
	Attempts int       // deliveries before it was dead-lettered
	Reason   string    // as given to DeadLetter
	At       time.Time // when, by Options.Now
}

const (
	jobGroup = "koe"
	// deadJobsCap is about how many dead letters the queue keeps.
	deadJobsCap = 10000
	// promoteJobs bounds the delayed jobs one claim moves into the stream.
	promoteJobs = 1000
)

type queueKeys struct {
	stream, jobs, pend, att, lease, delay, done, dead string
}

func (s *Store) queueKeys() queueKeys {
	q := s.prefix + ":{" + s.prefix + ":queue}"
	return queueKeys{
		stream: q + ":s",
		jobs:   q + ":jobs",
		pend:   q + ":pend",
		att:    q + ":att",
		lease:  q + ":lease",
		delay:  q + ":delay",
		done:   q + ":done",
		dead:   q + ":dead",
	}
}

// enqueueScript adds new jobs; a job scheduled for later waits in the
// delay set, like a retry, until a claim moves it into the stream.
// KEYS: stream, jobs, pend, done, delay. ARGV: now (ms), window (ms), done
// TTL (ms), then per job id, JSON, not before (ms; 0 when not in the
// future). Returns how many were new.
var enqueueScript = goredis.NewScript(`
local stream, jobs, pend, done, delay = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', done, '-inf', now - tonumber(ARGV[2]))
local added = 0
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if not redis.call('ZSCORE', pend, id) and not redis.call('ZSCORE', done, id) then
    redis.call('HSET', jobs, id, ARGV[i + 1])
    redis.call('ZADD', pend, now, id)
    if ARGV[i + 2] ~= '0' then
      redis.call('ZADD', delay, ARGV[i + 2], id)
    else
      redis.call('XADD', stream, '*', 'j', id)
    end
    added = added + 1
  end
end
if redis.call('EXISTS', done) == 1 then
  redis.call('PEXPIRE', done, ARGV[3])
end
return added
`)

// claimJobsScript moves due retries into the stream, takes over entries
// whose lease ran out, then reads new entries, up to max in all.
// KEYS: stream, jobs, att, lease, delay.
// ARGV: group, consumer, now (ms), lease deadline (ms), max, promote limit.
// Returns entry id, delivery count, job id, attempt, job JSON per delivery.
var claimJobsScript = goredis.NewScript(`
local stream, jobs, att, lease, delay = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, consumer, now, deadline, max = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
redis.pcall('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
for _, id in ipairs(redis.call('ZRANGEBYSCORE', delay, '-inf', now, 'LIMIT', 0, tonumber(ARGV[6]))) do
  redis.call('ZREM', delay, id)
  if redis.call('HEXISTS', jobs, id) == 1 then
    redis.call('XADD', stream, '*', 'j', id)
  end
end
local out = {}
local n = 0
local function deliver(e)
  local eid, f = e[1], e[2]
  local id
  if f then
    for i = 1, #f, 2 do
      if f[i] == 'j' then id = f[i + 1] end
    end
  end
  local data = id and redis.call('HGET', jobs, id)
  if not data then
    -- An entry without its job cannot be delivered; drop it.
    redis.call('XACK', stream, group, eid)
    redis.call('XDEL', stream, eid)
    redis.call('ZREM', lease, eid)
    return
  end
  local p = redis.call('XPENDING', stream, group, eid, eid, 1)
  local count = tonumber(p[1][4])
  redis.call('ZADD', lease, deadline, eid)
  local base = tonumber(redis.call('HGET', att, id) or '0')
  out[#out + 1] = eid
  out[#out + 1] = count
  out[#out + 1] = id
  out[#out + 1] = base + count
  out[#out + 1] = data
  n = n + 1
end
for _, eid in ipairs(redis.call('ZRANGEBYSCORE', lease, '-inf', now, 'LIMIT', 0, max)) do
  local c = redis.call('XCLAIM', stream, group, consumer, 0, eid)
  if c[1] and c[1][2] then
    deliver(c[1])
  else
    -- The entry is gone (deleted): nothing to redeliver.
    redis.call('ZREM', lease, eid)
    redis.call('XACK', stream, group, eid)
  end
end
if n < max then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', max - n, 'STREAMS', stream, '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      deliver(e)
    end
  end
end
return out
`)

// luaHeld checks a lease and ends the entry's delivery round: the entry is
// pending for consumer with the given delivery count and holds the job.
// KEYS: stream, jobs, pend, att, lease, …. ARGV: group, entry id, count,
// consumer, job id, ….
const luaHeld = `
local stream, jobs, pend, att, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local group, eid, count, consumer, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local p = redis.pcall('XPENDING', stream, group, eid, eid, 1)
if type(p) ~= 'table' or p.err or #p == 0 or p[1][2] ~= consumer or tonumber(p[1][4]) ~= tonumber(count) then
  return 0
end
local e = redis.call('XRANGE', stream, eid, eid)
local held = false
if e[1] and e[1][2] then
  local f = e[1][2]
  for i = 1, #f, 2 do
    if f[i] == 'j' and f[i + 1] == id then held = true end
  end
end
if not held then
  return 0
end
redis.call('XACK', stream, group, eid)
redis.call('XDEL', stream, eid)
redis.call('ZREM', lease, eid)
`

// luaFinishJob forgets a finished job and remembers its id.
// KEYS[6]: done. ARGV[6..8]: now (ms), window (ms), done TTL (ms).
const luaFinishJob = `
local done = KEYS[6]
redis.call('HDEL', jobs, id)
redis.call('ZREM', pend, id)
redis.call('HDEL', att, id)
redis.call('ZADD', done, ARGV[6], id)
redis.call('ZREMRANGEBYSCORE', done, '-inf', tonumber(ARGV[6]) - tonumber(ARGV[7]))
redis.call('PEXPIRE', done, ARGV[8])
`

// completeJobScript: KEYS and ARGV of luaHeld and luaFinishJob. Returns 1,
// or 0 when the lease is not held.
var completeJobScript = goredis.NewScript(luaHeld + luaFinishJob + `
return 1
`)

// deadLetterScript: KEYS and ARGV as completeJob plus KEYS[7] the dead
// stream, ARGV[9] reason, ARGV[10] at (ns), ARGV[11] the stream's cap.
// Returns 1, or 0 when the lease is not held.
var deadLetterScript = goredis.NewScript(luaHeld + `
local attempts = tonumber(redis.call('HGET', att, id) or '0') + tonumber(count)
local data = redis.call('HGET', jobs, id) or ''
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[11], '*', 'j', id, 'job', data,
  'attempts', attempts, 'reason', ARGV[9], 'at', ARGV[10])
` + luaFinishJob + `
return 1
`)

// retryJobScript: KEYS as luaHeld plus KEYS[6] delay; ARGV as luaHeld plus
// not before (ms), "1" if that is in the future. Returns 1 or 0.
var retryJobScript = goredis.NewScript(luaHeld + `
redis.call('HINCRBY', att, id, count)
if ARGV[7] == '1' then
  redis.call('ZADD', KEYS[6], ARGV[6], id)
else
  redis.call('XADD', stream, '*', 'j', id)
end
return 1
`)

// Enqueue durably adds the jobs and returns how many were new: a job whose
// ID is pending, or was completed or dead-lettered less than
// koe.DedupeWindow ago (to the millisecond), is skipped. A job whose
// NotBefore is in the future waits in the delay set and is claimable from
// NotBefore (to the millisecond). A job without an
// ID or Kind makes it return koe.ErrInvalid before anything is written. One
// call is one atomic script.
func (s *Store) Enqueue(ctx context.Context, jobs ...koe.Job) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("redis: enqueue: %w", err)
	}
	if len(jobs) == 0 {
		return 0, nil
	}
	k := s.queueKeys()
	now := s.now()
	args := []any{millis(now), koe.DedupeWindow.Milliseconds(), (koe.DedupeWindow + gcMargin).Milliseconds()}
	for i, j := range jobs {
		if j.ID == "" || j.Kind == "" {
			return 0, fmt.Errorf("redis: enqueue: job %d: missing id or kind: %w", i, koe.ErrInvalid)
		}
		p, err := json.Marshal(j)
		if err != nil {
			return 0, fmt.Errorf("redis: enqueue: encode job %d: %w", i, err)
		}
		// Like retry delays, NotBefore counts to the millisecond.
		var notBefore int64
		if j.NotBefore.After(now) {
			notBefore = millis(j.NotBefore)
		}
		args = append(args, j.ID, p, notBefore)
	}
	n, err := enqueueScript.Run(ctx, s.client, []string{k.stream, k.jobs, k.pend, k.done, k.delay}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: enqueue: %w", err)
	}
	return n, nil
}

// ClaimJobs (koe.Queue's Claim) leases up to max ready jobs for consumer
// until now+ttl (by Options.Now, to the millisecond): due retries, jobs
// whose lease ran out (taken over with XCLAIM, Attempt+1) and new ones
// (XREADGROUP, never blocking), in no particular order. It returns an
// empty slice when nothing is ready or max is not positive; a ttl that is
// not positive is koe.ErrInvalid. Consumer names should be unique per
// process.
func (s *Store) ClaimJobs(ctx context.Context, consumer string, max int, ttl time.Duration) ([]koe.JobDelivery, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("redis: claim jobs: lease ttl %v: %w", ttl, koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: claim jobs: %w", err)
	}
	out := []koe.JobDelivery{}
	if max <= 0 {
		return out, nil
	}
	now := s.now()
	k := s.queueKeys()
	vals, err := claimJobsScript.Run(ctx, s.client, []string{k.stream, k.jobs, k.att, k.lease, k.delay},
		jobGroup, consumer, millis(now), millis(now.Add(ttl)), max, promoteJobs).Slice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: claim jobs: %w", err)
	}
	for i := 0; i+4 < len(vals); i += 5 {
		eid, _ := vals[i].(string)
		count, _ := vals[i+1].(int64)
		attempt, _ := vals[i+3].(int64)
		data, _ := vals[i+4].(string)
		var j koe.Job
		if err := json.Unmarshal([]byte(data), &j); err != nil {
			return nil, fmt.Errorf("redis: claim jobs: decode job: %w", err)
		}
		out = append(out, koe.JobDelivery{
			Job:     j,
			Attempt: int(attempt),
			Lease:   eid + "." + strconv.FormatInt(count, 10) + "." + consumer,
		})
	}
	return out, nil
}

// streamID matches a stream entry id.
var streamID = regexp.MustCompile(`^[0-9]+-[0-9]+$`)

// heldArgs are the keys and arguments of luaHeld for d, or ok false when
// d's lease cannot be one this queue handed out.
func (s *Store) heldArgs(d koe.JobDelivery) (keys []string, args []any, ok bool) {
	eid, rest, ok1 := strings.Cut(d.Lease, ".")
	count, consumer, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || !streamID.MatchString(eid) || d.Job.ID == "" {
		return nil, nil, false
	}
	if _, err := strconv.ParseUint(count, 10, 32); err != nil {
		return nil, nil, false
	}
	k := s.queueKeys()
	return []string{k.stream, k.jobs, k.pend, k.att, k.lease}, []any{jobGroup, eid, count, consumer, d.Job.ID}, true
}

// runHeld runs a lease-checking script; 0 means the lease is not held.
func (s *Store) runHeld(ctx context.Context, sc *goredis.Script, keys []string, args []any) error {
	n, err := sc.Run(ctx, s.client, keys, args...).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("lease not held: %w", koe.ErrConflict)
	}
	return nil
}

// Complete removes a finished job (XACK + XDEL) and remembers its ID for
// koe.DedupeWindow. It returns an error wrapping koe.ErrConflict if the
// lease is not held (the job was claimed again, the lease was already used
// or is made up). A lease that ran out unclaimed is still held.
func (s *Store) Complete(ctx context.Context, d koe.JobDelivery) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: complete job: %w", err)
	}
	keys, args, ok := s.heldArgs(d)
	if !ok {
		return fmt.Errorf("redis: complete job: lease not held: %w", koe.ErrConflict)
	}
	keys = append(keys, s.queueKeys().done)
	args = append(args, millis(s.now()), koe.DedupeWindow.Milliseconds(), (koe.DedupeWindow + gcMargin).Milliseconds())
	if err := s.runHeld(ctx, completeJobScript, keys, args); err != nil {
		return fmt.Errorf("redis: complete job: %w", err)
	}
	return nil
}

// Retry ends the delivery and makes the job claimable again once delay has
// passed (at once when it is not positive), with a higher Attempt.
// ErrConflict as for Complete.
func (s *Store) Retry(ctx context.Context, d koe.JobDelivery, delay time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: retry job: %w", err)
	}
	keys, args, ok := s.heldArgs(d)
	if !ok {
		return fmt.Errorf("redis: retry job: lease not held: %w", koe.ErrConflict)
	}
	later := "0"
	if delay > 0 {
		later = "1"
	}
	keys = append(keys, s.queueKeys().delay)
	args = append(args, millis(s.now().Add(max(delay, 0))), later)
	if err := s.runHeld(ctx, retryJobScript, keys, args); err != nil {
		return fmt.Errorf("redis: retry job: %w", err)
	}
	return nil
}

// DeadLetter moves the job to the dead-letter stream (see DeadJobs) with
// reason and remembers its ID for koe.DedupeWindow. ErrConflict as for
// Complete.
func (s *Store) DeadLetter(ctx context.Context, d koe.JobDelivery, reason string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: dead-letter job: %w", err)
	}
	keys, args, ok := s.heldArgs(d)
	if !ok {
		return fmt.Errorf("redis: dead-letter job: lease not held: %w", koe.ErrConflict)
	}
	k := s.queueKeys()
	now := s.now()
	keys = append(keys, k.done, k.dead)
	args = append(args, millis(now), koe.DedupeWindow.Milliseconds(), (koe.DedupeWindow + gcMargin).Milliseconds(),
		reason, nanos(now), deadJobsCap)
	if err := s.runHeld(ctx, deadLetterScript, keys, args); err != nil {
		return fmt.Errorf("redis: dead-letter job: %w", err)
	}
	return nil
}

// QueueStats returns the number of pending jobs (ready, leased or waiting
// to be retried) and how long ago the oldest was enqueued, to the
// millisecond (0 when empty).
func (s *Store) QueueStats(ctx context.Context) (int, time.Duration, error) {
	k := s.queueKeys()
	pipe := s.client.Pipeline()
	card := pipe.ZCard(ctx, k.pend)
	first := pipe.ZRangeWithScores(ctx, k.pend, 0, 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, 0, fmt.Errorf("redis: queue stats: %w", err)
	}
	depth := int(card.Val())
	if depth == 0 || len(first.Val()) == 0 {
		return depth, 0, nil
	}
	oldest := time.UnixMilli(int64(first.Val()[0].Score))
	return depth, max(s.now().Sub(oldest), 0), nil
}

// DeadJobs returns the dead-lettered jobs, newest first, at most limit.
func (s *Store) DeadJobs(ctx context.Context, limit int) ([]DeadJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: dead jobs: %w", err)
	}
	out := []DeadJob{}
	if limit <= 0 {
		return out, nil
	}
	msgs, err := s.client.XRevRangeN(ctx, s.queueKeys().dead, "+", "-", int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis: dead jobs: %w", err)
	}
	for _, m := range msgs {
		var dj DeadJob
		data, _ := m.Values["job"].(string)
		if err := json.Unmarshal([]byte(data), &dj.Job); err != nil {
			return nil, fmt.Errorf("redis: dead jobs: decode: %w", err)
		}
		a, _ := m.Values["attempts"].(string)
		dj.Attempts, _ = strconv.Atoi(a)
		dj.Reason, _ = m.Values["reason"].(string)
		at, _ := m.Values["at"].(string)
		ns, _ := strconv.ParseInt(at, 10, 64)
		dj.At = time.Unix(0, ns).UTC()
		out = append(out, dj)
	}
	return out, nil
}

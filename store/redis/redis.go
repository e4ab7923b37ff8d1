// Package redis is the koe.Store backend for several replicas sharing one
// Redis (standalone, Sentinel or Cluster). Open connects to one endpoint or
// to a Redis Cluster, by URL; New takes any go-redis client.
//
// # Key layout
//
// With prefix P (Options.Prefix, default "koe") and S inbox shards
// (Options.Shards, default 16), a user belongs to shard n = fnv32a(user) % S.
// Every key starts with "P:" (one SCAN pattern or ACL rule covers a
// deployment), and every key of shard n carries the hash tag {P:inbox:n},
// so each inbox operation is one Lua script inside one Redis Cluster slot.
// With T = "P:{P:inbox:n}":
//
//	T:q:<user>  list    the user's pending message seqs, oldest first
//	T:msg       hash    seq → message JSON (pending messages only)
//	T:att       hash    seq → deliveries so far (Delivery.Attempt)
//	T:ready     zset    user → head seq: users that can be claimed now
//	T:wait      zset    user → not-before in ms: users leased or delayed
//	T:due       hash    user → exact not-before in Unix ns (for T:wait)
//	T:lease     hash    user → token of the user's current lease
//	T:seen      zset    message id → accepted at (ms): the dedupe window
//	T:dead      list    dead letters, newest first, capped; each is three
//	            lines: JSON (seq, lease, reason, buriedAt), attempts, message
//	P:seq       string  global append counter (Delivery.Seq); with one
//	            shard it is T:seq, in the shard's slot
//	P:shards    string  S, written by the first Open, checked by the next
//	P:{u:<user>}:session  hash  v (version), e (expires, Unix ns), d (JSON)
//
// A user with pending messages is in exactly one of T:ready and T:wait; the
// per-user lease (T:lease plus the T:wait entry) is what keeps one message of
// a user in flight across all replicas.
//
// All deadlines (leases, retry delays, session expiry, the dedupe window)
// are computed from Options.Now and passed to the scripts, so the store
// follows the caller's clock; Redis TTLs are only garbage collection, set
// with a margin beyond the logical expiry.
//
// Options.Prefix and Options.Shards must be the same on every replica and
// must not change while messages are pending: the shard of a user is
// derived from them (Open refuses a shard count other than the one the
// prefix was first opened with). The prefix must not contain '{' or '}'.
package redis

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Prefix starts every key; default "koe". Replicas sharing an inbox use
	// the same prefix.
	Prefix string
	// Shards is the number of inbox shards (Cluster slots the inbox is
	// spread over); default 16.
	Shards int
	// Now is the clock for leases, retry delays, session expiry and the
	// dedupe window; default time.Now.
	Now func() time.Time
	// Logger receives operational messages; nil discards them.
	Logger *slog.Logger
}

// Store is a koe.Store on Redis. It is safe for concurrent use by many
// goroutines and by many processes sharing the same Redis and prefix.
// Every method given a cancelled or expired context returns an error
// wrapping the context's error; a write whose reply was lost that way may
// or may not have been applied (each is atomic), which the inbox's dedupe
// and the leases absorb. Errors never contain user ids or message text.
type Store struct {
	client goredis.UniversalClient
	owned  bool // Open created client; Close closes it

	prefix string
	shards int
	now    func() time.Time
	log    *slog.Logger

	shardTags []string // "P:{P:inbox:n}" per shard: the start of its keys
	seqKey    string
	next      atomic.Uint32 // rotating start shard for Claim

	closeOnce sync.Once
	closeErr  error
}

var _ koe.Store = (*Store)(nil)

// Open connects to the Redis at url, checks it with Ping, checks that the
// prefix's inbox has opts.Shards shards (recording the count on first use)
// and returns a Store that owns the connection pool (Close closes it).
// url is redis://[user:pass@]host:port/db or rediss://… for one endpoint,
// or redis+cluster://[user:pass@]host:port?addr=host2:port&addr=… (rediss+
// cluster:// over TLS) for a Redis Cluster, whose nodes are discovered from
// the seeds given; see CheckURL. A url Open cannot use (a *URLError), a
// prefix with '{' or '}' or a shard count that differs from the recorded
// one return an error wrapping koe.ErrInvalid. No error contains the
// password.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if strings.ContainsAny(opts.Prefix, "{}") {
		return nil, fmt.Errorf("redis: open: key prefix with a brace: %w", koe.ErrInvalid)
	}
	ep, err := parseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis: open: %w", err)
	}
	client := ep.newClient()
	s := New(client, opts)
	s.owned = true
	if err := s.ping(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis: open: ping %s: %w", ep, err)
	}
	if err := s.checkShards(ctx); err != nil {
		client.Close()
		return nil, fmt.Errorf("redis: open: %w", err)
	}
	return s, nil
}

// checkShards records the shard count under the prefix, or compares it
// with the recorded one.
func (s *Store) checkShards(ctx context.Context) error {
	key := s.prefix + ":shards"
	set, err := s.client.SetNX(ctx, key, s.shards, 0).Result()
	if err != nil {
		return fmt.Errorf("record shard count: %w", err)
	}
	if set {
		return nil
	}
	got, err := s.client.Get(ctx, key).Int()
	if err != nil {
		return fmt.Errorf("read shard count: %w", err)
	}
	if got != s.shards {
		return fmt.Errorf("prefix %q has an inbox of %d shards, not %d: %w", s.prefix, got, s.shards, koe.ErrInvalid)
	}
	return nil
}

// New returns a Store over an existing client (a *goredis.Client,
// *goredis.ClusterClient, failover client, …). The caller keeps ownership
// of client: Close does not close it. New does no I/O, so it neither pings
// nor checks the shard count as Open does.
func New(client goredis.UniversalClient, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "koe"
	}
	if opts.Shards <= 0 {
		opts.Shards = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		client: client,
		prefix: opts.Prefix,
		shards: opts.Shards,
		now:    opts.Now,
		log:    opts.Logger,
		seqKey: opts.Prefix + ":seq",
	}
	s.shardTags = make([]string, opts.Shards)
	for i := range s.shardTags {
		s.shardTags[i] = opts.Prefix + ":{" + opts.Prefix + ":inbox:" + strconv.Itoa(i) + "}"
	}
	if s.shards == 1 {
		// One shard numbers its messages itself, in the same script.
		s.seqKey = s.shardTags[0] + ":seq"
	}
	return s
}

// Ping returns nil when Redis answers PING; through a cluster client,
// when every master of the cluster does (one unreachable master leaves some
// users' inboxes and sessions unreachable).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.ping(ctx); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

func (s *Store) ping(ctx context.Context) error {
	if c, ok := s.client.(*goredis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			if err := node.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("%s: %w", node.Options().Addr, err)
			}
			return nil
		})
	}
	return s.client.Ping(ctx).Err()
}

// Close closes the client if Open created it; a Store made by New leaves
// its client open. Every write has completed when its method returns, so
// nothing is pending. Calling Close again returns the first result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if s.owned {
			if err := s.client.Close(); err != nil {
				s.closeErr = fmt.Errorf("redis: close: %w", err)
			}
		}
	})
	return s.closeErr
}

// shardOf returns the inbox shard of a user: a stable hash, the same in
// every process.
func (s *Store) shardOf(u koe.UserID) int {
	h := fnv.New32a()
	h.Write([]byte(u))
	return int(h.Sum32() % uint32(s.shards))
}

// shardKeys are the fixed keys of one inbox shard.
type shardKeys struct {
	q     string // prefix of the per-user lists: q + user
	msg   string
	att   string
	ready string
	wait  string
	due   string
	lease string
	seen  string
	dead  string
}

func (s *Store) keys(shard int) shardKeys {
	t := s.shardTags[shard]
	return shardKeys{
		q:     t + ":q:",
		msg:   t + ":msg",
		att:   t + ":att",
		ready: t + ":ready",
		wait:  t + ":wait",
		due:   t + ":due",
		lease: t + ":lease",
		seen:  t + ":seen",
		dead:  t + ":dead",
	}
}

// sessionKey is the key of a user's session; the hash tag is the user, so
// sessions spread over a cluster.
func (s *Store) sessionKey(u koe.UserID) string {
	return s.prefix + ":{u:" + string(u) + "}:session"
}

// nanos formats t as Unix nanoseconds, clamped to what int64 holds and to
// zero for instants before 1970 (the scripts compare non-negative decimal
// strings).
func nanos(t time.Time) string {
	switch {
	case t.Before(minTime):
		return "0"
	case t.After(maxTime):
		return strconv.FormatInt(maxTime.UnixNano(), 10)
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

// millis is t in Unix milliseconds, clamped like nanos; it is exact as a
// Redis score (a double).
func millis(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return 0
	case t.After(maxTime):
		return maxTime.UnixMilli()
	}
	return t.UnixMilli()
}

var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, 1<<63-1)
)

// isNoScript reports whether err says the script cache lacks the script.
func isNoScript(err error) bool {
	return err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT")
}

// scriptCall is one invocation of a script.
type scriptCall struct {
	keys []string
	args []any
}

// runScripts runs the calls of one script in one round trip (EVALSHA, in a
// pipeline when there are several). Calls refused with NOSCRIPT did not
// run, so they are retried with EVAL, which loads the script. It returns an
// error when the round trip failed (connection, context) and otherwise one
// command per call, whose errors the caller checks.
func (s *Store) runScripts(ctx context.Context, sc *goredis.Script, calls []scriptCall) ([]*goredis.Cmd, error) {
	if len(calls) == 1 {
		c := calls[0]
		return []*goredis.Cmd{sc.Run(ctx, s.client, c.keys, c.args...)}, nil
	}
	cmds := make([]*goredis.Cmd, len(calls))
	pipe := s.client.Pipeline()
	for i, c := range calls {
		cmds[i] = sc.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isScriptReply(cmds) {
		return nil, err
	}
	var retry []int
	for i, cmd := range cmds {
		if isNoScript(cmd.Err()) {
			retry = append(retry, i)
		}
	}
	if len(retry) > 0 {
		pipe := s.client.Pipeline()
		for _, i := range retry {
			c := calls[i]
			cmds[i] = sc.Eval(ctx, pipe, c.keys, c.args...)
		}
		if _, err := pipe.Exec(ctx); err != nil && !isScriptReply(cmds) {
			return nil, err
		}
	}
	return cmds, nil
}

// isScriptReply reports whether every command got an answer from Redis (a
// value or a Redis error): then the pipeline's error is one of theirs and
// each command is examined by the caller. It is false when the connection
// failed or the context ended.
func isScriptReply(cmds []*goredis.Cmd) bool {
	for _, c := range cmds {
		err := c.Err()
		if err == nil || errors.Is(err, goredis.Nil) {
			continue
		}
		var rerr goredis.Error
		if !errors.As(err, &rerr) {
			return false
		}
	}
	return true
}

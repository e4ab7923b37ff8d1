package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// Cases. Every case key, the cases' own hashes included, shares the hash
// tag {P:cases}, so a create or an update and every index it touches are
// one atomic script in one Cluster slot (the price: all cases live in one
// slot, which their volume allows). With C = "P:{P:cases}":
//
//	C:c:<ref>  hash  v (version), k (key), u (user), c (created, Unix ns),
//	                 st (status), ty (type), al (alert field or ""), d (JSON)
//	C:key      hash  creation key → ref
//	C:all      zset  "<created>:<ref>": every case, by CreatedAt
//	C:status   zset  "<status>\x00<created>:<ref>"
//	C:type     zset  "<type>\x00<created>:<ref>"
//	C:user     zset  "<user>\x00<created>:<ref>"
//	C:alert    hash  "<channel>\x00<ts>" → ref of the case carrying it
//
// The zsets are lex-ordered like the voices' (all scores 0, <created>
// zero-padded Unix ns). UpdateCase moves a case between the status and
// type entries and the alert map in the script that checks its version;
// Key, User and CreatedAt cannot change, so the other entries never move.
// The listing script computes the case keys C:c:<ref> itself, inside the
// same slot.

var _ koe.CaseStore = (*Store)(nil)

// createCaseScript claims a key and a ref and writes the case and its
// index entries.
// KEYS: C:key, C:c:<ref>, C:all, C:status, C:type, C:user, C:alert.
// ARGV: key, ref, user, created (ns), status, type, alert field, JSON,
// "<created>:<ref>".
// Returns {"new"}, {"dup", ref of the key} or {"taken"}.
var createCaseScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  return {'dup', cur}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'taken'}
end
local sep, tm = string.char(0), ARGV[9]
redis.call('HSET', KEYS[2], 'v', 1, 'k', ARGV[1], 'u', ARGV[3], 'c', ARGV[4],
  'st', ARGV[5], 'ty', ARGV[6], 'al', ARGV[7], 'd', ARGV[8])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], 0, tm)
redis.call('ZADD', KEYS[4], 0, ARGV[5] .. sep .. tm)
redis.call('ZADD', KEYS[5], 0, ARGV[6] .. sep .. tm)
redis.call('ZADD', KEYS[6], 0, ARGV[3] .. sep .. tm)
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[7], ARGV[7], ARGV[2])
end
return {'new'}
`)

// updateCaseScript is the case compare-and-set, moving its index entries.
// KEYS: C:c:<ref>, C:status, C:type, C:alert.
// ARGV: expected version, key, user, created (ns), status, type, alert
// field, JSON at the new version, "<created>:<ref>", ref.
// Returns 1, 0 (stale), -1 (missing) or -2 (identity changed).
var updateCaseScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'k', 'u', 'c', 'st', 'ty', 'al')
if not cur[1] then
  return -1
end
if cur[2] ~= ARGV[2] or cur[3] ~= ARGV[3] or cur[4] ~= ARGV[4] then
  return -2
end
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then
  return 0
end
local sep, tm = string.char(0), ARGV[9]
if cur[5] ~= ARGV[5] then
  redis.call('ZREM', KEYS[2], cur[5] .. sep .. tm)
  redis.call('ZADD', KEYS[2], 0, ARGV[5] .. sep .. tm)
end
if cur[6] ~= ARGV[6] then
  redis.call('ZREM', KEYS[3], cur[6] .. sep .. tm)
  redis.call('ZADD', KEYS[3], 0, ARGV[6] .. sep .. tm)
end
if cur[7] ~= ARGV[7] then
  if cur[7] and cur[7] ~= '' and redis.call('HGET', KEYS[4], cur[7]) == ARGV[10] then
    redis.call('HDEL', KEYS[4], cur[7])
  end
  if ARGV[7] ~= '' then
    redis.call('HSET', KEYS[4], ARGV[7], ARGV[10])
  end
end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 'st', ARGV[5], 'ty', ARGV[6], 'al', ARGV[7], 'd', ARGV[8])
return 1
`)

// casesScript lists cases from one index, newest first, keeping those that
// match the other filters.
// KEYS: the index. ARGV: lex max, lex min, limit (0: none), length of the
// members' part before the ref, prefix of the case keys ("C:c:"), status,
// type, user ("" matches all).
// Returns version, JSON per case.
var casesScript = goredis.NewScript(`
local limit, skip, base = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local out = {}
local off, page = 0, 100
while true do
  local ms = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', off, page)
  for _, m in ipairs(ms) do
    local c = redis.call('HMGET', base .. string.sub(m, skip + 1), 'v', 'st', 'ty', 'u', 'd')
    if c[1] and (ARGV[6] == '' or c[2] == ARGV[6]) and (ARGV[7] == '' or c[3] == ARGV[7])
        and (ARGV[8] == '' or c[4] == ARGV[8]) then
      out[#out + 1] = c[1]
      out[#out + 1] = c[5]
      if limit > 0 and #out >= 2 * limit then
        return out
      end
    end
  end
  if #ms < page then
    return out
  end
  off = off + page
end
`)

type caseKeys struct {
	base, key, all, status, typ, user, alert string
}

func (s *Store) caseKeys() caseKeys {
	c := s.prefix + ":{" + s.prefix + ":cases}"
	return caseKeys{
		base:   c + ":c:",
		key:    c + ":key",
		all:    c + ":all",
		status: c + ":status",
		typ:    c + ":type",
		user:   c + ":user",
		alert:  c + ":alert",
	}
}

// alertField is the C:alert field of an alert ("" for none).
func alertField(a *koe.AlertRef) string {
	if a == nil {
		return ""
	}
	return a.Channel + lexSep + a.TS
}

// CreateCase stores a new case at Version 1, every other field as given
// (times to the nanosecond). A case needs a Ref, a Key and a valid User
// (koe.ErrInvalid otherwise). If a case with c.Key exists it returns that
// case and an error wrapping koe.ErrDuplicate; a Ref used by another Key
// returns a zero case and koe.ErrDuplicate. The checks, the case and its
// index entries are one script.
func (s *Store) CreateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	if c.Ref == "" || c.Key == "" || !c.User.Valid() {
		return koe.Case{}, fmt.Errorf("redis: create case: missing ref, key or user: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return koe.Case{}, fmt.Errorf("redis: create case: %w", err)
	}
	out := c
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: create case: encode: %w", err)
	}
	k := s.caseKeys()
	res, err := createCaseScript.Run(ctx, s.client,
		[]string{k.key, k.base + c.Ref, k.all, k.status, k.typ, k.user, k.alert},
		c.Key, c.Ref, string(c.User), nanos(c.CreatedAt), string(c.Status), string(c.Type),
		alertField(c.Alert), data, lexMember(c.CreatedAt, c.Ref)).StringSlice()
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: create case: %w", err)
	}
	switch res[0] {
	case "new":
		return out, nil
	case "taken":
		return koe.Case{}, fmt.Errorf("redis: create case: ref taken: %w", koe.ErrDuplicate)
	}
	// A case is written with its key in one script and never deleted.
	existing, err := s.getCase(ctx, res[1])
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: create case: read the key's case: %w", err)
	}
	return existing, fmt.Errorf("redis: create case: %w", koe.ErrDuplicate)
}

// GetCase returns the case with ref, or an error wrapping koe.ErrNotFound.
func (s *Store) GetCase(ctx context.Context, ref string) (koe.Case, error) {
	c, err := s.getCase(ctx, ref)
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: get case: %w", err)
	}
	return c, nil
}

func (s *Store) getCase(ctx context.Context, ref string) (koe.Case, error) {
	return getVersioned(ctx, s, s.caseKeys().base+ref, decodeStoredCase)
}

// UpdateCase stores c if the stored case's version equals c.Version and
// returns it with Version+1. It returns an error wrapping koe.ErrNotFound if
// there is no case c.Ref, koe.ErrConflict if c is stale (nothing changes),
// and koe.ErrInvalid if c changes the case's Key, User or CreatedAt, which
// the indexes hold. The status, type and alert indexes follow c in the same
// script.
func (s *Store) UpdateCase(ctx context.Context, c koe.Case) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, fmt.Errorf("redis: update case: %w", err)
	}
	out := c
	out.Version = c.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: update case: encode: %w", err)
	}
	k := s.caseKeys()
	n, err := updateCaseScript.Run(ctx, s.client, []string{k.base + c.Ref, k.status, k.typ, k.alert},
		c.Version, c.Key, string(c.User), nanos(c.CreatedAt), string(c.Status), string(c.Type),
		alertField(c.Alert), data, lexMember(c.CreatedAt, c.Ref), c.Ref).Int()
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: update case: %w", err)
	}
	switch n {
	case 1:
		return out, nil
	case -1:
		return koe.Case{}, fmt.Errorf("redis: update case: %w", koe.ErrNotFound)
	case -2:
		return koe.Case{}, fmt.Errorf("redis: update case: key, user or creation time changed: %w", koe.ErrInvalid)
	}
	return koe.Case{}, fmt.Errorf("redis: update case: version %d is stale: %w", c.Version, koe.ErrConflict)
}

// Cases returns the cases f selects (empty fields match all) by CreatedAt,
// newest first (ties by Ref, descending), at most Limit (0: all). A
// negative Limit is koe.ErrInvalid. It reads the most selective index the
// filter names (user, else status, else type) in one read script: the
// listing is a snapshot. It never returns a nil slice without an error.
func (s *Store) Cases(ctx context.Context, f koe.CaseFilter) ([]koe.Case, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("redis: cases: limit %d: %w", f.Limit, koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: cases: %w", err)
	}
	k := s.caseKeys()
	index, prefix := k.all, ""
	switch {
	case f.User != "":
		index, prefix = k.user, string(f.User)+lexSep
	case f.Status != "":
		index, prefix = k.status, string(f.Status)+lexSep
	case f.Type != "":
		index, prefix = k.typ, string(f.Type)+lexSep
	}
	lmax, lmin := lexRange(prefix, time.Time{}, time.Time{})
	vals, err := casesScript.Run(ctx, s.client, []string{index},
		lmax, lmin, f.Limit, len(prefix)+lexTimeLen, k.base,
		string(f.Status), string(f.Type), string(f.User)).Slice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: cases: %w", err)
	}
	out := make([]koe.Case, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		c, err := decodeStoredCase(vals[i], vals[i+1])
		if err != nil {
			return nil, fmt.Errorf("redis: cases: %w", err)
		}
		out = append(out, c)
	}
	return out, nil
}

// CaseByAlert returns the case whose Alert is (channel, ts), or an error
// wrapping koe.ErrNotFound. An alert is expected to belong to one case; if
// several carry it, the one that set it last is found.
func (s *Store) CaseByAlert(ctx context.Context, channel, ts string) (koe.Case, error) {
	if err := ctx.Err(); err != nil {
		return koe.Case{}, fmt.Errorf("redis: case by alert: %w", err)
	}
	ref, err := s.client.HGet(ctx, s.caseKeys().alert, alertField(&koe.AlertRef{Channel: channel, TS: ts})).Result()
	if errors.Is(err, goredis.Nil) {
		return koe.Case{}, fmt.Errorf("redis: case by alert: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: case by alert: %w", err)
	}
	c, err := s.getCase(ctx, ref)
	if err != nil {
		return koe.Case{}, fmt.Errorf("redis: case by alert: %w", err)
	}
	// The case may have moved its alert between the two reads.
	if c.Alert == nil || c.Alert.Channel != channel || c.Alert.TS != ts {
		return koe.Case{}, fmt.Errorf("redis: case by alert: %w", koe.ErrNotFound)
	}
	return c, nil
}

// decodeStoredCase decodes the v and d fields of a case; v is
// authoritative for Version.
func decodeStoredCase(v, d any) (koe.Case, error) {
	return decodeVersioned("case", v, d, func(c *koe.Case, n int64) { c.Version = n })
}

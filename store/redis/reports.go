package redis

import (
	"context"
	"encoding/json"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// Accident reports. A report lives under its own hash tag, so reports
// spread over a cluster; the indexes that must change atomically with each
// other share one tag. With I = "P:{P:reports}":
//
//	P:{P:report:<ref>}  hash  v (version), k (key), u (user),
//	                          s (submitted, Unix ns), d (JSON)
//	I:key               hash  submission key → ref
//	I:ref               hash  ref → submission key (a ref's owner)
//	I:user:<user>       zset  ref → submitted (ms): the user's reports
//
// CreateReport first claims the key and the ref together in the index slot
// (one script), then writes the report if absent (a second script). A
// create that stopped between the two leaves a claim without a report: the
// retry of the same submission finds the claim and writes the report under
// the claimed ref, and readers skip claims whose report is missing. Updates
// touch only the report's own key: the fields the indexes hold (Key, User,
// SubmittedAt) cannot change.

var _ koe.ReportStore = (*Store)(nil)

// claimReportScript claims a submission key and a ref.
// KEYS: I:key, I:ref, I:user:<user>. ARGV: key, ref, submitted (ms).
// Returns {"new"}, {"dup", ref of the key} or {"taken"}.
var claimReportScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  return {'dup', cur}
end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then
  return {'taken'}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
return {'new'}
`)

// putReportScript writes a report at version 1 unless one exists.
// KEYS: the report. ARGV: key, user, submitted (ns), JSON.
// Returns {1}, or {0, stored version, stored JSON}.
var putReportScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'd')
if cur[1] then
  return {0, cur[1], cur[2]}
end
redis.call('HSET', KEYS[1], 'v', 1, 'k', ARGV[1], 'u', ARGV[2], 's', ARGV[3], 'd', ARGV[4])
return {1}
`)

// updateReportScript is the report compare-and-set.
// KEYS: the report. ARGV: expected version, key, user, submitted (ns),
// JSON at the new version.
// Returns 1, 0 (stale), -1 (missing) or -2 (identity changed).
var updateReportScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'k', 'u', 's')
if not cur[1] then
  return -1
end
if cur[2] ~= ARGV[2] or cur[3] ~= ARGV[3] or cur[4] ~= ARGV[4] then
  return -2
end
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 'd', ARGV[5])
return 1
`)

func (s *Store) reportKey(ref string) string {
	return s.prefix + ":{" + s.prefix + ":report:" + ref + "}"
}

func (s *Store) reportIndex() (byKey, byRef, userPrefix string) {
	i := s.prefix + ":{" + s.prefix + ":reports}"
	return i + ":key", i + ":ref", i + ":user:"
}

// CreateReport stores a new report at Version 1, every other field as
// given. A report needs a Ref, a Key and a valid User (koe.ErrInvalid
// otherwise). If a report with r.Key exists it returns that report and an
// error wrapping koe.ErrDuplicate; a Ref used by another Key returns a zero
// report and koe.ErrDuplicate. If an earlier create of the same Key stopped
// halfway, this one completes it under the Ref that create claimed (and
// returns that Ref).
func (s *Store) CreateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	if r.Ref == "" || r.Key == "" || !r.User.Valid() {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: missing ref, key or user: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: %w", err)
	}
	byKey, byRef, userPrefix := s.reportIndex()
	res, err := claimReportScript.Run(ctx, s.client, []string{byKey, byRef, userPrefix + string(r.User)},
		r.Key, r.Ref, millis(r.SubmittedAt)).StringSlice()
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: claim: %w", err)
	}
	switch res[0] {
	case "taken":
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: ref taken: %w", koe.ErrDuplicate)
	case "dup":
		r.Ref = res[1]
	}
	out := r
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: encode: %w", err)
	}
	vals, err := putReportScript.Run(ctx, s.client, []string{s.reportKey(r.Ref)},
		r.Key, string(r.User), nanos(r.SubmittedAt), data).Slice()
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: %w", err)
	}
	if n, _ := vals[0].(int64); n == 1 {
		return out, nil
	}
	stored, err := decodeStoredReport(vals[1], vals[2])
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: %w", err)
	}
	if stored.Key != r.Key {
		// Cannot happen while the index holds: the ref is another key's.
		return koe.AccidentReport{}, fmt.Errorf("redis: create report: ref taken: %w", koe.ErrDuplicate)
	}
	return stored, fmt.Errorf("redis: create report: %w", koe.ErrDuplicate)
}

// GetReport returns the report with ref, or an error wrapping
// koe.ErrNotFound.
func (s *Store) GetReport(ctx context.Context, ref string) (koe.AccidentReport, error) {
	r, err := getVersioned(ctx, s, s.reportKey(ref), decodeStoredReport)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: get report: %w", err)
	}
	return r, nil
}

// ReportsByUser returns the user's reports by SubmittedAt (to the
// millisecond; ties by Ref, descending), newest first, at most limit (none
// when limit is not positive). It reads the user's index, then the
// reports, in pages, skipping refs whose report is not written yet.
func (s *Store) ReportsByUser(ctx context.Context, user koe.UserID, limit int) ([]koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: reports by user: %w", err)
	}
	out := []koe.AccidentReport{}
	if limit <= 0 {
		return out, nil
	}
	_, _, userPrefix := s.reportIndex()
	idx := userPrefix + string(user)
	for start := int64(0); len(out) < limit; {
		page := int64(limit - len(out))
		refs, err := s.client.ZRevRange(ctx, idx, start, start+page-1).Result()
		if err != nil {
			return nil, fmt.Errorf("redis: reports by user: %w", err)
		}
		if len(refs) == 0 {
			break
		}
		start += int64(len(refs))
		pipe := s.client.Pipeline()
		cmds := make([]*goredis.SliceCmd, len(refs))
		for i, ref := range refs {
			cmds[i] = pipe.HMGet(ctx, s.reportKey(ref), "v", "u", "d")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redis: reports by user: %w", err)
		}
		for _, c := range cmds {
			v := c.Val()
			if len(v) < 3 || v[0] == nil || v[1] != string(user) {
				continue // claimed, not yet written
			}
			r, err := decodeStoredReport(v[0], v[2])
			if err != nil {
				return nil, fmt.Errorf("redis: reports by user: %w", err)
			}
			out = append(out, r)
		}
		if int64(len(refs)) < page {
			break
		}
	}
	return out, nil
}

// UpdateReport stores r if the stored report's version equals r.Version and
// returns it with Version+1. It returns an error wrapping koe.ErrNotFound if
// there is no report r.Ref, koe.ErrConflict if r is stale (nothing
// changes), and koe.ErrInvalid if r changes the report's Key, User or
// SubmittedAt, which the indexes hold.
func (s *Store) UpdateReport(ctx context.Context, r koe.AccidentReport) (koe.AccidentReport, error) {
	if err := ctx.Err(); err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: update report: %w", err)
	}
	out := r
	out.Version = r.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: update report: encode: %w", err)
	}
	n, err := updateReportScript.Run(ctx, s.client, []string{s.reportKey(r.Ref)},
		r.Version, r.Key, string(r.User), nanos(r.SubmittedAt), data).Int()
	if err != nil {
		return koe.AccidentReport{}, fmt.Errorf("redis: update report: %w", err)
	}
	switch n {
	case 1:
		return out, nil
	case -1:
		return koe.AccidentReport{}, fmt.Errorf("redis: update report: %w", koe.ErrNotFound)
	case -2:
		return koe.AccidentReport{}, fmt.Errorf("redis: update report: key, user or submission time changed: %w", koe.ErrInvalid)
	}
	return koe.AccidentReport{}, fmt.Errorf("redis: update report: version %d is stale: %w", r.Version, koe.ErrConflict)
}

// decodeStoredReport decodes the v and d fields of a report; v is
// authoritative for Version.
func decodeStoredReport(v, d any) (koe.AccidentReport, error) {
	return decodeVersioned("report", v, d, func(r *koe.AccidentReport, n int64) { r.Version = n })
}

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

// Surveys. Every survey key shares the hash tag {P:surveys}, so the
// fatigue check, the create and every index it touches are one atomic
// script in one Cluster slot, whichever replica runs it. With
// S = "P:{P:surveys}":
//
//	S:s:<id>  hash  v (version), k (key), u (user), t (sent, Unix ns),
//	                tp (touchpoint), d (JSON)
//	S:key     hash  request key → id
//	S:last    hash  user → latest SentAt of the user's surveys (Unix ns)
//	S:all     zset  "<sent>:<id>": every survey, by SentAt
//	S:tp      zset  "<touchpoint>\x00<sent>:<id>"
//	S:user    zset  "<user>\x00<sent>:<id>"
//
// The zsets are lex-ordered like the voices' (all scores 0, <sent>
// zero-padded Unix ns). Key, User and SentAt cannot change, so an update
// moves only the touchpoint entry.

var _ koe.SurveyStore = (*Store)(nil)

// createSurveyScript claims a key and an id unless the user's last survey
// was sent at or after notBefore, and writes the survey, its index entries
// and the user's last sent time.
// KEYS: S:key, S:s:<id>, S:last, S:all, S:tp, S:user.
// ARGV: key, id, user, sent (ns), touchpoint, JSON, "<sent>:<id>",
// notBefore (ns).
// Returns {"new"}, {"dup", id of the key}, {"taken"} or {"fatigue"}.
var createSurveyScript = goredis.NewScript(luaLE + `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  return {'dup', cur}
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return {'taken'}
end
local last = redis.call('HGET', KEYS[3], ARGV[3])
if last and le(ARGV[8], last) then
  return {'fatigue'}
end
local sep, tm = string.char(0), ARGV[7]
redis.call('HSET', KEYS[2], 'v', 1, 'k', ARGV[1], 'u', ARGV[3], 't', ARGV[4], 'tp', ARGV[5], 'd', ARGV[6])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if (not last) or le(last, ARGV[4]) then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
end
redis.call('ZADD', KEYS[4], 0, tm)
redis.call('ZADD', KEYS[5], 0, ARGV[5] .. sep .. tm)
redis.call('ZADD', KEYS[6], 0, ARGV[3] .. sep .. tm)
return {'new'}
`)

// updateSurveyScript is the survey compare-and-set, moving its touchpoint
// entry.
// KEYS: S:s:<id>, S:tp.
// ARGV: expected version, key, user, sent (ns), touchpoint, JSON at the new
// version, "<sent>:<id>".
// Returns 1, 0 (stale), -1 (missing) or -2 (identity changed).
var updateSurveyScript = goredis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'v', 'k', 'u', 't', 'tp')
if not cur[1] then
  return -1
end
if cur[2] ~= ARGV[2] or cur[3] ~= ARGV[3] or cur[4] ~= ARGV[4] then
  return -2
end
if tonumber(cur[1]) ~= tonumber(ARGV[1]) then
  return 0
end
if cur[5] ~= ARGV[5] then
  local sep = string.char(0)
  redis.call('ZREM', KEYS[2], cur[5] .. sep .. ARGV[7])
  redis.call('ZADD', KEYS[2], 0, ARGV[5] .. sep .. ARGV[7])
end
redis.call('HSET', KEYS[1], 'v', tonumber(ARGV[1]) + 1, 'tp', ARGV[5], 'd', ARGV[6])
return 1
`)

// surveysScript lists surveys from one index, oldest first, keeping those
// that match the other filters.
// KEYS: the index. ARGV: lex min, lex max, length of the members' part
// before the id, prefix of the survey keys ("S:s:"), touchpoint, user (""
// matches all).
// Returns version, JSON per survey.
var surveysScript = goredis.NewScript(`
local skip, base = tonumber(ARGV[3]), ARGV[4]
local out = {}
local off, page = 0, 100
while true do
  local ms = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', off, page)
  for _, m in ipairs(ms) do
    local s = redis.call('HMGET', base .. string.sub(m, skip + 1), 'v', 'tp', 'u', 'd')
    if s[1] and (ARGV[5] == '' or s[2] == ARGV[5]) and (ARGV[6] == '' or s[3] == ARGV[6]) then
      out[#out + 1] = s[1]
      out[#out + 1] = s[4]
    end
  end
  if #ms < page then
    return out
  end
  off = off + page
end
`)

type surveyKeys struct {
	base, key, last, all, tp, user string
}

func (s *Store) surveyKeys() surveyKeys {
	c := s.prefix + ":{" + s.prefix + ":surveys}"
	return surveyKeys{
		base: c + ":s:",
		key:  c + ":key",
		last: c + ":last",
		all:  c + ":all",
		tp:   c + ":tp",
		user: c + ":user",
	}
}

// CreateSurvey stores sv at Version 1, every other field as given (times to
// the nanosecond), unless the user has a survey with SentAt at or after
// notBefore: then it returns a zero survey and an error wrapping
// koe.ErrConflict and stores nothing. If a survey with sv.Key exists it
// returns that survey and koe.ErrDuplicate (checked first, so a retried
// request is recognised, not refused as fatigue); an ID used by another Key
// returns a zero survey and koe.ErrDuplicate. A survey needs an ID, a Key, a
// valid User, a Touchpoint and a SentAt, and a Score in 0–10 and a
// Satisfaction in 1–5 when set (koe.ErrInvalid otherwise). The checks and
// the writes are one script on one slot, so concurrent creates for one
// user from any number of replicas let exactly one through.
func (s *Store) CreateSurvey(ctx context.Context, sv koe.Survey, notBefore time.Time) (koe.Survey, error) {
	if err := validSurvey(sv); err != nil {
		return koe.Survey{}, fmt.Errorf("redis: create survey: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return koe.Survey{}, fmt.Errorf("redis: create survey: %w", err)
	}
	out := sv
	out.Version = 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: create survey: encode: %w", err)
	}
	k := s.surveyKeys()
	res, err := createSurveyScript.Run(ctx, s.client,
		[]string{k.key, k.base + sv.ID, k.last, k.all, k.tp, k.user},
		sv.Key, sv.ID, string(sv.User), nanos(sv.SentAt), string(sv.Touchpoint), data,
		lexMember(sv.SentAt, sv.ID), nanos(notBefore)).StringSlice()
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: create survey: %w", err)
	}
	switch res[0] {
	case "new":
		return out, nil
	case "taken":
		return koe.Survey{}, fmt.Errorf("redis: create survey: id taken: %w", koe.ErrDuplicate)
	case "fatigue":
		return koe.Survey{}, fmt.Errorf("redis: create survey: fatigue: %w", koe.ErrConflict)
	}
	// A survey is written with its key in one script and never deleted.
	existing, err := s.getSurvey(ctx, res[1])
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: create survey: read the key's survey: %w", err)
	}
	return existing, fmt.Errorf("redis: create survey: %w", koe.ErrDuplicate)
}

// GetSurvey returns the survey with id, or an error wrapping
// koe.ErrNotFound.
func (s *Store) GetSurvey(ctx context.Context, id string) (koe.Survey, error) {
	sv, err := s.getSurvey(ctx, id)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: get survey: %w", err)
	}
	return sv, nil
}

func (s *Store) getSurvey(ctx context.Context, id string) (koe.Survey, error) {
	return getVersioned(ctx, s, s.surveyKeys().base+id, decodeStoredSurvey)
}

// UpdateSurvey stores sv if the stored survey's version equals sv.Version
// and returns it with Version+1. It returns an error wrapping
// koe.ErrNotFound if there is no survey sv.ID, koe.ErrConflict if sv is
// stale (nothing changes), and koe.ErrInvalid if sv is invalid (see
// CreateSurvey) or changes the survey's Key, User or SentAt, which the
// indexes and the fatigue rule hold. The touchpoint index follows sv in the
// same script.
func (s *Store) UpdateSurvey(ctx context.Context, sv koe.Survey) (koe.Survey, error) {
	if err := validSurvey(sv); err != nil {
		return koe.Survey{}, fmt.Errorf("redis: update survey: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return koe.Survey{}, fmt.Errorf("redis: update survey: %w", err)
	}
	out := sv
	out.Version = sv.Version + 1
	data, err := json.Marshal(out)
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: update survey: encode: %w", err)
	}
	k := s.surveyKeys()
	n, err := updateSurveyScript.Run(ctx, s.client, []string{k.base + sv.ID, k.tp},
		sv.Version, sv.Key, string(sv.User), nanos(sv.SentAt), string(sv.Touchpoint), data,
		lexMember(sv.SentAt, sv.ID)).Int()
	if err != nil {
		return koe.Survey{}, fmt.Errorf("redis: update survey: %w", err)
	}
	switch n {
	case 1:
		return out, nil
	case -1:
		return koe.Survey{}, fmt.Errorf("redis: update survey: %w", koe.ErrNotFound)
	case -2:
		return koe.Survey{}, fmt.Errorf("redis: update survey: key, user or sent time changed: %w", koe.ErrInvalid)
	}
	return koe.Survey{}, fmt.Errorf("redis: update survey: version %d is stale: %w", sv.Version, koe.ErrConflict)
}

// Surveys returns the surveys f selects — SentAt in [From, To) (zero bounds
// open), of f.Touchpoint and f.User when set — by SentAt, oldest first,
// ties by ID. It reads the user index when f names a user, else the
// touchpoint index, else all, in one read script: the listing is a
// snapshot. It never returns a nil slice without an error.
func (s *Store) Surveys(ctx context.Context, f koe.SurveyFilter) ([]koe.Survey, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: surveys: %w", err)
	}
	k := s.surveyKeys()
	index, prefix := k.all, ""
	switch {
	case f.User != "":
		index, prefix = k.user, string(f.User)+lexSep
	case f.Touchpoint != "":
		index, prefix = k.tp, string(f.Touchpoint)+lexSep
	}
	lmax, lmin := lexRange(prefix, f.From, f.To)
	vals, err := surveysScript.Run(ctx, s.client, []string{index},
		lmin, lmax, len(prefix)+lexTimeLen, k.base, string(f.Touchpoint), string(f.User)).Slice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: surveys: %w", err)
	}
	out := make([]koe.Survey, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		sv, err := decodeStoredSurvey(vals[i], vals[i+1])
		if err != nil {
			return nil, fmt.Errorf("redis: surveys: %w", err)
		}
		out = append(out, sv)
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

// decodeStoredSurvey decodes the v and d fields of a survey; v is
// authoritative for Version.
func decodeStoredSurvey(v, d any) (koe.Survey, error) {
	return decodeVersioned("survey", v, d, func(sv *koe.Survey, n int64) { sv.Version = n })
}

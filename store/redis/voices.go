package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/koehq/koe"
)

// Voices. Every voice key shares the hash tag {P:voices}, so an add is one
// atomic script in one Cluster slot (the price: all voices live in one
// slot). With V = "P:{P:voices}":
//
//	V:d     hash  voice id → JSON
//	V:at    zset  "<at>:<id>", all scores 0: every voice, ordered by At
//	V:kind  zset  "<kind>\x00<at>:<id>", all scores 0: by kind, then At
//
// <at> is At in Unix nanoseconds, zero-padded to 19 digits, so the members'
// byte order is time order (ties by id) and a time range is a lex range
// (ZREVRANGEBYLEX): exact to the nanosecond, which a double score is not.

var _ koe.VoiceStore = (*Store)(nil)

// addVoiceScript stores a voice unless its id is taken.
// KEYS: V:d, V:at, V:kind. ARGV: id, JSON, at member, kind member.
// Returns {1}, or {0, stored JSON}.
var addVoiceScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  return {0, cur}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
return {1}
`)

// voicesScript lists voices from an index, newest first.
// KEYS: the index (V:at or V:kind), V:d. ARGV: lex max, lex min, limit (0:
// none), length of the members' part before the id.
// Returns the voices' JSON.
var voicesScript = goredis.NewScript(`
local ms
if tonumber(ARGV[3]) > 0 then
  ms = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
else
  ms = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
end
local skip = tonumber(ARGV[4])
local out = {}
for _, m in ipairs(ms) do
  local d = redis.call('HGET', KEYS[2], string.sub(m, skip + 1))
  if d then
    out[#out + 1] = d
  end
end
return out
`)

type voiceKeys struct{ data, at, kind string }

func (s *Store) voiceKeys() voiceKeys {
	v := s.prefix + ":{" + s.prefix + ":voices}"
	return voiceKeys{data: v + ":d", at: v + ":at", kind: v + ":kind"}
}

// GetVoice returns the voice with id, or an error wrapping koe.ErrNotFound.
func (s *Store) GetVoice(ctx context.Context, id string) (koe.Voice, error) {
	if err := ctx.Err(); err != nil {
		return koe.Voice{}, fmt.Errorf("redis: get voice: %w", err)
	}
	data, err := s.client.HGet(ctx, s.voiceKeys().data, id).Result()
	if errors.Is(err, goredis.Nil) {
		return koe.Voice{}, fmt.Errorf("redis: get voice: %w", koe.ErrNotFound)
	}
	if err != nil {
		return koe.Voice{}, fmt.Errorf("redis: get voice: %w", err)
	}
	v, err := decodeVoice(data)
	if err != nil {
		return koe.Voice{}, fmt.Errorf("redis: get voice: %w", err)
	}
	return v, nil
}

// AddVoice stores v, every field as given (times to the nanosecond). A
// voice needs an ID and a valid User (koe.ErrInvalid otherwise). If a voice
// with v.ID exists it returns that voice and an error wrapping
// koe.ErrDuplicate; the check and the write are one script.
func (s *Store) AddVoice(ctx context.Context, v koe.Voice) (koe.Voice, error) {
	if v.ID == "" || !v.User.Valid() {
		return koe.Voice{}, fmt.Errorf("redis: add voice: missing id or user: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return koe.Voice{}, fmt.Errorf("redis: add voice: %w", err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return koe.Voice{}, fmt.Errorf("redis: add voice: encode: %w", err)
	}
	k := s.voiceKeys()
	at := lexMember(v.At, v.ID)
	vals, err := addVoiceScript.Run(ctx, s.client, []string{k.data, k.at, k.kind},
		v.ID, data, at, string(v.Kind)+lexSep+at).Slice()
	if err != nil {
		return koe.Voice{}, fmt.Errorf("redis: add voice: %w", err)
	}
	if n, _ := vals[0].(int64); n == 1 {
		return v, nil
	}
	stored, _ := vals[1].(string)
	existing, err := decodeVoice(stored)
	if err != nil {
		return koe.Voice{}, fmt.Errorf("redis: add voice: %w", err)
	}
	return existing, fmt.Errorf("redis: add voice: %w", koe.ErrDuplicate)
}

// Voices returns the voices f selects: At in [From, To) (zero bounds are
// open; to the nanosecond), of Kind when set, by At newest first (ties by
// ID, descending), at most Limit (0: all). A negative Limit is
// koe.ErrInvalid. One read script: the listing is a snapshot. It never
// returns a nil slice without an error.
func (s *Store) Voices(ctx context.Context, f koe.VoiceFilter) ([]koe.Voice, error) {
	if f.Limit < 0 {
		return nil, fmt.Errorf("redis: voices: limit %d: %w", f.Limit, koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: voices: %w", err)
	}
	k := s.voiceKeys()
	index, prefix := k.at, ""
	if f.Kind != "" {
		index, prefix = k.kind, string(f.Kind)+lexSep
	}
	lmax, lmin := lexRange(prefix, f.From, f.To)
	vals, err := voicesScript.Run(ctx, s.client, []string{index, k.data},
		lmax, lmin, f.Limit, len(prefix)+lexTimeLen).StringSlice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: voices: %w", err)
	}
	out := make([]koe.Voice, 0, len(vals))
	for _, d := range vals {
		v, err := decodeVoice(d)
		if err != nil {
			return nil, fmt.Errorf("redis: voices: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

func decodeVoice(data string) (koe.Voice, error) {
	var v koe.Voice
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		return koe.Voice{}, fmt.Errorf("decode voice: %w", err)
	}
	return v, nil
}

// Lex-ordered indexes (voices, cases): members "<value>\x00<time>:<id>",
// all scored 0, where <time> is Unix nanoseconds zero-padded to 19 digits.
const (
	lexSep     = "\x00"
	lexTimeLen = 19 + 1 // digits and ':'
)

// lexTime is t as 19 zero-padded digits of Unix nanoseconds (clamped like
// nanos), so byte order is time order.
func lexTime(t time.Time) string {
	n := nanos(t)
	return strings.Repeat("0", 19-len(n)) + n
}

// lexMember is the index member of id at t (without a value prefix).
func lexMember(t time.Time, id string) string { return lexTime(t) + ":" + id }

// lexRange returns the ZREVRANGEBYLEX bounds (max, min) of the members
// starting with prefix ("" or "<value>\x00") whose time is in [from, to);
// zero times are open bounds.
func lexRange(prefix string, from, to time.Time) (lmax, lmin string) {
	switch {
	case !to.IsZero():
		lmax = "(" + prefix + lexTime(to)
	case prefix == "":
		lmax = "+"
	default:
		// Just past every member of the value: "<value>\x01".
		lmax = "(" + prefix[:len(prefix)-1] + "\x01"
	}
	switch {
	case !from.IsZero():
		lmin = "[" + prefix + lexTime(from)
	case prefix == "":
		lmin = "-"
	default:
		lmin = "[" + prefix
	}
	return lmax, lmin
}

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

// FAQ answers. Every key shares the hash tag {P:faq}, so each operation is
// one atomic script in one Cluster slot (the price: all answers live in one
// slot). With F = "P:{P:faq}":
//
//	F:d   hash  answer id → JSON of the answer as recorded
//	F:m   hash  answer id → JSON of its latest mark {helpful, caseRef}
//	F:at  zset  "<at>:<id>", all scores 0: every answer, ordered by At
//
// A mark is kept apart from the answer so that a mark never re-encodes the
// answer in Lua (cjson would round Confidence); readers lay the mark over
// the answer. <at> is as for voices: a lex range is exact to the nanosecond.

var _ koe.FAQLog = (*Store)(nil)

// recordFAQScript stores an answer unless its id is taken.
// KEYS: F:d, F:m, F:at. ARGV: id, JSON, at member.
// Returns {1}, or {0, stored JSON, mark JSON or ""}.
var recordFAQScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  return {0, cur, redis.call('HGET', KEYS[2], ARGV[1]) or ''}
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
return {1}
`)

// markFAQScript replaces an existing answer's mark.
// KEYS: F:d, F:m. ARGV: id, mark JSON. Returns 1, or 0 if there is no
// answer with id.
var markFAQScript = goredis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`)

// faqAnswersScript lists answers oldest first.
// KEYS: F:at, F:d, F:m. ARGV: lex min, lex max, length of the members'
// part before the id. Returns answer JSON, mark JSON or "", pairwise.
var faqAnswersScript = goredis.NewScript(`
local ms = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
local skip = tonumber(ARGV[3])
local out = {}
for _, m in ipairs(ms) do
  local id = string.sub(m, skip + 1)
  local d = redis.call('HGET', KEYS[2], id)
  if d then
    out[#out + 1] = d
    out[#out + 1] = redis.call('HGET', KEYS[3], id) or ''
  end
end
return out
`)

type faqKeys struct{ data, marks, at string }

func (s *Store) faqKeys() faqKeys {
	f := s.prefix + ":{" + s.prefix + ":faq}"
	return faqKeys{data: f + ":d", marks: f + ":m", at: f + ":at"}
}

// faqMark is the stored form of a mark.
type faqMark struct {
	Helpful *bool  `json:"helpful"`
	CaseRef string `json:"caseRef"`
}

// RecordAnswer stores a, every field as given (times to the nanosecond).
// An answer needs an ID, a valid User, an Entry and a non-zero At
// (koe.ErrInvalid otherwise). If an answer with a.ID exists it returns that
// answer, with its latest mark, and an error wrapping koe.ErrDuplicate; the
// check and the write are one script.
func (s *Store) RecordAnswer(ctx context.Context, a koe.FAQAnswer) (koe.FAQAnswer, error) {
	if a.ID == "" || !a.User.Valid() || a.Entry == "" || a.At.IsZero() {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: missing id, user, entry or time: %w", koe.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: %w", err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: encode: %w", err)
	}
	k := s.faqKeys()
	vals, err := recordFAQScript.Run(ctx, s.client, []string{k.data, k.marks, k.at},
		a.ID, data, lexMember(a.At, a.ID)).Slice()
	if err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: %w", err)
	}
	if n, _ := vals[0].(int64); n == 1 {
		return a, nil
	}
	if len(vals) != 3 {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: script returned %d values", len(vals))
	}
	stored, _ := vals[1].(string)
	mark, _ := vals[2].(string)
	existing, err := decodeFAQAnswer(stored, mark)
	if err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("redis: record answer: %w", err)
	}
	return existing, fmt.Errorf("redis: record answer: %w", koe.ErrDuplicate)
}

// MarkAnswer replaces the Helpful and CaseRef of the answer with id (nil
// and "" clear them; the last mark wins). It returns an error wrapping
// koe.ErrNotFound if there is no such answer. The check and the write are
// one script.
func (s *Store) MarkAnswer(ctx context.Context, id string, helpful *bool, caseRef string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redis: mark answer: %w", err)
	}
	mark, err := json.Marshal(faqMark{Helpful: helpful, CaseRef: caseRef})
	if err != nil {
		return fmt.Errorf("redis: mark answer: encode: %w", err)
	}
	k := s.faqKeys()
	n, err := markFAQScript.Run(ctx, s.client, []string{k.data, k.marks}, id, mark).Int()
	if err != nil {
		return fmt.Errorf("redis: mark answer: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("redis: mark answer: %w", koe.ErrNotFound)
	}
	return nil
}

// Answers returns the answers with At in [from, to) (zero bounds are open;
// to the nanosecond), oldest first, ties by ID ascending. One read script:
// the listing is a snapshot. It never returns a nil slice without an error.
func (s *Store) Answers(ctx context.Context, from, to time.Time) ([]koe.FAQAnswer, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis: answers: %w", err)
	}
	k := s.faqKeys()
	lmax, lmin := lexRange("", from, to)
	vals, err := faqAnswersScript.Run(ctx, s.client, []string{k.at, k.data, k.marks},
		lmin, lmax, lexTimeLen).StringSlice()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, fmt.Errorf("redis: answers: %w", err)
	}
	if len(vals)%2 != 0 {
		return nil, fmt.Errorf("redis: answers: script returned %d values", len(vals))
	}
	out := make([]koe.FAQAnswer, 0, len(vals)/2)
	for i := 0; i < len(vals); i += 2 {
		a, err := decodeFAQAnswer(vals[i], vals[i+1])
		if err != nil {
			return nil, fmt.Errorf("redis: answers: %w", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// decodeFAQAnswer decodes an answer and lays its mark ("" for none) over
// it.
func decodeFAQAnswer(data, mark string) (koe.FAQAnswer, error) {
	var a koe.FAQAnswer
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return koe.FAQAnswer{}, fmt.Errorf("decode faq answer: %w", err)
	}
	if mark != "" {
		var m faqMark
		if err := json.Unmarshal([]byte(mark), &m); err != nil {
			return koe.FAQAnswer{}, fmt.Errorf("decode faq mark: %w", err)
		}
		a.Helpful, a.CaseRef = m.Helpful, m.CaseRef
	}
	return a, nil
}

package redis

import goredis "github.com/redis/go-redis/v9"

// Every script touches only keys of one hash tag: one inbox shard, or one
// session. Times travel as Unix milliseconds where they are zset scores
// (exact in a double) and as decimal Unix nanoseconds where they must be
// exact; luaLE compares the latter without going through a double.
//
// The per-user lists (shard tag + ":q:" + user) of users found in a zset are
// named inside the scripts; they carry the shard's hash tag like the
// declared keys, so they live in the same slot.

// luaLE is "a <= b" for non-negative decimal integer strings without
// leading zeros, exact beyond 2^53.
const luaLE = `
local function le(a, b)
  if #a ~= #b then return #a < #b end
  local ah, bh = tonumber(string.sub(a, 1, -10)) or 0, tonumber(string.sub(b, 1, -10)) or 0
  if ah ~= bh then return ah < bh end
  return tonumber(string.sub(a, -9)) <= tonumber(string.sub(b, -9))
end
`

// appendScript stores new messages of one shard.
//
// KEYS: seen, msg, ready, counter, then the list of message i's user at
// 4+i. ARGV: now (ms), dedupe window (ms), seen TTL (ms), "1" if the script
// numbers the messages itself from counter (a store of one shard) or "0"
// if they come numbered, then per message id, user, seq, payload.
// Returns the number of messages that were new.
var appendScript = goredis.NewScript(`
local seen, msg, ready, counter = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = tonumber(ARGV[1])
local number = ARGV[4] == '1'
redis.call('ZREMRANGEBYSCORE', seen, '-inf', now - tonumber(ARGV[2]))
local added = 0
for i = 1, (#ARGV - 4) / 4 do
  local b = 4 + (i - 1) * 4
  local id, user, seq, payload = ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]
  if not redis.call('ZSCORE', seen, id) then
    if number then
      seq = redis.call('INCR', counter)
    end
    redis.call('ZADD', seen, now, id)
    redis.call('HSET', msg, seq, payload)
    if redis.call('RPUSH', KEYS[4 + i], seq) == 1 then
      redis.call('ZADD', ready, seq, user)
    end
    added = added + 1
  end
end
if added > 0 then
  redis.call('PEXPIRE', seen, ARGV[3])
end
return added
`)

// claimScript leases the head messages of the budget users of one shard
// whose head messages are oldest, after moving users whose lease or retry
// delay has run out from wait to ready.
//
// KEYS: ready, wait, due, msg, att, lease.
// ARGV: now (ms), now (ns), budget, list prefix, lease deadline (ms),
// lease deadline (ns), token nonce.
// Returns seq, attempt, lease token, user, payload for each delivery.
var claimScript = goredis.NewScript(luaLE + `
local ready, wait, due, msg, att, lease = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local qp = ARGV[4]
local w = redis.call('ZRANGEBYSCORE', wait, '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, u in ipairs(w) do
  local d = redis.call('HGET', due, u)
  if (not d) or le(d, ARGV[2]) then
    redis.call('ZREM', wait, u)
    redis.call('HDEL', due, u)
    local h = redis.call('LINDEX', qp .. u, 0)
    if h then
      redis.call('ZADD', ready, h, u)
    else
      redis.call('HDEL', lease, u)
    end
  end
end
local out = {}
local users = redis.call('ZRANGE', ready, 0, tonumber(ARGV[3]) - 1)
for _, u in ipairs(users) do
  redis.call('ZREM', ready, u)
  local q = qp .. u
  local h = redis.call('LINDEX', q, 0)
  while h and not redis.call('HEXISTS', msg, h) do
    -- A seq without its message cannot be delivered; skip it.
    redis.call('LPOP', q)
    redis.call('HDEL', att, h)
    h = redis.call('LINDEX', q, 0)
  end
  if h then
    local a = redis.call('HINCRBY', att, h, 1)
    local tok = ARGV[7] .. '.' .. h .. '.' .. a
    redis.call('HSET', lease, u, tok)
    redis.call('ZADD', wait, ARGV[5], u)
    redis.call('HSET', due, u, ARGV[6])
    out[#out + 1] = h
    out[#out + 1] = a
    out[#out + 1] = tok
    out[#out + 1] = u
    out[#out + 1] = redis.call('HGET', msg, h)
  else
    redis.call('HDEL', lease, u)
  end
end
return out
`)

// luaFinish is shared by ack and bury: check the lease, remove the head
// message and let the user's next message be claimed.
//
// KEYS: ready, wait, due, msg, att, lease, the user's list.
// ARGV: user, lease token, seq.
const luaFinish = `
local ready, wait, due, msg, att, lease, q = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local user, seq = ARGV[1], ARGV[3]
if redis.call('HGET', lease, user) ~= ARGV[2] or redis.call('LINDEX', q, 0) ~= seq then
  return 0
end
local payload = redis.call('HGET', msg, seq)
local attempts = redis.call('HGET', att, seq)
redis.call('LPOP', q)
redis.call('HDEL', msg, seq)
redis.call('HDEL', att, seq)
redis.call('HDEL', lease, user)
redis.call('ZREM', wait, user)
redis.call('HDEL', due, user)
local h = redis.call('LINDEX', q, 0)
if h then
  redis.call('ZADD', ready, h, user)
else
  redis.call('ZREM', ready, user)
end
`

// ackScript removes a processed message. Returns 1, or 0 when the lease
// is not held.
var ackScript = goredis.NewScript(luaFinish + `
return 1
`)

// buryScript moves a message to the dead letters. KEYS as for ack plus
// dead; ARGV as for ack plus the record's JSON head, the cap and the TTL
// (ms) of the dead-letter list. A record is three lines: the head, the
// attempt count, the stored message as it was (even if it is not JSON).
var buryScript = goredis.NewScript(luaFinish + `
local rec = ARGV[4] .. '\n' .. (attempts or '0') .. '\n' .. (payload or '')
redis.call('LPUSH', KEYS[8], rec)
redis.call('LTRIM', KEYS[8], 0, tonumber(ARGV[5]) - 1)
redis.call('PEXPIRE', KEYS[8], ARGV[6])
return 1
`)

// releaseScript frees the lease and keeps the message at the head of its
// user's list, claimable again from the given time.
//
// KEYS as for ack. ARGV: user, lease token, seq, not before (ms),
// not before (ns), "1" if not before is in the future.
// Returns 1, or 0 when the lease is not held.
var releaseScript = goredis.NewScript(`
local ready, wait, due, lease, q = KEYS[1], KEYS[2], KEYS[3], KEYS[6], KEYS[7]
local user, seq = ARGV[1], ARGV[3]
if redis.call('HGET', lease, user) ~= ARGV[2] or redis.call('LINDEX', q, 0) ~= seq then
  return 0
end
redis.call('HDEL', lease, user)
if ARGV[6] == '1' then
  redis.call('ZREM', ready, user)
  redis.call('ZADD', wait, ARGV[4], user)
  redis.call('HSET', due, user, ARGV[5])
else
  redis.call('ZREM', wait, user)
  redis.call('HDEL', due, user)
  redis.call('ZADD', ready, seq, user)
end
return 1
`)

// saveSessionScript is the session compare-and-set.
//
// KEYS: the session. ARGV: expected version, now (ns), expires (ns), the
// session JSON (already at the new version), TTL (ms).
// Returns 1, or 0 when the stored live version differs.
var saveSessionScript = goredis.NewScript(luaLE + `
local cur = redis.call('HMGET', KEYS[1], 'v', 'e')
local v = 0
if cur[1] and cur[2] and not le(cur[2], ARGV[2]) then
  v = tonumber(cur[1])
end
if v ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'v', ARGV[1] + 1, 'e', ARGV[3], 'd', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

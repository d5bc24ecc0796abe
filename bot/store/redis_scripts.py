"""The Lua scripts of the Redis session store, each run whole (atomic) by one EVALSHA.

The combined load script (`LOAD_AND_TAKE`) takes the rate-limit token with the same function as the
limiter's own script (`redis_ratelimit.TAKE_TOKEN`), so that a turn costs two round trips, not three.
"""

from __future__ import annotations

from bot.store.redis_ratelimit import TAKE_TOKEN

# Dedupe, shared by every script. The user's `seen` sorted set holds processed event ids scored by the
# event's own time (ms; the platform's timestamp when it gives one, else server time), plus one member ""
# whose score is the *floor*: the newest time of any id evicted by the cap. An event is refused as seen when
# its id is in the set or, when the platform gave its time, when it is older than the window or not newer
# than the floor — so evicting
# old ids to keep the set small (a listpack) never lets a replay of an evicted event through.
# Members are 8-byte digests of the event ids (`redis.event_member`), never empty; `legacy` is the id in clear,
# as sets written before digests held it: looked up too, until those sets have expired (one window).
SEEN = """
local function event_time(arg, now)
  local at = tonumber(arg) or 0
  if at <= 0 or at > now then return now end
  return at
end
local function seen_before(seen, event, at, since, timed, legacy)
  if timed then
    if at <= since then return true end
    local floor = redis.call('ZSCORE', seen, '')
    if floor and at <= tonumber(floor) then return true end
  end
  local score = redis.call('ZSCORE', seen, event)
  if not score and legacy then score = redis.call('ZSCORE', seen, legacy) end
  return score and tonumber(score) > since
end
local function server_now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# Per-user order across replicas: a ticket per turn, taken in the load script (arrival order at Redis) and
# given back by the save script, in the user's `order` hash: n (the last ticket), s (the last ticket done),
# at (when s last moved), and x<ticket> for tickets given back out of turn (a duplicate, a flood's silence, a
# failure), which `s` skips when it gets there. A turn runs when s = its ticket - 1; a ticket whose turn is
# stuck for `takeover` ms (its replica died) is skipped. The hash is deleted once every ticket is back, so a
# user at rest keeps nothing (docs/architecture.md).
ORDER = """
local function take_ticket(order, held, now)
  if held > 0 then return held end
  local n = redis.call('HINCRBY', order, 'n', 1)
  if n == 1 then redis.call('HSET', order, 's', 0, 'at', now) end
  redis.call('PEXPIRE', order, 60000)
  return n
end
local function turn_ready(order, ticket, now, takeover)
  local s = tonumber(redis.call('HGET', order, 's') or '0')
  if s >= ticket - 1 then return 1 end
  local at = tonumber(redis.call('HGET', order, 'at') or '0')
  if now - at <= takeover then return 0 end
  redis.call('HSET', order, 's', ticket - 1, 'at', now)
  return 1
end
local function give_back(order, ticket, now)
  if ticket <= 0 then return end
  local s = tonumber(redis.call('HGET', order, 's') or '0')
  if s ~= ticket - 1 then
    if s < ticket then redis.call('HSET', order, 'x' .. ticket, 1) end
    return
  end
  s = ticket
  while redis.call('HDEL', order, 'x' .. (s + 1)) == 1 do s = s + 1 end
  if s >= tonumber(redis.call('HGET', order, 'n') or '0') then
    redis.call('DEL', order)
  else
    redis.call('HSET', order, 's', s, 'at', now)
  end
end
"""

# KEYS: session, seen, order. ARGV: event member, dedupe window (ms), event time (ms, 0: unknown), event id,
# ticket held (0: take one), takeover (ms).
# Returns {duplicate 0/1, value or nil, ticket (0 for a duplicate), ready 0/1}.
LOAD = (
    SEEN
    + ORDER
    + """
local now = server_now()
local at = event_time(ARGV[3], now)
local timed = (tonumber(ARGV[3]) or 0) > 0
if seen_before(KEYS[2], ARGV[1], at, now - tonumber(ARGV[2]), timed, ARGV[4]) then
  give_back(KEYS[3], tonumber(ARGV[5]), now)
  return {1, redis.call('GET', KEYS[1]), 0, 1}
end
local ticket = take_ticket(KEYS[3], tonumber(ARGV[5]), now)
return {0, redis.call('GET', KEYS[1]), ticket, turn_ready(KEYS[3], ticket, now, tonumber(ARGV[6]))}
"""
)

# The same, and the rate limit in the same round trip (a first load only: the ticket is taken then).
# KEYS: session, seen, order, rate (one slot). ARGV: as LOAD's, then burst, tokens per ms, bucket expiry (ms).
# Returns {duplicate 0/1, value or nil, ticket, ready 0/1, verdict or nil}: a duplicate takes no token.
LOAD_AND_TAKE = (
    TAKE_TOKEN
    + SEEN
    + ORDER
    + """
local now = server_now()
local at = event_time(ARGV[3], now)
if seen_before(KEYS[2], ARGV[1], at, now - tonumber(ARGV[2]), (tonumber(ARGV[3]) or 0) > 0, ARGV[4]) then
  return {1, redis.call('GET', KEYS[1]), 0, 1, false}
end
local verdict = take_token(KEYS[4], tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9], now)
local ticket = take_ticket(KEYS[3], 0, now)
local ready = turn_ready(KEYS[3], ticket, now, tonumber(ARGV[6]))
return {0, redis.call('GET', KEYS[1]), ticket, ready, verdict}
"""
)

# KEYS: order. ARGV: ticket. A turn that ends without a save gives its ticket back.
RELEASE = (
    SEEN
    + ORDER
    + """
give_back(KEYS[1], tonumber(ARGV[1]), server_now())
return 1
"""
)

# KEYS: session, seen, order (one slot).
# ARGV: op ('set' | 'del'), expected version, body, ttl (ms), dedupe window (ms), dedupe limit, ticket (0: none),
# [event member, event time (ms, 0: unknown), event id]. A save or a duplicate gives the ticket back.
# 'del' (削除) deletes the session and the dedupe set and records nothing: no key naming the user is left but
# the rate-limit bucket, which is not touched (erasing must not refill it) and expires once refilled.
SAVE = (
    SEEN
    + ORDER
    + """
local now = server_now()
local since = now - tonumber(ARGV[5])
local ticket = tonumber(ARGV[7])
local event = ARGV[8]
local at = event_time(ARGV[9], now)
if event and seen_before(KEYS[2], event, at, since, (tonumber(ARGV[9]) or 0) > 0, ARGV[10]) then
  give_back(KEYS[3], ticket, now)
  return 'duplicate'
end
local version = 0
local current = redis.call('GET', KEYS[1])
if current then
  local digits = string.match(current, '^(%d+)|')
  if digits and #digits <= 15 then version = tonumber(digits) end
end
if version ~= tonumber(ARGV[2]) then return 'conflict' end
if ARGV[1] == 'del' then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 'saved'
end
give_back(KEYS[3], ticket, now)
redis.call('SET', KEYS[1], string.format('%d|', version + 1) .. ARGV[3], 'PX', ARGV[4])
if event then
  -- Trim first, then add: a sorted set that ever holds more than zset-max-listpack-entries (128) members
  -- becomes a skiplist for good, far bigger than the listpack of the same ids (docs/benchmark.md).
  -- Ids beyond the cap go oldest first, and the floor rises to the newest of them.
  local floor = tonumber(redis.call('ZSCORE', KEYS[2], '') or '0')
  redis.call('ZREM', KEYS[2], '')
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', since)
  local excess = redis.call('ZCARD', KEYS[2]) - (tonumber(ARGV[6]) - 2)
  if excess > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[2], excess)
    local newest = tonumber(popped[#popped])
    if newest > floor then floor = newest end
  end
  redis.call('ZADD', KEYS[2], at, event)
  if floor > since then redis.call('ZADD', KEYS[2], floor, '') end
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
end
return 'saved'
"""
)

"""The rate limiter's token bucket in Redis: one script on the user's own key, so every replica shares it."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from bot.core.session import SessionKey
from bot.store.base import StoreUnavailable
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit, Verdict

# A Lua function shared by this limiter's script and the session store's load script (which takes the
# token in the same round trip as the load, see `RedisSessionStore.load`): take one token from the bucket
# at `key` as of `now` (server time, ms, so replicas agree); returns 'allow', 'notice' or 'drop'.
#
# The bucket is kept as one integer (GCRA, the "generic cell rate algorithm"): the time, in ms, at which it
# will be full again, negative once the user was told they are over the limit. The same token bucket as
# `MemoryRateLimiter`'s (`burst` tokens, refilled at `per_ms`), in a string Redis stores as an integer: a
# third of the memory of a hash of tokens, time and flag (docs/benchmark.md). Times are rounded up to the
# millisecond, which can only make the bucket a little stricter.
TAKE_TOKEN = """
local function take_token(key, burst, per_ms, expiry, now)
  local stored = tonumber(redis.call('GET', key) or '0') or 0
  local noticed = stored < 0
  local full_at = math.max(math.abs(stored), now)
  local interval = 1 / per_ms
  local verdict = 'allow'
  if full_at - now <= (burst - 1) * interval then
    full_at = full_at + interval
    noticed = false
  elseif noticed then
    verdict = 'drop'
  else
    verdict = 'notice'
    noticed = true
  end
  local value = math.ceil(full_at)
  if noticed then value = -value end
  redis.call('SET', key, string.format('%d', value), 'PX', expiry)
  return verdict
end
"""

# KEYS: the user's rate key. ARGV: burst, tokens per ms, expiry (ms).
_BUCKET = (
    TAKE_TOKEN
    + """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return take_token(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], now)
"""
)


class RedisRateLimiter:
    """One EVALSHA per message on the user's own key (same hash slot as the session) — or none: during a turn,
    a `RedisSessionStore` built with the same `rate_limit` takes the token in its load script."""

    def __init__(self, client: Redis | RedisCluster, limit: RateLimit, keys: KeyBuilder) -> None:
        self.limit = limit
        self.keys = keys
        self.client = client
        self._script = client.register_script(_BUCKET)

    async def hit(self, key: SessionKey) -> Verdict:
        try:
            reply = await self._script(keys=[self.keys.rate(key)], args=self.limit.bucket_args())
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("rate limiter unavailable") from exc
        return Verdict(cast(bytes, reply).decode())

"""The rate limiter's token bucket in Redis: one script on the user's own key, so every replica shares it."""

from __future__ import annotations

from typing import cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from bot.core.session import SessionKey
from bot.store.base import StoreUnavailable
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit, Verdict

# KEYS: the user's rate key. ARGV: burst, tokens per ms, expiry (ms). Server time, so replicas agree.
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local burst = tonumber(ARGV[1])
local b = redis.call('HMGET', KEYS[1], 't', 'at', 'n')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * tonumber(ARGV[2]))
local verdict = 'allow'
local noticed = 0
if tokens >= 1 then
  tokens = tokens - 1
elseif b[3] == '1' then
  verdict = 'drop'
  noticed = 1
else
  verdict = 'notice'
  noticed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', now, 'n', noticed)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return verdict
"""


class RedisRateLimiter:
    """One EVALSHA per message on the user's own key (same hash slot as the session)."""

    def __init__(self, client: Redis | RedisCluster, limit: RateLimit, keys: KeyBuilder) -> None:
        self.limit = limit
        self.keys = keys
        self._script = client.register_script(_BUCKET)

    async def hit(self, key: SessionKey) -> Verdict:
        try:
            reply = await self._script(
                keys=[self.keys.rate(key)], args=[self.limit.burst, self.limit.per_ms, self.limit.full_after_ms]
            )
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("rate limiter unavailable") from exc
        return Verdict(cast(bytes, reply).decode())

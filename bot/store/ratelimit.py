"""Per-user rate limiting: a token bucket, shared by all replicas when it lives in Redis.

A user may send `burst` messages at once and then `per_minute` a minute. The first message over the
limit gets one polite notice; later ones get no reply at all until a token is back, so a flood neither
blocks other users nor spends the platform's message quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, cast

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisError

from bot.core.session import SessionKey
from bot.store.base import StoreUnavailable
from bot.store.keys import KeyBuilder


class Verdict(StrEnum):
    ALLOW = "allow"
    NOTICE = "notice"  # over the limit for the first time: tell the user once
    DROP = "drop"  # still over the limit: answer nothing


@dataclass(frozen=True, slots=True)
class RateLimit:
    burst: int = 15
    per_minute: float = 30.0

    @property
    def per_ms(self) -> float:
        return self.per_minute / 60_000

    @property
    def full_after_ms(self) -> int:
        return math.ceil(self.burst / self.per_ms)


class RateLimiter(Protocol):
    async def hit(self, key: SessionKey) -> Verdict: ...


class MemoryRateLimiter:
    """The same bucket in this process (embedded store, one process)."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self._buckets: dict[SessionKey, tuple[float, float, bool]] = {}  # tokens, at (ms), noticed

    async def hit(self, key: SessionKey) -> Verdict:
        now = self.clock() * 1000
        tokens, at, noticed = self._buckets.get(key, (float(self.limit.burst), now, False))
        tokens = min(self.limit.burst, tokens + (now - at) * self.limit.per_ms)
        if tokens >= 1:
            verdict, tokens, noticed = Verdict.ALLOW, tokens - 1, False
        else:
            verdict, noticed = (Verdict.DROP if noticed else Verdict.NOTICE), True
        if len(self._buckets) > 100_000:  # bound memory: forget the full (idle) buckets
            self._buckets = {k: v for k, v in self._buckets.items() if v[0] < self.limit.burst}
        self._buckets[key] = (tokens, now, noticed)
        return verdict


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

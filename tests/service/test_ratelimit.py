"""The per-user token bucket: burst, one notice, silence, refill; shared in Redis by every replica."""

from __future__ import annotations

import uuid

import pytest

from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import MemoryRateLimiter, RateLimit, Verdict
from bot.store.redis import RedisSessionStore
from bot.store.redis_ratelimit import RedisRateLimiter
from tests.fakes.clock import FakeClock
from tests.redis_support import PREFIX, delete_prefix


def key() -> SessionKey:
    return SessionKey("line", "-", uuid.uuid4().hex)


async def test_memory_bucket_allows_a_burst_then_notices_once_then_drops() -> None:
    clock = FakeClock(1000.0)
    limiter = MemoryRateLimiter(RateLimit(burst=3, per_minute=60), clock)
    user, other = key(), key()
    verdicts = [await limiter.hit(user) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTICE, Verdict.DROP, Verdict.DROP]
    assert await limiter.hit(other) is Verdict.ALLOW, "one user's flood does not block another"
    clock.now += 1.0  # one token back at 60/min
    assert await limiter.hit(user) is Verdict.ALLOW
    assert await limiter.hit(user) is Verdict.NOTICE, "a new flood gets a new notice"


@pytest.mark.redis
async def test_redis_bucket_is_shared_between_replicas(redis_url: str) -> None:
    keys = KeyBuilder(PREFIX)
    replica_a = RedisSessionStore.from_url(redis_url, 60, keys=keys)
    replica_b = RedisSessionStore.from_url(redis_url, 60, keys=keys)
    limit = RateLimit(burst=4, per_minute=0.001)
    a, b = RedisRateLimiter(replica_a.client, limit, keys), RedisRateLimiter(replica_b.client, limit, keys)
    user = key()
    try:
        verdicts = [await (a if i % 2 else b).hit(user) for i in range(7)]
        assert verdicts == [Verdict.ALLOW] * 4 + [Verdict.NOTICE, Verdict.DROP, Verdict.DROP]
        assert await a.hit(key()) is Verdict.ALLOW
        assert await replica_a.client.pttl(keys.rate(user)) > 0, "the bucket expires on its own"
        await replica_a.erase(user)
        assert await b.hit(user) is Verdict.DROP, "erase keeps the bucket: it is not a way to refill it"
    finally:
        await replica_a.close()
        await replica_b.close()
        await delete_prefix(redis_url)

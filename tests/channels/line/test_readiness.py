"""An evicting or full Redis is reported (issue 17, item 8): with `allkeys-lru` Redis silently deletes
sessions, dedupe sets and the reminder schedule; out of memory it refuses every write."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from bot.store.base import SharedRedis
from bot.store.health import redis_health
from bot.store.keys import KeyBuilder
from tests.channels.line.conftest import StartApp

pytestmark = pytest.mark.redis


async def test_an_evicting_policy_is_logged_at_start_and_fails_readiness(
    start_app: StartApp, redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    raw = aioredis.Redis.from_url(redis_url)
    found = await raw.config_get("maxmemory-policy")
    before = found.get("maxmemory-policy") or found.get(b"maxmemory-policy")
    try:
        await raw.config_set("maxmemory-policy", "allkeys-lru")
        caplog.set_level(logging.ERROR, logger="bot.store.health")
        async with start_app(redis_url) as run:
            assert "maxmemory-policy is allkeys-lru" in caplog.text
            strict = await run.client.get("/readyz")
            assert strict.status_code == 503 and strict.json()["store"] == "evicting"
            assert strict.json()["redis"]["maxmemory_policy"] == "allkeys-lru"
            assert (await run.client.get("/readyz?store=optional")).status_code == 200
        await raw.config_set("maxmemory-policy", "noeviction")
        async with start_app(redis_url) as run:
            healthy = await run.client.get("/readyz")
            assert healthy.status_code == 200 and healthy.json()["store"] == "ok"
    finally:
        await raw.config_set("maxmemory-policy", before)
        await raw.aclose()


class _FullRedis:
    """What a Redis at its maxmemory answers (filling the shared test server would refuse everyone's writes)."""

    async def config_get(self, name: str) -> dict[bytes, bytes]:
        return {b"maxmemory-policy": b"noeviction"}

    async def info(self, section: str) -> dict[str, int]:
        return {"maxmemory": 1_000_000, "used_memory": 1_000_512}


async def test_out_of_memory_is_seen() -> None:
    health = await redis_health(SharedRedis(_FullRedis(), KeyBuilder(), cluster=False))
    assert health.out_of_memory and not health.evicts

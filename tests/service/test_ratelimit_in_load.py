"""On Redis the turn's rate limit is taken by the session load itself: two round trips per turn, same verdicts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from bot.conversation import Conversation
from bot.core.dialogue.engine import Engine
from bot.core.messages import StartInput, TextInput
from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit, Verdict
from bot.store.redis import RedisSessionStore
from bot.store.redis_ratelimit import RedisRateLimiter
from tests.redis_support import PREFIX, delete_prefix


def count_commands(store: RedisSessionStore) -> list[str]:
    """The commands the store's client sends from now on (script calls count once)."""
    sent: list[str] = []
    client: Any = store.client
    original = client.execute_command

    async def counting(*args: Any, **options: Any) -> Any:
        sent.append(str(args[0]))
        return await original(*args, **options)

    client.execute_command = counting
    return sent


@pytest.mark.redis
async def test_two_round_trips_per_turn_and_the_same_verdicts(redis_url: str, engine: Engine) -> None:
    keys, limit = KeyBuilder(PREFIX), RateLimit(burst=3, per_minute=0.001)
    store = RedisSessionStore.from_url(redis_url, 60, keys=keys, rate_limit=limit)  # keeps the buckets
    limiter = RedisRateLimiter(store.client, limit, keys)
    conversation = Conversation(engine, store, limiter=limiter)
    user = SessionKey("line", "-", uuid.uuid4().hex)
    try:
        await conversation.turn(user, StartInput(), "start")
        sent = count_commands(store)
        first = await conversation.turn(user, TextInput("ランサーズ"), "e1")
        assert sent == ["EVALSHA", "EVALSHA"], "load (with the token) and save: no third round trip"
        for _ in range(3):  # redeliveries of e1 take no token
            assert (await conversation.turn(user, TextInput("ランサーズ"), "e1")).duplicate
        results = [await conversation.turn(user, TextInput("戻る"), f"e{i}") for i in range(2, 6)]
        assert not first.limited and [r.limited for r in results] == [False, True, True, True]
        assert results[1].replies and not results[2].replies, "one notice, then silence"
        bucket = int(await store.client.get(keys.rate(user)))
        assert bucket < 0 and await store.client.pttl(keys.rate(user)) > 0, "told once, and it expires"
    finally:
        await store.close()
        await delete_prefix(redis_url)


@pytest.mark.redis
async def test_a_store_without_the_buckets_leaves_the_token_to_the_limiter(redis_url: str, engine: Engine) -> None:
    store = RedisSessionStore.from_url(redis_url, 60, keys=KeyBuilder(PREFIX))  # no rate_limit: no buckets
    elsewhere = KeyBuilder(f"{PREFIX}-elsewhere")
    limiter = RedisRateLimiter(store.client, RateLimit(burst=1, per_minute=0.001), elsewhere)
    conversation = Conversation(engine, store, limiter=limiter)
    user = SessionKey("line", "-", uuid.uuid4().hex)
    try:
        await limiter.hit(SessionKey("line", "-", "warm-up"))  # its script is in Redis's cache (no SCRIPT LOAD)
        await store.load(SessionKey("line", "-", "warm-up"), "w")
        sent = count_commands(store)
        assert not (await conversation.turn(user, StartInput(), "a")).limited
        assert sent == ["EVALSHA", "EVALSHA", "EVALSHA"], "load, the limiter's own script, save"
        assert (await conversation.turn(user, TextInput("はい"), "b")).limited
        assert await store.client.exists(elsewhere.rate(user)), "the token came from the limiter's own bucket"
        assert (await store.load(user, "c", take_token=True)).verdict is None
    finally:
        await store.close()
        await delete_prefix(redis_url)
        await delete_prefix(redis_url, f"{PREFIX}-elsewhere")


async def test_the_memory_store_leaves_the_limit_to_the_limiter() -> None:
    from bot.store.memory import MemorySessionStore
    from bot.store.ratelimit import MemoryRateLimiter

    store = MemorySessionStore(60)
    limiter = MemoryRateLimiter(RateLimit(burst=1, per_minute=0.001))
    user = SessionKey("line", "-", "U1")
    assert (await store.load(user, "e1", take_token=True)).verdict is None
    assert await limiter.hit(user) is Verdict.ALLOW, "loading took no token"

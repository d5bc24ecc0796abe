"""Issue 11: 削除 means erase and does not refill the rate limit (5); one user's turns are all applied, in
arrival order (6): 200 concurrent turns on one process, 50 across two processes' conversations, real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.conversation import Conversation
from bot.core.dialogue.engine import Engine
from bot.core.messages import StartInput, TextInput
from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import RateLimit
from bot.store.redis import RedisSessionStore
from bot.store.redis_ratelimit import RedisRateLimiter
from tests.redis_support import PREFIX, delete_prefix

pytestmark = pytest.mark.redis


@pytest.fixture
async def stores(redis_url: str) -> AsyncIterator[tuple[RedisSessionStore, RedisSessionStore]]:
    """Two stores with their own clients on one Redis: two replicas."""
    keys = KeyBuilder(f"{PREFIX}-order-{uuid.uuid4().hex[:8]}")
    a = RedisSessionStore.from_url(redis_url, 3600, keys=keys)
    b = RedisSessionStore.from_url(redis_url, 3600, keys=keys)
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()
        await delete_prefix(redis_url, keys.prefix)


def _user() -> SessionKey:
    return SessionKey("line", "-", "U" + uuid.uuid4().hex)


async def test_erase_leaves_only_the_rate_bucket_and_does_not_refill_it(
    engine: Engine, stores: tuple[RedisSessionStore, RedisSessionStore]
) -> None:
    store = stores[0]
    limiter = RedisRateLimiter(store.client, RateLimit(burst=6, per_minute=0.001), store.keys)
    conversation = Conversation(engine, store, limiter=limiter)
    key = _user()
    await conversation.turn(key, StartInput(), "e0")
    await conversation.turn(key, TextInput("削除"), "e1")
    erased = await conversation.turn(key, TextInput("はい"), "e2")
    assert erased.session is None and not erased.limited
    left = [k async for k in store.client.scan_iter(match=f"{store.keys.prefix}:{store.keys.tag(key)}:*")]
    assert left == [store.keys.rate(key).encode()], "no session, no dedupe set naming the user"
    # a flood that keeps erasing: the bucket is not refilled by 削除→はい (it was: 60 of 60 answered)
    answered = 0
    for i in range(60):
        text = ("削除", "はい", "1")[i % 3]
        result = await conversation.turn(key, TextInput(text), f"f{i}")
        answered += not result.limited
    assert answered <= 6 - 3, answered  # three tokens were used above


async def test_erase_on_the_memory_store_keeps_nothing(engine: Engine) -> None:
    from bot.store.memory import MemorySessionStore

    store = MemorySessionStore(60)
    conversation = Conversation(engine, store)
    key = _user()
    for text, event in ((None, "a"), ("削除", "b"), ("はい", "c")):
        await conversation.turn(key, StartInput() if text is None else TextInput(text), event)
    assert (await store.load(key)).session is None
    assert not (await store.load(key, "c")).duplicate and not store._seen  # nothing, not even the last id


async def _numbered_turns(conversation: Conversation, key: SessionKey, count: int, tag: str) -> list[bool]:
    """`count` concurrent turns, started in order; returns whether each was applied."""

    async def one(i: int) -> bool:
        result = await conversation.turn(key, TextInput("ヘルプ"), f"{tag}{i:04d}")
        return result.trace is not None and not result.duplicate

    tasks = [asyncio.create_task(one(i)) for i in range(count)]
    return list(await asyncio.gather(*tasks))


async def test_two_hundred_concurrent_turns_of_one_user_all_apply_in_order(
    engine: Engine, stores: tuple[RedisSessionStore, RedisSessionStore]
) -> None:
    store = stores[0]
    applied_order: list[str] = []
    original_save = store.save

    async def save(*args: Any, **kwargs: Any) -> Any:
        outcome = await original_save(*args, **kwargs)
        event_id = args[3] if len(args) > 3 else kwargs.get("event_id")  # as `Conversation` passes it
        if outcome.value == "saved" and event_id is not None:
            applied_order.append(event_id)
        return outcome

    store.save = save  # type: ignore[method-assign]
    limiter = RedisRateLimiter(store.client, RateLimit(burst=1000, per_minute=60_000), store.keys)
    conversation = Conversation(engine, store, limiter=limiter)
    key = _user()
    await conversation.turn(key, StartInput())
    applied = await _numbered_turns(conversation, key, 200, "n")
    assert all(applied)
    assert (await store.load(key)).version == 201
    assert applied_order == [f"n{i:04d}" for i in range(200)], "in arrival order"
    assert len(conversation.queue) == 0, "no per-user lock is left behind"


async def test_fifty_concurrent_turns_across_two_replicas_all_apply(
    engine: Engine, stores: tuple[RedisSessionStore, RedisSessionStore]
) -> None:
    a, b = stores
    limit = RateLimit(burst=1000, per_minute=60_000)
    one = Conversation(engine, a, limiter=RedisRateLimiter(a.client, limit, a.keys))
    two = Conversation(engine, b, limiter=RedisRateLimiter(b.client, limit, b.keys))
    key = _user()
    await one.turn(key, StartInput())
    results = await asyncio.gather(_numbered_turns(one, key, 50, "a"), _numbered_turns(two, key, 50, "b"))
    assert all(results[0]) and all(results[1])
    assert (await a.load(key)).version == 101

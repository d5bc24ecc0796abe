"""Conversation turns over the real stores: exactly-once events, no lost update under concurrency, TTL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.conversation import Conversation, TurnStatus, UserMessage
from bot.core.dialogue.engine import Engine
from bot.core.messages import StartInput, Text, TextInput
from bot.core.session import SessionKey
from bot.store.base import SessionStore, StoreUnavailable
from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from tests.redis_support import PREFIX, delete_prefix

TTL = 3600.0


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[SessionStore]:
    if request.param == "memory":
        yield MemorySessionStore(TTL)
        return
    url = request.getfixturevalue("redis_url")
    redis_store = RedisSessionStore.from_url(url, TTL, keys=KeyBuilder(PREFIX))
    try:
        yield redis_store
    finally:
        await redis_store.close()
        await delete_prefix(url)


def user() -> SessionKey:
    return SessionKey("test", "-", uuid.uuid4().hex)


async def test_twenty_concurrent_turns_are_all_applied(engine: Engine, store: SessionStore) -> None:
    conversation = Conversation(engine, store)  # the production default of attempts
    key = user()
    await conversation.turn(key, StartInput())
    results = await asyncio.gather(*(conversation.turn(key, TextInput("1")) for _ in range(20)))
    assert all(not r.duplicate for r in results)
    loaded = await store.load(key)
    assert loaded.version == 21, "every one of the 20 turns saved exactly once, on top of the start"
    # the turns were applied one after another: the result is that of 20 sequential turns
    expected = engine.handle(None, StartInput(), 0).session
    for _ in range(20):
        expected = engine.handle(expected, TextInput("1"), 0).session
    assert loaded.session is not None and expected is not None
    got, want = loaded.session, expected
    assert (got.flow, got.state, got.answers, got.fields, got.queue) == (
        want.flow,
        want.state,
        want.answers,
        want.fields,
        want.queue,
    )


async def test_the_same_event_twice_is_processed_once(engine: Engine, store: SessionStore) -> None:
    conversation = Conversation(engine, store)
    key = user()
    await conversation.turn(key, StartInput(), event_id="start")
    first, second = await asyncio.gather(
        conversation.turn(key, TextInput("1"), event_id="evt-1"),
        conversation.turn(key, TextInput("1"), event_id="evt-1"),
    )
    assert sorted([first.duplicate, second.duplicate]) == [False, True]
    again = await conversation.turn(key, TextInput("1"), event_id="evt-1")
    assert again.duplicate and again.replies == ()
    assert (await store.load(key)).version == 2


async def test_erase_turn_removes_the_session(engine: Engine, store: SessionStore) -> None:
    conversation = Conversation(engine, store)
    key = user()
    await conversation.turn(key, TextInput("ランサーズ"))
    await conversation.turn(key, TextInput("削除"))
    result = await conversation.turn(key, TextInput("はい"))
    assert result.session is None
    assert (await store.load(key)).session is None


@pytest.mark.redis
async def test_ttl_is_set_and_refreshed_on_every_turn(engine: Engine, redis_url: str) -> None:
    store = RedisSessionStore.from_url(redis_url, TTL, keys=KeyBuilder(PREFIX))
    raw = aioredis.Redis.from_url(redis_url)
    try:
        conversation = Conversation(engine, store)
        key = user()
        await conversation.turn(key, StartInput())
        session_key = KeyBuilder(PREFIX).session(key)
        await raw.pexpire(session_key, 5000)  # pretend most of the TTL has passed
        await conversation.turn(key, TextInput("ヘルプ"))
        assert (await raw.pttl(session_key)) > (TTL - 10) * 1000
    finally:
        await raw.aclose()
        await store.close()
        await delete_prefix(redis_url)


@pytest.mark.parametrize(
    ("error", "status"), [(StoreUnavailable("down"), TurnStatus.BUSY), (KeyError("a bug"), TurnStatus.FAILED)]
)
async def test_a_turn_that_cannot_run_is_a_result_not_an_exception(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, error: Exception, status: TurnStatus
) -> None:
    """Every channel gets a finished result to deliver: the busy line, and nothing written."""
    store = MemorySessionStore(TTL)

    async def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(store, "load", broken)
    result = await Conversation(engine, store).handle(UserMessage(user(), TextInput("1"), "evt"))
    assert result.status is status and result.failed, "nothing was applied"
    assert result.replies == (Text(engine.library.lexicon.texts.busy),) and result.session is None

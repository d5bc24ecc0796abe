"""A busy user's dedupe set stays a compact listpack: it never holds more ids than its cap, even for a moment."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.core.session import Session, SessionKey
from bot.store.base import DEFAULT_DEDUPE_LIMIT, SaveOutcome
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore

SESSION = Session(flow="common", state="menu", updated=1)


async def test_a_full_dedupe_set_stays_a_listpack(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    for version in range(DEFAULT_DEDUPE_LIMIT + 72):
        event = f"01JDXE{version:020d}"  # webhook event ids are 26-character ULIDs
        assert await redis_store.save(user, SESSION, version, event) is SaveOutcome.SAVED
    assert await raw.zcard(keys.seen(user)) == DEFAULT_DEDUPE_LIMIT
    # Redis turns a sorted set into a skiplist once it has held over zset-max-listpack-entries (128) members,
    # and never back: adding before trimming made every busy user's set over three times bigger.
    assert await raw.object("encoding", keys.seen(user)) in (b"listpack", b"ziplist")  # Redis 7, Redis 6
    assert (await redis_store.load(user, f"01JDXE{DEFAULT_DEDUPE_LIMIT + 71:020d}")).duplicate


async def test_a_replay_of_an_id_the_cap_let_go_is_still_refused(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    """Issue 11, item 4: after 130 newer events, a word-for-word replay of an old one was applied again."""
    now = int(time.time() * 1000)
    events = [(f"01JDXF{i:020d}", now - 60_000 + i) for i in range(DEFAULT_DEDUPE_LIMIT + 72)]
    for version, (event, at) in enumerate(events):
        assert await redis_store.save(user, SESSION, version, event, at) is SaveOutcome.SAVED
    assert await raw.zcard(keys.seen(user)) <= DEFAULT_DEDUPE_LIMIT
    assert await raw.object("encoding", keys.seen(user)) in (b"listpack", b"ziplist")
    version = len(events)
    for event, at in (events[0], events[70], events[-1]):
        assert (await redis_store.load(user, event, event_at=at)).duplicate
        assert await redis_store.save(user, SESSION, version, event, at) is SaveOutcome.DUPLICATE
    fresh = await redis_store.save(user, SESSION, version, "01JDXG" + "0" * 20, now)
    assert fresh is SaveOutcome.SAVED, "a new event is still applied"


async def test_an_event_older_than_the_window_is_refused(redis_store: RedisSessionStore, user: SessionKey) -> None:
    old = int(time.time() * 1000) - 86_400_000 - 1000  # the default window is 24 h
    assert (await redis_store.load(user, "01JDXH" + "0" * 20, event_at=old)).duplicate
    assert await redis_store.save(user, SESSION, 0, "01JDXH" + "0" * 20, old) is SaveOutcome.DUPLICATE


async def test_ids_kept_before_digests_are_still_recognised(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    """Sets written by the release that kept ids in clear still refuse their events for one window."""
    now = int(time.time() * 1000)
    await raw.zadd(keys.seen(user), {"01JDXJ" + "0" * 20: now - 1000})
    assert (await redis_store.load(user, "01JDXJ" + "0" * 20)).duplicate
    assert await redis_store.save(user, SESSION, 0, "01JDXJ" + "0" * 20) is SaveOutcome.DUPLICATE


async def test_a_busy_users_dedupe_set_is_small(
    redis_store: RedisSessionStore, raw: Redis, keys: KeyBuilder, user: SessionKey
) -> None:
    """Issue 17, item 11: 5.3 KB per busy user (128 ids in clear) against a 0.7 KB session."""
    now = int(time.time() * 1000)
    for version in range(200):
        saved = await redis_store.save(user, SESSION, version, f"01JDXK{version:020d}", now - 200 + version)
        assert saved is SaveOutcome.SAVED
    assert await raw.memory_usage(keys.seen(user), samples=0) <= 600

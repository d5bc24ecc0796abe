"""A busy user's dedupe set stays a compact listpack: it never holds more ids than its cap, even for a moment."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.core.session import Session, SessionKey
from bot.store.base import SaveOutcome
from bot.store.keys import KeyBuilder
from bot.store.memory import DEFAULT_DEDUPE_LIMIT
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
    assert not (await redis_store.load(user, f"01JDXE{71:020d}")).duplicate, "the oldest ids went first"

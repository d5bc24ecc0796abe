"""MemorySessionStore: the time-dependent semantics, driven by a fake clock.

The contract it shares with Redis (versions, conflicts, dedupe, erase, concurrency) is tested against
both backends in test_redis.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.session import Session, SessionKey
from bot.store.base import SaveOutcome
from bot.store.memory import MemorySessionStore
from tests.fakes.clock import FakeClock

SESSION = Session("lancers", "ask_reason")
OTHER = SessionKey("line", "-", "Uother")


async def test_ttl_expires_a_session(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(60, clock)
    assert await store.save(user, SESSION, 0) is SaveOutcome.SAVED
    clock.advance(59.9)
    assert (await store.load(user)).session == SESSION
    clock.advance(0.1)
    loaded = await store.load(user)
    assert loaded.session is None and loaded.version == 0


async def test_save_refreshes_the_ttl(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(60, clock)
    await store.save(user, SESSION, 0)
    clock.advance(50)
    assert await store.save(user, SESSION, 1) is SaveOutcome.SAVED
    clock.advance(50)  # 100 s after the first save, 50 s after the second
    assert (await store.load(user)).version == 2
    clock.advance(10)
    assert (await store.load(user)).session is None


async def test_expired_session_starts_again_at_version_zero(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(60, clock)
    await store.save(user, SESSION, 0)
    clock.advance(61)
    assert await store.save(user, SESSION, 1) is SaveOutcome.CONFLICT
    assert await store.save(user, SESSION, 0) is SaveOutcome.SAVED


async def test_dedupe_window(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(10**6, clock, dedupe_seconds=100)
    await store.save(user, SESSION, 0, event_id="e1")
    clock.advance(99)
    assert (await store.load(user, "e1")).duplicate
    assert await store.save(user, SESSION, 1, event_id="e1") is SaveOutcome.DUPLICATE
    clock.advance(1)  # the window has passed: the id may be processed again
    assert not (await store.load(user, "e1")).duplicate
    assert await store.save(user, SESSION, 1, event_id="e1") is SaveOutcome.SAVED


async def test_dedupe_keeps_the_newest_ids_and_refuses_what_it_let_go(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(3600, clock, dedupe_limit=4)  # 2 ids + the new one + the floor, as in Redis
    times = {}
    for version, event in enumerate(["e1", "e2", "e3", "e4"]):
        clock.advance(1)
        times[event] = int(clock() * 1000)
        assert await store.save(user, SESSION, version, event, times[event]) is SaveOutcome.SAVED
    assert all([(await store.load(user, e, event_at=times[e])).duplicate for e in ("e2", "e3", "e4")])
    # e1 was let go by the cap; a replay of it (same event time) is still refused: the floor
    assert (await store.load(user, "e1", event_at=times["e1"])).duplicate
    # an id without a platform time counts from now, after the floor: only the id set can tell
    assert not (await store.load(user, "e1")).duplicate


async def test_an_event_older_than_the_window_is_refused(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(3600, clock, dedupe_seconds=60)
    old = int((clock() - 61) * 1000)
    assert (await store.load(user, "never-seen", event_at=old)).duplicate
    assert await store.save(user, SESSION, 0, "never-seen", old) is SaveOutcome.DUPLICATE


async def test_dedupe_is_per_user(clock: FakeClock, user: SessionKey) -> None:
    store = MemorySessionStore(3600, clock)
    await store.save(user, SESSION, 0, event_id="e1")
    assert not (await store.load(OTHER, "e1")).duplicate
    assert await store.save(OTHER, SESSION, 0, event_id="e1") is SaveOutcome.SAVED


async def test_sweep_drops_expired_entries(clock: FakeClock) -> None:
    store = MemorySessionStore(10, clock, dedupe_seconds=10)
    for i in range(1024):
        await store.save(SessionKey("line", "-", f"U{i}"), SESSION, 0, event_id="e")
    assert len(store._sessions) == 1024
    clock.advance(11)
    for i in range(1024):  # the 1024 saves after expiry trigger a sweep
        await store.save(SessionKey("cli", "-", f"U{i}"), SESSION, 0)
    assert all(key.channel == "cli" for key in store._sessions)
    assert not store._seen


async def test_stored_session_is_a_copy(user: SessionKey) -> None:
    store = MemorySessionStore(60)
    fields = {"client_name": "山田"}
    await store.save(user, Session("lancers", "s", fields=fields), 0)
    fields["client_name"] = "changed"
    assert (await store.load(user)).session == Session("lancers", "s", fields={"client_name": "山田"})


async def test_ping_and_close() -> None:
    store = MemorySessionStore(60)
    assert await store.ping()
    await store.close()


@pytest.mark.parametrize("kwargs", [{"ttl_seconds": 0}, {"ttl_seconds": 1, "dedupe_seconds": 0}])
def test_rejects_non_positive_settings(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        MemorySessionStore(**kwargs)

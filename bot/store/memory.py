"""The embedded session store, used when no REDIS_URL is set (terminal chat, tests, a single process).

It keeps the Redis store's semantics so that code tested against it behaves the same in production:
optimistic versions, a TTL refreshed by every save, per-user event-id dedupe for a window (newest
`dedupe_limit` ids kept, and a floor refusing anything not newer than the ids let go), and erase.
Sessions are kept encoded (`codec`), as in Redis: a session that cannot be serialised fails here too,
and no caller can mutate a stored session through a shared dict.

Async safety: no method awaits anything, so each runs to completion without interleaving with another
task of the same event loop; a load→save race still shows up as a CONFLICT, exactly as with Redis.
Not thread-safe, and not shared between processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import DEFAULT_DEDUPE_SECONDS
from bot.core.session import Session, SessionKey
from bot.store import codec
from bot.store.base import DEFAULT_DEDUPE_LIMIT, Loaded, SaveOutcome, SharedRedis

_SWEEP_EVERY = 1024  # saves between two sweeps of expired entries: bounds memory, amortises the cost


@dataclass(slots=True)
class _Entry:
    version: int
    body: bytes
    expires: float


@dataclass(slots=True)
class _Seen:
    ids: dict[str, float] = field(default_factory=dict)  # event id -> event time (s)
    floor: float = 0.0  # the newest time of an id evicted by the cap: nothing at or before it is new

    def contains(self, event_id: str, at: float, since: float, timed: bool) -> bool:
        if timed and (at <= since or at <= self.floor):
            return True
        seen_at = self.ids.get(event_id)
        return seen_at is not None and seen_at > since

    def add(self, event_id: str, at: float, since: float, limit: int) -> None:
        self.ids.pop(event_id, None)
        for old in [eid for eid, seen_at in self.ids.items() if seen_at <= since]:
            del self.ids[old]
        room = max(limit - 2, 0)  # the same cap as Redis, where the floor takes a member too
        if len(self.ids) > room:
            ordered = sorted(self.ids.items(), key=lambda item: item[1])
            for eid, seen_at in ordered[: len(self.ids) - room]:
                del self.ids[eid]
                self.floor = max(self.floor, seen_at)
        self.ids[event_id] = at


def _event_time(event_at: int | None, now: float) -> float:
    """The event's own time in seconds (its platform timestamp in ms), or now when unknown or in the future."""
    if event_at is None or event_at <= 0:
        return now
    return min(event_at / 1000, now)


class MemorySessionStore:
    """A `SessionStore` in this process's memory. `clock` returns unix seconds (inject a fake in tests)."""

    def __init__(
        self,
        ttl_seconds: float,
        clock: Callable[[], float] = time.time,
        *,
        dedupe_seconds: float = DEFAULT_DEDUPE_SECONDS,
        dedupe_limit: int = DEFAULT_DEDUPE_LIMIT,
    ) -> None:
        if ttl_seconds <= 0 or dedupe_seconds <= 0 or dedupe_limit <= 0:
            raise ValueError("ttl_seconds, dedupe_seconds and dedupe_limit must be positive")
        self._ttl = ttl_seconds
        self._clock = clock
        self._dedupe_seconds = dedupe_seconds
        self._dedupe_limit = dedupe_limit
        self._sessions: dict[SessionKey, _Entry] = {}
        self._seen: dict[SessionKey, _Seen] = {}
        self._saves = 0

    async def load(
        self,
        key: SessionKey,
        event_id: str | None = None,
        event_at: int | None = None,
        *,
        take_token: bool = False,
        ticket: int = 0,
    ) -> Loaded:
        """The stored session (None when absent or expired) and whether `event_id` was processed.

        No rate buckets live here: `take_token` is ignored (the conversation asks its limiter); one process
        needs no tickets (the conversation's per-user queue keeps the order)."""
        now = self._clock()
        duplicate = event_id is not None and self._is_duplicate(key, event_id, event_at, now)
        entry = self._live(key, now)
        if entry is None:
            return Loaded(None, 0, duplicate)
        return Loaded(codec.decode(entry.body), entry.version, duplicate)

    async def save(
        self,
        key: SessionKey,
        session: Session | None,
        version: int,
        event_id: str | None = None,
        event_at: int | None = None,
        ticket: int = 0,
    ) -> SaveOutcome:
        """Write `session` with a fresh TTL if the stored version is still `version` (see `SessionStore`)."""
        now = self._clock()
        at = _event_time(event_at, now)
        if event_id is not None and self._is_duplicate(key, event_id, event_at, now):
            return SaveOutcome.DUPLICATE
        entry = self._live(key, now)
        if (entry.version if entry else 0) != version:
            return SaveOutcome.CONFLICT
        if session is None:  # 削除: nothing of the user is kept, not even this event's id
            self._sessions.pop(key, None)
            self._seen.pop(key, None)
            self._count_save(now)
            return SaveOutcome.SAVED
        self._sessions[key] = _Entry(version + 1, codec.encode(session), now + self._ttl)
        if event_id is not None:
            seen = self._seen.setdefault(key, _Seen())
            seen.add(event_id, at, now - self._dedupe_seconds, self._dedupe_limit)
        self._count_save(now)
        return SaveOutcome.SAVED

    async def release(self, key: SessionKey, ticket: int) -> None:
        """No tickets in one process."""

    async def erase(self, key: SessionKey) -> None:
        self._sessions.pop(key, None)
        self._seen.pop(key, None)

    async def erase_workspace(self, channel: str, workspace: str) -> int:
        users = {k for k in (*self._sessions, *self._seen) if (k.channel, k.workspace) == (channel, workspace)}
        for key in users:
            await self.erase(key)
        return len(users)

    def shared_redis(self) -> SharedRedis | None:
        return None  # one process: rate buckets in memory, no reminder queue, Slack installations in memory

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        """Nothing to release; the data stays readable (an embedded store has no connection)."""

    def _live(self, key: SessionKey, now: float) -> _Entry | None:
        entry = self._sessions.get(key)
        if entry is not None and entry.expires <= now:
            del self._sessions[key]
            return None
        return entry

    def _is_duplicate(self, key: SessionKey, event_id: str, event_at: int | None, now: float) -> bool:
        since = now - self._dedupe_seconds
        at, timed = _event_time(event_at, now), event_at is not None and event_at > 0
        if timed and at <= since:
            return True
        seen = self._seen.get(key)
        return seen is not None and seen.contains(event_id, at, since, timed)

    def _count_save(self, now: float) -> None:
        self._saves += 1
        if self._saves % _SWEEP_EVERY:
            return
        for key in [k for k, entry in self._sessions.items() if entry.expires <= now]:
            del self._sessions[key]
        since = now - self._dedupe_seconds
        for key in [k for k, seen in self._seen.items() if all(at <= since for at in seen.ids.values())]:
            del self._seen[key]

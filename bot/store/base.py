"""The session-store contract shared by every backend (one interface, like aiogram's `BaseStorage`).

Concurrency is optimistic: `load` returns the stored version, `save` writes only if the version is
still the same (checked atomically in the backend) and otherwise reports a conflict, so the caller
re-runs the turn on fresh data. No update is lost, and no lock can be left behind by a crashed replica.
Exactly-once turns use the same atomic step: `save` also records the event id, and reports a duplicate
when it was seen before.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from bot.core.session import Session, SessionKey
from bot.store.keys import KeyBuilder
from bot.store.ratelimit import Verdict

# Ids kept per user (the floor included). Fewer is safe: the floor refuses a replay of any id let go (every
# channel gives the event's time); what a smaller cap costs is that an event arriving more than this many
# events late is refused too, which a person's chat never does (docs/benchmark.md: 16 keeps a busy user's
# set at ~0.5 KiB, 128 took 5 KiB).
DEFAULT_DEDUPE_LIMIT = 16


@dataclass(frozen=True, slots=True)
class Loaded:
    session: Session | None  # None: nothing stored (new user, expired, or unreadable data)
    version: int  # 0 when nothing is stored; pass it back to `save`
    duplicate: bool = False  # the event id given to `load` was already processed
    verdict: Verdict | None = None  # the rate limit, when `load` took the user's token (`take_token`)
    ticket: int = 0  # this turn's place in the user's order (0: none); give it back to `save` or `release`
    ready: bool = True  # no earlier turn of this user is still running: run now (else wait and load again)


@dataclass(frozen=True, slots=True)
class SharedRedis:
    """The Redis a store keeps the sessions in, for what lives beside them (the rate buckets, the reminder
    queue, Slack installations): the same client and pool, so every URL form (Sentinel, Cluster, TLS) and
    the store's timeouts and retries apply to them too, in the store's key namespace."""

    client: Any  # redis.asyncio.Redis or RedisCluster (typed loosely: the two share no base class)
    keys: KeyBuilder
    cluster: bool  # a Redis Cluster: no multi-slot commands, and no job queue (saq)


class StoreUnavailable(RuntimeError):
    """The backend did not answer (down, timed out, failing over). Nothing was half-written: retry later."""


class SaveOutcome(StrEnum):
    SAVED = "saved"
    CONFLICT = "conflict"  # someone saved in between: reload and run the turn again
    DUPLICATE = "duplicate"  # the event id was processed by someone else in between: drop the turn


class SessionStore(Protocol):
    async def load(
        self,
        key: SessionKey,
        event_id: str | None = None,
        event_at: int | None = None,
        *,
        take_token: bool = False,
        ticket: int = 0,
    ) -> Loaded:
        """Read the session and, when `event_id` is given, whether that event was already processed.

        Order: with `event_id`, a store shared by replicas gives the turn a ticket (`Loaded.ticket`, arrival
        order) and says whether its turn has come (`Loaded.ready`); while it has not, the caller waits and
        loads again with its `ticket`, and ends the turn by `save` or `release` with it. A store of one
        process leaves the order to the caller (`ticket` stays 0).

        `event_at` is the event's own time (unix ms) when the platform gives one: an event older than the
        dedupe window, or than the newest id the dedupe set had to forget, counts as processed (a replay).

        `take_token`: when this store keeps the rate-limit buckets (a Redis store built with a `rate_limit`),
        a load of an event that is not a duplicate also takes the user's token, in the same atomic step, and
        reports it in `Loaded.verdict`. Otherwise `verdict` is None and the caller asks its limiter.
        """
        ...

    async def save(
        self,
        key: SessionKey,
        session: Session | None,
        version: int,
        event_id: str | None = None,
        event_at: int | None = None,
        ticket: int = 0,
    ) -> SaveOutcome:
        """Write `session` (refreshing its TTL) if the stored version is still `version`; SAVED and DUPLICATE
        give `ticket` back (a CONFLICT keeps it for the retry).

        `event_id`, when given, is marked as processed (at `event_at`) in the same atomic step.
        `session=None` (削除) erases the session and the dedupe set instead and records nothing, so no key
        naming the user is left but the rate-limit bucket (kept until it refills: erasing must not reset it).
        """
        ...

    async def release(self, key: SessionKey, ticket: int) -> None:
        """Give back the ticket of a turn that ends without a save (limited, failed), so later turns run."""
        ...

    async def erase(self, key: SessionKey) -> None:
        """Delete the user's session and dedupe set, unconditionally (unfollow); the rate bucket expires alone."""
        ...

    async def erase_workspace(self, channel: str, workspace: str) -> int:
        """Delete every key of every user of one workspace (Slack uninstall); returns how many users."""
        ...

    async def ping(self) -> bool:
        """True when the backend answers (readiness)."""
        ...

    def shared_redis(self) -> SharedRedis | None:
        """The Redis this store is on, for the features that share it; None when it keeps memory only."""
        ...

    async def close(self) -> None: ...

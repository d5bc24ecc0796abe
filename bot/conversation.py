"""One conversation turn for any channel: rate limit, load the session, run the engine, save atomically.

This is the only place that joins the pure engine to a store, so every channel gets the same
guarantees without code of its own:
- inside one process, one user's turns run one at a time, in the order they arrived (a FIFO lock per user,
  forgotten when idle): a burst of N messages is applied in order, for any N, without retries;
- across replicas, one user's turns run in the order they reached the store: each takes a ticket in its
  load and waits (polling) until the turns before it have ended, and a concurrent save still makes `save`
  report a conflict (the atomic version check) so the turn runs again on the fresh session: no answer is
  lost, and a ticket held by a replica that died stops holding up the next turn after a few seconds;
- a redelivered event (same event id) is dropped atomically with the save: never two replies;
- when the store is down, the user gets a short "busy" reply and nothing is half-written;
- a user flooding messages gets one notice, then nothing until the rate limit lets them through;
- observers (metrics, the turn log) see every turn, with no message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core.dialogue.engine import Engine
from bot.core.messages import CancelReminders, Effect, Inbound, Reply, Text, TurnTrace
from bot.core.session import Session, SessionKey
from bot.store.base import SaveOutcome, SessionStore, StoreUnavailable
from bot.store.ratelimit import RateLimiter, Verdict
from bot.telemetry.context import new_turn_id, turn_id

log = logging.getLogger(__name__)

ORDER_POLL = 0.005  # seconds between two looks at whether an earlier turn of the user has ended


class TurnConflict(RuntimeError):
    """The session kept changing under this turn; the user's message was not applied."""


class Scheduler(Protocol):
    """Carries out a saved turn's effects (the reminder queue)."""

    async def apply(self, key: SessionKey, effects: Sequence[Effect]) -> None: ...

    async def forget(self, key: SessionKey) -> None:
        """削除: drop what is queued for the user besides reminders (replies kept to send later)."""
        ...


class TurnObserver(Protocol):
    def turn_done(self, key: SessionKey, trace: TurnTrace, seconds: float) -> None: ...

    def duplicate(self, key: SessionKey) -> None: ...

    def limited(self, key: SessionKey, verdict: str) -> None: ...

    def store_failed(self, key: SessionKey, operation: str) -> None: ...


class SessionObserver(Protocol):
    """Sees what each saved turn left in the store (the console's counts of where users are): before and
    after (None: erased). `forget` is a user erased outside a turn (LINE unfollow)."""

    def session_saved(self, key: SessionKey, before: Session | None, after: Session | None) -> None: ...

    def forget(self, key: SessionKey) -> None: ...


@dataclass(frozen=True, slots=True)
class UserMessage:
    """One message from a user, as every channel hands it in (Rasa's `UserMessage`): who, what, and the
    platform's own event id and time (unix ms) when it sends them, for exactly-once and replay checks."""

    key: SessionKey
    inbound: Inbound
    event_id: str | None = None
    event_at: int | None = None


class TurnStatus(StrEnum):
    """What became of a message, decided once in `Conversation.handle`."""

    ANSWERED = "answered"  # the engine ran and the session was saved: send `replies`
    DUPLICATE = "duplicate"  # the event was processed before: send nothing
    LIMITED = "limited"  # over the rate limit: `replies` is one notice, or nothing
    BUSY = "busy"  # the store was unavailable: `replies` is the "busy" line; nothing was written
    FAILED = "failed"  # the turn raised (a bug, endless conflicts): the "busy" line rather than silence


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What a turn gave, finished: channels hand it to `bot.channels.delivery.deliver`, which reads it once."""

    status: TurnStatus
    replies: tuple[Reply, ...] = ()
    trace: TurnTrace | None = None  # None when the engine did not run (duplicate, limited, busy, failed)
    session: Session | None = None
    effects: tuple[Effect, ...] = ()  # reminders scheduled or cancelled by this turn (already applied)

    @property
    def duplicate(self) -> bool:
        return self.status is TurnStatus.DUPLICATE

    @property
    def limited(self) -> bool:
        return self.status is TurnStatus.LIMITED

    @property
    def failed(self) -> bool:
        """Nothing was applied because something failed (the store, or the turn itself)."""
        return self.status in (TurnStatus.BUSY, TurnStatus.FAILED)


class UserQueue:
    """One FIFO lock per user, held for a whole turn. asyncio's Lock wakes its waiters in arrival order, and
    a turn takes it before its first await, so turns run in the order their tasks started. An entry lives only
    while a turn of that user is running or waiting: memory stays proportional to the users in flight."""

    def __init__(self) -> None:
        self._locks: dict[SessionKey, tuple[asyncio.Lock, list[int]]] = {}

    @asynccontextmanager
    async def turn_of(self, key: SessionKey) -> AsyncIterator[None]:
        lock, holders = self._locks.get(key) or self._locks.setdefault(key, (asyncio.Lock(), [0]))
        holders[0] += 1
        try:
            async with lock:
                yield
        finally:
            holders[0] -= 1
            if not holders[0]:
                del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class Conversation:
    def __init__(
        self,
        engine: Engine,
        store: SessionStore,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 16,  # a person sends a few messages at once; 20 concurrent turns still all apply
        limiter: RateLimiter | None = None,
        observers: Sequence[TurnObserver] = (),
        scheduler: Scheduler | None = None,
        sessions: Sequence[SessionObserver] = (),
    ) -> None:
        self.engine = engine
        self.scheduler = scheduler
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts
        self.limiter = limiter
        self.observers = tuple(observers)
        self.sessions = tuple(sessions)
        self.queue = UserQueue()

    async def turn(
        self, key: SessionKey, inbound: Inbound, event_id: str | None = None, event_at: int | None = None
    ) -> TurnResult:
        """`handle(UserMessage(...))`, for callers that have the parts (the terminal, tests)."""
        return await self.handle(UserMessage(key, inbound, event_id, event_at))

    async def handle(self, message: UserMessage) -> TurnResult:
        """Apply one user message exactly once (per `event_id`) and return what to send back; never raises.

        Events older than the dedupe window are refused as replays. Turns of one user wait for each other
        (arrival order). A new turn id is set in the caller's context and left there, so the channel's own
        log lines about delivering this turn carry it too (each task and request has its own context).
        """
        turn_id.set(new_turn_id())
        started = time.perf_counter()
        key = message.key
        try:
            async with self.queue.turn_of(key):
                return await self._turn(key, message.inbound, message.event_id, message.event_at, started)
        except StoreUnavailable:
            for observer in self.observers:
                observer.store_failed(key, "turn")
            return TurnResult(TurnStatus.BUSY, (Text(self.engine.library.lexicon.texts.busy),))
        except Exception:  # endless conflicts, a bug: tell the user rather than go silent
            log.exception("turn failed")
            return TurnResult(TurnStatus.FAILED, (Text(self.engine.library.lexicon.texts.busy),))

    async def _turn(
        self, key: SessionKey, inbound: Inbound, event_id: str | None, event_at: int | None, started: float
    ) -> TurnResult:
        ticket = 0  # this turn's place in the user's order across replicas, until a save or release ends it
        try:
            limit_checked = self.limiter is None
            for attempt in range(self.max_attempts):
                # the first load takes the user's token too when the store keeps the buckets (Redis built with a
                # rate limit): one round trip fewer per turn
                loaded = await self.store.load(key, event_id, event_at, take_token=not limit_checked, ticket=ticket)
                ticket = loaded.ticket
                if loaded.duplicate:  # before the rate limit: a redelivery must not use up the user's allowance
                    ticket = 0  # given back by the load
                    return self._duplicate(key)
                if not limit_checked and self.limiter is not None:
                    limit_checked = True
                    verdict = loaded.verdict or await self.limiter.hit(key)
                    if verdict is not Verdict.ALLOW:
                        for observer in self.observers:
                            observer.limited(key, verdict.value)
                        words = self.engine.library.lexicon.texts
                        notice = (Text(words.rate_limited),) if verdict is Verdict.NOTICE else ()
                        return TurnResult(TurnStatus.LIMITED, notice)
                while not loaded.ready:  # an earlier turn of this user runs on another replica: after it
                    await asyncio.sleep(ORDER_POLL)
                    loaded = await self.store.load(key, event_id, event_at, ticket=ticket)
                    if loaded.duplicate:
                        ticket = 0
                        return self._duplicate(key)
                turn = self.engine.handle(loaded.session, inbound, int(self.clock()))
                outcome = await self.store.save(key, turn.session, loaded.version, event_id, event_at, ticket)
                if outcome is SaveOutcome.SAVED:
                    ticket = 0
                    await self._apply(key, turn.effects, erased=turn.session is None)
                    seconds = time.perf_counter() - started
                    for observer in self.observers:
                        observer.turn_done(key, turn.trace, seconds)
                    for watcher in self.sessions:
                        watcher.session_saved(key, loaded.session, turn.session)
                    return TurnResult(TurnStatus.ANSWERED, turn.replies, turn.trace, turn.session, turn.effects)
                if outcome is SaveOutcome.DUPLICATE:
                    ticket = 0
                    return self._duplicate(key)
                # jittered, growing back-off so turns racing for the same user spread out instead of colliding again
                await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            raise TurnConflict(f"gave up after {self.max_attempts} conflicting saves")
        finally:
            if ticket:  # limited, failed, cancelled: the user's next turn must not wait for this one
                with contextlib.suppress(Exception):
                    await self.store.release(key, ticket)

    async def _apply(self, key: SessionKey, effects: Sequence[Effect], erased: bool = False) -> None:
        """Schedule or cancel reminders after the save (and after 削除, forget the user's queued replies). A
        queue failure never fails the user's turn: a reminder not scheduled is simply not sent, one not
        cancelled is dropped when it falls due (no session), as is a kept reply."""
        if self.scheduler is None or not (effects or erased):
            return
        try:
            if effects:
                await self.scheduler.apply(key, effects)
            if erased:
                await self.scheduler.forget(key)
        except Exception:
            log.warning("reminder effects not applied", exc_info=True)

    def _duplicate(self, key: SessionKey) -> TurnResult:
        for observer in self.observers:
            observer.duplicate(key)
        return TurnResult(TurnStatus.DUPLICATE)

    async def session(self, key: SessionKey) -> Session | None:
        """The stored session, for read-only views (Slack Home tab); None when absent or unreachable."""
        try:
            return (await self.store.load(key)).session
        except StoreUnavailable:
            for observer in self.observers:
                observer.store_failed(key, "peek")
            return None

    async def erase(self, key: SessionKey) -> None:
        """Forget the user (LINE unfollow), after their turns already queued; raises StoreUnavailable if the
        store is down."""
        async with self.queue.turn_of(key):
            stored = (await self.store.load(key)).session if self.scheduler is not None else None
            await self.store.erase(key)
            reminders = stored.reminders if stored is not None else ()
            await self._apply(key, (CancelReminders(tuple(r.id for r in reminders)),) if reminders else (), erased=True)
        for watcher in self.sessions:
            watcher.forget(key)

    async def erase_workspace(self, channel: str, workspace: str) -> int:
        """Forget every user of a workspace (Slack uninstall); returns how many. Raises StoreUnavailable.
        Their reminders are not cancelled one by one: each is dropped when it falls due (no session)."""
        return await self.store.erase_workspace(channel, workspace)

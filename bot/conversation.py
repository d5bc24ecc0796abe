"""One conversation turn for any channel: load the session, run the engine, save atomically.

This is the only place that joins the pure engine to a store. A concurrent save by another replica
(or another message of the same user) makes `save` report a conflict; the turn is then run again on
the fresh session, so no answer is ever lost and no lock can be left behind.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.engine import Engine
from bot.core.messages import Inbound, Reply, TurnTrace
from bot.core.session import Session, SessionKey
from bot.store.base import SaveOutcome, SessionStore


class TurnConflict(RuntimeError):
    """The session kept changing under this turn; the user's message was not applied."""


@dataclass(frozen=True, slots=True)
class TurnResult:
    replies: tuple[Reply, ...]
    trace: TurnTrace | None  # None for a duplicate event
    session: Session | None = None
    duplicate: bool = False  # the event was already processed: send nothing


class Conversation:
    def __init__(
        self,
        engine: Engine,
        store: SessionStore,
        clock: Callable[[], float] = time.time,
        max_attempts: int = 8,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.max_attempts = max_attempts

    async def turn(self, key: SessionKey, inbound: Inbound, event_id: str | None = None) -> TurnResult:
        """Apply one user input exactly once (per `event_id`) and return what to send back."""
        for attempt in range(self.max_attempts):
            loaded = await self.store.load(key, event_id)
            if loaded.duplicate:
                return TurnResult((), None, duplicate=True)
            turn = self.engine.handle(loaded.session, inbound, int(self.clock()))
            outcome = await self.store.save(key, turn.session, loaded.version, event_id)
            if outcome is SaveOutcome.SAVED:
                return TurnResult(turn.replies, turn.trace, turn.session)
            if outcome is SaveOutcome.DUPLICATE:
                return TurnResult((), None, duplicate=True)
            # jittered back-off so two replicas retrying the same user do not collide again
            await asyncio.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise TurnConflict(f"gave up after {self.max_attempts} conflicting saves")

    async def session(self, key: SessionKey) -> Session | None:
        return (await self.store.load(key)).session

    async def erase(self, key: SessionKey) -> None:
        await self.store.erase(key)

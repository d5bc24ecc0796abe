"""Counts for the operators' console (/admin): where users are, where they struggle, what is left pending,
what became of reminders — counts only, never a message or a user id.

Kept cheaply, beside the turns rather than by scanning sessions: each turn's observer call only notes the
user (a keyed digest) and the session in memory; every few seconds `flush` writes what changed in one
pipeline. A user belongs to a few *groups*: ``at:<flow>:<state>`` (where they are) and
``open:<flow>:<rule>`` (each checklist line still 要対応 or 待ち). Each group is a sorted set of digests scored
by the time of the user's last turn, so a count is one ZCOUNT over "active within the session TTL" —
O(log n) whatever the number of sessions — and users whose sessions expired drop out by themselves
(and are pruned now and then). Day counters (entries, struggles, reminders, turns) are one hash per day.

One user's turns are counted by the replica that ran them; two replicas running one user's turns within
one flush interval may count that user in two places until their next turn (the console is a guide, the
session is the truth). On Redis Cluster the console is off (its groups span slots).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.dialogue.checklist import open_rules
from bot.core.library.model import Library
from bot.core.messages import TurnTrace
from bot.core.session import Session, SessionKey
from bot.telemetry.context import user_hash

log = logging.getLogger(__name__)

FLUSH_SECONDS = 5.0
KEEP_DAYS = 90  # day counters older than this expire
PRUNE_SECONDS = 600.0  # how often groups drop members whose last turn is older than the active window
STRUGGLES = ("asked_back", "reask", "unsure", "faq", "faq_unknown")
REMINDERS = ("scheduled", "delivered", "postponed", "failed", "dropped", "cancelled", "over_limit")
LATER = ("kept", "delivered", "retried", "lost", "dropped")


def day_of(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.UTC).date().isoformat()


@dataclass(slots=True)
class Batch:
    """What changed since the last flush: per user, the groups left and the groups joined (with the time
    of their last turn); per day, counter increments; users who erased everything."""

    moves: dict[str, tuple[frozenset[str], frozenset[str], float]] = field(default_factory=dict)
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    forgotten: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.moves or self.counts or self.forgotten)


class UsageBackend(Protocol):
    async def apply(self, batch: Batch, all_groups: Iterable[str]) -> None: ...

    async def counts(self, groups: list[str], active_since: float) -> dict[str, int]: ...

    async def days(self, days: list[str]) -> dict[str, dict[str, int]]: ...

    async def prune(self, groups: list[str], active_since: float) -> None: ...


class Usage:
    """The turn, session and reminder observer that feeds the console, and the console's report."""

    def __init__(
        self,
        library: Library,
        backend: UsageBackend,
        active_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.library, self.backend, self.active_seconds, self.clock = library, backend, active_seconds, clock
        self.places = [f"at:{flow.name}:{state}" for flow in library.flows.values() for state in flow.states]
        self.kinds = [
            f"open:{flow.name}:{rule.items or rule.key}" for flow in library.flows.values() for rule in flow.checklist
        ]
        self._batch = Batch()
        self._first: dict[str, Session | None] = {}  # per user: the session before the window's first turn
        self._last: dict[str, tuple[Session | None, float]] = {}
        self._pruned = 0.0

    # --- observers (called in the turn: memory only) -------------------------------------------------

    def turn_done(self, key: SessionKey, trace: TurnTrace, seconds: float) -> None:
        counts = self._today()
        counts[f"turns|{key.channel}"] += 1
        for where in trace.entered:
            counts[f"entered|{where}"] += 1
        if trace.outcome.struggled and trace.state_before:
            counts[f"struggle|{trace.state_before}|{trace.outcome.value}"] += 1

    def duplicate(self, key: SessionKey) -> None:
        return None

    def limited(self, key: SessionKey, verdict: str) -> None:
        return None

    def store_failed(self, key: SessionKey, operation: str) -> None:
        return None

    def session_saved(self, key: SessionKey, before: Session | None, after: Session | None) -> None:
        """Only references are kept: the groups are worked out at the flush, off the turn's path."""
        user = self._digest(key)
        if user not in self._first:
            self._first[user] = before
        self._last[user] = (after, self.clock())

    def forget(self, key: SessionKey) -> None:
        user = self._digest(key)
        self._first.pop(user, None)
        self._last.pop(user, None)
        self._batch.forgotten.add(user)

    def reminder(self, kind: str, outcome: str) -> None:
        self._today()[f"reminder|{outcome}"] += 1

    def later(self, channel: str, outcome: str) -> None:
        self._today()[f"later|{outcome}"] += 1

    # --- writing ------------------------------------------------------------------------------------

    async def flush(self) -> None:
        batch, self._batch = self._batch, Batch()
        first, self._first = self._first, {}
        last, self._last = self._last, {}
        try:
            for user, (session, at) in last.items():
                batch.moves[user] = (self._groups(first.get(user)), self._groups(session), at)
            if batch:
                await self.backend.apply(batch, (*self.places, *self.kinds))
        except Exception as exc:  # the store is down: kept for the next flush, the bot goes on
            log.warning("console counts not written, kept for the next try (%s)", type(exc).__name__)
            self._keep(batch, first, last)
            return
        now = self.clock()
        if now - self._pruned >= PRUNE_SECONDS:
            self._pruned = now
            with contextlib.suppress(Exception):
                await self.backend.prune([*self.places, *self.kinds], now - self.active_seconds)

    def _keep(
        self, batch: Batch, first: dict[str, Session | None], last: dict[str, tuple[Session | None, float]]
    ) -> None:
        """A flush that failed goes back into the buffer, under what arrived since: where a user was before
        stays the older one, where they are now the newer one, and the counters add up."""
        self._first.update(first)  # the older starting point wins
        for user, now in last.items():
            self._last.setdefault(user, now)
        for day, counts in batch.counts.items():
            self._batch.counts.setdefault(day, Counter()).update(counts)
        self._batch.forgotten |= batch.forgotten  # applied before the moves: a user who came back stays

    async def run(self, every: float = FLUSH_SECONDS) -> None:
        """Flush every `every` seconds until cancelled, then once more. An unexpected error is logged and the
        next flush goes on: the console must not freeze silently."""
        try:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.flush()
                except Exception:
                    log.exception("console flush failed")
        finally:
            with contextlib.suppress(Exception):
                await self.flush()

    # --- reading ------------------------------------------------------------------------------------

    async def report(self, days: int = 14) -> dict[str, Any]:
        """The console's numbers (the JSON endpoint, and the page drawn from it)."""
        now = self.clock()
        counts = await self.backend.counts([*self.places, *self.kinds], now - self.active_seconds)
        dates = [day_of(now - 86400 * back) for back in range(days)]
        per_day = await self.backend.days(dates)
        totals: Counter[str] = Counter()
        for values in per_day.values():
            totals.update(values)
        funnel = []
        for flow in self.library.flows.values():
            states = [
                {
                    "state": name,
                    "title": state.title,
                    "users": counts.get(f"at:{flow.name}:{name}", 0),
                    "entered": totals.get(f"entered|{flow.name}:{name}", 0),
                    **{kind: totals.get(f"struggle|{flow.name}:{name}|{kind}", 0) for kind in STRUGGLES},
                }
                for name, state in flow.states.items()
            ]
            funnel.append({"flow": flow.name, "title": flow.title, "states": states})
        pending = [
            {"flow": flow.name, "kind": rule.items or rule.key, "label": rule.label, "users": users}
            for flow in self.library.flows.values()
            for rule in flow.checklist
            if (users := counts.get(f"open:{flow.name}:{rule.items or rule.key}", 0))
        ]
        daily = [
            {
                "day": day,
                "turns": {k.split("|", 1)[1]: v for k, v in per_day.get(day, {}).items() if k.startswith("turns|")},
                "reminders": {name: per_day.get(day, {}).get(f"reminder|{name}", 0) for name in REMINDERS},
                "later": {name: per_day.get(day, {}).get(f"later|{name}", 0) for name in LATER},
            }
            for day in dates
        ]
        return {
            "generated_at": dt.datetime.fromtimestamp(now, dt.UTC).isoformat(timespec="seconds"),
            "active_days": round(self.active_seconds / 86400, 1),
            "days": days,
            "users": sum(counts.get(place, 0) for place in self.places),
            "funnel": funnel,
            "pending": pending,
            "daily": daily,
        }

    # --- helpers ------------------------------------------------------------------------------------

    def _today(self) -> Counter[str]:
        return self._batch.counts.setdefault(day_of(self.clock()), Counter())

    def _groups(self, session: Session | None) -> frozenset[str]:
        if session is None:
            return frozenset()
        opened = (f"open:{rule}" for rule in open_rules(self.library, session))
        return frozenset((f"at:{session.flow}:{session.state}", *opened))

    def _digest(self, key: SessionKey) -> str:
        """The logs' keyed pseudonym (LOG_HASH_KEY, or the deployment's key in Redis): Redis never holds a
        user id, nor a digest anyone who knows the id could compute."""
        return user_hash(key.channel, f"{key.workspace}\0{key.user}")


class ReminderObservers:
    """The reminder queue's observer, handed on to several (the metrics and the console's counts)."""

    def __init__(self, *observers: Any) -> None:
        self.observers = observers

    def reminder(self, kind: str, outcome: str) -> None:
        for observer in self.observers:
            observer.reminder(kind, outcome)

    def later(self, channel: str, outcome: str) -> None:
        for observer in self.observers:
            observer.later(channel, outcome)

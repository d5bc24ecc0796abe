"""Delivering a due reminder: a normal conversation turn (`ReminderInput`), sent through the user's channel.

Exactly once as the user sees it, across replicas and crashes:
- saq runs a job on one worker at a time and re-runs it when its worker died (after `JOB_TIMEOUT`); a
  claim that lasts as long as a job may run keeps two attempts of one reminder from running at once;
- the turn's event id is the reminder's, so the store applies it once (atomically with the save): a re-run
  after the save finds a duplicate and sends nothing;
- a "settled" mark is written after a successful send (or once the reminder was found to be moot); a
  re-run that finds it stops at once;
- LINE pushes carry a retry key derived from the user and the reminder, so LINE itself drops a repeated push.
A worker killed after the save and before the "sent" mark: the re-run finds the turn applied and sends the
question it led to again, with the same retry key (LINE drops it if the first push had gone out; Slack
has no such key, so there a crash in that instant can show the question twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from saq.types import PartialTimersDict

from bot.core.dates import JST, in_hours
from bot.core.messages import CommandInput, Inbound, ReminderInput
from bot.core.session import SessionKey
from bot.reminders.outbox import INDEX_SECONDS, LATER_FUNCTION
from bot.reminders.queue import FUNCTION, NIGHT, NOT_KEPT, ReminderQueue
from bot.reminders.saq_embedded import EmbeddedWorker, embedded_worker

log = logging.getLogger(__name__)
MARKS_SECONDS = 8 * 86_400  # a week's marks outlive the week by a day (a re-run looks at last week's too)
STOP_GRACE = 1.5  # seconds a stopping worker gives the jobs in flight (a server stops within 2 s)


Send = Callable[[SessionKey, Inbound, str, str], Awaitable[str]]
"""Runs one turn for a user (`inbound` with `event_id`) and sends its replies through the user's channel, with
`retry_key` for the platform: the server's one delivery path (`bot.channels.reminders`). Returns delivered,
dropped (nothing to send), duplicate (applied before), busy (store down: retry), failed or no_channel."""


SendLater = Callable[[SessionKey, dict[str, Any], int], Awaitable[int]]
"""Sends a kept reply (`bot.reminders.outbox`) from unit `done` on through the user's channel; returns how
many units are sent, -1 when it can no longer be sent (the user erased, the app uninstalled)."""


class SendFailed(RuntimeError):
    """The platform did not take the reminder (429, 5xx, a timeout): saq runs the job again, with backoff."""


class ClaimHeld(RuntimeError):
    """Another attempt of this reminder holds the claim (it may still be sending): look again later."""


class ReminderObserver(Protocol):
    def reminder(self, kind: str, outcome: str) -> None: ...

    def later(self, channel: str, outcome: str) -> None: ...


class ReminderDelivery:
    """The job function and the saq worker that runs it (embedded in `serve`, or `taikai-bot worker`)."""

    def __init__(
        self,
        queue: ReminderQueue,
        send: Send,
        per_week: int = 3,
        clock: Callable[[], float] = time.time,
        observer: ReminderObserver | None = None,
        sweep_seconds: int = 5,
        concurrency: int = 10,
        send_later: SendLater | None = None,
    ) -> None:
        self.send_later = send_later
        self.sweep_seconds = sweep_seconds
        self.concurrency = concurrency
        self.queue = queue
        self.send = send
        self.per_week = per_week
        self.clock = clock
        self.observer = observer
        self.redis = queue.queue.redis
        self._worker: EmbeddedWorker | None = None
        self._task: asyncio.Task[None] | None = None

    # --- the job ----------------------------------------------------------------------------------

    async def deliver_reminder(
        self, ctx: Any, *, channel: str, workspace: str, user: str, reminder_id: str, kind: str
    ) -> str:
        job = ctx.get("job") if isinstance(ctx, dict) else None
        attempt = job.attempts if job is not None else 1
        key = SessionKey(channel, workspace, user)
        try:
            outcome = await self._deliver(key, reminder_id, kind, attempt)
        except ClaimHeld:
            if job is not None and job.retryable:
                raise  # the other attempt sends it, or dies and leaves the claim to expire: look again later
            # the last try, and still claimed (an attempt saq cut short keeps it until it expires): unless it
            # was sent meanwhile, count it lost rather than let it vanish
            sent = await self._settled(key, reminder_id, int(self.clock()))
            outcome = "duplicate" if sent else "lost"
        except SendFailed:
            if job is not None and job.retryable:  # saq tries again after its backoff (5 s, doubling)
                self._count(kind, "retried", channel)
                raise
            outcome = "lost"  # the last try failed too: counted, never silently
        self._count(kind, outcome, channel)
        return outcome

    async def deliver_later(self, ctx: Any, *, channel: str, workspace: str, user: str, payload: dict[str, Any]) -> str:
        """A reply kept in the outbox: its units from where the last try stopped; retried like a reminder."""
        job = ctx.get("job") if isinstance(ctx, dict) else None
        key = SessionKey(channel, workspace, user)
        units = payload.get("units") if isinstance(payload, dict) else None
        total = len(units) if isinstance(units, list) else 0
        done_key = self.queue.keys.outbox_done(job.key) if job is not None else None
        done = int(await self.redis.get(done_key) or 0) if done_key else 0
        sent = await self.send_later(key, payload, done) if self.send_later is not None and total else -1
        if 0 <= sent < total:
            if done_key:
                await self.redis.set(done_key, sent, ex=INDEX_SECONDS)
            if job is not None and job.retryable:
                self._count_later(channel, "retried")
                raise SendFailed("kept reply not sent")
        outcome = "dropped" if sent < 0 else "delivered" if sent >= total else "lost"
        async with self.redis.pipeline(transaction=False) as pipe:
            if done_key:
                pipe.delete(done_key)
            if job is not None:
                pipe.srem(self.queue.keys.outbox_index(key), job.key)
            await pipe.execute()
        self._count_later(channel, outcome)
        return outcome

    def _count_later(self, channel: str, outcome: str) -> None:
        if self.observer is not None:
            self.observer.later(channel, outcome)
        level = logging.WARNING if outcome == "lost" else logging.INFO
        log.log(level, "kept reply %s", outcome, extra={"channel": channel})

    def _count(self, kind: str, outcome: str, channel: str) -> None:
        if self.observer is not None:
            self.observer.reminder(kind, outcome)
        level = logging.WARNING if outcome == "lost" else logging.INFO
        log.log(level, "reminder %s", outcome, extra={"reminder_kind": kind, "channel": channel})

    async def _deliver(self, key: SessionKey, reminder_id: str, kind: str, attempt: int = 1) -> str:
        keys = self.queue.keys
        now = int(self.clock())
        if await self._settled(key, reminder_id, now):
            return "duplicate"
        if in_hours(now) != now:  # a retry drifted into the night: wait for the morning
            queued = await self.queue.queue.enqueue(
                FUNCTION,
                kwargs={"channel": key.channel, "workspace": key.workspace, "user": key.user,
                        "reminder_id": reminder_id, "kind": kind},
                key=f"{keys.reminder_job(key, reminder_id)}:{NIGHT}",
                scheduled=in_hours(now), ttl=NOT_KEPT,
            )  # fmt: skip
            # None: this job is that postponement itself, retried into the night again (rare): counted, not silent
            return "postponed" if queued is not None else "lost"
        marks = keys.reminder_marks(key, _week(now))
        if int(await self.redis.hget(marks, "n") or 0) >= self.per_week:
            return "over_limit"
        # one attempt at a time: a job the queue handed out twice is not run twice at once (the claim lasts as
        # long as a job may run, so the re-run of a worker that died finds it gone)
        if not await self.redis.set(keys.reminder_claim(key, reminder_id), 1, nx=True, ex=self.queue.job_timeout):
            raise ClaimHeld(reminder_id)
        try:
            outcome = await self._send(key, ReminderInput(reminder_id), f"reminder:{reminder_id}", reminder_id)
            if outcome == "duplicate":
                # applied by an attempt that died or failed to send: show where the reminder led (the question
                # it asked) with the same retry key, so a push that did go out is not repeated
                again = f"reminder:{reminder_id}:again:{attempt}"  # each try's own: a failed one is not "done"
                outcome = await self._send(key, CommandInput("repeat"), again, reminder_id)
                if outcome == "duplicate":  # this try's own repeat already ran (an attempt saq cut short and
                    raise SendFailed(outcome)  # re-ran with the same count): nothing was sent, so not done
        except BaseException:  # a refused send, a store error, saq's timeout cancelling the attempt
            with contextlib.suppress(Exception):  # the retry must be able to claim it (Redis may be down)
                await self.redis.delete(keys.reminder_claim(key, reminder_id))
            raise
        settled = outcome in ("dropped", "no_channel", "delivered")  # a re-run must not show the question again
        if settled:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.hset(marks, reminder_id, 1 if outcome == "delivered" else 0)
                if outcome == "delivered":
                    pipe.hincrby(marks, "n", 1)
                pipe.expire(marks, MARKS_SECONDS)
                pipe.delete(keys.reminder_claim(key, reminder_id))  # the mark stops a re-run from here on
                await pipe.execute()
        if outcome == "no_channel":
            return "dropped"
        return outcome

    async def _settled(self, key: SessionKey, reminder_id: str, now: int) -> bool:
        """Sent or found moot this week or last (a re-run may cross the week's end)."""
        keys = self.queue.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hexists(keys.reminder_marks(key, _week(now)), reminder_id)
            pipe.hexists(keys.reminder_marks(key, _week(now - 7 * 86_400)), reminder_id)
            this_week, last_week = await pipe.execute()
        return bool(this_week or last_week)

    async def _send(self, key: SessionKey, inbound: Inbound, event_id: str, retry_key: str) -> str:
        outcome = await self.send(key, inbound, event_id, retry_key)
        if outcome == "busy":
            raise RuntimeError("store unavailable")  # saq runs the job again later
        if outcome == "failed":
            raise SendFailed(outcome)
        return outcome

    # --- the worker -------------------------------------------------------------------------------

    def worker(self) -> EmbeddedWorker:
        timers: PartialTimersDict = {"schedule": 1, "worker_info": 10, "sweep": self.sweep_seconds, "abort": 1}
        functions: list[tuple[str, Any]] = [(FUNCTION, self.deliver_reminder), (LATER_FUNCTION, self.deliver_later)]
        return embedded_worker(self.queue.queue, functions, self.concurrency, timers)

    async def start(self) -> None:
        """Run the worker inside this event loop (`serve`): it leaves the process's signals to uvicorn."""
        self._worker = self.worker()
        self._task = asyncio.create_task(self._worker.start(), name="reminder-worker")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Within about `grace` seconds (a job in flight may finish meanwhile; one cut short is re-run)."""
        if self._worker is not None:
            await self._worker.drain(grace)
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


def _week(now: int) -> str:
    year, week, _ = dt.datetime.fromtimestamp(now, JST).isocalendar()
    return f"{year}w{week:02d}"

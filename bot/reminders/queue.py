"""The schedule of reminders: one saq job per reminder, keyed by user and reminder, on the session Redis.

saq (not a home-made loop) because it runs on the redis-py we already use, embeds in our event loop or runs
as its own process, dedupes a job key while it is pending, can abort a scheduled job, and re-runs a job
whose worker died (docs/reminders.md). It does not support Redis Cluster: there, reminders are off.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from saq import Job
from saq.job import Status
from saq.queue.redis import RedisQueue

from bot.core.messages import CancelReminders, Effect, ScheduleReminder
from bot.core.session import SessionKey
from bot.reminders.saq_embedded import release_pubsub
from bot.store.keys import KeyBuilder

log = logging.getLogger(__name__)

FUNCTION = "deliver_reminder"
JOB_TIMEOUT = 30  # seconds: a job whose worker died is re-run after this (plus the sweep interval)
JOB_RETRIES = 5  # tries in all: a send refused (429, 5xx) is tried again after 5, 10, 20, 40 s, then "lost"
RETRY_DELAY = 5.0  # seconds before the first retry; saq doubles it each time
RETRY_BACKOFF = 300  # the most saq waits between two tries
# A finished job is not kept at all (saq's ttl -1): its record holds the user id the worker needs, and after
# 削除 nothing may name the user. Exactly-once rests on the digest-keyed marks (`ReminderDelivery`), not on
# finished records.
NOT_KEPT = -1
NIGHT = "night"  # the suffix of a reminder's job postponed to the morning (one at a time per reminder)


class ReminderQueue:
    """Schedules and cancels reminder jobs; `counts` feed the metrics (scheduled / cancelled)."""

    def __init__(
        self,
        queue: RedisQueue,
        keys: KeyBuilder,
        observer: Any = None,
        job_timeout: int = JOB_TIMEOUT,
        retry_delay: float = RETRY_DELAY,
    ) -> None:
        self.queue = queue
        self.keys = keys
        self.retry_delay = retry_delay
        self.observer = observer
        self.job_timeout = job_timeout

    @classmethod
    def on(
        cls,
        redis: Any,
        keys: KeyBuilder,
        observer: Any = None,
        job_timeout: int = JOB_TIMEOUT,
        retry_delay: float = RETRY_DELAY,
    ) -> ReminderQueue:
        """On `redis` (the session store's client in the server), in the namespace of `keys`."""
        return cls(RedisQueue(redis, name=keys.reminder_queue), keys, observer, job_timeout, retry_delay)

    async def connect(self) -> None:
        await self.queue.connect()

    async def disconnect(self) -> None:
        """Close the queue and its Redis client (a client of its own: tests, a separate worker)."""
        await self.queue.disconnect()

    async def release(self) -> None:
        """Close what the queue opened on a client it shares with the session store (the server)."""
        await release_pubsub(self.queue)

    async def apply(self, key: SessionKey, effects: Iterable[Effect]) -> None:
        """Carry out a saved turn's effects, in order (a replaced reminder is cancelled first)."""
        for effect in effects:
            if isinstance(effect, CancelReminders):
                for reminder_id in effect.ids:
                    await self.cancel(key, reminder_id)
            elif isinstance(effect, ScheduleReminder):
                await self.schedule(key, effect)

    async def schedule(self, key: SessionKey, reminder: ScheduleReminder) -> None:
        job = Job(
            function=FUNCTION,
            kwargs={
                "channel": key.channel,
                "workspace": key.workspace,
                "user": key.user,
                "reminder_id": reminder.id,
                "kind": reminder.kind,
            },
            key=self.keys.reminder_job(key, reminder.id),
            scheduled=reminder.due,
            timeout=self.job_timeout,
            retries=JOB_RETRIES,
            retry_delay=self.retry_delay,
            retry_backoff=RETRY_BACKOFF,
            ttl=NOT_KEPT,
        )
        enqueued = await self.queue.enqueue(job)
        if self.observer is not None:
            self.observer.reminder(reminder.kind, "scheduled" if enqueued else "already_scheduled")

    async def cancel(self, key: SessionKey, reminder_id: str) -> None:
        """The reminder's job, and its postponement to the morning if there is one, aborted and deleted."""
        for job_key in (
            self.keys.reminder_job(key, reminder_id),
            f"{self.keys.reminder_job(key, reminder_id)}:{NIGHT}",
        ):
            job = await self.drop_job(job_key)
            if job is not None and self.observer is not None:
                self.observer.reminder(str(job.kwargs.get("kind", "?")) if job.kwargs else "?", "cancelled")

    async def forget(self, key: SessionKey) -> None:
        """削除: the user's replies kept for later (`bot.reminders.outbox`), aborted and deleted with their
        records and marks. (Reminders are cancelled by the turn's own `CancelReminders`.)"""
        index = self.keys.outbox_index(key)
        for raw in await self.queue.redis.smembers(index):
            job_key = raw.decode() if isinstance(raw, bytes) else str(raw)
            await self.drop_job(job_key)
            await self.queue.redis.delete(self.keys.outbox_done(job_key))
        await self.queue.redis.delete(index)

    async def drop_job(self, job_key: str) -> Job | None:
        """A pending job aborted and its record deleted (it names the user); the job, or None if none was."""
        job = await self.queue.job(job_key)
        if job is None or job.status in (Status.COMPLETE, Status.FAILED, Status.ABORTED):
            return None
        await self.queue.abort(job, error="cancelled")
        if job.status != Status.ACTIVE:  # a scheduled job must also be finished, or it stays "aborting"
            job.ttl = NOT_KEPT  # and deleted: its record names the user
            await self.queue.finish(job, Status.ABORTED, error="cancelled")
        return job

    async def pending(self, key: SessionKey, reminder_id: str) -> bool:
        job = await self.queue.job(self.keys.reminder_job(key, reminder_id))
        return job is not None and job.status in (Status.NEW, Status.QUEUED, Status.ACTIVE)

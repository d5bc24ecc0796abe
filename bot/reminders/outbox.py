"""The outbox: replies a channel could not send (the platform answered 429 or 5xx to every try), kept in
Redis as jobs of the reminder queue and sent later, once (Rasa's and Botpress's channels drop them).

A kept reply is one saq job (`deliver_later`, run by `ReminderDelivery`'s worker with the reminders' retries
and backoff: 5 tries over about 75 s). Its payload is the channel's own JSON: the LINE messages or Slack
posts still to send, split into units (a LINE push of up to 5 messages, one Slack post). The job sends
them in order through `WebChannel.send_later` and records how many went, so a re-run goes on from there;
LINE pushes carry retry keys from the event, so a unit LINE took before is not shown twice.

削除 deletes the user's kept replies (`forget`): their job keys are indexed per user (under a digest).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from saq import Job

from bot.core.session import SessionKey
from bot.reminders.queue import JOB_RETRIES, NOT_KEPT, RETRY_BACKOFF, ReminderQueue

log = logging.getLogger(__name__)

LATER_FUNCTION = "deliver_later"
INDEX_SECONDS = 3600  # the user's index outlives the kept replies' tries (about 75 s) by far


class ReplyOutbox:
    """`bot.channels.base.Outbox` on the reminder queue."""

    def __init__(self, queue: ReminderQueue) -> None:
        self.queue = queue
        self.keys = queue.keys
        self.redis = queue.queue.redis

    async def keep(self, key: SessionKey, payload: dict[str, Any]) -> bool:
        body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        job_key = self.keys.outbox_job(key, hashlib.blake2b(body.encode(), digest_size=8).hexdigest())
        job = Job(
            function=LATER_FUNCTION,
            kwargs={"channel": key.channel, "workspace": key.workspace, "user": key.user, "payload": payload},
            key=job_key,
            timeout=self.queue.job_timeout,
            retries=JOB_RETRIES,
            retry_delay=self.queue.retry_delay,
            retry_backoff=RETRY_BACKOFF,
            ttl=NOT_KEPT,  # a finished job's record (the user id, the text) is deleted at once
        )
        try:
            index = self.keys.outbox_index(key)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.sadd(index, job_key)
                pipe.expire(index, INDEX_SECONDS)
                await pipe.execute()
            await self.queue.queue.enqueue(job)
        except Exception:  # the queue is down too: the reply is lost, and counted
            log.warning("reply not kept for later: the queue is unavailable", exc_info=True)
            self._count(key.channel, "lost")
            return False
        self._count(key.channel, "kept")
        return True

    def _count(self, channel: str, outcome: str) -> None:
        observer = self.queue.observer
        if observer is not None:
            observer.later(channel, outcome)

"""What bot/reminders/saq_embedded.py relies on in saq, named so an upgrade that changes it fails here."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest
from saq import Worker
from saq.queue.redis import RedisQueue

from bot.reminders.saq_embedded import EmbeddedWorker, embedded_worker, release_pubsub
from tests.redis_support import PREFIX

pytestmark = pytest.mark.redis


def test_saq_still_has_what_the_wrapper_uses() -> None:
    assert isinstance(Worker.SIGNALS, list)  # the class attribute start() reads for its signal handlers
    source = inspect.getsource(Worker)
    assert "self.event" in source and "self.job_task_contexts" in source
    assert "shutdown_grace_period_s or 0" in source  # 0 means "cancel what is left now"
    assert "_pubsub" in inspect.getsource(RedisQueue.__init__)


async def test_an_idle_embedded_worker_stops_at_once_and_closes_its_pubsub(redis_url: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    queue = RedisQueue(redis, name=f"{PREFIX}-saq-embedded")
    await queue.connect()

    async def noop(ctx: object) -> None:
        return None

    worker = embedded_worker(queue, [("noop", noop)], 2, {"worker_info": 10, "schedule": 1, "abort": 1, "sweep": 5})
    assert isinstance(worker, EmbeddedWorker) and worker.SIGNALS == []
    task = asyncio.create_task(worker.start())
    await asyncio.sleep(0.3)  # its upkeep polls asleep, its dequeues blocked in Redis
    started = time.monotonic()
    await worker.drain(grace=1.5)
    await asyncio.wait_for(task, 2)
    assert time.monotonic() - started < 1.0  # nothing in flight: no grace period waited
    await release_pubsub(queue)
    assert await redis.ping()  # the shared client stays open for the store
    await redis.aclose()

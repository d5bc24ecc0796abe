"""The two things saq gives no public call for, kept here so an upgrade that changes them breaks one
module and its test (tests/reminders/test_saq_embedded.py), not the server.

- Embedding: saq's `Worker.start` installs SIGINT/SIGTERM handlers unless `SIGNALS` is empty; inside
  `serve` the signals are uvicorn's, so `EmbeddedWorker` has none.
- A quick stop: saq's `stop` waits its whole grace period for the upkeep polls (asleep for up to
  `worker_info` seconds) and the idle dequeues (blocked in Redis), which never finish by themselves: 10 s
  per process. `EmbeddedWorker.drain` stops taking jobs, lets the jobs in flight finish for `grace`
  seconds, then cancels the rest at once; a job cancelled mid-run is put back by saq (`job.retry`) and
  re-run safely (the turn's event id and the sent mark make it once, docs/reminders.md).
- Sharing the store's client: the queue opens a pub/sub multiplexer on the client it is given; the server
  closes only that (`release_pubsub`), leaving the client to the store.
"""

from __future__ import annotations

import asyncio
from typing import Any

from saq import Worker
from saq.queue.redis import RedisQueue
from saq.types import Context


class EmbeddedWorker(Worker[Context]):
    SIGNALS: list[Any] = []  # noqa: RUF012 (an instance attribute in saq); the process's signals are uvicorn's

    async def drain(self, grace: float) -> None:
        """Stop within about `grace` seconds: running jobs may finish meanwhile, nothing else waits."""
        self.event.set()  # no new dequeues; the upkeep polls end at their next wake-up
        running = [context["task"] for context in self.job_task_contexts.values() if not context["task"].done()]
        if running:
            await asyncio.wait(running, timeout=grace)
        await self.stop()  # a grace period of 0: what is left is cancelled now (running jobs are retried)


def embedded_worker(queue: RedisQueue, functions: list[Any], concurrency: int, timers: Any) -> EmbeddedWorker:
    return EmbeddedWorker(queue, functions=functions, concurrency=concurrency, timers=timers, shutdown_grace_period_s=0)


async def release_pubsub(queue: RedisQueue) -> None:
    """Close the pub/sub multiplexer the queue opened on a client it shares (saq's attribute `_pubsub`)."""
    pubsub = getattr(queue, "_pubsub", None)
    if pubsub is not None:
        await pubsub.close()

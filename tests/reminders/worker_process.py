"""A reminder worker in a process of its own, for tests/reminders/test_processes.py: it records each delivery
in a Redis list (its pid and the reminder), so the test can count deliveries across processes."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys

from redis.asyncio import Redis

from bot.core.dates import JST
from bot.core.messages import Inbound, ReminderInput
from bot.core.session import SessionKey
from bot.reminders.queue import ReminderQueue
from bot.reminders.worker import ReminderDelivery
from bot.store.keys import KeyBuilder

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()


async def main(url: str, prefix: str) -> None:
    redis = Redis.from_url(url)
    queue = ReminderQueue.on(Redis.from_url(url), KeyBuilder(prefix), job_timeout=2)
    await queue.connect()

    async def send(key: SessionKey, inbound: Inbound, event_id: str, retry_key: str) -> str:
        assert isinstance(inbound, ReminderInput)
        await redis.rpush(f"{prefix}:delivered", f"{os.getpid()}:{inbound.id}")
        return "delivered"

    worker = ReminderDelivery(queue, send, clock=lambda: NOON, sweep_seconds=1, concurrency=5)
    await worker.start()
    await redis.set(f"{prefix}:ready:{os.getpid()}", 1, ex=120)
    try:
        while await redis.get(f"{prefix}:stop") is None:  # noqa: ASYNC110 (the test says when to stop, through Redis)
            await asyncio.sleep(0.1)
    finally:
        await worker.stop()
        await queue.disconnect()
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

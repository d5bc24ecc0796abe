"""Reminders benchmark: N reminders fall due at once; two workers deliver them. Prints the rate, the
duplicates (must be 0) and Redis memory per scheduled reminder.

    python -m tests.bench.reminders [--count 10000] [--workers 2]

Uses the Redis at REDIS_URL (default 127.0.0.1:6379) under a throwaway prefix it deletes afterwards. The
sending step is a stand-in that records each delivery (the channels are measured by `make bench`); the
queue, the worker, its Redis checks and marks are the product's own.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import os
import time
import uuid

from redis.asyncio import Redis

from bot.core.dates import JST
from bot.core.messages import Inbound, ReminderInput, ScheduleReminder
from bot.core.session import SessionKey
from bot.reminders.queue import ReminderQueue
from bot.reminders.worker import ReminderDelivery
from bot.store.keys import KeyBuilder

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()


async def run(count: int, workers: int, url: str) -> None:
    prefix = f"taikai-bench-rem-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(url)
    delivered: collections.Counter[str] = collections.Counter()

    async def send(key: SessionKey, inbound: Inbound, event_id: str, retry_key: str) -> str:
        assert isinstance(inbound, ReminderInput)
        delivered[inbound.id] += 1
        return "delivered"

    queue = ReminderQueue.on(Redis.from_url(url), KeyBuilder(prefix))
    await queue.connect()
    used_before = int((await redis.info("memory"))["used_memory"])
    due = int(time.time())
    started = time.perf_counter()
    for start in range(0, count, 500):
        await asyncio.gather(*(
            queue.schedule(SessionKey("line", "-", f"U{i}"), ScheduleReminder(f"r{i}", "pending", due))
            for i in range(start, min(count, start + 500))
        ))  # fmt: skip
    scheduling = time.perf_counter() - started
    per_reminder = (int((await redis.info("memory"))["used_memory"]) - used_before) / count
    runners = []
    for _ in range(workers):
        own = ReminderQueue.on(Redis.from_url(url), KeyBuilder(prefix))
        await own.connect()
        worker = ReminderDelivery(own, send, per_week=3, clock=lambda: NOON, concurrency=50)
        runners.append(worker)
    started = time.perf_counter()
    for worker in runners:
        await worker.start()
    while len(delivered) < count and time.perf_counter() - started < 600:  # noqa: ASYNC110 (polled)
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    await asyncio.sleep(2)  # anything delivered twice would show up now
    for worker in runners:
        await worker.stop()
        await worker.queue.disconnect()
    duplicates = sum(v - 1 for v in delivered.values() if v > 1)
    print(f"reminders due at once      {count:,}")
    print(f"workers                    {workers} (saq, concurrency 50 each)")
    print(f"scheduled in               {scheduling:.2f} s ({count / scheduling:,.0f}/s)")
    print(f"delivered in               {seconds:.2f} s ({len(delivered) / seconds:,.0f}/s)")
    print(f"delivered / duplicates     {len(delivered):,} / {duplicates}")
    print(f"Redis memory per reminder  {per_reminder:,.0f} B while scheduled (job hash + schedule entry)")
    keys = [k async for k in redis.scan_iter(match=f"*{prefix}*", count=5000)]
    for i in range(0, len(keys), 1000):
        await redis.delete(*keys[i : i + 1000])
    await queue.disconnect()
    await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(run(args.count, args.workers, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")))


if __name__ == "__main__":
    main()

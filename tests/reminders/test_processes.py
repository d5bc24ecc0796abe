"""Two worker processes on one real Redis: every reminder delivered exactly once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from redis.asyncio import Redis

from bot.core.messages import ScheduleReminder
from bot.core.session import SessionKey
from bot.reminders.queue import ReminderQueue
from bot.store.keys import KeyBuilder

pytestmark = [pytest.mark.redis, pytest.mark.slow]


async def test_two_worker_processes_deliver_each_reminder_once(redis_url: str) -> None:
    prefix = f"taikai-test-procs-{uuid.uuid4().hex[:8]}"
    redis = Redis.from_url(redis_url)
    command = [sys.executable, "-m", "tests.reminders.worker_process", redis_url, prefix]
    workers = [subprocess.Popen(command) for _ in range(2)]  # noqa: ASYNC220 (started once, waited for at the end)
    queue = ReminderQueue.on(Redis.from_url(redis_url), KeyBuilder(prefix))
    try:
        deadline = time.monotonic() + 30
        while len([k async for k in redis.scan_iter(match=f"{prefix}:ready:*")]) < 2:
            assert time.monotonic() < deadline, "the worker processes did not start"
            await asyncio.sleep(0.1)
        await queue.connect()
        due = int(time.time()) + 1
        for i in range(40):
            await queue.schedule(SessionKey("line", "-", f"U{i}"), ScheduleReminder(f"r{i}", "pending", due))
        deadline = time.monotonic() + 30
        while await redis.llen(f"{prefix}:delivered") < 40 and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        # proving a negative: a duplicate would come from a job saq re-runs (its sweep every second, a
        # retry 5 s later at most); waiting on job states is not enough, as saq may leave a swept job
        # "aborting" for good (seen once in 40: docs/reminders.md)
        await asyncio.sleep(2)
        delivered = [item.decode() for item in await redis.lrange(f"{prefix}:delivered", 0, -1)]
        by_reminder = Counter(item.split(":", 1)[1] for item in delivered)
        assert sorted(by_reminder) == sorted(f"r{i}" for i in range(40)) and set(by_reminder.values()) == {1}
        assert len({item.split(":", 1)[0] for item in delivered}) == 2, "both processes took a share"
    finally:
        await redis.set(f"{prefix}:stop", 1, ex=60)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        await queue.disconnect()
        keys = [k async for k in redis.scan_iter(match=f"*{prefix}*", count=1000)]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

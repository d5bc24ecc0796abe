"""Waiting on the queue itself instead of sleeping: a job that has finished can send nothing more."""

from __future__ import annotations

import asyncio
import time

from saq.job import Status

from bot.reminders.queue import ReminderQueue

FINISHED = (Status.COMPLETE, Status.FAILED, Status.ABORTED)
GONE = "gone"  # finished and deleted: reminder jobs are not kept once finished (their record names the user)


async def finished(queue: ReminderQueue, *job_keys: str, seconds: float = 20.0) -> list[Status | str]:
    """Each job's end, once every one of them has finished — `GONE`, or the status of one still kept (a
    job of another queue) — or fails the test after `seconds`. The jobs must have been enqueued."""
    deadline = time.monotonic() + seconds
    while True:
        jobs = [await queue.queue.job(key) for key in job_keys]
        if all(job is None or job.status in FINISHED for job in jobs):
            return [GONE if job is None else job.status for job in jobs]
        assert time.monotonic() < deadline, f"jobs still running: {[j.status if j else None for j in jobs]}"
        await asyncio.sleep(0.05)

"""Waiting on the queue itself instead of sleeping: a job that has finished can send nothing more."""

from __future__ import annotations

import asyncio
import time

from saq.job import Status

from bot.reminders.queue import ReminderQueue

FINISHED = (Status.COMPLETE, Status.FAILED, Status.ABORTED)


async def finished(queue: ReminderQueue, *job_keys: str, seconds: float = 20.0) -> list[Status]:
    """The final status of each job, once every one of them has finished (or fails the test after `seconds`)."""
    deadline = time.monotonic() + seconds
    while True:
        jobs = [await queue.queue.job(key) for key in job_keys]
        if all(job is not None and job.status in FINISHED for job in jobs):
            return [job.status for job in jobs if job is not None]
        assert time.monotonic() < deadline, f"jobs still running: {[j.status if j else None for j in jobs]}"
        await asyncio.sleep(0.05)

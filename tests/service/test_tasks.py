"""Background turns: each task has its own turn id, and shutdown waits for turns spawned while draining."""

from __future__ import annotations

import asyncio

from bot.telemetry.context import turn_id
from bot.web.tasks import TaskTracker


async def test_each_task_gets_its_own_turn_id_and_the_caller_keeps_its_own() -> None:
    tracker = TaskTracker()
    seen: list[str] = []

    async def work() -> None:
        seen.append(turn_id.get())

    tracker.spawn(work())
    tracker.spawn(work())
    await tracker.drain(1)
    assert len(set(seen)) == 2 and "-" not in seen
    assert turn_id.get() == "-"


async def test_drain_waits_for_turns_spawned_during_the_drain() -> None:
    tracker = TaskTracker()
    finished: list[str] = []

    async def late() -> None:
        await asyncio.sleep(0.05)
        finished.append("late")

    async def first() -> None:
        await asyncio.sleep(0.05)
        tracker.spawn(late())  # e.g. an event acknowledged while shutting down
        finished.append("first")

    tracker.spawn(first())
    await tracker.drain(2)
    assert finished == ["first", "late"]


async def test_drain_cancels_what_outlives_the_grace_period() -> None:
    tracker = TaskTracker()
    task = tracker.spawn(asyncio.sleep(10))
    await tracker.drain(0.05)
    assert task.cancelled() and tracker.pending == 0

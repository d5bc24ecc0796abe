"""Background turn tasks: tracked so none is garbage-collected mid-turn, and drained on shutdown.

Webhooks are answered at once (LINE and Slack both retry slow answers); the turn then runs in a task
held here. The event loop keeps only weak references to tasks, so an untracked one can vanish.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Coroutine
from typing import Any

from bot.telemetry.context import new_turn_id, turn_id

log = logging.getLogger(__name__)


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run `coro` in the background, in its own context with its own turn id (for its log lines)."""
        context = contextvars.copy_context()
        context.run(turn_id.set, new_turn_id())
        task = asyncio.create_task(coro, name=name, context=context)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background turn failed", exc_info=exc)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    @property
    def closing(self) -> bool:
        return self._closing

    async def drain(self, grace_seconds: float = 25.0) -> None:
        """Wait for running turns (SIGTERM grace period), then cancel what is left.

        Loops until no task is left: a turn may still spawn another (a channel acknowledging an event that
        arrived during the drain), and those must be awaited too, within the same deadline.
        """
        self._closing = True
        deadline = time.monotonic() + grace_seconds
        while self._tasks and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)
        pending = set(self._tasks)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d unfinished turn(s) at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

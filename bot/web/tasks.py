"""Background turn tasks: tracked so none is garbage-collected mid-turn, and drained on shutdown.

Webhooks are answered at once (LINE and Slack both retry slow answers); the turn then runs in a task
held here. The event loop keeps only weak references to tasks, so an untracked one can vanish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
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
        """Wait for running turns (SIGTERM grace period), then cancel what is left."""
        self._closing = True
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            log.warning("cancelled %d unfinished turn(s) at shutdown", len(pending))
            await asyncio.gather(*pending, return_exceptions=True)

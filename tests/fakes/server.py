"""The one way tests run a real server: an ASGI app under uvicorn on a random loopback port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import uvicorn
from starlette.types import ASGIApp


async def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Poll `condition`: what it waits for happens in other tasks (the server's, the client's)."""
    for _ in range(int(seconds / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("not reached in time")


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, **config: Any) -> AsyncIterator[str]:
    """Run `app` (lifespan included) for the block and yield its base URL. `config` goes to uvicorn.Config
    (e.g. `log_config=None` to log through our own handler, as `taikai-bot serve` does)."""
    options: dict[str, Any] = {"host": "127.0.0.1", "port": 0, "log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # start-up failed: raise its error
                    raise RuntimeError("uvicorn stopped before it started")
                await asyncio.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task

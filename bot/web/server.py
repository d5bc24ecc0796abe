"""`taikai-bot serve`: run the ASGI app under uvicorn."""

from __future__ import annotations

import gc

import uvicorn
from starlette.applications import Starlette

from bot.config import Settings
from bot.core.model import Library
from bot.telemetry.logs import configure_logging
from bot.web.app import create_app


def server_app(settings: Settings, library: Library) -> Starlette:
    """The app as `serve` runs it (the benchmark builds it with this too): logs configured, start-up frozen."""
    configure_logging(settings.log_level, json_lines=settings.log_json)
    app = create_app(settings, library)
    # Everything built so far (the compiled flows, the SDK's models, every imported module) lives as long as
    # the process. Frozen out of the collector's generations, it is no longer walked by every full collection:
    # 6-7 % less CPU per LINE turn, and no pauses of tens of milliseconds (docs/benchmark.md).
    gc.collect()  # start-up garbage first, or it would be kept for good
    gc.freeze()
    return app


def serve(settings: Settings, library: Library, host: str | None, port: int | None) -> int:
    app = server_app(settings, library)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep our JSON handler for uvicorn's loggers too
        timeout_graceful_shutdown=30,  # SIGTERM: stop accepting, finish in-flight turns (tasks drain in lifespan)
        proxy_headers=True,
        # No access line per request: the proxy in front writes one (deploy/nginx.conf), each webhook event
        # gets its own line with the outcome, and the duplicate cost ~15 µs per request (docs/benchmark.md).
        access_log=False,
    )
    return 0

"""`taikai-bot serve`: run the ASGI app under uvicorn."""

from __future__ import annotations

import gc

import uvicorn
from starlette.applications import Starlette

from bot.config import Settings
from bot.core.library.model import Library
from bot.telemetry.logs import configure_logging
from bot.web.app import create_app

try:
    from bot.web.protocol import MAX_HEADER_BYTES, GuardedHttpToolsProtocol

    _HTTPTOOLS = True
except ImportError:  # uvicorn without httptools: h11 bounds the header size itself
    MAX_HEADER_BYTES = 16 * 1024
    _HTTPTOOLS = False


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


def uvicorn_config(
    app: Starlette, settings: Settings, host: str | None = None, port: int | None = None
) -> uvicorn.Config:
    """How `serve` runs the app (tests build their servers with this too)."""
    return uvicorn.Config(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep our JSON handler (and its safety filter) for uvicorn's loggers too
        timeout_graceful_shutdown=30,  # SIGTERM: stop accepting, finish in-flight turns (tasks drain in lifespan)
        proxy_headers=True,
        # No access line per request: the proxy in front writes one (deploy/nginx.conf), each webhook event
        # gets its own line with the outcome, and the duplicate cost ~15 µs per request (docs/benchmark.md).
        # (The access line would also carry the OAuth redirect's code and state.)
        access_log=False,
        # Bounded headers and read deadlines (bot/web/protocol.py); h11's own bound if httptools is missing.
        http=GuardedHttpToolsProtocol if _HTTPTOOLS else "h11",
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=5,  # an idle keep-alive connection is closed after this
    )


def serve(settings: Settings, library: Library, host: str | None, port: int | None) -> int:
    app = server_app(settings, library)
    uvicorn.Server(uvicorn_config(app, settings, host, port)).run()
    return 0

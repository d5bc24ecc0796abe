"""`taikai-bot serve`: run the ASGI app under uvicorn."""

from __future__ import annotations

import uvicorn
from starlette.applications import Starlette

from bot.config import Settings

try:
    from bot.web.protocol import MAX_HEADER_BYTES, GuardedHttpToolsProtocol

    _HTTPTOOLS = True
except ImportError:  # uvicorn without httptools: h11 bounds the header size itself
    MAX_HEADER_BYTES = 16 * 1024
    _HTTPTOOLS = False


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
        forwarded_allow_ips=settings.forwarded_allow_ips,  # the client's address and https, from the proxy
        # No access line per request: the proxy in front writes one (deploy/nginx.conf), each webhook event
        # gets its own line with the outcome, and the duplicate cost ~15 µs per request (docs/benchmark.md).
        # (The access line would also carry the OAuth redirect's code and state.)
        access_log=False,
        # Bounded headers and read deadlines (bot/web/protocol.py); h11's own bound if httptools is missing.
        http=GuardedHttpToolsProtocol if _HTTPTOOLS else "h11",
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=5,  # an idle keep-alive connection is closed after this
    )


def serve(app: Starlette, settings: Settings, host: str | None, port: int | None) -> int:
    uvicorn.Server(uvicorn_config(app, settings, host, port)).run()
    return 0

"""`taikai-bot serve`: run the ASGI app under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from bot.config import Settings
from bot.core.model import Library
from bot.web.app import create_app


def serve(settings: Settings, library: Library, host: str | None, port: int | None) -> int:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = create_app(settings, library)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=30,  # SIGTERM: stop accepting, finish in-flight turns (tasks drain in lifespan)
        proxy_headers=True,
    )
    return 0

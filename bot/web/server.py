"""`taikai-bot serve`: run the ASGI app under uvicorn."""

from __future__ import annotations

import uvicorn

from bot.config import Settings
from bot.core.model import Library
from bot.telemetry.logs import configure_logging
from bot.web.app import create_app


def serve(settings: Settings, library: Library, host: str | None, port: int | None) -> int:
    configure_logging(settings.log_level, json_lines=settings.log_json)
    app = create_app(settings, library)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep our JSON handler for uvicorn's loggers too
        timeout_graceful_shutdown=30,  # SIGTERM: stop accepting, finish in-flight turns (tasks drain in lifespan)
        proxy_headers=True,
    )
    return 0

"""The Starlette application: channel routes, health checks, and the lifespan that opens and closes clients."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import WebChannel
from bot.channels.limits import MAX_BODY_BYTES
from bot.config import Settings
from bot.core.library.model import Library
from bot.reminders.worker import ReminderDelivery
from bot.store.base import SessionStore
from bot.telemetry.context import configure_user_hash
from bot.telemetry.logs import TurnLog
from bot.telemetry.metrics import Metrics
from bot.web.reminders import reminder_queue, reminder_worker
from bot.web.services import Services
from bot.web.tasks import TaskTracker
from bot.wiring import build_conversation, build_engine, build_store

log = logging.getLogger(__name__)


def build_channels(services: Services) -> list[WebChannel]:
    """LINE and Slack are on when their settings are present; each says so in the log."""
    settings = services.settings
    context = services.channel_context()
    channels: list[WebChannel] = []
    if settings.line_channel_secret and settings.line_channel_access_token:
        from bot.channels.line.channel import build_line_channel

        channels.append(build_line_channel(context))
        log.info("LINE channel on: POST /line/webhook")
    else:
        log.info("LINE channel off: set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN to turn it on")
    if settings.slack_signing_secret and (settings.slack_bot_token or settings.slack_client_id):
        from bot.channels.slack.channel import build_slack_channel
        from bot.store.slack_installations import oauth_stores

        expiry = settings.slack_state_expiration_seconds
        channels.append(build_slack_channel(context, lambda: oauth_stores(services.store, expiry)))
        log.info("Slack channel on: POST /slack/events")
    else:
        log.info("Slack channel off: set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (or OAuth settings) to turn it on")
    return channels


def create_app(settings: Settings, library: Library, store: SessionStore | None = None) -> Starlette:
    """The whole server. `store` may be injected (tests); otherwise it is built from settings."""
    configure_user_hash(settings.log_hash_key.get_secret_value() if settings.log_hash_key else None)
    store = store or build_store(settings)
    engine = build_engine(settings, library)
    metrics = Metrics()
    queue = reminder_queue(settings, store, metrics)
    conversation = build_conversation(settings, engine, store, observers=(metrics, TurnLog()), scheduler=queue)
    services = Services(settings, library, store, conversation, TaskTracker(), metrics)
    channels = build_channels(services)
    worker = None if queue is None else reminder_worker(settings, queue, conversation, channels)

    async def metrics_endpoint(request: Request) -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", functools.partial(readyz, services)),
        Route("/metrics", metrics_endpoint),
    ]
    for channel in channels:
        routes.extend(channel.routes())
    # Starlette's own body limit: a declared length over it is refused (413) unread, a chunked body is cut as
    # it arrives; routes may set a lower one (LINE's webhook)
    running = functools.partial(lifespan, services, channels, worker)
    app = Starlette(routes=routes, lifespan=running, max_body_size=MAX_BODY_BYTES)
    app.state.services = services
    app.state.channels = channels
    app.state.reminders = worker  # None when reminders are off
    return app


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(services: Services, request: Request) -> Response:
    """Store reachable and flows loaded. `?store=optional` leaves the shared store out of the verdict:
    for a Kubernetes readiness probe, where a Redis outage must not take every pod out of the Service
    (the webhooks must still answer, with a "busy" reply) — the body still reports the store."""
    redis_ok = await _ping(services.store)
    store_optional = request.query_params.get("store") == "optional"
    ready = (redis_ok or store_optional) and not services.tasks.closing
    body = {
        "store": "ok" if redis_ok else "unreachable",
        "flows": len(services.library.flows),
        "closing": services.tasks.closing,
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@contextlib.asynccontextmanager
async def lifespan(
    services: Services, channels: list[WebChannel], worker: ReminderDelivery | None, app: Starlette
) -> AsyncIterator[None]:
    """Start the channels (their clients belong to the running loop), then the reminder worker; on the way
    out, stop the worker, let the running turns finish, close the channels in reverse order, then the store."""
    started: list[WebChannel] = []
    try:
        for channel in channels:
            await channel.startup()
            started.append(channel)
        if worker is not None:
            await worker.queue.connect()
            await worker.start()
            log.info("reminders on: the worker runs in this process")
        yield
    finally:
        if worker is not None:
            await worker.stop()
            await worker.queue.release()
        await services.tasks.drain()
        for channel in reversed(started):  # also when a later channel failed to start
            try:
                await channel.shutdown()
            except Exception:
                log.exception("%s channel failed to shut down cleanly", channel.name)
        await services.store.close()


async def _ping(store: SessionStore) -> bool:
    try:
        return await store.ping()
    except Exception:  # readiness must answer, whatever the store raises
        return False

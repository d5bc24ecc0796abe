"""The Starlette application: channel routes, health checks, and the lifespan that opens and closes clients.
What goes into it (which channels, the store, the reminder worker) is decided in `bot.wiring`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.channels.base import WebChannel
from bot.channels.limits import MAX_BODY_BYTES
from bot.reminders.worker import ReminderDelivery
from bot.store.base import SessionStore
from bot.store.health import redis_health
from bot.web.services import Services

log = logging.getLogger(__name__)


def web_app(
    services: Services,
    channels: Sequence[WebChannel],
    worker: ReminderDelivery | None,
    on_start: Sequence[Callable[[], Awaitable[None]]] = (),
    extra_routes: Sequence[BaseRoute] = (),
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> Starlette:
    """The routes of the built channels beside the health checks and metrics (composed in `bot.wiring`);
    `on_start` runs in the lifespan before the channels start (on the server's event loop); `background`
    runs for the app's lifetime, cancelled first on the way out (the console's counts flushing)."""

    async def metrics_endpoint(request: Request) -> Response:
        # Redis is checked at every scrape: while it is down Kubernetes takes the pods out of the Service, so
        # no turn arrives to fail and be counted, and this gauge is what still tells (docs/monitoring.md)
        services.metrics.store_checked(await _ping_within(services.store, STORE_CHECK_SECONDS))
        return Response(services.metrics.render(), media_type=services.metrics.content_type)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", functools.partial(readyz, services)),
        Route("/metrics", metrics_endpoint),
    ]
    for channel in channels:
        routes.extend(channel.routes())
    routes.extend(extra_routes)
    # Starlette's own body limit: a declared length over it is refused (413) unread, a chunked body is cut as
    # it arrives; routes may set a lower one (LINE's webhook)
    running = functools.partial(lifespan, services, list(channels), worker, tuple(on_start), tuple(background))
    app = Starlette(routes=routes, lifespan=running, max_body_size=MAX_BODY_BYTES)
    app.state.services = services
    app.state.channels = list(channels)
    app.state.reminders = worker  # None when reminders are off
    return app


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


async def readyz(services: Services, request: Request) -> Response:
    """Store reachable and flows loaded. `?store=optional` leaves the shared store out of the verdict:
    for a Kubernetes readiness probe, where a Redis outage must not take every pod out of the Service
    (the webhooks must still answer, with a "busy" reply) — the body still reports the store. A Redis that
    is out of memory, or whose eviction policy may delete sessions and reminders, is not a healthy store."""
    redis_ok = await _ping(services.store)
    store = "ok" if redis_ok else "unreachable"
    body: dict[str, object] = {}
    shared = services.store.shared_redis()
    if redis_ok and shared is not None:
        health = await redis_health(shared)
        body["redis"] = {"maxmemory_policy": health.policy, "out_of_memory": health.out_of_memory}
        store = "out_of_memory" if health.out_of_memory else "evicting" if health.evicts else store
    store_optional = request.query_params.get("store") == "optional"
    ready = (store == "ok" or store_optional) and not services.tasks.closing
    body |= {"store": store, "flows": len(services.library.flows), "closing": services.tasks.closing}
    return JSONResponse(body, status_code=200 if ready else 503)


@contextlib.asynccontextmanager
async def lifespan(
    services: Services,
    channels: list[WebChannel],
    worker: ReminderDelivery | None,
    on_start: tuple[Callable[[], Awaitable[None]], ...],
    background: tuple[Callable[[], Coroutine[Any, Any, None]], ...],
    app: Starlette,
) -> AsyncIterator[None]:
    """Start the channels (their clients belong to the running loop), then the reminder worker; on the way
    out, stop the worker, let the running turns finish, close the channels in reverse order, then the store."""
    started: list[WebChannel] = []
    running: list[asyncio.Task[None]] = []
    try:
        for step in on_start:
            await step()
        for channel in channels:
            await channel.startup()
            started.append(channel)
        if worker is not None:
            await worker.queue.connect()
            await worker.start()
            log.info("reminders on: the worker runs in this process")
        running.extend(asyncio.create_task(work(), name="background") for work in background)
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
        for task in running:  # after the last turns: each finishes its own work on cancellation (a last flush)
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await services.store.close()


async def _ping(store: SessionStore) -> bool:
    try:
        return await store.ping()
    except Exception:  # readiness must answer, whatever the store raises
        return False


STORE_CHECK_SECONDS = 2.0  # well within Prometheus's scrape timeout (5 s in deploy/prometheus, the ServiceMonitor)


async def _ping_within(store: SessionStore, seconds: float) -> bool:
    try:
        return await asyncio.wait_for(_ping(store), seconds)
    except TimeoutError:
        return False

"""The two servers under test, as uvicorn factories (`serve.py` runs them; each in its own process).

- `full_app`: the product, built by `bot.web.server.server_app` as `taikai-bot serve` builds it (settings
  from the environment, JSON logs at LOG_LEVEL, the LINE channel, Redis store and rate limiter).
- `echo_app`: benchmark-only (never in `bot/`): the naive echo bot of the issue on the same stack —
  the SDK's `WebhookParser` (signature check + parse), Redis `SET NX` dedupe, and a reply with the same
  text through the SDK's `AsyncMessagingApi` to the same fake LINE API. No engine, no session, no logs.
  Like the product it answers the webhook at once and replies from a tracked background task.

Environment: LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN, LINE_API_BASE_URL, REDIS_URL and
REDIS_KEY_PREFIX (the echo app puts its dedupe keys under it too).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def full_app() -> Starlette:
    from bot.config import Settings
    from bot.core.library.load import load_library
    from bot.wiring import server_app

    settings = Settings()
    return server_app(settings, load_library(settings.flows_dir))


def echo_app() -> Starlette:
    import redis.asyncio as aioredis
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        Configuration,
        ReplyMessageRequest,
        TextMessage,
    )
    from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, TextMessageContent

    parser = WebhookParser(os.environ["LINE_CHANNEL_SECRET"])
    configuration = Configuration(
        host=os.environ["LINE_API_BASE_URL"], access_token=os.environ["LINE_CHANNEL_ACCESS_TOKEN"]
    )
    prefix = os.environ["REDIS_KEY_PREFIX"]
    # the same kind and size of connection pool as the product's store (bot/store/redis.py)
    pool = aioredis.BlockingConnectionPool.from_url(os.environ["REDIS_URL"], max_connections=128, timeout=2.0)
    store = aioredis.Redis.from_pool(pool)
    tasks: set[asyncio.Task[Any]] = set()
    state: dict[str, Any] = {}

    async def handle(events: list[Any]) -> None:
        api: AsyncMessagingApi = state["api"]
        for event in events:
            if not await store.set(f"{prefix}:echo:{event.webhook_event_id}", b"1", nx=True, ex=3600):
                continue  # a redelivery
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                text = event.message.text
            elif isinstance(event, PostbackEvent):
                text = event.postback.data
            elif isinstance(event, FollowEvent):
                text = "こんにちは"
            else:
                continue
            request = ReplyMessageRequest(reply_token=event.reply_token, messages=[TextMessage(text=text)])
            await api.reply_message(request, _request_timeout=10)

    async def webhook(request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        try:
            events = parser.parse(body, request.headers.get("x-line-signature", ""))
        except InvalidSignatureError:
            return PlainTextResponse("bad signature", status_code=401)
        task = asyncio.create_task(handle(events))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return PlainTextResponse("OK")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client = AsyncApiClient(configuration)
        state["api"] = AsyncMessagingApi(client)
        try:
            yield
        finally:
            if tasks:
                await asyncio.wait(set(tasks), timeout=10)
            await client.close()
            await store.aclose()

    routes = [Route("/line/webhook", webhook, methods=["POST"]), Route("/healthz", healthz)]
    return Starlette(routes=routes, lifespan=lifespan)

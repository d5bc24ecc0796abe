"""The web chat harness: the real app under uvicorn on a loopback port, on the memory store or a real Redis,
and an HTTP client that behaves as the chat page does (its cookie jar, its Origin, JSON bodies)."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from bot.channels.web.channel import WebChatChannel
from bot.config import Settings
from bot.core.library.model import Library
from bot.core.session import Session, SessionKey
from bot.store.base import SessionStore
from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from bot.wiring import create_app
from tests.fakes.server import serve
from tests.settings import app_settings

TTL = 3600.0
SECRET = "test-webchat-secret-0123456789"
_ids = itertools.count(1)


def web_settings(**overrides: Any) -> Settings:
    return app_settings(**{"webchat_enabled": True, "webchat_secret": SECRET, **overrides})


def message_id() -> str:
    return f"msg-{next(_ids):06d}-{uuid.uuid4().hex[:8]}"


@dataclass
class Browser:
    """One browser on the chat: its own cookies, the page's Origin."""

    client: httpx.AsyncClient
    origin: str

    async def post(self, body: dict[str, Any], path: str = "/chat/api/turn", **headers: str) -> httpx.Response:
        sent = {"Origin": self.origin, "Content-Type": "application/json", **headers}
        return await self.client.post(path, json=body, headers=sent)

    async def say(self, **body: Any) -> dict[str, Any]:
        """One message (start / text / choice / command) with a fresh id; the answer's JSON."""
        response = await self.post({"id": message_id(), **body})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    async def tap(self, data: dict[str, Any], label: str) -> dict[str, Any]:
        """Tap the button labelled `label` in the last question of an answer."""
        return await self.say(choice=option(data, label)["value"])

    @property
    def cookie(self) -> str | None:
        return self.client.cookies.get("taikai_chat")


def last_question(data: dict[str, Any]) -> dict[str, Any]:
    questions = [reply for reply in data["replies"] if reply["type"] == "question"]
    assert questions, data
    return questions[-1]


def option(data: dict[str, Any], label: str) -> dict[str, Any]:
    for candidate in last_question(data)["options"]:
        if candidate["label"] == label:
            return candidate
    raise AssertionError(f"no button {label!r} in {last_question(data)}")


@dataclass
class Running:
    url: str
    app: Starlette
    store: SessionStore
    keys: KeyBuilder | None
    browsers: list[httpx.AsyncClient]

    @property
    def channel(self) -> WebChatChannel:
        (channel,) = (c for c in self.app.state.channels if isinstance(c, WebChatChannel))
        return channel

    async def browser(self) -> Browser:
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        self.browsers.append(client)
        return Browser(client, self.url)

    async def session(self, browser: Browser) -> Session | None:
        user = self.channel.ids.read(browser.cookie)
        assert user is not None
        return (await self.store.load(SessionKey("web", "-", user))).session


StartApp = Callable[..., contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def start_app(library: Library) -> StartApp:
    """`async with start_app(redis=url, **settings) as running:` — the app on the memory or Redis store."""

    @contextlib.asynccontextmanager
    async def start(redis: str | None = None, **overrides: Any) -> AsyncIterator[Running]:
        keys = KeyBuilder(f"taikai-web-test-{uuid.uuid4().hex[:12]}") if redis else None
        store: SessionStore = RedisSessionStore.from_url(redis, TTL, keys=keys) if keys else MemorySessionStore(TTL)
        app = create_app(web_settings(**overrides), library, store)
        running = None
        try:
            async with serve(app) as url:
                running = Running(url, app, store, keys, [])
                yield running
        finally:
            for client in running.browsers if running else ():
                await client.aclose()
            if redis and keys:
                raw = aioredis.Redis.from_url(redis)
                with contextlib.suppress(aioredis.ConnectionError):  # a test of a Redis that is down
                    found = [k async for k in raw.scan_iter(match=f"{keys.prefix}:*")]
                    if found:
                        await raw.delete(*found)
                await raw.aclose()

    return start


@pytest.fixture(params=["memory", "redis"])
def store_kind(request: pytest.FixtureRequest) -> str | None:
    """Both stores: the memory one, and a real Redis (the `redis_url` fixture fails under CI=true without it)."""
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url

"""The LINE test harness: the real app under uvicorn on a loopback port, the fake LINE API on another.

Turns run in background tasks after the 200, so tests wait on the fake (`fake.wait_for`) or on the
task tracker (`Running.settle`) rather than sleeping. Redis keys live under a prefix unique to each
test and are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from bot.channels.line.channel import LineChannel
from bot.config import Settings
from bot.core.library.model import Library
from bot.core.session import Session, SessionKey
from bot.store.base import SessionStore
from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from bot.wiring import create_app
from tests.channels.line import webhooks
from tests.fakes.line_api import FakeLineApi
from tests.fakes.server import serve

TTL = 3600.0


def line_settings(api_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "line_channel_secret": webhooks.SECRET,
        "line_channel_access_token": webhooks.TOKEN,
        "line_api_base_url": api_url,
        "line_push_fallback": True,
        "redis_url": None,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_client_id": None,
        "log_message_text": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Running:
    """The app being served, its HTTP client, and what it writes (through `store`, or Redis directly)."""

    url: str
    app: Starlette
    client: httpx.AsyncClient
    fake: FakeLineApi
    keys: KeyBuilder | None = None
    redis: aioredis.Redis | None = None
    users: list[str] = field(default_factory=list)

    @property
    def channel(self) -> LineChannel:
        channel = self.app.state.channels[0]
        assert isinstance(channel, LineChannel)
        return channel

    async def post(self, raw: bytes, headers: Mapping[str, str | bytes] | None = None) -> httpx.Response:
        return await self.client.post(
            "/line/webhook", content=raw, headers=webhooks.headers(raw) if headers is None else headers
        )

    async def send(self, *events: dict[str, Any]) -> httpx.Response:
        response = await self.post(webhooks.body(*events))
        assert response.status_code == 200, response.text
        await self.settle()
        return response

    async def settle(self, within: float = 5.0) -> None:
        """Wait until every background turn has finished (the tracker exposes a count, not an event)."""
        tasks = self.app.state.services.tasks
        async with asyncio.timeout(within):
            while tasks.pending:  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    async def session(self, user: str) -> tuple[Session | None, int]:
        """What the store holds for `user` (read through a second store, as another replica would)."""
        key = SessionKey("line", webhooks.DESTINATION, user)
        if self.redis is not None and self.keys is not None:
            reader = RedisSessionStore(self.redis, TTL, keys=self.keys)
            loaded = await reader.load(key)
        else:
            loaded = await self.app.state.services.store.load(key)
        return loaded.session, loaded.version

    async def naming(self, user: str) -> list[bytes]:
        """Every key whose name, or string value, holds `user`'s id in clear (after 削除: the rate bucket only)."""
        assert self.redis is not None
        found = []
        async for name in self.redis.scan_iter(match="*", count=1000):
            value = await self.redis.get(name) if await self.redis.type(name) == b"string" else b""
            if user.encode() in name or user.encode() in (value or b""):
                found.append(name)
        return found

    async def stored_keys(self) -> list[bytes]:
        """Every key this deployment holds but its own log pseudonym key (which names no user)."""
        assert self.redis is not None and self.keys is not None
        own = self.keys.log_hash_key.encode()
        return [k async for k in self.redis.scan_iter(match=f"{self.keys.prefix}:*") if k != own]


@pytest.fixture
async def fake() -> AsyncIterator[FakeLineApi]:
    api = FakeLineApi(webhooks.TOKEN)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


StartApp = Callable[..., contextlib.AbstractAsyncContextManager[Running]]


@pytest.fixture
def start_app(library: Library, fake: FakeLineApi) -> StartApp:
    """`async with start_app(redis=url, **settings) as running:` — the app on the memory or Redis store."""

    @contextlib.asynccontextmanager
    async def start(redis_url: str | None = None, **overrides: Any) -> AsyncIterator[Running]:
        settings = line_settings(fake.url, **overrides)
        keys = KeyBuilder(f"taikai-line-test-{uuid.uuid4().hex[:12]}") if redis_url else None
        store: SessionStore = RedisSessionStore.from_url(redis_url, TTL, keys=keys) if keys else MemorySessionStore(TTL)
        raw = aioredis.Redis.from_url(redis_url) if redis_url else None
        app = create_app(settings, library, store)
        try:
            async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
                yield Running(url, app, client, fake, keys, raw)
        finally:
            if raw is not None and keys is not None:
                found = [k async for k in raw.scan_iter(match=f"{keys.prefix}:*")]
                if found:
                    await raw.delete(*found)
                await raw.aclose()

    return start

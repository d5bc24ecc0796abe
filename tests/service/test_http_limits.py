"""Header bounds and read deadlines of the server as `serve` runs it (issue 11, item 8), over raw sockets."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
import uvicorn

from bot.config import Settings
from bot.core.library.model import Library
from bot.store.memory import MemorySessionStore
from bot.web.protocol import MAX_HEADER_BYTES, MAX_HEADERS, GuardedHttpToolsProtocol
from bot.web.server import uvicorn_config
from bot.wiring import create_app


@contextlib.asynccontextmanager
async def server(library: Library) -> AsyncIterator[int]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        redis_url=None,
        line_channel_secret="secret",  # LINE on, so that a POST route reads its body; nothing is ever sent
        line_channel_access_token="token",
        line_api_base_url="http://127.0.0.1:9",
        slack_signing_secret=None,
    )
    config = uvicorn_config(create_app(settings, library, MemorySessionStore(60)), settings, "127.0.0.1", 0)
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())
    async with asyncio.timeout(10):
        while not running.started:  # noqa: ASYNC110 (uvicorn offers no event)
            await asyncio.sleep(0.01)
    try:
        yield running.servers[0].sockets[0].getsockname()[1]
    finally:
        running.should_exit = True
        await task


async def exchange(port: int, *parts: bytes, pause: float = 0.0) -> bytes:
    """Send `parts` (pausing between them), then read until the server closes or 5 s pass."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(pause)
        async with asyncio.timeout(5):
            return await reader.read(4096)
    finally:
        writer.close()


async def test_a_normal_request_still_works(library: Library) -> None:
    async with server(library) as port:
        answer = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200")


async def test_too_large_or_too_many_headers_get_431(library: Library) -> None:
    async with server(library) as port:
        big = await exchange(port, b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * (MAX_HEADER_BYTES + 1) + b"\r\n\r\n")
        many = b"".join(b"X-%d: 1\r\n" % i for i in range(MAX_HEADERS + 1))
        lots = await exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert big.startswith(b"HTTP/1.1 431") and lots.startswith(b"HTTP/1.1 431")


async def test_slow_headers_and_slow_bodies_are_cut_off(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(GuardedHttpToolsProtocol, "header_timeout", 0.3)
    monkeypatch.setattr(GuardedHttpToolsProtocol, "body_timeout", 0.3)
    async with server(library) as port:
        silent = await exchange(port)  # connects and sends nothing
        slow_headers = await exchange(port, b"GET /healthz HTTP/1.1\r\n", b"X-A: 1\r\n", pause=0.2)
        slow_body = await exchange(
            port, b"POST /line/webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", b"{", pause=0.2
        )
    for answer in (silent, slow_headers, slow_body):
        assert answer.startswith(b"HTTP/1.1 408") or answer == b"", answer[:40]
    assert slow_headers.startswith(b"HTTP/1.1 408")


def test_the_uvicorn_internals_the_protocol_relies_on_are_still_there() -> None:
    """bot/web/protocol.py subclasses uvicorn's private `HttpToolsProtocol`: overrides its parser callbacks
    and its parser-error answer, and reads `loop`, `transport` and `cycle.response_started`. An upgrade of
    uvicorn that renames any of them fails here, not in production."""
    import inspect

    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

    overridden = {
        "connection_made": ["self", "transport"],
        "connection_lost": ["self", "exc"],
        "on_message_begin": ["self"],
        "on_url": ["self", "url"],
        "on_header": ["self", "name", "value"],
        "on_headers_complete": ["self"],
        "on_message_complete": ["self"],
        "send_400_response": ["self", "msg"],
    }
    for name, parameters in overridden.items():
        assert list(inspect.signature(getattr(HttpToolsProtocol, name)).parameters) == parameters, name
        assert name in GuardedHttpToolsProtocol.__dict__, name
    init = inspect.getsource(HttpToolsProtocol.__init__)
    assert "self.loop" in init and "self.transport" in init and "self.cycle" in init
    assert "response_started" in inspect.getsource(RequestResponseCycle.__init__)
    assert "send_400_response" in inspect.getsource(HttpToolsProtocol.data_received), "parser errors still answered"

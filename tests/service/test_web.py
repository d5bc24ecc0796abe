"""Health, readiness and metrics endpoints; the funnel after a scripted conversation; JSON turn logs."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from bot.config import Settings
from bot.core.library.model import Library
from bot.core.messages import StartInput, TextInput
from bot.core.session import SessionKey
from bot.store.memory import MemorySessionStore
from bot.telemetry.logs import JsonFormatter
from bot.web.services import Services
from bot.wiring import create_app


def settings() -> Settings:
    return Settings(_env_file=None, redis_url=None, line_channel_secret=None, slack_signing_secret=None)  # type: ignore[call-arg]


class DownStore(MemorySessionStore):
    async def ping(self) -> bool:
        return False


async def get(app: object, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        return await client.get(path)


async def test_health_and_readiness(library: Library) -> None:
    app = create_app(settings(), library, MemorySessionStore(60))
    assert (await get(app, "/healthz")).status_code == 200
    ready = await get(app, "/readyz")
    assert ready.status_code == 200 and ready.json()["store"] == "ok"
    down = create_app(settings(), library, DownStore(60))
    assert (await get(down, "/readyz")).status_code == 503
    optional = await get(down, "/readyz?store=optional")
    assert optional.status_code == 200 and optional.json()["store"] == "unreachable"


async def test_metrics_show_the_funnel_after_a_conversation(library: Library) -> None:
    app = create_app(settings(), library, MemorySessionStore(60))
    services: Services = app.state.services
    key = SessionKey("line", "-", "U1")
    await services.conversation.turn(key, StartInput(), event_id="a")
    for i, text in enumerate(
        ["ランサーズ", "もう使わない", "はい", "受注者", "ある", "キャンセルをお願いする", "作る"]
    ):
        await services.conversation.turn(key, TextInput(text), event_id=f"e{i}")
    await services.conversation.turn(key, TextInput("ランサーズ"), event_id="e0")  # a redelivery
    body = (await get(app, "/metrics")).text
    assert 'taikai_state_entries_total{flow="lancers",state="role"} 1.0' in body
    assert 'taikai_state_exits_total{flow="common",state="menu"} 1.0' in body
    assert 'taikai_turns_total{channel="line",outcome="answered"}' in body
    assert 'taikai_dedupe_hits_total{channel="line"} 1.0' in body
    assert "taikai_turn_seconds_bucket" in body


async def test_turn_log_is_one_json_line_without_message_text(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings(), library, MemorySessionStore(60))
    services: Services = app.state.services
    with caplog.at_level(logging.INFO, logger="taikai.turn"):
        await services.conversation.turn(SessionKey("line", "-", "Usecret"), TextInput("ランサーズ"))
    record = next(r for r in caplog.records if r.getMessage() == "turn")
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["state_after"].startswith("lancers:") and data["channel"] == "line"
    assert len(data["turn_id"]) == 16, "the turn id follows the turn into its log lines"
    assert "ランサーズ" not in line and "Usecret" not in line


async def test_oversized_bodies_are_refused_before_any_handler(library: Library) -> None:
    app = create_app(settings(), library, MemorySessionStore(60))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        big = await client.post("/slack/events", content=b"x" * (2 * 1024 * 1024))
        assert big.status_code == 413


async def test_chunked_bodies_are_counted_as_they_arrive() -> None:
    """Pins the dependency: Starlette's own body limit (`max_body_size`, starlette >= 1.6), which the app and
    LINE's route use, counts a chunked body (no Content-Length) as it arrives and cuts it past the limit."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(routes=[Route("/", echo, methods=["POST"])], max_body_size=1000)

    async def chunks(count: int):  # type: ignore[no-untyped-def]
        for _ in range(count):
            yield b"y" * 300

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        assert (await client.post("/", content=chunks(3))).text == "900"
        assert (await client.post("/", content=chunks(4))).status_code == 413

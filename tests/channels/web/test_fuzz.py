"""Property: whatever a client posts to the web chat's API, the answer is a clear status — never a 5xx —
and a refused request changes nothing stored (hypothesis; the app through its ASGI interface)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.library.load import load_library
from bot.core.session import SessionKey
from bot.store.memory import MemorySessionStore
from bot.wiring import create_app
from tests.channels.web.conftest import web_settings
from tests.conftest import FLOWS_DIR

STORE = MemorySessionStore(3600)
APP = create_app(web_settings(), load_library(FLOWS_DIR), STORE)
ORIGIN = "http://chat.test"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
FIELD = st.sampled_from(["id", "start", "text", "choice", "command", "extra"])
BODY = st.dictionaries(FIELD, JSON | st.text(min_size=0, max_size=80), max_size=4) | JSON
RAW = st.binary(max_size=200)


async def _post(client: httpx.AsyncClient, content: bytes, content_type: str) -> httpx.Response:
    headers = {"Origin": ORIGIN, "Content-Type": content_type}
    return await client.post("/chat/api/turn", content=content, headers=headers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies=st.lists(BODY.map(lambda b: json.dumps(b).encode()) | RAW, min_size=1, max_size=5))
def test_any_body_gets_a_clear_status_and_refusals_change_nothing(bodies: list[bytes]) -> None:
    async def run() -> None:
        transport = httpx.ASGITransport(app=APP)
        ids = APP.state.channels[0].ids
        user = ids.new()  # a browser that has its cookie already (new ones are limited per address)
        cookies = {"taikai_chat": ids.cookie(user)}
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN, cookies=cookies) as client:
            start = await client.post(
                "/chat/api/turn", json={"id": "start-0001", "start": True}, headers={"Origin": ORIGIN}
            )
            assert start.status_code == 200
            key = SessionKey("web", "-", user)
            for body in bodies:
                before = (await STORE.load(key)).session
                response = await _post(client, body, "application/json")
                assert response.status_code < 500, (response.status_code, body)
                answer: Any = response.json()
                if response.status_code >= 400:
                    assert set(answer) == {"error"}
                    assert (await STORE.load(key)).session == before
                else:
                    assert answer["status"] in ("answered", "duplicate") and isinstance(answer["replies"], list)

    asyncio.run(run())

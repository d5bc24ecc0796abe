"""The operators' console (/admin): off without ADMIN_TOKEN, closed without it, and after a scripted load of
1,000 users its counts agree with the sessions themselves — on the memory store and a real Redis."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from bot.config import Settings
from bot.conversation import Conversation, UserMessage
from bot.core.dialogue.checklist import open_rules
from bot.core.library.model import Library
from bot.core.messages import CommandInput, StartInput, TextInput
from bot.core.session import SessionKey
from bot.store.base import SessionStore
from bot.store.keys import KeyBuilder
from bot.store.memory import MemorySessionStore
from bot.store.redis import RedisSessionStore
from bot.telemetry.usage import Usage
from bot.wiring import create_app
from tests.flows.journeys import TO_CANCEL_MESSAGE
from tests.settings import app_settings

TOKEN = "console-token-for-tests"
# what each tenth of the scripted users types, after the greeting
SCRIPTS = [
    [],
    ["ランサーズ"],
    ["ランサーズ", "もう使わない"],
    ["ランサーズ", "もう使わない", "はい", "受注者", "ある"],
    ["クラウドワークス"],
    ["ランサーズ", "もう使わない", "ぴよぴよ"],  # not understood: a struggle at the re-register question
    TO_CANCEL_MESSAGE,
    ["両方"],
    ["ランサーズ", "もう使わない", "はい"],
    ["クラウドワークス", "ぴよぴよ"],
]


def settings(**overrides: Any) -> Settings:
    return app_settings(**{"admin_token": TOKEN, "reminders_enabled": False, **overrides})


@contextlib.asynccontextmanager
async def app_on(
    library: Library, redis_url: str | None, **overrides: Any
) -> AsyncIterator[tuple[Starlette, SessionStore]]:
    keys = KeyBuilder(f"taikai-console-test-{uuid.uuid4().hex[:12]}") if redis_url else None
    store: SessionStore = RedisSessionStore.from_url(redis_url, 3600, keys=keys) if keys else MemorySessionStore(3600)
    app = create_app(settings(**overrides), library, store)
    try:
        yield app, store
    finally:
        await store.close()
        if redis_url and keys:
            raw = aioredis.Redis.from_url(redis_url)
            found = [k async for k in raw.scan_iter(match=f"{keys.prefix}:*")]
            if found:
                await raw.delete(*found)
            await raw.aclose()


def usage_of(app: Starlette) -> Usage:
    conversation = app.state.services.conversation
    assert isinstance(conversation, Conversation)
    (usage,) = conversation.sessions
    assert isinstance(usage, Usage)
    return usage


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test")


@pytest.fixture(params=["memory", "redis"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


async def test_the_console_is_off_without_a_token(library: Library) -> None:
    async with app_on(library, None, admin_token=None) as (app, _), client(app) as http:
        assert (await http.get("/admin")).status_code == 404
        assert (await http.get("/admin/api/usage")).status_code == 404


async def test_the_console_needs_the_token(library: Library) -> None:
    async with app_on(library, None) as (app, _), client(app) as http:
        bare = await http.get("/admin")
        assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Basic")
        wrong = base64.b64encode(b"admin:nope").decode()
        assert (await http.get("/admin", headers={"Authorization": f"Basic {wrong}"})).status_code == 401
        assert (await http.get("/admin/api/usage", headers={"Authorization": "Bearer nope"})).status_code == 401
        assert (await http.get("/admin", headers={"Authorization": "Basic !!!"})).status_code == 401
        right = base64.b64encode(f"anyone:{TOKEN}".encode()).decode()
        page = await http.get("/admin", headers={"Authorization": f"Basic {right}"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "script" not in page.text and page.headers["cache-control"] == "no-store"
        api = await http.get("/admin/api/usage", headers={"Authorization": f"Bearer {TOKEN}"})
        assert api.status_code == 200 and api.json()["users"] == 0


async def test_after_a_thousand_users_the_console_counts_what_the_sessions_say(
    library: Library, store_url: str | None
) -> None:
    async with app_on(library, store_url) as (app, store), client(app) as http:
        conversation: Conversation = app.state.services.conversation
        users = [SessionKey("line", "dest", f"U{n:05d}{uuid.uuid4().hex[:6]}") for n in range(1000)]
        for n, key in enumerate(users):
            await conversation.handle(UserMessage(key, StartInput()))
            for text in SCRIPTS[n % len(SCRIPTS)]:
                await conversation.handle(UserMessage(key, TextInput(text)))
        erased = users[:7]
        for key in erased:
            await conversation.erase(key)
        usage = usage_of(app)
        usage.reminder("payout", "delivered")
        usage.later("line", "lost")
        await usage.flush()

        where: Counter[str] = Counter()
        pending: Counter[str] = Counter()
        for key in users[7:]:
            session = (await store.load(key)).session
            assert session is not None
            where[f"{session.flow}:{session.state}"] += 1
            pending.update(open_rules(library, session))

        response = await http.get("/admin/api/usage", headers={"Authorization": f"Bearer {TOKEN}"})
        report = response.json()
        shown = {f"{f['flow']}:{s['state']}": s["users"] for f in report["funnel"] for s in f["states"] if s["users"]}
        assert shown == dict(where) and report["users"] == 993
        assert {f"{p['flow']}:{p['kind']}": p["users"] for p in report["pending"]} == dict(pending)
        states = {(f["flow"], s["state"]): s for f in report["funnel"] for s in f["states"]}
        assert states["lancers", "reregister"]["reask"] == 100  # the 「ぴよぴよ」 tenth struggled there
        lancers_first = sum(
            1 for n in range(1000) if SCRIPTS[n % 10][:1] in (["ランサーズ"], ["両方"])
        )  # 両方: Lancers first
        assert states["lancers", "start"]["entered"] == lancers_first
        today = report["daily"][0]
        assert today["turns"]["line"] > 1000 and today["reminders"]["delivered"] == 1 and today["later"]["lost"] == 1
        # counts only: no user id, nothing anyone typed
        raw = json.dumps(report, ensure_ascii=False)
        assert not any(key.user in raw for key in users) and "ぴよぴよ" not in raw and "山田" not in raw

        # moving on moves the count; the page draws the same numbers
        await conversation.handle(UserMessage(users[8], CommandInput("restart")))
        await usage.flush()
        again = (await http.get("/admin/api/usage", headers={"Authorization": f"Bearer {TOKEN}"})).json()
        assert again["users"] == 993
        page = await http.get("/admin", headers={"Authorization": f"Bearer {TOKEN}"})
        assert "ランサーズ" in page.text and "993" in page.text


class Failing:
    """A backend whose writes fail until `ok` (a store outage), around the real memory one."""

    def __init__(self) -> None:
        from bot.telemetry.usage_store import MemoryUsage

        self.real, self.ok = MemoryUsage(), False

    async def apply(self, batch: Any, all_groups: Any) -> None:
        if not self.ok:
            raise ConnectionError("down")
        await self.real.apply(batch, all_groups)

    async def counts(self, groups: list[str], active_since: float) -> dict[str, int]:
        return await self.real.counts(groups, active_since)

    async def days(self, days: list[str]) -> dict[str, dict[str, int]]:
        return await self.real.days(days)

    async def prune(self, groups: list[str], active_since: float) -> None:
        await self.real.prune(groups, active_since)


async def test_counts_survive_a_failed_flush_and_an_erase_then_return(library: Library, engine: Any) -> None:
    """A flush that fails keeps its counts for the next one (no user counted in two places), and a user
    who erased and came back within one window is counted where they are."""
    from bot.core.session import SessionKey as Key
    from bot.store.memory import MemorySessionStore as Memory

    backend = Failing()
    usage = Usage(library, backend, 3600)  # type: ignore[arg-type]
    conversation = Conversation(engine, Memory(3600), observers=(usage,), sessions=(usage,))
    key = Key("line", "d", "U1")
    await conversation.handle(UserMessage(key, StartInput()))
    await usage.flush()  # fails: kept
    await conversation.handle(UserMessage(key, TextInput("ランサーズ")))
    backend.ok = True
    await usage.flush()
    report = await usage.report()
    assert report["users"] == 1
    await conversation.erase(key)
    await conversation.handle(UserMessage(key, StartInput()))
    await usage.flush()
    assert (await usage.report())["users"] == 1
    assert report["daily"][0]["turns"]["line"] == 2


async def test_a_store_outage_is_a_503_on_the_console(library: Library) -> None:
    async with app_on(library, None) as (app, _), client(app) as http:
        usage = usage_of(app)

        async def down(days: int = 14) -> dict[str, Any]:
            raise ConnectionError("down")

        usage.report = down  # type: ignore[method-assign]
        response = await http.get("/admin/api/usage", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 503
        odd = await http.get("/admin?days=²", headers={"Authorization": f"Bearer {TOKEN}"})
        assert odd.status_code == 503  # parsed as the default, then the same outage: never a 500

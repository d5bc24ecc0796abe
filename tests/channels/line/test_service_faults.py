"""Operator-facing behaviour on LINE: a flooding user is rate limited; a store outage still answers."""

from __future__ import annotations

from typing import Any

from bot.core.library.model import Library
from bot.store.base import StoreUnavailable
from tests.channels.lexicon import ask
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import StartApp
from tests.fakes.line_api import FakeLineApi


async def test_a_flood_gets_one_notice_then_silence(
    start_app: StartApp, fake: FakeLineApi, library: Library, redis_url: str
) -> None:
    async with start_app(redis_url, rate_limit_burst=3, rate_limit_per_minute=0.01) as run:
        flooder, other = webhooks.user_id(), webhooks.user_id()
        for _ in range(6):
            await run.send(webhooks.text(flooder, "はい"))
        texts = [m["text"] for r in fake.replies for m in r.json["messages"] if "text" in m]
        assert texts.count(library.texts.rate_limited) == 1
        assert len(fake.replies) == 4, "three answers, one notice, then nothing (no quota spent)"
        await run.send(webhooks.text(other, "こんにちは"))
        assert len(fake.replies) == 5, "another user is not blocked"


async def test_store_outage_answers_busy_and_stays_up(start_app: StartApp, fake: FakeLineApi, library: Library) -> None:
    async with start_app() as run:
        user = LineUser(run)
        await user.follow()
        store: Any = run.app.state.services.store

        async def down(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable("simulated outage")

        original, store.load = store.load, down
        response = await run.post(webhooks.body(webhooks.text(user.id, "ランサーズ")))
        assert response.status_code == 200, "LINE still gets its 200"
        await run.settle()
        last = fake.replies[-1].json["messages"]
        assert last[0]["text"] == library.texts.busy
        store.load = original
        await run.send(webhooks.text(user.id, "ランサーズ"))
        assert fake.replies[-1].json["messages"][-1]["text"].startswith(ask("lancers:reason")), "answered again"

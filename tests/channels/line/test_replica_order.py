"""Issue 17, item 7: one user's messages reaching two replicas back to back are applied in arrival order.

Two real servers on one Redis (one of them slower between load and save, as a busier replica is), the
fake LINE API behind both. Before per-user tickets, the fast replica applied a later message while the slow
one was still on the earlier: 49 of 50 replies differed from a sequential run.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from bot.core.library.model import Library
from bot.core.session import Session, SessionKey
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from bot.wiring import create_app
from tests.channels.line import webhooks
from tests.channels.line.conftest import TTL, line_settings
from tests.fakes.line_api import FakeLineApi
from tests.fakes.server import serve
from tests.flows.journeys import TO_PAYOUT_WAITING
from tests.redis_support import delete_prefix

pytestmark = pytest.mark.redis

MESSAGES = [*TO_PAYOUT_WAITING, "状況", "戻る", "戻る", "戻る", "ヘルプ", "最初から", "ランサーズ", "もう使わない"]
SLOW_SAVE = 0.02  # seconds the slower replica spends between its load and its save


class SlowStore(RedisSessionStore):
    """A replica with more on its plate: the same store, a little later to save."""

    async def save(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(SLOW_SAVE)
        return await super().save(*args, **kwargs)


@contextlib.asynccontextmanager
async def replica(
    library: Library, fake: FakeLineApi, store: RedisSessionStore
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(line_settings(fake.url, rate_limit_burst=1000), library, store)
    async with serve(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield app, client


async def _run(
    library: Library, fake: FakeLineApi, redis_url: str, servers: int, gap: float
) -> tuple[list[list[str]], Session | None]:
    """Every message of one user, replica by replica in turn, `gap` seconds apart; the replies per message."""
    keys = KeyBuilder(f"taikai-order-{uuid.uuid4().hex[:10]}")
    stores = [(SlowStore if i % 2 else RedisSessionStore).from_url(redis_url, TTL, keys=keys) for i in range(servers)]
    user = webhooks.user_id()
    events = [webhooks.text(user, text) for text in MESSAGES]
    try:
        async with contextlib.AsyncExitStack() as stack:
            running = [await stack.enter_async_context(replica(library, fake, store)) for store in stores]
            for _, client in running:  # connections open first: the messages must reach the servers in order
                assert (await client.get("/healthz")).status_code == 200
            posts = []
            for index, event in enumerate(events):
                raw = webhooks.body(event)
                client = running[index % servers][1]
                posts.append(
                    asyncio.create_task(client.post("/line/webhook", content=raw, headers=webhooks.headers(raw)))
                )
                await asyncio.sleep(gap)
            assert all(r.status_code == 200 for r in await asyncio.gather(*posts))
            await fake.wait_for(lambda: all(fake.sent_to(e["replyToken"]) for e in events), within=20)
            for app, _ in running:
                tasks = app.state.services.tasks
                while tasks.pending:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
            final = (await stores[0].load(SessionKey("line", webhooks.DESTINATION, user))).session
            order_key = keys.order(SessionKey("line", webhooks.DESTINATION, user))
            assert not await stores[0].client.exists(order_key), "no ticket is left once every turn has ended"
        replies = [[m.get("text", "") for m in fake.sent_to(e["replyToken"])] for e in events]
        return replies, final
    finally:
        for store in stores:
            await store.close()
        await delete_prefix(redis_url, keys.prefix)


async def test_back_to_back_messages_on_two_replicas_apply_in_arrival_order(
    library: Library, fake: FakeLineApi, redis_url: str
) -> None:
    sequential, expected = await _run(library, fake, redis_url, servers=1, gap=0.1)
    concurrent, final = await _run(library, fake, redis_url, servers=2, gap=0.01)
    differing = [i for i, (a, b) in enumerate(zip(sequential, concurrent, strict=True)) if a != b]
    assert differing == [], f"{len(differing)} of {len(MESSAGES)} replies differ from a sequential run"
    assert final is not None and expected is not None
    assert (final.flow, final.state, final.answers) == (expected.flow, expected.state, expected.answers)

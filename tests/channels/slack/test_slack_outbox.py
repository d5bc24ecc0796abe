"""Issue 17, item 3 on Slack: a DM answer Slack refused on every try (429, 503) is kept in Redis and posted
later by the worker embedded in `serve`, once, in the same DM; one that may have been posted (a 500) is not."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from bot.core.library.model import Library
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.channels.lexicon import ask
from tests.channels.slack.harness import SlackHarness, running, settings_for
from tests.fakes.server import eventually
from tests.fakes.slack_api import FakeSlackApi

pytestmark = pytest.mark.redis

USER, DM = "U1", "DU1"


@pytest.fixture
async def slack(library: Library, slack_api: FakeSlackApi, redis_url: str) -> AsyncIterator[SlackHarness]:
    workspace = slack_api.add_workspace("T1")
    keys = KeyBuilder(f"taikai-slack-later-{uuid.uuid4().hex[:10]}")
    store = RedisSessionStore.from_url(redis_url, 3600, keys=keys)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api, store) as s:
            yield s
    finally:
        found = [k async for k in raw.scan_iter(match=f"{keys.prefix}*")]
        if found:
            await raw.delete(*found)
        await raw.aclose()


def _later(slack: SlackHarness, outcome: str) -> float:
    return slack.services.metrics.replies_later.labels("slack", outcome)._value.get()  # type: ignore[no-any-return]


async def test_an_answer_slack_refused_is_posted_later_once(slack: SlackHarness, slack_api: FakeSlackApi) -> None:
    slack_api.http_failures["chat.postMessage"] = [503] * 3  # the try and its two retries
    assert (await slack.dm(USER, "こんにちは")).status_code == 200
    await slack.settle()
    await eventually(lambda: _later(slack, "delivered") == 1)
    posted = [c for c in slack_api.posts(DM) if ask("common:menu") in c.text()]
    assert len(posted) == 4, "three refused tries, then the post from the outbox"
    await asyncio.sleep(0.5)
    assert len([c for c in slack_api.posts(DM) if ask("common:menu") in c.text()]) == 4, "once"
    assert _later(slack, "kept") == 1 and _later(slack, "lost") == 0


async def test_an_answer_that_may_have_been_posted_is_not_kept(slack: SlackHarness, slack_api: FakeSlackApi) -> None:
    """After a 500 Slack may have posted it: posting it later could show it twice (item 4)."""
    slack_api.http_failures["chat.postMessage"] = [500]
    assert (await slack.dm(USER, "こんにちは")).status_code == 200
    await slack.settle()
    await asyncio.sleep(0.5)
    assert len(slack_api.posts(DM)) == 1 and _later(slack, "kept") == 0

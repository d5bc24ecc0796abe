"""A reminder through the whole server on Slack: asked for in the DM, scheduled on Redis, delivered by the
worker embedded in `serve` as a DM with the workspace's token — once."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import redis.asyncio as aioredis
from saq.job import Status

from bot.core.dates import JST
from bot.core.library.model import Library
from bot.core.session import SessionKey
from bot.reminders.queue import FUNCTION
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.channels.slack.harness import SlackHarness, running, settings_for
from tests.fakes.slack_api import FakeSlackApi
from tests.flows.journeys import TO_PAYOUT_WAITING
from tests.reminders.waits import finished

pytestmark = pytest.mark.redis

USER = "U1"
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()


async def _type(slack: SlackHarness, text: str) -> None:
    assert (await slack.dm(USER, text)).status_code == 200
    await slack.settle()


async def test_a_due_reminder_is_sent_as_a_dm_once(library: Library, slack_api: FakeSlackApi, redis_url: str) -> None:
    workspace = slack_api.add_workspace("T1")
    keys = KeyBuilder(f"taikai-slack-rem-{uuid.uuid4().hex[:10]}")
    store = RedisSessionStore.from_url(redis_url, 3600, keys=keys)
    raw = aioredis.Redis.from_url(redis_url)
    try:
        async with running(
            settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api, store
        ) as slack:
            worker = slack.app.state.reminders
            assert worker is not None
            worker.clock = lambda: NOON  # daytime in Japan, whenever CI runs
            for text in [*TO_PAYOUT_WAITING, "明日"]:
                await _type(slack, text)
            key = SessionKey("slack", "T1", USER)
            session = await slack.services.conversation.session(key)
            assert session is not None and len(session.reminders) == 1
            reminder = session.reminders[0]
            before = len(slack_api.posts(USER))
            job = {
                "channel": "slack",
                "workspace": "T1",
                "user": USER,
                "reminder_id": reminder.id,
                "kind": reminder.kind,
            }
            await worker.queue.queue.enqueue(FUNCTION, kwargs=job, key=f"{keys.prefix}:now", scheduled=int(time.time()))
            assert await finished(worker.queue, f"{keys.prefix}:now") == [Status.COMPLETE]
            dms = slack_api.posts(USER)[before:]
            assert dms and {c.token for c in dms} == {workspace.token}
            assert library.state("lancers:remind_payout").ask in dms[-1].text()
            assert len([c for c in dms if c.buttons()]) == 1, "one reminder, one question"
            session = await slack.services.conversation.session(key)
            assert session is not None and session.state == "remind_payout" and not session.reminders
    finally:
        found = [k async for k in raw.scan_iter(match=f"{keys.prefix}*")]
        if found:
            await raw.delete(*found)
        await raw.aclose()

"""A reminder through the whole server for a web-chat user: asked for in the chat, scheduled in the job
queue on Redis, delivered by the worker embedded in `serve` into the browser's mailbox — and handed to the
page once, when it asks."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from saq.job import Status

from bot.core.dates import JST
from bot.reminders.queue import FUNCTION
from tests.channels.web.conftest import StartApp
from tests.flows.journeys import TO_PAYOUT_WAITING
from tests.reminders.waits import finished

pytestmark = pytest.mark.redis

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()


async def test_a_due_reminder_reaches_the_page_once(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis=redis_url) as running:
        worker = running.app.state.reminders
        assert worker is not None, "reminders run in serve when the store is Redis"
        worker.clock = lambda: NOON  # daytime in Japan, whenever CI runs
        browser = await running.browser()
        await browser.say(start=True)
        for text in [*TO_PAYOUT_WAITING, "明日"]:
            await browser.say(text=text)
        session = await running.session(browser)
        assert session is not None and len(session.reminders) == 1
        reminder = session.reminders[0]
        user = running.channel.ids.read(browser.cookie)
        # the user asked for tomorrow: brought forward by enqueueing the same reminder now
        job = {"channel": "web", "workspace": "-", "user": user, "reminder_id": reminder.id, "kind": reminder.kind}
        job_key = f"{worker.queue.keys.prefix}:now"
        await worker.queue.queue.enqueue(FUNCTION, kwargs=job, key=job_key, scheduled=int(time.time()))
        assert await finished(worker.queue, job_key) == [Status.COMPLETE]

        inbox = (await browser.post({}, path="/chat/api/inbox")).json()["messages"]
        assert len(inbox) == 1 and any(reply["type"] == "question" for reply in inbox[0]["replies"])
        assert (await browser.post({}, path="/chat/api/inbox")).json() == {"messages": []}
        session = await running.session(browser)
        assert session is not None and session.state == "remind_payout" and not session.reminders

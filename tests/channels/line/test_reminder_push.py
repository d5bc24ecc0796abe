"""A reminder through the whole server: asked for in LINE, scheduled in the job queue on Redis, delivered by
the worker embedded in `serve` as a push to the (fake) LINE API, with a retry key — once."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from saq.job import Status

from bot.core.dates import JST
from bot.core.session import Reminder, SessionKey
from bot.reminders.queue import FUNCTION
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import Running, StartApp
from tests.flows.journeys import TO_PAYOUT_WAITING
from tests.reminders.waits import finished

pytestmark = pytest.mark.redis

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=JST).timestamp()


async def waiting_with_a_reminder(run: Running) -> tuple[LineUser, Reminder]:
    """A LINE user waiting for a payout who asked to be reminded tomorrow."""
    user = LineUser(run)
    await user.follow()
    for text in [*TO_PAYOUT_WAITING, "明日"]:
        await user.say(text)
    session, _ = await run.session(user.id)
    assert session is not None and len(session.reminders) == 1
    return user, session.reminders[0]


async def test_a_due_reminder_is_pushed_once(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url) as run:
        worker = run.app.state.reminders
        assert worker is not None, "reminders run in serve when the store is Redis"
        worker.clock = lambda: NOON  # daytime in Japan, whenever CI runs
        user, reminder = await waiting_with_a_reminder(run)
        # the user asked for tomorrow: the test brings it forward by enqueueing the same reminder now
        key = {"channel": "line", "workspace": webhooks.DESTINATION, "user": user.id}
        job = dict(key, reminder_id=reminder.id, kind=reminder.kind)
        await worker.queue.queue.enqueue(
            FUNCTION, kwargs=job, key=f"{worker.queue.keys.prefix}:now", scheduled=int(time.time())
        )
        assert await finished(worker.queue, f"{worker.queue.keys.prefix}:now") == [Status.COMPLETE]
        pushes = run.fake.pushes
        assert len(pushes) == 1 and pushes[0].json["to"] == user.id
        assert any(k.lower() == "x-line-retry-key" for k in pushes[0].headers)
        session, _ = await run.session(user.id)
        assert session is not None and session.state == "remind_payout" and not session.reminders


async def test_erase_leaves_nothing_in_redis_that_names_the_user(start_app: StartApp, redis_url: str) -> None:
    """削除 with a reminder scheduled: its job (saq keeps a finished job's record, with the user id the worker
    needs, for as long as its ttl) is deleted too, so nothing names the user but the rate bucket, which
    docs/security.md keeps on purpose until it has refilled (issue 17, item 5)."""
    async with start_app(redis_url) as run:
        user, _ = await waiting_with_a_reminder(run)
        await user.say("削除")
        await user.say("はい、削除する")
        assert (await run.session(user.id))[0] is None
        assert run.redis is not None
        naming = await run.naming(user.id)
        assert run.keys is not None
        key = SessionKey("line", webhooks.DESTINATION, user.id)
        assert naming == [run.keys.rate(key).encode()]
        assert await run.redis.pttl(naming[0]) > 0, "it expires by itself once refilled"

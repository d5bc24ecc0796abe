"""Issue 17, item 3: a reply LINE refused on every try (500, 429) is not lost: it is kept in Redis and pushed
later by the worker embedded in `serve`, once (retry keys, which the fake enforces), and 削除 deletes it."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.session import SessionKey
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import Running, StartApp
from tests.fakes.server import eventually

pytestmark = pytest.mark.redis

REPLY, PUSH = "/v2/bot/message/reply", "/v2/bot/message/push"


def _later(run: Running, outcome: str) -> float:
    metrics = run.app.state.services.metrics
    return metrics.replies_later.labels("line", outcome)._value.get()  # type: ignore[no-any-return]


async def _refused_user(run: Running, replies: list[int], pushes: list[int], retry_delay: float) -> LineUser:
    """A LINE user, then the fake answers the next replies and pushes with these statuses (see `faults`)."""
    worker = run.app.state.reminders
    assert worker is not None
    worker.queue.retry_delay = retry_delay
    user = LineUser(run)
    await user.follow()
    run.fake.faults[REPLY], run.fake.faults[PUSH] = replies, pushes
    return user


async def test_a_reply_line_refused_is_pushed_later_once(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url) as run:
        user = LineUser(run)
        await user.follow()
        await user.say("ランサーズ")
        expected = [m.get("text") for m in user.last]  # what this question looks like when it goes through
        await user.say("戻る")
        run.fake.faults[REPLY] = [500, 500, 500]  # every try of the next reply: a server error
        assert await user.say("ランサーズ") == [], "the reply itself was not taken"
        await eventually(lambda: _later(run, "delivered") == 1)
        pushes = [p for p in run.fake.pushes if p.status == 200]
        assert len(pushes) == 1 and pushes[0].json["to"] == user.id
        assert [m.get("text") for m in pushes[0].json["messages"]] == expected, "the same messages, later"
        assert any(k.lower() == "x-line-retry-key" for k in pushes[0].headers)
        assert _later(run, "kept") == 1 and _later(run, "lost") == 0
        await asyncio.sleep(0.5)
        assert len([p for p in run.fake.pushes if p.status == 200]) == 1, "once"
        assert run.keys is not None and run.redis is not None
        left = [k async for k in run.redis.scan_iter(match=f"{run.keys.prefix}:later*")]
        assert left == [], "nothing of the kept reply is left once it was sent"


async def test_pushes_refused_for_a_while_are_retried_until_they_go(start_app: StartApp, redis_url: str) -> None:
    """A 429 spell longer than the send's own retries: the job is tried again after its backoff."""
    async with start_app(redis_url) as run:
        # pushes: the first try's three and one more
        user = await _refused_user(run, [429, 429, 429], [429] * 4, retry_delay=0.2)
        await user.say("ランサーズ")
        await eventually(lambda: _later(run, "delivered") == 1)
        assert _later(run, "retried") >= 1 and _later(run, "lost") == 0
        assert len([p for p in run.fake.pushes if p.status == 200]) == 1


async def test_a_push_that_went_out_before_a_crash_is_not_shown_twice(start_app: StartApp, redis_url: str) -> None:
    """LINE took the push but its answer was lost (-500): the retry of the job meets 409 and stops there."""
    async with start_app(redis_url) as run:
        # the first push processed, then answered 500; its retries refused
        user = await _refused_user(run, [500, 500, 500], [-500, 500, 500], retry_delay=0.2)
        await user.say("ランサーズ")
        await eventually(lambda: _later(run, "delivered") == 1)
        assert len([p for p in run.fake.pushes if p.status == 200]) == 0
        assert [p.status for p in run.fake.pushes][-1] == 409, "LINE already had it: counted as sent"
        assert len(run.fake.retry_keys) == 1, "one push reached the user"


async def test_erase_deletes_the_replies_kept_for_later(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url) as run:
        # the kept reply waits for its retry while the user erases
        user = await _refused_user(run, [500, 500, 500], [500] * 3, retry_delay=60.0)
        await user.say("ランサーズ")
        await eventually(lambda: _later(run, "retried") == 1)
        await user.say("削除")
        await user.say("はい、削除する")
        assert (await run.session(user.id))[0] is None
        assert run.redis is not None and run.keys is not None
        key = SessionKey("line", webhooks.DESTINATION, user.id)
        assert await run.naming(user.id) == [run.keys.rate(key).encode()], "the kept reply went with the rest"
        assert [k async for k in run.redis.scan_iter(match=f"{run.keys.prefix}:later*")] == []

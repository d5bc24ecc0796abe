"""LINE API trouble: 429/5xx/timeouts retried a bounded number of times, then logged and counted."""

from __future__ import annotations

from bot.core.library.model import Library
from tests.channels.line import webhooks
from tests.channels.line.conftest import StartApp
from tests.fakes.line_api import FakeLineApi

REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"


def metrics(run: object) -> str:
    return run.app.state.services.metrics.render().decode()  # type: ignore[attr-defined]


async def test_429_then_503_then_the_reply_arrives(start_app: StartApp, fake: FakeLineApi) -> None:
    async with start_app() as run:
        fake.faults[REPLY] = [429, 503]
        await run.send(webhooks.text(webhooks.user_id(), "こんにちは"))
        replies = fake.replies
        assert [r.status for r in replies] == [429, 503, 200]
        assert not fake.pushes


async def test_a_failure_outlasting_the_retries_is_counted_and_nothing_crashes(
    start_app: StartApp, fake: FakeLineApi
) -> None:
    async with start_app() as run:
        fake.faults[REPLY] = [500, 500, 500]
        await run.send(webhooks.text(webhooks.user_id(), "こんにちは"))
        assert [r.status for r in fake.replies] == [500, 500, 500], "bounded: one try, two retries"
        assert not fake.pushes, "a server error is not a reason to push (the reply may have arrived)"
        assert 'taikai_platform_api_errors_total{channel="line",status="500"} 1.0' in metrics(run)
        await run.send(webhooks.text(webhooks.user_id(), "こんにちは"))
        assert fake.replies[-1].status == 200, "the service carries on"


async def test_a_reply_that_arrived_despite_a_server_error_is_not_pushed_again(
    start_app: StartApp, fake: FakeLineApi
) -> None:
    async with start_app() as run:
        fake.faults[REPLY] = [-502]  # the reply went out, the bot saw 502; the retry meets a used token
        await run.send(webhooks.text(webhooks.user_id(), "こんにちは"))
        assert [r.status for r in fake.replies] == [502, 400]
        assert not fake.pushes


async def test_push_fallback_is_counted(start_app: StartApp, fake: FakeLineApi, library: Library) -> None:
    async with start_app() as run:
        fake.expire_all_reply_tokens = True
        fake.faults[PUSH] = [503]
        await run.send(webhooks.text(webhooks.user_id(), "こんにちは"))
        assert [p.status for p in fake.pushes] == [503, 200], "a push is retried too (its retry key makes it safe)"
        assert 'taikai_reply_fallbacks_total{channel="line",kind="push"} 1.0' in metrics(run)

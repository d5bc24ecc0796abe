"""Slack API trouble and a store outage: bounded retries, then a logged and counted failure, never a crash."""

from __future__ import annotations

from typing import Any

from bot.core.library.model import Library
from bot.store.base import StoreUnavailable
from bot.store.memory import MemorySessionStore
from tests.channels.lexicon import ask
from tests.channels.slack.harness import running, settings_for
from tests.fakes.slack_api import FakeSlackApi

USER, DM = "U1", "DU1"


async def test_429_and_5xx_are_retried_then_the_message_arrives(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        slack_api.http_failures["chat.postMessage"] = [429, 503]
        assert (await slack.dm(USER, "こんにちは")).status_code == 200
        await slack.settle()
        posts = slack_api.of("chat.postMessage")
        assert len(posts) >= 3, "two failed attempts, then the post"
        assert ask("common:menu") in posts[-1].text()


async def test_a_failure_that_outlasts_the_retries_is_counted(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        slack_api.http_failures["chat.postMessage"] = [503] * 10
        assert (await slack.dm(USER, "こんにちは")).status_code == 200
        await slack.settle()
        assert len(slack_api.of("chat.postMessage")) == 3, "bounded: one try and two retries"
        metrics = slack.services.metrics.render().decode()
        assert 'taikai_platform_api_errors_total{channel="slack"' in metrics


async def test_store_outage_answers_busy(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    store: Any = MemorySessionStore(60)

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("simulated outage")

    store.load = down
    settings = settings_for(slack_api, slack_bot_token=workspace.token)
    async with running(settings, library, slack_api, store) as slack:
        assert (await slack.dm(USER, "こんにちは")).status_code == 200
        await slack.settle()
        assert library.texts.busy in slack_api.posts(DM)[-1].text()


async def test_a_post_answered_500_is_not_posted_again(library: Library, slack_api: FakeSlackApi) -> None:
    """Issue 17: after a 500 the message may have been posted; retrying showed the user three copies. A post is
    retried after 429 or 503 only (refused for sure); other calls keep their 5xx retries."""
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        slack_api.http_failures["chat.postMessage"] = [500]
        assert (await slack.dm(USER, "こんにちは")).status_code == 200
        await slack.settle()
        assert len(slack_api.of("chat.postMessage")) == 1, "one try: no copy"
        assert 'taikai_platform_api_errors_total{channel="slack"' in slack.services.metrics.render().decode()


def test_the_slack_sdk_retry_hook_we_override_is_still_there() -> None:
    """`bot/channels/slack/retries.py` overrides slack_sdk's `_can_retry_async`: an SDK that renames it or its
    keyword arguments fails here, not silently in production (posts would be retried after a 500 again)."""
    import inspect

    from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler

    parameters = inspect.signature(AsyncServerErrorRetryHandler._can_retry_async).parameters
    assert list(parameters) == ["self", "state", "request", "response", "error"]
    assert "_can_retry_async" in inspect.getsource(AsyncServerErrorRetryHandler.__mro__[1])


async def test_one_message_under_two_event_ids_is_one_turn(library: Library, slack_api: FakeSlackApi) -> None:
    """Issue 17: Slack can deliver one message under two event ids; deduping on the event id alone gave two
    turns (and two answers). The message's own id (channel + ts) makes it one."""
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        message = {"type": "message", "channel_type": "im", "channel": f"D{USER}", "user": USER,
                   "text": "こんにちは", "ts": "1764000000.000100", "team": "T1"}  # fmt: skip
        for event_id in ("EvAAAA111111", "EvBBBB222222"):
            assert (await slack.event(dict(message), event_id=event_id)).status_code == 200
            await slack.settle()
        assert len(slack_api.of("chat.postMessage")) == 1

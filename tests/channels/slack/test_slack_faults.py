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

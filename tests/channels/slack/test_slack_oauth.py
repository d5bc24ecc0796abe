"""Multi-workspace OAuth: installs through /slack/install and /slack/oauth_redirect, isolation, uninstall."""

from __future__ import annotations

import re

import httpx
import pytest
import redis.asyncio as aioredis

from bot.channels.slack.channel import SlackChannel
from bot.core.library.model import Library
from bot.core.session import SessionKey
from bot.store.redis import RedisSessionStore
from tests.channels.lexicon import ask
from tests.channels.slack.harness import SlackHarness, running, settings_for
from tests.fakes.slack_api import FakeSlackApi, Workspace

# slack_sdk's own use of aiohttp's BasicAuth for oauth.v2.access (not ours to fix)
pytestmark = pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")


def _channel(slack: SlackHarness) -> SlackChannel:
    return next(c for c in slack.app.state.channels if isinstance(c, SlackChannel))


async def _install(slack: SlackHarness, team: str) -> Workspace:
    """The browser side of an install: the install page sets a state cookie, Slack redirects back with a code."""
    page = await slack.http.get(f"{slack.url}/slack/install")
    assert page.status_code == 200
    state = re.search(r"slack-app-oauth-state=([^;]+)", page.headers["set-cookie"])
    assert state is not None and f"state={state.group(1)}" in page.text
    workspace = slack.api.add_install_code(f"code-{team}", team)
    done = await slack.http.get(
        f"{slack.url}/slack/oauth_redirect",
        params={"code": f"code-{team}", "state": state.group(1)},
        headers={"Cookie": f"slack-app-oauth-state={state.group(1)}"},
    )
    assert done.status_code == 200, done.text
    return workspace


async def _redis_keys(url: str, pattern: str) -> list[bytes]:
    client = aioredis.Redis.from_url(url)
    try:
        # every key but the deployment's own log pseudonym key (it names no user or workspace)
        return [key async for key in client.scan_iter(match=pattern) if not key.endswith(b":log-hash-key")]
    finally:
        await client.aclose()


async def test_two_workspaces_are_isolated_and_an_uninstall_forgets_one(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore, redis_url: str, redis_prefix: str
) -> None:
    settings = settings_for(
        slack_api,
        slack_client_id="1111.2222",
        slack_client_secret="client-secret",
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
    )
    async with running(settings, library, slack_api, redis_store) as slack:
        one, two = await _install(slack, "T1"), await _install(slack, "T2")
        installations = _channel(slack).installations
        assert installations is not None
        bot = await installations.async_find_bot(enterprise_id=None, team_id="T1")
        assert bot is not None and bot.bot_token == one.token
        access = slack_api.of("oauth.v2.access")
        assert len(access) == 2 and all(c.params.get("code") for c in access)

        # the same user id in both workspaces: two separate conversations, each answered with its own token
        await slack.dm("U1", "クラウドワークス", team="T1")
        await slack.settle()
        checks = len(slack_api.of("auth.test"))  # each install's, plus T1's first event
        await slack.dm("U1", "はい", team="T1")
        await slack.settle()
        assert len(slack_api.of("auth.test")) == checks == 3  # later events: no API call before the ack
        await slack.dm("U1", "こんにちは", team="T2")
        await slack.settle()
        t1_post, t2_post = slack_api.posts()[-2:]
        assert t1_post.token == one.token and ask("crowdworks:login_method") in t1_post.text()
        assert t2_post.token == two.token and ask("common:menu") in t2_post.text()
        t1, t2 = SessionKey("slack", "T1", "U1"), SessionKey("slack", "T2", "U1")
        assert (await redis_store.load(t1)).session.flow == "crowdworks"  # type: ignore[union-attr]
        assert (await redis_store.load(t2)).session.flow == "common"  # type: ignore[union-attr]

        # uninstalling T1 removes its installation and its users' sessions, and nothing of T2
        await slack.event({"type": "app_uninstalled"}, team="T1")
        await slack.settle()
        assert await installations.async_find_bot(enterprise_id=None, team_id="T1") is None
        assert await installations.async_find_installation(enterprise_id=None, team_id="T1") is None
        assert (await redis_store.load(t1)).session is None
        assert (await redis_store.load(t2)).session is not None
        assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is not None
        assert await _redis_keys(redis_url, f"{redis_prefix}:*T1*") == []

        # T1's events are no longer answered
        posts = len(slack_api.posts())
        await slack.dm("U1", "こんにちは", team="T1")
        await slack.settle()
        assert len(slack_api.posts()) == posts

        # a revoked bot token ends T2 the same way
        await slack.event({"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}}, team="T2")
        await slack.settle()
        assert await installations.async_find_bot(enterprise_id=None, team_id="T2") is None
        assert (await redis_store.load(t2)).session is None
        assert await _redis_keys(redis_url, f"{redis_prefix}:*") == []


async def test_an_install_state_works_once_and_only_from_its_browser(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore, redis_url: str, redis_prefix: str
) -> None:
    settings = settings_for(
        slack_api,
        slack_client_id="1111.2222",
        slack_client_secret="s",
        redis_url=redis_url,
        redis_key_prefix=redis_prefix,
    )
    async with running(settings, library, slack_api, redis_store) as slack:
        page = await slack.http.get(f"{slack.url}/slack/install")
        match = re.search(r"slack-app-oauth-state=([^;]+)", page.headers["set-cookie"])
        assert match is not None
        state = match.group(1)
        slack_api.add_install_code("code-a", "T1")
        slack_api.add_install_code("code-b", "T1")

        async def callback(code: str, cookie: str | None) -> httpx.Response:
            headers = {"Cookie": f"slack-app-oauth-state={cookie}"} if cookie else {}
            url = f"{slack.url}/slack/oauth_redirect"
            return await slack.http.get(url, params={"code": code, "state": state}, headers=headers)

        assert (await callback("code-a", None)).status_code == 400  # no cookie: another browser
        assert (await callback("code-a", state)).status_code == 200
        assert (await callback("code-b", state)).status_code == 401  # the state was consumed
        assert len(slack_api.of("oauth.v2.access")) == 1


async def test_single_workspace_mode_has_no_install_routes(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        assert (await slack.http.get(f"{slack.url}/slack/install")).status_code == 404
        assert (await slack.http.get(f"{slack.url}/slack/oauth_redirect")).status_code == 404

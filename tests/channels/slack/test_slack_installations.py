"""The installation and OAuth state stores, in memory and in Redis (same contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.store import slack_installations
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from bot.store.slack_installations import (
    MemoryInstallationStore,
    MemoryOAuthStateStore,
    RedisInstallationStore,
    RedisOAuthStateStore,
)
from tests.redis_support import delete_prefix

Stores = tuple[RedisInstallationStore | MemoryInstallationStore, RedisOAuthStateStore | MemoryOAuthStateStore]


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[Stores]:
    if request.param == "memory":
        yield MemoryInstallationStore(), MemoryOAuthStateStore(600)
        return
    url = request.getfixturevalue("redis_url")
    keys = KeyBuilder(redis_prefix)
    sessions = RedisSessionStore.from_url(url, 60, keys=keys)  # the installations share its client
    installations = RedisInstallationStore(sessions.client, keys)
    try:
        yield installations, RedisOAuthStateStore(sessions.client, keys, 600)
    finally:
        await installations.close()
        await sessions.close()
        await delete_prefix(url, redis_prefix)


def _install(team: str, user: str, token: str, enterprise: str | None = None, org: bool = False) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=enterprise,
        team_id=None if org else team,
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT",
        bot_scopes="chat:write,commands",
        user_id=user,
        is_enterprise_install=org,
    )


async def test_installations_are_found_by_workspace_and_installer(stores: Stores) -> None:
    store, _ = stores
    await store.async_save(_install("T1", "UA", "xoxb-old"))
    await store.async_save(_install("T1", "UB", "xoxb-new"))
    await store.async_save(_install("T2", "UA", "xoxb-two"))

    latest = await store.async_find_installation(enterprise_id=None, team_id="T1")
    assert latest is not None and latest.user_id == "UB" and latest.bot_token == "xoxb-new"
    assert latest.bot_scopes == ["chat:write", "commands"]
    first = await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="UA")
    assert first is not None and first.user_id == "UA"
    assert first.bot_token == "xoxb-new"  # an installer's record gets the workspace's latest bot token
    bot = await store.async_find_bot(enterprise_id=None, team_id="T2")
    assert bot is not None and bot.bot_token == "xoxb-two"
    assert await store.async_find_bot(enterprise_id=None, team_id="T3") is None


async def test_deleting_parts_of_a_workspace(stores: Stores) -> None:
    store, _ = stores
    await store.async_save(_install("T1", "UA", "xoxb-1"))
    await store.async_save(_install("T1", "UB", "xoxb-1"))
    await store.async_save(_install("T2", "UA", "xoxb-2"))

    await store.async_delete_installation(enterprise_id=None, team_id="T1", user_id="UA")
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="UA") is None
    assert await store.async_find_installation(enterprise_id=None, team_id="T1", user_id="UB") is not None

    await store.async_delete_installation(enterprise_id=None, team_id="T1")
    assert await store.async_find_installation(enterprise_id=None, team_id="T1") is None
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is not None  # the bot stays

    await store.async_delete_bot(enterprise_id=None, team_id="T1")
    assert await store.async_find_bot(enterprise_id=None, team_id="T1") is None
    await store.async_delete_all(enterprise_id=None, team_id="T2")
    assert await store.async_find_bot(enterprise_id=None, team_id="T2") is None


async def test_an_org_wide_install_is_found_under_the_org(stores: Stores) -> None:
    store, _ = stores
    await store.async_save(_install("T1", "UA", "xoxb-org", enterprise="E1", org=True))
    found = await store.async_find_bot(enterprise_id="E1", team_id="T7", is_enterprise_install=True)
    assert found is not None and found.bot_token == "xoxb-org"
    assert await store.async_find_bot(enterprise_id="E1", team_id="T7") is None


async def test_a_state_is_consumed_once(stores: Stores) -> None:
    _, states = stores
    state = await states.async_issue()
    other = await states.async_issue()
    assert state != other
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False
    assert await states.async_consume("never-issued") is False
    assert await states.async_consume("") is False
    assert await states.async_consume(other) is True


async def test_a_state_expires(monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str) -> None:
    now = [1000.0]
    monkeypatch.setattr(slack_installations.time, "monotonic", lambda: now[0])
    memory = MemoryOAuthStateStore(600)
    state = await memory.async_issue()
    now[0] += 601
    assert await memory.async_consume(state) is False

    sessions = RedisSessionStore.from_url(redis_url, 60, keys=KeyBuilder(redis_prefix))
    client = sessions.client
    try:
        issued = await RedisOAuthStateStore(client, KeyBuilder(redis_prefix), 600).async_issue()
        raw = aioredis.Redis.from_url(redis_url)
        ttl = await raw.ttl(f"{redis_prefix}:slack-oauth-state:{issued}")
        await raw.aclose()
        assert 590 <= ttl <= 600
    finally:
        await sessions.close()
        await delete_prefix(redis_url, redis_prefix)


async def test_oauth_stores_share_the_session_stores_redis(redis_url: str, redis_prefix: str) -> None:
    """Every REDIS_URL form the session store accepts (Sentinel, Cluster, TLS) works for Slack OAuth too."""
    from bot.store.slack_installations import oauth_stores

    sessions = RedisSessionStore.from_url(redis_url, 60, keys=KeyBuilder(redis_prefix))
    try:
        installations, states = oauth_stores(sessions.shared_redis(), 600)
        assert isinstance(installations, RedisInstallationStore) and isinstance(states, RedisOAuthStateStore)
        assert installations._client is sessions.client and states._client is sessions.client
        assert await states.async_consume(await states.async_issue())
    finally:
        await sessions.close()
        await delete_prefix(redis_url, redis_prefix)


async def test_a_redis_outage_falls_back_to_the_last_known_installation(
    redis_url: str, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt can still authorize events while Redis is down, so users get the "busy" reply, not silence."""
    import redis.exceptions

    sessions = RedisSessionStore.from_url(redis_url, 60, keys=KeyBuilder(redis_prefix))
    store = RedisInstallationStore(sessions.client, KeyBuilder(redis_prefix))
    try:
        await store.async_save(_install("T1", "UA", "xoxb-1"))
        found = await store.async_find_bot(enterprise_id=None, team_id="T1")
        assert found is not None

        async def down(*args: object, **kwargs: object) -> None:
            raise redis.exceptions.ConnectionError("simulated outage")

        monkeypatch.setattr(sessions.client, "hget", down)
        during = await store.async_find_bot(enterprise_id=None, team_id="T1")
        assert during is not None and during.bot_token == "xoxb-1"
        with pytest.raises(redis.exceptions.ConnectionError):  # never seen: nothing to fall back on
            await store.async_find_bot(enterprise_id=None, team_id="T2")
    finally:
        await sessions.close()
        await delete_prefix(redis_url, redis_prefix)

"""Request checks and exactly-once turns, against a real Redis store."""

from __future__ import annotations

import asyncio
import json
import time
import zlib

import redis.asyncio as aioredis

from bot.core.library.model import Library
from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.channels.slack.harness import running, settings_for
from tests.fakes.slack_api import FakeSlackApi

KEY = SessionKey("slack", "T1", "U1")


def _message(text: str = "こんにちは") -> dict[str, object]:
    """One message: its ts (Slack's id of the message, unique per channel) follows from its text here."""
    ts = f"1.{zlib.crc32(text.encode()) % 1_000_000:06d}"
    return {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1", "text": text, "ts": ts}


async def _keys(redis_url: str, prefix: str) -> list[bytes]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        own = KeyBuilder(prefix).log_hash_key.encode()  # the deployment's log pseudonym key names no user
        return [key async for key in client.scan_iter(match=f"{prefix}:*") if key != own]
    finally:
        await client.aclose()


async def test_bad_signature_and_stale_timestamp_are_rejected_and_nothing_is_stored(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore, redis_url: str, redis_prefix: str
) -> None:
    workspace = slack_api.add_workspace("T1")
    settings = settings_for(slack_api, slack_bot_token=workspace.token)
    async with running(settings, library, slack_api, redis_store) as slack:
        body = json.dumps(
            {"type": "event_callback", "team_id": "T1", "event_id": "EvBAD", "event": _message()}
        ).encode()
        forged = await slack.signed(body, "application/json", secret="not-the-secret")
        stale = await slack.signed(body, "application/json", timestamp=int(time.time()) - 6 * 60)
        unsigned = await slack.http.post(f"{slack.url}/slack/events", content=body)
        tampered_headers = {"X-Slack-Signature": "v0=" + "0" * 64}
        tampered = await slack.signed(body, "application/json", headers=tampered_headers)
        for response in (forged, stale, unsigned, tampered):
            assert response.status_code == 401
        await slack.settle()
        assert not slack_api.calls
        assert (await redis_store.load(KEY)).session is None
        assert await _keys(redis_url, redis_prefix) == []


async def test_a_retried_event_is_answered_once(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore
) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(
        settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api, redis_store
    ) as slack:
        first = await slack.event(_message(), event_id="Ev0001")
        assert first.status_code == 200
        await slack.settle()
        assert len(slack_api.posts()) == 1
        version = (await redis_store.load(KEY)).version

        # Slack's retries (and a plain duplicate delivery) of the same event id
        for retry in (1, 2, 3):
            assert (await slack.event(_message(), event_id="Ev0001", retry=retry)).status_code == 200
        await asyncio.gather(*(slack.event(_message(), event_id="Ev0001") for _ in range(5)))
        await slack.settle()
        assert len(slack_api.posts()) == 1
        assert (await redis_store.load(KEY)).version == version

        # a retry whose first delivery never arrived is still answered: retries are deduped, not dropped
        await slack.event(_message("クラウドワークス"), event_id="Ev0002", retry=1)
        await slack.settle()
        assert len(slack_api.posts()) == 2
        assert (await redis_store.load(KEY)).version == version + 1


async def test_concurrent_taps_on_one_question_apply_once(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore
) -> None:
    workspace = slack_api.add_workspace("T1")
    async with running(
        settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api, redis_store
    ) as slack:
        await slack.dm("U1", "こんにちは")
        await slack.settle()
        menu = slack_api.last_question()
        labels = ["クラウドワークスを退会", "ランサーズを退会", "クラウドワークスを退会", "使い方"]
        await asyncio.gather(*(slack.click(menu, label, "U1") for label in labels))
        await slack.settle()
        assert len(slack_api.of("chat.update")) == 1
        assert len(slack_api.posts()) == 2  # the menu, and one answer
        session = (await redis_store.load(KEY)).session
        assert session is not None and session.state in ("reregister", "reason", "usage")

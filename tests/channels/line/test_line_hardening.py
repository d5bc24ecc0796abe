"""Issue 11 on LINE: signed bodies that gave 500 (3), replays and empty ids (4), log volume (9)."""

from __future__ import annotations

import copy
import json
import logging
import time
from typing import Any

import pytest

from bot.core.library.model import Library
from tests.channels.line import webhooks
from tests.channels.line.chat import LineUser
from tests.channels.line.conftest import Running, StartApp

FAST = {"rate_limit_burst": 1000, "rate_limit_per_minute": 6000}


def _sent(run: Running) -> int:
    return len(run.fake.replies) + len(run.fake.pushes)


async def _post(run: Running, payload: dict[str, Any] | bytes) -> int:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    response = await run.post(raw)
    await run.settle()
    return response.status_code


async def test_signed_deep_nesting_and_huge_integers_get_400(
    start_app: StartApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with start_app() as run:
        deep = b'{"destination": "U1", "events": ' + b"[" * 1000 + b"]" * 1000 + b"}"
        nested_event = b'{"events": [{"type": "message", "x": ' + b"[" * 100 + b"]" * 100 + b"}]}"
        huge = b'{"events": [], "n": ' + b"9" * 4301 + b"}"
        for body in (deep, nested_event, huge):
            assert await _post(run, body) == 400
        assert (await run.client.get("/healthz")).status_code == 200
    assert not [r for r in caplog.records if r.exc_info]


@pytest.mark.redis
async def test_a_replay_after_many_newer_events_is_not_applied_again(start_app: StartApp, redis_url: str) -> None:
    async with start_app(redis_url, **FAST) as run:
        user = LineUser(run)
        first = webhooks.text(user.id, "こんにちは")
        await user.deliver(first)
        newer = [webhooks.text(user.id, "ヘルプ") for _ in range(130)]
        assert await _post(run, json.loads(webhooks.body(*newer))) == 200
        version, sent = (await run.session(user.id))[1], _sent(run)
        assert version == 131
        replay = copy.deepcopy(first)  # word for word, as captured: same id, same timestamp, same token
        assert await _post(run, json.loads(webhooks.body(replay))) == 200
        assert (await run.session(user.id))[1] == version, "not applied again"
        assert _sent(run) == sent, "not answered again (by reply or push)"


async def test_events_older_than_the_dedupe_window_are_refused(start_app: StartApp) -> None:
    async with start_app(dedupe_seconds=3600) as run:
        user = LineUser(run)
        old = webhooks.text(user.id, "こんにちは")
        old["timestamp"] = int((time.time() - 3601) * 1000)
        assert await _post(run, json.loads(webhooks.body(old))) == 200
        assert _sent(run) == 0
        assert await run.session(user.id) == (None, 0)


async def test_an_event_without_an_id_is_deduplicated_too(start_app: StartApp) -> None:
    async with start_app() as run:
        user = LineUser(run)
        event = webhooks.text(user.id, "こんにちは")
        event["webhookEventId"] = ""
        again = copy.deepcopy(event)
        again["deliveryContext"] = {"isRedelivery": True}
        for delivery in (event, again, event):
            assert await _post(run, json.loads(webhooks.body(delivery))) == 200
        assert _sent(run) == 1
        assert (await run.session(user.id))[1] == 1


async def test_ten_thousand_empty_events_write_one_line(start_app: StartApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with start_app() as run:
        body = (
            b'{"destination": "'
            + webhooks.DESTINATION.encode()
            + b'", "events": ['
            + b",".join([b"{}"] * 10_000)
            + b"]}"
        )
        assert len(body) < 64 * 1024
        assert await _post(run, body) == 200
    lines = [r for r in caplog.records if r.name.startswith("bot.channels.line.channel")]
    assert len(lines) == 1, [r.getMessage() for r in lines[:5]]
    assert "10000" in lines[0].getMessage()


async def test_lone_surrogates_in_ids_and_text_are_stored_as_valid_text(
    start_app: StartApp, library: Library, redis_url: str
) -> None:
    """JSON may carry a lone surrogate (\\ud800): in an event id or a fill-in it once made Redis fail, or kept
    a value that broke 「状況」 and the template (issue 17). Cleaned at the edge, every turn answers."""
    async with start_app(redis_url, **FAST) as run:
        user = LineUser(run)
        await user.follow()
        for words in ("ランサーズ", "退会したい\ud800です", "\udfff"):
            event = webhooks.text(user.id, words)
            event["webhookEventId"] = webhooks.event_id()[:20] + "\ud800"
            raw = json.dumps(webhooks.body_dict(event)).encode()  # ensure_ascii: the surrogate as \\ud800
            assert b"\\ud800" in raw or b"\\udfff" in raw
            assert await _post(run, raw) == 200
            sent = [m.get("text", "") for m in run.fake.sent_to(event["replyToken"])]
            assert sent and library.texts.busy not in sent, (words, sent)
        await user.say("状況")
        assert user.last, "the checklist is shown"
        session, _ = await run.session(user.id)
        assert session is not None

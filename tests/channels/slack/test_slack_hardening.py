"""Issue 11 on Slack: verify before parsing (1), malformed signed bodies (3), response URLs (7), every
event type acknowledged (9). Real server, local fake Slack API; logs captured at DEBUG."""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pytest
from aiohttp import web

from bot.channels.slack.delivery import response_url_checker
from bot.core.library.model import Library
from bot.store.redis import RedisSessionStore
from tests.channels.slack.harness import running, settings_for
from tests.fakes.slack_api import FakeSlackApi

# Bodies that made Bolt raise (500 and a traceback) before it looked at the signature.
MALFORMED = [
    b"\xff\xfe\x00garbage",  # invalid UTF-8
    b"\xef\xbb\xbf{}",  # a BOM
    b'{"type": "event_callback",',  # malformed JSON
    b"[1, 2, 3]",  # JSON that is not an object
    b"[" * 1000 + b"]" * 1000,  # ~1,000-deep nesting
    b'{"n": ' + b"9" * 4301 + b"}",  # over Python's 4,300-digit limit
    b"payload=%7Bnot-json",  # bad payload= JSON
]


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]


async def test_unsigned_and_malformed_bodies_get_4xx_without_a_traceback(
    library: Library, slack_api: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    workspace = slack_api.add_workspace("T1")
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        url = f"{slack.url}/slack/events"
        for body in MALFORMED:  # one keep-alive connection: a 500 used to drop it
            unsigned = await slack.http.post(url, content=body, headers={"Content-Type": "application/json"})
            assert unsigned.status_code == 401
            forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}
            assert (await slack.http.post(url, content=body, headers=forged)).status_code == 401
            signed = await slack.signed(body, "application/json")
            assert signed.status_code == 400, body[:20]
        odd_timestamp = {"X-Slack-Request-Timestamp": "12abc", "X-Slack-Signature": "v0=" + "0" * 64}
        assert (await slack.http.post(url, content=b"{}", headers=odd_timestamp)).status_code == 400
        assert (await slack.http.get(f"{slack.url}/healthz")).status_code == 200
        await slack.settle()
    assert not slack_api.calls
    assert not _tracebacks(caplog)


async def test_signed_payloads_with_wrong_types_get_400_and_are_not_a_store_outage(
    library: Library, slack_api: FakeSlackApi, redis_store: RedisSessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    workspace = slack_api.add_workspace("T1")
    settings = settings_for(slack_api, slack_bot_token=workspace.token)
    async with running(settings, library, slack_api, redis_store) as slack:
        event = {"type": "message", "channel_type": "im", "channel": "DU1", "user": "U1", "text": "hi", "ts": "1.0"}
        for team in (["T1"], 5, {"id": 7}):  # team_id a list or a number → AttributeError in keys.escape
            body = {"type": "event_callback", "team_id": team, "event_id": "Ev1", "event": event}
            assert (await slack.signed(json.dumps(body).encode(), "application/json")).status_code == 400
        for event_id in (["x"], 12, {"a": 1}):  # a non-string event id reached Redis as "store unavailable"
            body = {"type": "event_callback", "team_id": "T1", "event_id": event_id, "event": event}
            assert (await slack.signed(json.dumps(body).encode(), "application/json")).status_code == 400
        await slack.settle()
        metrics = (await slack.http.get(f"{slack.url}/metrics")).text
    assert "taikai_store_errors_total{" not in metrics
    assert not slack_api.posts()
    assert not _tracebacks(caplog)


async def test_every_signed_request_type_is_acknowledged(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    user, team = {"id": "U1"}, {"id": "T1"}
    forms = [
        {"type": "shortcut", "callback_id": "x", "user": user, "team": team, "trigger_id": "t"},
        {"type": "message_action", "callback_id": "x", "user": user, "team": team, "channel": {"id": "C1"}},
        {"type": "view_submission", "user": user, "team": team, "view": {"type": "modal", "callback_id": "x"}},
        {"type": "view_closed", "user": user, "team": team, "view": {"type": "modal", "callback_id": "x"}},
        {"type": "block_suggestion", "user": user, "team": team, "action_id": "a", "block_id": "b", "value": "x"},
        {"type": "block_actions", "user": user, "team": team, "actions": [{"action_id": "other", "type": "button"}]},
    ]
    async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
        for kind in ("reaction_added", "channel_created", "member_joined_channel", "app_home_opened", "team_join"):
            answer = await slack.event({"type": kind, "user": "U9", "channel": "C1"})
            assert answer.status_code == 200, kind
        for payload in forms:
            body = urlencode({"payload": json.dumps(payload)}).encode()
            answer = await slack.signed(body, "application/x-www-form-urlencoded")
            assert answer.status_code == 200, payload["type"]
        limited = {"type": "app_rate_limited", "team_id": "T1", "minute_rate_limited": 1, "api_app_id": "A0"}
        assert (await slack.signed(json.dumps(limited).encode(), "application/json")).status_code == 200
        other = {"command": "/other", "user_id": "U1", "team_id": "T1", "text": "", "trigger_id": "t"}
        assert (await slack.signed(urlencode(other).encode(), "application/x-www-form-urlencoded")).status_code == 200
        await slack.settle()


async def test_response_urls_only_go_to_slack(library: Library, slack_api: FakeSlackApi) -> None:
    """A signed slash command with a response URL elsewhere (SSRF) makes the server call nothing there."""
    hits: list[str] = []

    async def record(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(text="ok")

    target = web.Application()
    target.router.add_post("/{tail:.*}", record)
    runner = web.AppRunner(target, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    workspace = slack_api.add_workspace("T1")
    try:
        async with running(settings_for(slack_api, slack_bot_token=workspace.token), library, slack_api) as slack:
            form = {
                "team_id": "T1",
                "channel_id": "C1",
                "user_id": "U1",
                "command": "/taikai",
                "text": "",
                "trigger_id": "trigger-ssrf",
                "response_url": f"http://127.0.0.1:{port}/internal-admin",
            }
            answer = await slack.signed(urlencode(form).encode(), "application/x-www-form-urlencoded")
            assert answer.status_code == 200
            await slack.settle()
            await slack.command("U2", "")  # the fake's own response URL (the configured API host) still works
            await slack.settle()
    finally:
        await runner.cleanup()
    assert hits == []
    assert slack_api.of("response_url"), "the allowed response URL was used"


def test_response_url_checker() -> None:
    check = response_url_checker("https://slack.com/api/")
    assert check("https://hooks.slack.com/commands/T1/1/abc") is not None
    assert check("https://hooks.slack-gov.com/actions/T1/1/abc") is not None
    for url in (
        "http://hooks.slack.com/commands/x",  # not https
        "https://hooks.slack.com:8443/x",
        "https://user:pw@hooks.slack.com/x",
        "https://hooks.slack.com.evil.example/x",
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:6379/",
        "https://[::1]:99999/",
        "file:///etc/passwd",
        5,
        None,
    ):
        assert check(url) is None, url
    local = response_url_checker("http://127.0.0.1:4567/api/")
    assert local("http://127.0.0.1:4567/response/1") is not None
    assert local("http://127.0.0.1:4568/response/1") is None

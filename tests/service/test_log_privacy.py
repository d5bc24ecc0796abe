"""No log line carries message text, a user id in clear, a secret or unbounded request data (issue 11, item 2).

Known text is sent through every path of both channels — turns, commands, taps, and failures (forged and
stale signatures, malformed and mistyped bodies) — with logging configured as `serve` configures it, at DEBUG,
with uvicorn's access log on; then the whole log is searched for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import pytest

from bot.core.library.model import Library
from bot.store.keys import KeyBuilder
from bot.store.redis import RedisSessionStore
from tests.channels.line import webhooks
from tests.fakes.line_api import FakeLineApi
from tests.fakes.slack_api import FakeSlackApi
from tests.redis_support import PREFIX, delete_prefix
from tests.service.attack import (
    LINE_PATH,
    SLACK_PATH,
    SLACK_SECRET,
    both_settings,
    captured_logs,
    line_body,
    line_headers,
    running,
    slack_action,
    slack_command,
    slack_dm,
    slack_headers,
)

SECRET_TEXT = "ひみつの相談ZQX42"
LINE_USER = "U" + "7" * 32
SLACK_USER = "UPRIVATE42"


@pytest.fixture
async def apis() -> AsyncIterator[tuple[FakeLineApi, FakeSlackApi]]:
    line, slack = FakeLineApi(webhooks.TOKEN), FakeSlackApi()
    await line.start()
    await slack.start()
    try:
        yield line, slack
    finally:
        await line.stop()
        await slack.stop()


async def test_no_log_line_holds_text_ids_or_secrets(
    library: Library, apis: tuple[FakeLineApi, FakeSlackApi], redis_url: str
) -> None:
    line_api, slack_api = apis
    workspace = slack_api.add_workspace("T1")
    settings = both_settings(line_api, slack_api, workspace.token, rate_limit_burst=3, rate_limit_per_minute=0.01)
    prefix = f"{PREFIX}-privacy"
    store = RedisSessionStore.from_url(redis_url, 3600, keys=KeyBuilder(prefix))
    try:
        with captured_logs("DEBUG") as logs:
            async with running(settings, library, store, access_log=True) as server:
                post = server.http.post
                # LINE: a turn, a flood over the rate limit, a forged body, a stale event, malformed bodies
                for _ in range(5):
                    body = json.dumps(line_body(LINE_USER, SECRET_TEXT), ensure_ascii=False).encode()
                    assert (await post(LINE_PATH, content=body, headers=line_headers(body))).status_code == 200
                forged = json.dumps(line_body(LINE_USER, SECRET_TEXT), ensure_ascii=False).encode()
                await post(
                    LINE_PATH, content=forged, headers={**line_headers(b"x"), "Content-Type": "application/json"}
                )
                stale = line_body(LINE_USER, SECRET_TEXT)
                stale["events"][0]["timestamp"] = 1
                body = json.dumps(stale, ensure_ascii=False).encode()
                await post(LINE_PATH, content=body, headers=line_headers(body))
                broken = ('{"events": [{"type": "message", "text": "' + SECRET_TEXT + '"').encode()
                await post(LINE_PATH, content=broken, headers=line_headers(broken))
                # Slack: a DM, a flood, a command, a tap, a DM that arrives 301 s late, forged, mistyped
                for _ in range(5):
                    body = json.dumps(slack_dm(SLACK_USER, SECRET_TEXT), ensure_ascii=False).encode()
                    assert (await post(SLACK_PATH, content=body, headers=slack_headers(body))).status_code == 200
                form = urlencode(slack_command(SLACK_USER, SECRET_TEXT, slack_api.response_url())).encode()
                await post(SLACK_PATH, content=form, headers=slack_headers(form, "application/x-www-form-urlencoded"))
                tap = slack_action(SLACK_USER, "c1|x|" + SECRET_TEXT, slack_api.response_url())
                form = urlencode({"payload": json.dumps(tap, ensure_ascii=False)}).encode()
                await post(SLACK_PATH, content=form, headers=slack_headers(form, "application/x-www-form-urlencoded"))
                late = json.dumps(slack_dm(SLACK_USER, SECRET_TEXT), ensure_ascii=False).encode()
                headers = slack_headers(late, ts=str(int(time.time()) - 301))
                assert (await post(SLACK_PATH, content=late, headers=headers)).status_code == 401
                headers = {**slack_headers(b"other"), "Content-Type": "application/json"}
                assert (await post(SLACK_PATH, content=late, headers=headers)).status_code == 401
                mistyped = slack_dm(SLACK_USER, SECRET_TEXT)
                mistyped["team_id"] = [SECRET_TEXT]
                body = json.dumps(mistyped, ensure_ascii=False).encode()
                assert (await post(SLACK_PATH, content=body, headers=slack_headers(body))).status_code == 400
                await server.settle()
            assert line_api.replies or line_api.pushes, "the LINE turns ran"
            assert slack_api.posts(), "the Slack turns ran"
    finally:
        await delete_prefix(redis_url, prefix)
    text = logs.getvalue()
    assert text, "something was logged"
    for needle in (SECRET_TEXT, LINE_USER, SLACK_USER, SLACK_SECRET, webhooks.SECRET, webhooks.TOKEN, workspace.token):
        assert needle not in text, needle
    assert "Invalid request signature" not in text
    assert max(len(line) for line in text.splitlines()) < 1500

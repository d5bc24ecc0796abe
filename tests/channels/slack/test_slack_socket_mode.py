"""Socket Mode (SLACK_APP_TOKEN): the same handlers, fed over a WebSocket from the fake instead of HTTP."""

from __future__ import annotations

import logging

import pytest

from bot.core.library.model import Library
from tests.channels.lexicon import ask
from tests.channels.slack.harness import SIGNING_SECRET, running, settings_for
from tests.fakes.server import eventually
from tests.fakes.slack_api import FakeSlackApi

APP_TOKEN = "xapp-1-A0TAIKAI-1-secret"


async def test_socket_mode_runs_the_same_conversation(library: Library, slack_api: FakeSlackApi) -> None:
    workspace = slack_api.add_workspace("T1")
    settings = settings_for(slack_api, slack_bot_token=workspace.token, slack_app_token=APP_TOKEN)
    async with running(settings, library, slack_api) as slack:
        [opened] = slack_api.of("apps.connections.open")
        assert opened.token == APP_TOKEN
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": "DU1",
            "user": "U1",
            "text": "こんにちは",
            "ts": "1.1",
        }
        payload = {"type": "event_callback", "team_id": "T1", "event_id": "EvSOCKET1", "event": event}
        envelope = await slack_api.send_envelope(payload)
        await slack_api.wait_for("chat.postMessage")
        # the envelope is acknowledged, as Slack requires
        await eventually(lambda: any(a.get("envelope_id") == envelope for a in slack_api.socket_acks))
        await slack.settle()
        assert ask("common:menu") in slack_api.posts("DU1")[-1].text()


async def test_logs_hold_no_text_tokens_or_secrets(
    library: Library, slack_api: FakeSlackApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    workspace = slack_api.add_workspace("T1")
    settings = settings_for(slack_api, slack_bot_token=workspace.token, slack_app_token=APP_TOKEN)
    async with running(settings, library, slack_api) as slack:
        await slack.dm("U1", "秘密の相談クラウドワークス")
        await slack.dm("U1", "秘密の相談クラウドワークス", event_id="EvDUP")
        await slack.dm("U1", "秘密の相談クラウドワークス", event_id="EvDUP", retry=1)
        slack_api.failures["chat.postMessage"] = "channel_not_found"
        await slack.dm("U1", "状況")
        await slack.settle()
    logged = "\n".join(r.getMessage() + str(r.args or "") for r in caplog.records)
    assert "channel_not_found" in logged  # failures are logged, by Slack's error code only
    for secret in ("秘密の相談", "いまの状況", workspace.token, APP_TOKEN, SIGNING_SECRET):
        assert secret not in logged

"""Start-up says only what is true: with SLACK_BOT_TOKEN in the environment (as `serve` is run), Bolt's
"`token` will be unused" warning is not logged — the client it is given carries that very token."""

from __future__ import annotations

import logging

import pytest

from bot.channels.slack.channel import build_bolt_app
from bot.config import Settings


def test_no_unused_token_warning_for_the_single_workspace_app(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    settings = Settings(_env_file=None, slack_signing_secret="s", slack_bot_token="xoxb-test")  # type: ignore[call-arg]
    with caplog.at_level(logging.DEBUG, logger="slack_bolt"):
        app = build_bolt_app(settings, None, None)
    assert app.client.token == "xoxb-test"  # the token is used: it is the client's
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], [r.getMessage() for r in caplog.records]
